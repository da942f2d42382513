"""A toekgw.toml with an [eindkomst] table, for the eIndkomst CLI and crash tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.crashkit import child_env
from tests.eik_helpers import DISPOSITION, PERIOD, SE

ROOT = Path(__file__).resolve().parents[1]
CLI = "import sys; from toekgw.cli.main import main; sys.argv[0] = 'toekgw'; main()"


def toekgw(*args: str, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
    """``toekgw ARGS`` in a child process; ``crash_at``: SIGKILLed at that crash point."""
    env = child_env(crash_at)
    return subprocess.run(
        [sys.executable, "-c", CLI, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def write_config(base: Path, *, companies: tuple[str, ...] = (SE,)) -> Path:
    config = base / "toekgw.toml"
    listed = ", ".join(f'"{c}"' for c in companies)
    config.write_text(
        f"""
[journal]
path = "var/journal.sqlite"

[staging]
dir = "var/staging"

[serviceplatform]
party = "toek"
transport = "localdir"

[serviceplatform.localdir]
root = "var/sp"

[eindkomst]
sender_se = "{SE}"
companies = [{listed}]
queue_db = "var/queues.sqlite"
overdue_hours = 24
""",
        encoding="utf-8",
    )
    return config


def write_request(base: Path, people: dict[str, int], *, key: str = "") -> Path:
    path = base / f"request{key}.json"
    path.write_text(
        json.dumps(
            {
                "reports": [
                    {
                        "company_se": SE,
                        "period_start": PERIOD[0].isoformat(),
                        "period_end": PERIOD[1].isoformat(),
                        "disposition_date": DISPOSITION.isoformat(),
                        "income_type": "06",
                        **({"key": key} if key else {}),
                        "recipients": [
                            {"cpr": c, "amounts": {"0014": a, "0015": a * 38 // 100}}
                            for c, a in people.items()
                        ],
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    return path
