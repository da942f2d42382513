"""Which role each command needs: one table, checked before the command does anything.

:data:`COMMAND_ROLES` maps every command (its path under ``toekgw``) to the roles that may run
it, or to :data:`ANYONE` for the commands that touch no journal (validating a file, the
simulators, the demo in its own directory). :func:`guard` wraps every command of the tree at
start-up: a command missing from the table is refused (and ``tests/test_roles.py`` walks the
tree, so a new command cannot forget its entry). The check itself, with ``[roles]`` from the
configuration and the acting identity, is :func:`toekgw.gateway.roles.check_access`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from toekgw.adapters.config import load_settings
from toekgw.gateway.config import ConfigError, find_config
from toekgw.gateway.roles import ROLES_SECTION, AccessRefused, Role, check_access

__all__ = ["ANYONE", "COMMAND_ROLES", "commands_of", "guard"]

#: Runs without a check: the command reads no journal and no configuration's data.
ANYONE: frozenset[Role] = frozenset()

_OP = frozenset({Role.OPERATOR})
_READ = frozenset({Role.OPERATOR, Role.AUDITOR})
_APPROVE = frozenset({Role.APPROVER})
_ADMIN = frozenset({Role.ADMINISTRATOR})
_AUDIT = frozenset({Role.AUDITOR})

COMMAND_ROLES: dict[str, frozenset[Role]] = {
    "audit reads": _AUDIT,
    "backup": _ADMIN,
    "debitor ledger": _READ,
    "debitor reconcile": _READ,
    "debitor send": _OP,
    "debitor status": _READ,
    "demo": ANYONE,
    "doctor": _ADMIN | _OP,
    "eindkomst close-month": _OP,
    "eindkomst receive": _OP,
    "eindkomst send": _OP,
    "eindkomst stop-cases": _OP,
    "eindkomst withholding": _READ,
    "errors": _READ,
    "generate g68": ANYONE,
    "journal migrate-to": _ADMIN,
    "nemkonto block": _OP,
    "nemkonto blocks": _READ,
    "nemkonto manual": _READ,
    "nemkonto release": _OP,
    "nemkonto send": _OP,
    "nemkonto unblock": _OP,
    "oir balance": _READ,
    "oir build": _OP,
    "oir export": _READ,
    "oir manual": _OP,
    "oir receive": _OP,
    "oir regenerate": _OP,
    "oir send": _OP,
    "payments approve": _APPROVE,
    "payments block": _OP,
    "payments cash": _OP,
    "payments clear": _OP,
    "payments controls": _READ,
    "payments deny": _APPROVE,
    "payments duplicates": _OP | _APPROVE,
    "payments fail": _OP,
    "payments find": _READ,
    "payments outside-nemkonto": _OP | _APPROVE,
    "payments own-account": _OP,
    "payments pay-alternative": _OP,
    "payments recall": _OP,
    "payments reconcile": _READ,
    "payments resend": _OP,
    "payments show": _READ,
    "payments stop": _OP,
    "payments unblock": _OP,
    "receive beskedfordeler": _OP,
    "receive g68": _OP,
    "receive nemkonto": _OP,
    "receive tok": _OP,
    "reconcile": _READ,
    "reconcile action add": _OP,
    "reconcile action list": _READ,
    "reconcile action update": _OP,
    "restore": _ADMIN,
    "retention": _ADMIN,
    "run": _OP,
    "send": _OP,
    "serve debitor": _OP,
    "simulate beskedfordeler": ANYONE,
    "simulate debitor": ANYONE,
    "simulate eindkomst": ANYONE,
    "simulate eindkomst-sf0770": ANYONE,
    "simulate erp": ANYONE,
    "simulate fagsystem": ANYONE,
    "simulate klassifikation": ANYONE,
    "simulate nemkonto": ANYONE,
    "simulate serviceplatform": ANYONE,
    "simulate sts": ANYONE,
    "simulate ydelsesindeks": ANYONE,
    "sortiment diff": _READ,
    "sortiment receive": _OP,
    "sortiment show": _READ,
    "sortiment status": _READ,
    "status": _READ,
    "token get": _OP | _ADMIN,
    "validate eindkomst": ANYONE,
    "validate g68": ANYONE,
    "validate nemkonto": ANYONE,
    "ydelsesindeks report": _OP,
}


def commands_of(group: click.Group, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    """Every command that does work: the leaves, and a group that runs on its own
    (``reconcile --month``), each with its path (``"payments approve"``)."""
    for name, command in group.commands.items():
        path = f"{prefix} {name}".strip()
        if isinstance(command, click.Group):
            if command.invoke_without_command:
                yield path, command
            yield from commands_of(command, path)
        else:
            yield path, command


def guard(root: click.Group) -> None:
    """Check the role of every command of ``root`` before its body runs."""
    for path, command in commands_of(root):
        if command.callback is not None:
            command.callback = _guarded(path, command.callback)


def _guarded(path: str, callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def checked(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        if not (isinstance(ctx.command, click.Group) and ctx.invoked_subcommand):
            require(path, kwargs.get("config_path"), kwargs.get("actor"))
        return callback(*args, **kwargs)

    return checked


def require(path: str, config_path: Path | None, actor: str | None = None) -> None:
    """Refuse (:class:`AccessRefused`, exit 1) unless the acting person may run ``path``."""
    allowed = COMMAND_ROLES.get(path)
    if allowed is None:
        raise AccessRefused(f"toekgw {path}: no role is set for this command; refused")
    if not allowed:
        return
    try:
        find_config(config_path)
    except ConfigError:
        return  # no configuration, so no [roles]: the command itself says what is missing
    roles = load_settings(config_path).section(ROLES_SECTION)
    check_access(roles, allowed, f"run `toekgw {path}`", override=actor)
