"""A reusable rig for the inbound/outbound tests and the SIGKILL crash tests.

- :class:`LineProcessor`: a small line-per-item format (``DELIVERY <key>``, ``<key>;<øre>;<to>``
  lines, ``END <count> <sum>``) standing in for a real codec, so the generic pipeline can be
  tested on its own. A format's own processor (G68) plugs into the same rig.
- :class:`Rig`: a Serviceplatformen simulator (in-process asyncssh server on 127.0.0.1), a
  client key, a pinned known_hosts and a ``toekgw.toml``; ``deliver()`` makes the platform put a
  file in our IN/ exactly as a sender's upload + trigger would.
- ``python -m tests.crashkit receive|send ...``: the child process the crash tests kill at a
  named crash point (``TOEKGW_CRASH_AT``), see :func:`run_child`.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from toekgw.adapters.config import Settings, load_settings
from toekgw.adapters.serviceplatform import ReceiveSettings, serviceplatform_settings
from toekgw.formats.findings import Finding, Severity
from toekgw.formats.serviceplatform import FileDescriptor, Trigger, build_trigger
from toekgw.gateway.inbound import Candidate, Processed, StagedFile, inbound_kind
from toekgw.gateway.journal import JournalReader, Lifecycle, NewItem
from toekgw.simulators.serviceplatform import Faults, ServiceplatformSimulator, ensure_key

ROOT = Path(__file__).resolve().parent.parent

ITEMS = Lifecycle(("received",), {"received": ("forwarded",)})


class LineProcessor:
    """The test format. Straks files (name starts with STRAKS) go first."""

    kind = inbound_kind("test-lines", ITEMS)

    def __init__(self, profile: ReceiveSettings | None = None) -> None:
        self.counterpart = profile.counterpart if profile else "ksd"

    def priority(self, candidate: Candidate) -> int:
        return 0 if candidate.name.startswith("STRAKS") else 1

    def process(self, staged: StagedFile, journal: JournalReader) -> Processed:
        findings: list[Finding] = []
        delivery = None
        count = total = 0
        keys: list[str] = []
        with staged.path.open("rb") as handle:
            for lineno, raw in enumerate(handle, 1):
                line = raw.decode("latin-1").rstrip("\r\n")
                if lineno == 1:
                    if not line.startswith("DELIVERY "):
                        findings.append(_error("T-START", "expected DELIVERY <key>", lineno))
                    delivery = line[9:]
                    continue
                if line.startswith("END "):
                    parts = line.split()
                    if parts[1:] != [str(count), str(total)]:
                        findings.append(
                            _error(
                                "T-TOTALS",
                                "control totals disagree",
                                lineno,
                                expected=f"{count} {total}",
                                found=" ".join(parts[1:]),
                            )
                        )
                    break
                key, _, rest = line.partition(";")
                amount, _, _to = rest.partition(";")
                if not key or not amount.isdigit():
                    findings.append(_error("T-RECORD", f"bad record {line!r}", lineno))
                    continue
                count += 1
                total += int(amount)
                keys.append(key)
            else:
                findings.append(_error("T-END", "no END record", None))
        known = journal.existing_items(self.counterpart, keys)
        for key, ref in known.items():
            findings.append(_error("T-KNOWN", f"{key!r} already journaled: {ref.describe()}", None))
        if findings:
            return Processed(accepted=False, findings=findings, delivery_key=delivery)
        return Processed(
            accepted=True,
            delivery_key=delivery,
            items=self._items(staged.path),
            summary=f"{count} payments, {total} øre",
        )

    @staticmethod
    def _items(path: Path) -> Iterator[NewItem]:
        with path.open("rb") as handle:
            next(handle)
            for lineno, raw in enumerate(handle, 2):
                line = raw.decode("latin-1").rstrip("\r\n")
                if line.startswith("END "):
                    return
                key, amount, to = line.split(";")
                fingerprint = hashlib.sha256(f"{to}|{amount}".encode()).hexdigest()
                yield NewItem(key, int(amount), seq=lineno, fingerprint=fingerprint)


def _error(
    code: str,
    message: str,
    line: int | None,
    *,
    expected: str | None = None,
    found: str | None = None,
) -> Finding:
    return Finding(code, Severity.ERROR, message, line=line, expected=expected, found=found)


def delivery_bytes(key: str, count: int, *, prefix: str = "P", start: int = 0) -> bytes:
    lines = [f"DELIVERY {key}"]
    total = 0
    for i in range(start, start + count):
        amount = 100 + i % 5000
        total += amount
        lines.append(f"{prefix}{i:07d};{amount};B{i:07d}")
    lines.append(f"END {count} {total}")
    return ("\r\n".join(lines) + "\r\n").encode("latin-1")


@dataclass
class Rig:
    """A simulator with a sender (``ksd``) and us (``toek``), and a configuration for us."""

    base: Path
    faults: Faults = field(default_factory=Faults)
    #: More TOML for the configuration, e.g. a ``[receive.g68]`` table for a format's own tests.
    extra_config: str = ""
    sim: ServiceplatformSimulator = field(init=False)
    config: Path = field(init=False)

    def __post_init__(self) -> None:
        self.key = self.base / "keys" / "id_ed25519"
        ensure_key(self.key)
        self.sim = ServiceplatformSimulator(
            self.base / "platform",
            parties=("ksd", "toek", "erp"),
            authorized_keys=Path(f"{self.key}.pub"),
            faults=self.faults,
        )

    def start(self) -> Rig:
        self.sim.start()
        known = self.base / "keys" / "known_hosts"
        known.write_text(self.sim.known_hosts_line() + "\n")
        self.config = self.base / "toekgw.toml"
        self.config.write_text(
            f"""
[journal]
path = "var/journal.sqlite"

[staging]
dir = "var/staging"

[serviceplatform]
party = "toek"
transport = "sftp"
receipt_timeout = 10

[serviceplatform.sftp]
host = "127.0.0.1"
port = {self.sim.port}
user = "toek"
key = "keys/id_ed25519"
known_hosts = "keys/known_hosts"
connect_timeout = 10
timeout = 10
retries = 2

[receive.lines]
senders = ["ksd"]
counterpart = "ksd"
"""
            + self.extra_config,
            encoding="utf-8",
        )
        return self

    def stop(self) -> None:
        self.sim.stop()

    @property
    def settings(self) -> Settings:
        return load_settings(self.config)

    def inbox(self, party: str = "toek") -> Path:
        return self.sim.platform.party_dir(party) / "IN"

    def deliver(self, name: str, data: bytes, *, sender: str = "ksd", to: str = "toek") -> None:
        """What a sender's upload and trigger amount to: the platform delivers ``name``."""
        trigger = Trigger(FileDescriptor(name, len(data), sender, (to,), f"sender-{name}"))
        # Complete files only: the simulator's scanner runs meanwhile in its own thread.
        self.sim.platform.upload(sender, name, data, build_trigger(trigger))
        self.sim.platform.scan()


def run_child(
    rig: Rig,
    args: list[str],
    *,
    crash_at: str | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m tests.crashkit ARGS`` against the rig; killed at ``crash_at``."""
    return subprocess.run(
        [sys.executable, "-m", "tests.crashkit", "--config", str(rig.config), *args],
        cwd=ROOT,
        env=child_env(crash_at),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def child_env(crash_at: str | None, extra: dict[str, str] | None = None) -> dict[str, str]:
    """A child process's environment: this one's, importing from the checkout (its ``src``
    first: not the copy installed in the environment, which may be another checkout's), with
    ``extra``, SIGKILLed at the crash point ``crash_at`` (``TOEKGW_CRASH_AT``; none
    inherited)."""
    path = os.pathsep.join([str(ROOT / "src"), str(ROOT)])
    env = {**os.environ, "PYTHONPATH": path, **(extra or {})}
    env.pop("TOEKGW_CRASH_AT", None)
    if crash_at:
        env["TOEKGW_CRASH_AT"] = crash_at
    return env


#: ``python -m toekgw`` with Ctrl-C's handler set whatever the parent ignored: a process
#: started in the background by a non-interactive shell (a CI runner's ``cmd &``) ignores
#: SIGINT, its children inherit that, and Python then leaves SIGINT ignored; a test that stops
#: a command with SIGINT needs the child to take it as an operator's terminal gives it.
_TOEKGW_MAIN = (
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "runpy.run_module('toekgw', run_name='__main__', alter_sys=True)"
)


def toekgw_child(
    args: list[str],
    config: Path,
    *,
    cwd: Path = ROOT,
    crash_at: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m toekgw ARGS --config CONFIG`` as a child process, killed with SIGKILL
    at the crash point ``crash_at`` (``TOEKGW_CRASH_AT``); ``env``: variables to add."""
    child = toekgw_process(args, config, cwd=cwd, crash_at=crash_at, env=env)
    try:
        out, err = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise
    return subprocess.CompletedProcess(child.args, child.returncode, out, err)


def toekgw_process(
    args: list[str],
    config: Path,
    *,
    cwd: Path = ROOT,
    crash_at: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    """:func:`toekgw_child` started, not waited for (to be killed at a moment of the test's
    choosing)."""
    return subprocess.Popen(
        [sys.executable, "-c", _TOEKGW_MAIN, *args, "--config", str(config)],
        cwd=cwd,
        env=child_env(crash_at, env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def paused_at(
    args: list[str], config: Path, point: str, *, timeout: float = 60
) -> subprocess.Popen[str]:
    """``toekgw ARGS --config CONFIG`` started and held (SIGSTOP, ``TOEKGW_PAUSE_AT``) at the
    crash point ``point``, so that a test can run another process against it there; SIGCONT
    it when done. A failure if it ends before, or gets there no sooner than ``timeout``."""
    proc = toekgw_process(args, config, env={"TOEKGW_PAUSE_AT": point})
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{proc.pid}/stat").read_text().rpartition(") ")[2][:1] != "T":
        assert proc.poll() is None, proc.communicate()
        if time.monotonic() >= deadline:
            proc.kill()
            raise AssertionError(f"{' '.join(args)} did not reach {point}")
        time.sleep(0.01)
    return proc


def resumed(proc: subprocess.Popen[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """A process held by :func:`paused_at`, let go (SIGCONT) and run to its end."""
    os.kill(proc.pid, signal.SIGCONT)
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def killed(result: subprocess.CompletedProcess[str]) -> bool:
    return result.returncode == -signal.SIGKILL


def kill_at(
    proc: subprocess.Popen[str], reached: Callable[[], bool] | None, *, timeout: float
) -> None:
    """``proc`` stopped at its kill point: where it SIGKILLs itself (``reached`` None: a crash
    point, ``TOEKGW_CRASH_AT``), or SIGKILLed as soon as ``reached()`` holds; a failure if it
    ends before, or gets there no sooner than ``timeout`` seconds."""
    if reached is None:
        proc.wait(timeout=timeout)
        assert proc.returncode == -signal.SIGKILL, proc.communicate()
        return
    deadline = time.monotonic() + timeout
    while not reached():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the process did not reach the kill point"
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def _main(argv: list[str]) -> int:
    import argparse

    from toekgw.adapters.serviceplatform import open_transport, send_file
    from toekgw.cli.receive._common import receive_once
    from toekgw.gateway.journal import open_journal

    parser = argparse.ArgumentParser(prog="tests.crashkit")
    parser.add_argument("--config", required=True)
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("receive")
    rec.add_argument("--profile", default="lines")
    rec.add_argument("--processor", default="tests.crashkit:LineProcessor")
    rec.add_argument("--today", default=None, help="YYYY-MM-DD, passed to the processor")
    snd = sub.add_parser("send")
    snd.add_argument("file")
    snd.add_argument("--to", action="append", required=True)
    args = parser.parse_args(argv)
    settings = load_settings(args.config)
    if args.command == "receive":
        module, _, attr = args.processor.partition(":")
        factory = getattr(importlib.import_module(module), attr)
        if args.today:
            factory = functools.partial(factory, today=dt.date.fromisoformat(args.today))
        for outcome in receive_once(settings, args.profile, factory):
            print(
                json.dumps(
                    {"file": outcome.name, "status": outcome.status, "message": outcome.message}
                )
            )
        return 0
    sp = serviceplatform_settings(settings)
    journal = open_journal(settings.journal)
    with open_transport(sp) as transport:
        result = send_file(
            journal,
            transport,
            Path(args.file),
            recipients=args.to,
            sender=sp.party,
            receipt_timeout=sp.receipt_timeout,
            poll=0.1,
        )
    print(json.dumps({"state": result.transmission.state, "message": result.message}))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
