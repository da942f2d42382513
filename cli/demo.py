"""``toekgw demo``: the interim demo — generate a G68 delivery with planted errors, validate
it, and print the error list's summary (until the month-end demo replaces it)."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import click

from adapters.g68 import G68Config, read_delivery
from formats.g68 import G68Form
from gateway.findings import render
from simulators.ksd import GeneratorSettings, write_delivery
from simulators.ksd.g68 import manifest_path

DEMO_SEED = 2026
DEMO_COUNT = 5_000
DEMO_ERROR_RATE = 0.02


@click.command()
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-run"),
    show_default=True,
    help="Where the delivery and its error list are written.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def demo(workdir: Path, as_json: bool) -> None:
    """Generate a G68 delivery from KSD with planted errors, validate it, and print the
    error list's summary. The files stay in WORKDIR: the delivery in both forms, the
    planted errors and the error list (CSV)."""
    workdir.mkdir(parents=True, exist_ok=True)
    today = dt.date.today()
    config = G68Config(today=today)
    report: list[dict[str, Any]] = []
    for form in (G68Form.FAST, G68Form.FLOATING):
        path = workdir / f"ksd-{form.name.lower()}.g68"
        write_delivery(
            path,
            GeneratorSettings(
                count=DEMO_COUNT,
                seed=DEMO_SEED,
                form=form,
                error_rate=DEMO_ERROR_RATE,
                today=today,
            ),
        )
        result = read_delivery(path, config, name=path.name)
        error_list = workdir / f"{path.stem}.errors.csv"
        error_list.write_text(render(result.findings, "csv"), encoding="utf-8")
        manifest = json.loads(manifest_path(path).read_text(encoding="utf-8"))
        planted = {(p["line"], p["code"]) for p in manifest["planted"]}
        found = {(f.line, f.code) for f in result.findings}
        report.append(
            {
                "file": str(path),
                "form": form.name.lower(),
                "payments": result.count,
                "net_sum_ore": result.net_sum,
                "refused": result.refused,
                "straks": result.is_straks,
                "errors": len(result.errors),
                "warnings": len(result.warnings),
                "payments_to_error_list": result.payments_with_errors,
                "by_code": dict(sorted(Counter(f.code for f in result.findings).items())),
                "planted": len(planted),
                "planted_found": len(planted & found),
                "unexpected": len(found - planted),
                "error_list": str(error_list),
            }
        )
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    for r in report:
        click.echo(
            f"{r['file']} ({r['form']}): {r['payments']} payments, "
            f"{r['errors']} errors, {r['warnings']} warnings, "
            f"{'REFUSED' if r['refused'] else 'accepted'}"
        )
        for code, n in r["by_code"].items():
            click.echo(f"  {n:5d}  {code}")
        click.echo(
            f"  planted {r['planted']}, found {r['planted_found']} of them, "
            f"{r['unexpected']} unexpected; error list: {r['error_list']}"
        )
