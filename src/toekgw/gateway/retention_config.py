"""``[retention]``: how long personal data is kept in clear, and the pseudonym key.

::

    [retention]
    key_file = "/etc/toekgw/pseudonym.key"  # the HMAC key (>= 32 bytes); not in the backups
    reads = 1827                            # days the read log keeps CPR numbers in clear

    [retention.kinds]                       # days after an item's last change, per kind
    g68-delivery = 1827
    payment-follow-up = 1827

Past its kind's period an item's personal data (what its adapter registered:
:mod:`toekgw.gateway.privacy`) is replaced by keyed pseudonyms and its transmission's staging
copy is deleted; amounts, dates, states and the event chain stay. A kind not listed is kept
as it is; a name that is no kind an adapter journals (:mod:`toekgw.gateway.kinds`) is a
:class:`ConfigError` naming the known ones. The retention run: :mod:`toekgw.gateway.retention`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from toekgw.gateway.config import (
    ConfigError,
    CoreSettings,
    Section,
    Table,
    did_you_mean,
    register_section,
)
from toekgw.gateway.errors import os_problem
from toekgw.gateway.kinds import kind_names

__all__ = ["MIN_KEY_BYTES", "RETENTION_SECTION", "RetentionSettings"]

MIN_KEY_BYTES = 32
_MAX_DAYS = 36_500


@dataclass(frozen=True, slots=True)
class RetentionSettings:
    key_file: Path
    reads_days: int | None = None
    kinds: Mapping[str, int] = field(default_factory=dict)

    def key(self) -> bytes:
        """The pseudonym key; a :class:`ConfigError` when it cannot be read or is too short."""
        try:
            key = self.key_file.read_bytes().strip()
        except OSError as exc:
            raise ConfigError(
                f"[retention] key_file {self.key_file}: {os_problem(self.key_file, exc)}"
            ) from exc
        if len(key) < MIN_KEY_BYTES:
            raise ConfigError(
                f"[retention] key_file {self.key_file}: {len(key)} bytes, expected at least "
                f"{MIN_KEY_BYTES} (e.g. `head -c 48 /dev/urandom | base64 > FILE`)"
            )
        return key


def _parse(table: Table, core: CoreSettings) -> RetentionSettings:
    key_file = table.required_path("key_file")
    reads = table.integer("reads", None, 1, _MAX_DAYS) if "reads" in table.data else None
    kinds_table = table.table("kinds")
    kinds = {} if kinds_table is None else _kinds(kinds_table)
    table.finish()
    return RetentionSettings(key_file, reads, kinds)


def _kinds(table: Table) -> dict[str, int]:
    """``[retention.kinds]``: days per transmission kind, each a kind some adapter journals
    (:mod:`toekgw.gateway.kinds`): a misspelt one would keep its personal data for ever."""
    known = kind_names()
    kinds: dict[str, int] = {}
    for name in list(table.data):
        if name not in known:
            raise ConfigError(
                f"{table.where(name)}: not a transmission kind{did_you_mean(name, known)}; "
                f"known: {', '.join(known)}"
            )
        kinds[name] = table.integer(name, None, 1, _MAX_DAYS)
    table.finish()
    return kinds


RETENTION_SECTION = register_section(
    Section("retention", _parse, hint="see docs/operations.md (retention)")
)
