"""``toekgw doctor``: check the configuration and its roles, the journal (its integrity and
its hash chain), staging and the SFTP server, and print the server's host-key fingerprint for
the operator to pin."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import click

from toekgw.adapters.config import load_settings
from toekgw.adapters.serviceplatform import SERVICEPLATFORM_SECTION, open_transport
from toekgw.cli.options import config_option
from toekgw.formats.findings import first_and_more, mask_cpr_in_text
from toekgw.gateway.errors import GatewayError, directory_problem
from toekgw.gateway.journal import JournalLocation, open_journal
from toekgw.gateway.roles import ROLES_SECTION
from toekgw.gateway.transport.sftp import (
    SftpSettings,
    fingerprint,
    known_hosts_line,
    known_hosts_status,
    load_private_key,
    server_host_key,
)


@click.command()
@config_option
def doctor(config_path: Path | None) -> None:
    """Check the configuration and its roles, the journal (integrity and hash chain), staging
    and the SFTP server, one line per check. Exit 0 if all pass."""
    settings = load_settings(config_path)
    problems = 0

    def report(ok: bool, text: str) -> None:
        nonlocal problems
        problems += 0 if ok else 1
        # A path or a reason quoted here can hold a CPR number's digits.
        click.echo(f"{'ok  ' if ok else 'FAIL'} {mask_cpr_in_text(text)}")

    report(True, f"configuration {settings.path}")
    roles = settings.section(ROLES_SECTION)
    if roles is None:
        click.echo("warn no [roles] table: every user may run every command (docs/operations.md)")
    else:
        named = sorted({name for names in roles.members.values() for name in names})
        report(True, f"roles for {len(named)} people ({', '.join(named)})")
    for ok, text in _journal_checks(settings.journal):
        report(ok, text)
    report(*_staging_check(settings.staging))

    sp = settings.section(SERVICEPLATFORM_SECTION)
    if sp is None:
        report(True, "no [serviceplatform] table: no Serviceplatformen flow, no server to reach")
        raise SystemExit(0 if problems == 0 else 2)
    if sp.sftp is not None and sp.transport == "sftp":
        _key_check(sp.sftp, report)
        _host_key_check(sp.sftp, report)
    if problems == 0:
        try:
            with open_transport(sp) as transport:
                for directory in (sp.in_dir, sp.out_dir):
                    files = transport.list(directory)
                    report(True, f"{transport.description}: {directory}/ ({len(files)} files)")
        except GatewayError as exc:
            report(False, str(exc))
    raise SystemExit(0 if problems == 0 else 2)


def _staging_check(staging: Path) -> tuple[bool, str]:
    """The staging directory exists (made if missing) and a file can be written in it."""
    try:
        staging.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=staging):
            pass
    except OSError as exc:
        return False, f"staging directory {staging}: {directory_problem(staging, exc)}"
    return True, f"staging directory {staging}"


def _key_check(s: SftpSettings, report: Callable[[bool, str], None]) -> None:
    """Our private key loads, and its fingerprint (the public half registered with KOMBIT)."""
    try:
        key = load_private_key(s.key)
    except GatewayError as exc:
        report(False, str(exc))
        return
    report(True, f"private key {s.key} ({key.get_name()} {fingerprint(key)})")


def _host_key_check(s: SftpSettings, report: Callable[[bool, str], None]) -> None:
    """The SFTP server's host key against the one ``known_hosts`` pins (exit 2 if the server
    cannot be reached)."""
    try:
        key = server_host_key(s.host, s.port, s.connect_timeout)
    except GatewayError as exc:
        report(False, str(exc))
        raise SystemExit(2) from None
    click.echo(f"     server {s.host}:{s.port} host key {key.get_name()} {fingerprint(key)}")
    state = known_hosts_status(s.known_hosts, s.host, s.port, key)
    if state == "pinned":
        report(True, f"host key pinned in {s.known_hosts}")
    elif state == "unknown":
        report(
            False,
            f"host key not in {s.known_hosts}; after confirming the fingerprint "
            "with the server's operator, add this line:",
        )
        click.echo(f"     {known_hosts_line(s.host, s.port, key)}")
    else:
        report(
            False,
            f"host key CHANGED: {s.known_hosts} pins another key for {s.host}; "
            "do not connect until the server's operator confirms the new one",
        )


def _journal_checks(path: JournalLocation) -> list[tuple[bool, str]]:
    """The journal's integrity check, then its hash chain (``ok``, line) each."""
    try:
        journal = open_journal(path)
        try:
            started = time.monotonic()
            problems = journal.integrity_problems()
            took = time.monotonic() - started
            if problems:
                return [
                    (
                        False,
                        f"journal {path} fails its integrity check in {took:.1f} s: "
                        f"{first_and_more(problems)}; release, send and receive refuse to run "
                        "on it",
                    )
                ]
            version = journal.schema_version()
            started = time.monotonic()
            chain = journal.verify_chain()
            chain_took = time.monotonic() - started
        finally:
            journal.close()
    except GatewayError as exc:
        return [(False, f"journal: {exc}")]
    head = (
        True,
        f"journal {path} (schema version {version}; integrity check passed in {took:.1f} s)",
    )
    verdict = (
        f"BROKEN: {first_and_more(chain.problems)}"
        if chain.problems
        else f"verified in {chain_took:.1f} s, head {chain.head[:16]}"
    )
    return [
        head,
        (
            not chain.problems,
            f"hash chain: {chain.links} links over {chain.rows} events, items and reads {verdict}",
        ),
    ]
