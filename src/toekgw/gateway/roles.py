"""Roles: who may do what, from ``[roles]`` in the configuration.

Four roles, after the municipality's division of duties:

- **operator**: runs the flows (receive, release, send, answers), handles payments, reads
  status and the error list;
- **approver**: the second person of four eyes: approves or denies what an operator asked
  for (an alternative account, a payment failed after the bank); never their own request;
- **auditor**: reads the reports, the read log and the trail, changes nothing;
- **administrator**: backup, restore, retention, the journal's health.

::

    [roles]
    operator = ["anna", "bo"]
    approver = ["carl"]
    auditor = ["dorte"]
    administrator = ["erik"]
    delegators = ["toekgw-web"]   # OS users that may name the acting person

The acting person is the operating-system user (:func:`toekgw.gateway.identity.os_user`).
With ``[roles]`` present, naming someone else (``$TOEKGW_USER``, a command's ``--as``) is
allowed only to the OS users listed in ``delegators`` (a front end that authenticates its
users and passes the name on): anyone else could sign as anybody and four eyes would be two.
Without a ``[roles]`` table nothing is checked (one person's test installation); ``toekgw
doctor`` says so. Which command needs which role is the CLI's table
(:mod:`toekgw.cli.access`).
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from toekgw.gateway.config import ConfigError, CoreSettings, Section, Table, register_section
from toekgw.gateway.errors import GatewayError
from toekgw.gateway.identity import USER_ENV, acting_identity, os_user

__all__ = ["ROLES_SECTION", "AccessRefused", "Role", "RolesSettings", "check_access"]


class Role(enum.StrEnum):
    OPERATOR = "operator"
    APPROVER = "approver"
    AUDITOR = "auditor"
    ADMINISTRATOR = "administrator"


class AccessRefused(GatewayError):
    """The acting person lacks the role the action needs, or may not act as someone else:
    nothing was done."""

    exit_code = 1


@dataclass(frozen=True, slots=True)
class RolesSettings:
    members: Mapping[Role, frozenset[str]] = field(default_factory=dict)
    delegators: frozenset[str] = frozenset()

    def roles_of(self, identity: str) -> frozenset[Role]:
        return frozenset(role for role, names in self.members.items() if identity in names)


def check_access(
    roles: RolesSettings | None,
    allowed: Collection[Role],
    action: str,
    *,
    override: str | None = None,
) -> str:
    """The acting identity, when it may do ``action`` (needs one of ``allowed``); else
    :class:`AccessRefused`. ``roles`` None: no ``[roles]`` table, nothing to check."""
    identity = acting_identity(override)
    if roles is None:
        return identity
    user = os_user()
    if identity != user and user not in roles.delegators:
        via = "--as" if override else f"${USER_ENV}"
        raise AccessRefused(
            f"{user} may not act as {identity} ({via}): only the OS users in [roles] "
            "delegators may name another person; nothing was done"
        )
    if not roles.roles_of(identity) & set(allowed):
        has = ", ".join(sorted(roles.roles_of(identity))) or "no role"
        needs = " or ".join(sorted(allowed))
        raise AccessRefused(
            f"{identity} may not {action}: it needs the role {needs} ({identity} has {has} "
            "in [roles]); nothing was done"
        )
    return identity


def _names(table: Table, key: str) -> frozenset[str]:
    value = table.data.get(key, [])
    table.used.add(key)
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{table.where(key)}: expected a list of user names, found {value!r}")
    return frozenset(v.strip() for v in value)


def _parse(table: Table, core: CoreSettings) -> RolesSettings:
    members = {role: _names(table, role.value) for role in Role}
    delegators = _names(table, "delegators")
    table.finish()
    if not any(members.values()):
        raise ConfigError(
            f"{table.file}: [roles] names nobody: every command would be refused "
            f"(give at least one of {', '.join(Role)})"
        )
    return RolesSettings(members, delegators)


ROLES_SECTION = register_section(Section("roles", _parse, hint="see docs/operations.md (roles)"))
