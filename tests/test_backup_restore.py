"""``toekgw backup`` / ``toekgw restore``: a consistent copy of a journal in use, checked, and
put back; existing files are never overwritten by mistake."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.crashkit import child_env, killed, paused_at, resumed, toekgw_child, toekgw_process
from toekgw.cli.main import cli
from toekgw.formats.findings import Finding, Severity
from toekgw.gateway.flowlock import (
    FlowBusy,
    flow_lock,
    lock_path,
    no_flow_running,
    service_lock,
)
from toekgw.gateway.journal import SqliteJournal, open_journal
from toekgw.gateway.journal._in_use import journal_to_itself
from toekgw.gateway.journal.backup import backup_journal

CONFIG = """
[journal]
path = "var/journal.sqlite"

[staging]
dir = "var/staging"

[serviceplatform]
party = "toek"
transport = "localdir"

[serviceplatform.localdir]
root = "var/sp"
"""


def _run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--config", str(config)])


def _add_errors(journal: SqliteJournal, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        journal.add_error(
            counterpart="g68",
            subject=f"delivery {i}",
            findings=[Finding("g68.test", Severity.ERROR, f"finding {i}")],
        )


def _subjects(path: Path) -> list[str]:
    journal = open_journal(path)
    try:
        return [e.subject for e in journal.errors(include_resolved=True)]
    finally:
        journal.close()


def test_backup_of_a_journal_in_use_then_restore(tmp_path: Path) -> None:
    config = tmp_path / "toekgw.toml"
    config.write_text(CONFIG, encoding="utf-8")
    journal_path = tmp_path / "var" / "journal.sqlite"
    live = open_journal(journal_path)
    try:
        _add_errors(live, 50)  # committed, still in the write-ahead log: the copy must hold it
        copy = tmp_path / "backups" / "journal-1.sqlite"
        result = _run(config, "backup", str(copy))
        assert result.exit_code == 0, result.output
        assert "checked" in result.output
        _add_errors(live, 5, start=50)  # after the backup: not in the copy
    finally:
        live.close()
    assert _subjects(copy) == [f"delivery {i}" for i in range(50)]

    again = _run(config, "backup", str(copy))
    assert again.exit_code == 2
    assert "already exists; nothing was written" in again.output

    refused = _run(config, "restore", str(copy))
    assert refused.exit_code == 2
    assert "--force" in refused.output
    assert len(_subjects(journal_path)) == 55

    restored = _run(config, "restore", "--force", str(copy))
    assert restored.exit_code == 0, restored.output
    assert _subjects(journal_path) == [f"delivery {i}" for i in range(50)]
    reopened = open_journal(journal_path, verify=True)  # sound and usable after the restore
    try:
        _add_errors(reopened, 1, start=99)
    finally:
        reopened.close()


@pytest.mark.parametrize("how", ["SIGKILL", "SIGINT", "SIGTERM"])
def test_a_backup_stopped_mid_copy_leaves_nothing_at_its_name_and_runs_again(
    tmp_path: Path, how: str
) -> None:
    """A backup stopped after the copy, before its check, left the unchecked file (or, killed
    mid-copy, a half file and its rollback journal) at the target's name: the same command
    then said "already exists", and a restore of it "is not a toekgw journal"."""
    config = tmp_path / "toekgw.toml"
    config.write_text(CONFIG, encoding="utf-8")
    live = open_journal(tmp_path / "var" / "journal.sqlite")
    _add_errors(live, 20)
    live.close()
    copy = tmp_path / "backups" / "journal-1.sqlite"
    if how == "SIGKILL":
        stopped = toekgw_child(["backup", str(copy)], config, crash_at="journal.backup.copied")
        assert killed(stopped), stopped.stderr
    else:
        child = paused_at(["backup", str(copy)], config, "journal.backup.copied")
        child.send_signal(getattr(signal, how))
        stopped = resumed(child)
        assert stopped.returncode == (130 if how == "SIGINT" else 143), stopped.stderr
    assert not copy.exists()
    again = _run(config, "backup", str(copy))
    assert again.exit_code == 0, again.output
    assert sorted(p.name for p in copy.parent.iterdir()) == ["journal-1.sqlite"]  # no leftover
    assert _subjects(copy) == [f"delivery {i}" for i in range(20)]


def test_restore_refuses_a_file_that_is_not_a_sound_journal(tmp_path: Path) -> None:
    config = tmp_path / "toekgw.toml"
    config.write_text(CONFIG, encoding="utf-8")
    garbage = tmp_path / "not-a-journal.sqlite"
    garbage.write_bytes(b"this is not an SQLite file" * 200)
    result = _run(config, "restore", str(garbage))
    assert result.exit_code == 2
    assert "is not a toekgw journal" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "var" / "journal.sqlite").exists()


def test_backup_without_a_journal_is_one_line_and_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "toekgw.toml"
    config.write_text(CONFIG, encoding="utf-8")
    result = _run(config, "backup", str(tmp_path / "b.sqlite"))
    assert result.exit_code == 2
    assert result.output.strip().endswith("does not exist; nothing was backed up")
    assert not (tmp_path / "b.sqlite").exists()


def _log_of_a_lost_journal(tmp_path: Path) -> bytes:
    """The write-ahead log a journal killed while open leaves, with 40 committed findings the
    checkpoint has not yet copied; the journal file itself is then lost."""
    lost = tmp_path / "lost" / "journal.sqlite"
    journal = open_journal(lost)
    try:
        journal._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        journal._db.execute("PRAGMA wal_autocheckpoint = 0")
        _add_errors(journal, 40, start=1000)
        return lost.with_name("journal.sqlite-wal").read_bytes()
    finally:
        journal.close()


@pytest.mark.parametrize("command", ["restore", "backup"])
def test_a_log_left_by_a_journal_no_longer_there_is_refused_not_replayed(
    tmp_path: Path, command: str
) -> None:
    """SQLite replays a ``-wal`` it finds beside a file into that file: a restore to a
    journal's name whose log outlived it (a journal killed, then deleted) became the old
    journal's state, not the backup's, and passed its integrity check."""
    config = tmp_path / "toekgw.toml"
    config.write_text(CONFIG, encoding="utf-8")
    stale = _log_of_a_lost_journal(tmp_path)
    copy = tmp_path / "backups" / "journal-1.sqlite"
    journal_path = tmp_path / "var" / "journal.sqlite"
    live = open_journal(
        tmp_path / "source" / "journal.sqlite" if command == "restore" else journal_path
    )
    _add_errors(live, 3)
    live.close()
    if command == "restore":
        assert backup_journal(tmp_path / "source" / "journal.sqlite", copy) > 0
        target, args = journal_path, ["restore", str(copy)]
    else:
        target, args = copy, ["backup", str(copy)]
    log = target.with_name(target.name + "-wal")
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_bytes(stale)

    refused = _run(config, *args)
    assert refused.exit_code == 2, refused.output
    assert f"{log} lies beside {target}, which does not exist" in refused.output
    assert "move it away" in refused.output
    assert not target.exists()
    assert log.read_bytes() == stale  # nothing lost: the log is the operator's to look at

    log.rename(tmp_path / "kept.wal")
    done = _run(config, *args)
    assert done.exit_code == 0, done.output
    assert _subjects(target) == [f"delivery {i}" for i in range(3)]


def _world_config(tmp_path: Path) -> Path:
    from tests.service_world import World

    world = World(tmp_path)
    config = world.write_config("\n[run]\nmetrics_port = 0\n")
    live = open_journal(world.var / "journal.sqlite")
    _add_errors(live, 3)
    live.close()
    return config


def test_restore_is_refused_while_toekgw_run_runs_and_goes_through_once_it_stopped(
    tmp_path: Path,
) -> None:
    """ "Stop toekgw first" was only advice: a restore under a running service put the old
    journal under its feet. The service holds its lock for its life; the restore refuses."""
    config = _world_config(tmp_path)
    staging = tmp_path / "var" / "staging"
    copy = tmp_path / "backup.sqlite"
    assert _run(config, "backup", str(copy)).exit_code == 0
    service = toekgw_process(["run"], config)
    try:
        deadline = time.monotonic() + 60
        while _restore_may_run(staging):  # until the service holds its lock
            assert service.poll() is None, service.communicate()
            assert time.monotonic() < deadline, "toekgw run did not start"
            time.sleep(0.05)
        refused = _run(config, "restore", "--force", str(copy))
        assert refused.exit_code == 2, refused.output
        assert "toekgw: error: toekgw run is running (it holds " in refused.output
        assert "before a restore; nothing was done" in refused.output
    finally:
        service.send_signal(signal.SIGTERM)
        _out, err = service.communicate(timeout=60)
    assert service.returncode == 0, err
    restored = _run(config, "restore", "--force", str(copy))
    assert restored.exit_code == 0, restored.output


def _restore_may_run(staging: Path) -> bool:
    try:
        with no_flow_running(staging, "a check"):
            return True
    except FlowBusy:
        return False


def test_restore_waits_for_no_flow_and_no_flow_or_service_starts_under_it(tmp_path: Path) -> None:
    config = _world_config(tmp_path)
    staging = tmp_path / "var" / "staging"
    copy = tmp_path / "backup.sqlite"
    assert _run(config, "backup", str(copy)).exit_code == 0
    with flow_lock(lock_path(staging, "nemkonto-send"), "nemkonto send"):
        refused = _run(config, "restore", "--force", str(copy))
    assert refused.exit_code == 2
    assert "nemkonto-send is running (it holds " in refused.output
    with flow_lock(staging / "ksd" / ".lock", "receive"):
        refused = _run(config, "restore", "--force", str(copy))
    assert "a receive from ksd is running" in refused.output
    with service_lock(staging), service_lock(staging):  # two workers on one machine
        assert not _restore_may_run(staging)
    with no_flow_running(staging, "a restore"):  # a restore copying
        started = _run(config, "run", "--once")
        assert started.exit_code == 2, started.output
        assert "a restore of the journal is running" in started.output
        with (
            pytest.raises(FlowBusy, match="another nemkonto send is running"),
            flow_lock(lock_path(staging, "nemkonto-send"), "nemkonto send"),
        ):
            pass


def test_restore_and_migrate_to_are_refused_while_any_process_has_the_journal_open(
    tmp_path: Path,
) -> None:
    """The flow locks miss what takes none (a payment action, the callback service, a
    reader) and a flow that never ran before: every connection holds the journal's in-use
    lock, and a restore or a copy is refused while another holds it."""
    config = _world_config(tmp_path)
    journal_path = tmp_path / "var" / "journal.sqlite"
    copy = tmp_path / "backup.sqlite"
    assert _run(config, "backup", str(copy)).exit_code == 0
    holder = subprocess.Popen(  # another process with the journal open, no flow lock
        [sys.executable, "-c", _HOLD, str(journal_path)],
        env=child_env(None), stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        refused = _run(config, "restore", "--force", str(copy))
        assert refused.exit_code == 2, refused.output
        assert f"the journal {journal_path} is open in another process" in refused.output
        assert "before a restore; nothing was done" in refused.output
        copied = _run(config, "journal", "migrate-to", "postgresql://nobody@127.0.0.1:9/none")
        assert copied.exit_code == 2, copied.output
        assert "is open in another process" in copied.output
    finally:
        holder.kill()
        holder.wait()
    assert _run(config, "restore", "--force", str(copy)).exit_code == 0
    with journal_to_itself(journal_path, "a check"):  # a restore copying: no process opens it
        opening = subprocess.run(
            [sys.executable, "-c", _HOLD.replace("time.sleep(600)", "pass"), str(journal_path)],
            env=child_env(None), capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert opening.returncode != 0 and opening.stdout == ""
    assert "is being restored or copied by another process" in opening.stderr


_HOLD = (
    "import sys, time; from toekgw.gateway.journal import open_journal; "
    "j = open_journal(sys.argv[1]); print('open', flush=True); time.sleep(600)"
)
