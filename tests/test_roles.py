"""Roles: every command has an entry in the one table; with ``[roles]`` configured a command
run without its role is refused (one line, exit 1, nothing changed); four eyes of payment
operations need the approver role and a second person; only a delegator may name another."""

from __future__ import annotations

import getpass
import hashlib
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.nemkonto_flow_data import instruction
from tests.test_payments_cli import K, _cycle, payments_config
from toekgw.cli.access import COMMAND_ROLES, commands_of
from toekgw.cli.main import cli
from toekgw.gateway.config import ConfigError, load_settings
from toekgw.gateway.roles import ROLES_SECTION

ME = getpass.getuser()
ROLES = f"""
[roles]
operator = ["anna", "bo"]
approver = ["carl", "bo"]
auditor = ["dorte"]
administrator = ["erik"]
delegators = ["{ME}"]
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return payments_config(tmp_path, [instruction(n) for n in range(1, 8)])[0]


def _run(config: Path, *args: str, who: str | None = None) -> Result:
    env = {"TOEKGW_USER": who} if who else {"TOEKGW_USER": ""}
    return CliRunner(env=env).invoke(cli, [*args, "--config", str(config)])


def _journal_digest(config: Path) -> str:
    return hashlib.sha256((config.parent / "var" / "journal.sqlite").read_bytes()).hexdigest()


def test_every_command_has_exactly_one_entry_in_the_table() -> None:
    paths = {path for path, _command in commands_of(cli)}
    assert paths - COMMAND_ROLES.keys() == set(), "commands without a role entry"
    assert COMMAND_ROLES.keys() - paths == set(), "entries naming no command"
    # The commands open to anyone read no journal: none of them takes --config.
    for path, command in commands_of(cli):
        if not COMMAND_ROLES[path]:
            assert "config_path" not in {p.name for p in command.params}, path


def test_a_command_without_its_role_is_refused_and_changes_nothing(config: Path) -> None:
    config.write_text(config.read_text() + ROLES)
    before = _journal_digest(config)
    cases = [
        (("nemkonto", "release", "--today", "2026-11-23"), "dorte", "the role operator"),
        (("payments", "block", K[7], "--reason", "x"), "carl", "the role operator"),
        (("backup", str(config.parent / "b.sqlite")), "anna", "the role administrator"),
        (("status",), "zoe", "(zoe has no role"),
    ]
    for args, who, message in cases:
        result = _run(config, *args, who=who)
        assert result.exit_code == 1, result.output
        assert message in result.output and len(result.output.strip().splitlines()) == 1
        assert "nothing was done" in result.output
    assert _journal_digest(config) == before
    assert not (config.parent / "b.sqlite").exists()
    assert _run(config, "status", who="dorte").exit_code == 0


def test_four_eyes_needs_an_approver_who_did_not_ask(config: Path, tmp_path: Path) -> None:
    config.write_text(config.read_text() + ROLES)
    _cycle(config, tmp_path, rejected=(2,))
    asked = _run(config, "payments", "pay-alternative", K[2], "--registration", "5678",
                 "--account", "123456", "--reason", "new account", who="bo")  # fmt: skip
    assert "waits for a second person" in asked.output, asked.output
    before = _journal_digest(config)
    by_operator = _run(config, "payments", "approve", K[2], "--reason", "ok", who="anna")
    assert by_operator.exit_code == 1 and "needs the role approver" in by_operator.output
    by_requester = _run(config, "payments", "approve", K[2], "--reason", "ok", who="bo")
    assert by_requester.exit_code == 1 and "four eyes" in by_requester.output
    assert _journal_digest(config) == before
    approved = _run(config, "payments", "approve", K[2], "--reason", "checked", who="carl")
    assert approved.exit_code == 0, approved.output


def test_only_a_delegator_may_name_another_person(config: Path) -> None:
    config.write_text(config.read_text() + ROLES.replace(f'delegators = ["{ME}"]', ""))
    result = _run(config, "status", who="dorte")
    assert result.exit_code == 1
    assert f"{ME} may not act as dorte ($TOEKGW_USER)" in result.output
    as_option = _run(config, "payments", "block", K[7], "--reason", "x", "--as", "anna")
    assert as_option.exit_code == 1 and "(--as)" in as_option.output


def test_without_roles_nothing_is_checked(config: Path) -> None:
    assert _run(config, "status", who="nobody-in-particular").exit_code == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('operator = "anna"', "[roles] operator: expected a list of user names"),
        ("operator = []", "[roles] names nobody"),
        ('operators = ["anna"]', "unknown key 'operators' in [roles] (did you mean 'operator'?)"),
    ],
)
def test_a_bad_roles_table_is_one_clear_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "toekgw.toml"
    path.write_text(f'[journal]\npath = "j"\n[staging]\ndir = "s"\n[roles]\n{text}\n')
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(path, sections=[ROLES_SECTION])
