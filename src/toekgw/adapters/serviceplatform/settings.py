"""``[serviceplatform]`` and ``[receive.<name>]``: how we reach Serviceplatformen's SFTP, and
who may send us each kind of file there.

``[serviceplatform]`` names our party (the system id the platform knows us by), the transport
(``sftp``, or ``localdir`` for a plain directory in tests) with its own table, the IN/ and OUT/
directories, how often to poll, how long to wait for a technical receipt, and what to do with
a received file (remove it, or archive it). Each ``[receive.<name>]`` profile lists the
senders whose files the ``<name>`` receiver takes, the counterpart they are journaled under,
and the receiving adapter's own options, which the adapter checks when the file is loaded
(:func:`register_receive_options`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from toekgw.gateway.config import (
    REQUIRED,
    ConfigError,
    CoreSettings,
    Section,
    Settings,
    Table,
    did_you_mean,
    register_section,
)
from toekgw.gateway.transport.config import open_file_transport, parse_localdir, parse_sftp
from toekgw.gateway.transport.files import FileTransport
from toekgw.gateway.transport.sftp import SftpSettings

__all__ = [
    "RECEIVE",
    "SERVICEPLATFORM_SECTION",
    "OptionsCheck",
    "ReceiveSettings",
    "ServiceplatformSettings",
    "no_own_options",
    "open_transport",
    "receive_profile",
    "refuse_unknown_options",
    "register_receive_options",
    "serviceplatform_settings",
]


@dataclass(frozen=True, slots=True)
class ServiceplatformSettings:
    party: str
    transport: Literal["sftp", "localdir"]
    in_dir: str
    out_dir: str
    poll_interval: float
    receipt_timeout: float
    after_receive: Literal["remove", "archive"]
    archive_dir: str | None
    sftp: SftpSettings | None
    localdir: Path | None


@dataclass(frozen=True, slots=True)
class ReceiveSettings:
    """``[receive.<name>]``: who may send this kind of file, and the adapter's own options.
    ``file``: the configuration file it was read from (None when made in code)."""

    name: str
    senders: tuple[str, ...]
    counterpart: str
    options: Mapping[str, Any] = field(default_factory=dict)
    file: Path | None = None

    def where(self, key: str | None = None) -> str:
        """``<file>: [receive.<name>] <key>``: the start of a message about the profile, as
        :meth:`~toekgw.gateway.config.Table.where` starts one about a key."""
        table = f"[receive.{self.name}]"
        place = table if self.file is None else f"{self.file}: {table}"
        return place if key is None else f"{place} {key}"


#: ``check(profile)`` reads a profile's own options as its receiver will (a
#: :class:`ConfigError` when one is wrong): :func:`register_receive_options`.
OptionsCheck = Callable[[ReceiveSettings], object]
_OPTION_CHECKS: dict[str, OptionsCheck] = {}


def register_receive_options(name: str, check: OptionsCheck) -> None:
    """Have ``[receive.<name>]``'s own options checked when the file is loaded, by the same
    ``check`` the receiver reads them with: so every command, ``toekgw doctor`` and ``toekgw
    run`` refuse a wrong one, not only the receive that would use it."""
    _OPTION_CHECKS[name] = check


def refuse_unknown_options(profile: ReceiveSettings, known: Sequence[str] = ()) -> None:
    """A :class:`ConfigError` naming the first key of ``profile.options`` not in ``known``:
    the check of a profile whose adapter reads only those (none: :func:`no_own_options`)."""
    unknown = sorted(set(profile.options) - set(known))
    if unknown:
        names = ("senders", "counterpart", *known)
        hint = did_you_mean(unknown[0], names) or f" (known: {', '.join(names)})"
        raise ConfigError(f"{profile.where()}: unknown key {unknown[0]!r}{hint}")


def no_own_options(profile: ReceiveSettings) -> None:
    """The check of a profile whose adapter has no options of its own: only ``senders`` and
    ``counterpart`` are known."""
    refuse_unknown_options(profile)


def _serviceplatform(sp: Table, core: CoreSettings) -> ServiceplatformSettings:
    transport = sp.choice("transport", ("sftp", "localdir"), "sftp")
    after = sp.choice("after_receive", ("remove", "archive"), "remove")
    archive_dir = sp.text("archive_dir")
    if after == "archive" and archive_dir is None:
        raise ConfigError(
            f'{sp.file}: [serviceplatform] archive_dir: required when after_receive = "archive"'
        )
    sftp_table = sp.table("sftp", required=transport == "sftp")
    sftp = parse_sftp(sftp_table) if sftp_table is not None else None
    local_table = sp.table("localdir", required=transport == "localdir")
    localdir = parse_localdir(local_table) if local_table is not None else None
    settings = ServiceplatformSettings(
        party=sp.text("party", REQUIRED),
        transport=transport,
        in_dir=sp.text("in_dir", "IN"),
        out_dir=sp.text("out_dir", "OUT"),
        poll_interval=sp.seconds("poll_interval", 60),
        receipt_timeout=sp.seconds("receipt_timeout", 120),
        after_receive=after,
        archive_dir=archive_dir,
        sftp=sftp,
        localdir=localdir,
    )
    sp.finish()
    return settings


def _receive(table: Table, core: CoreSettings) -> Mapping[str, ReceiveSettings]:
    profiles: dict[str, ReceiveSettings] = {}
    for name, profile in table.subtables():
        senders = profile.names("senders")
        counterpart = profile.text("counterpart", name)
        chosen = ReceiveSettings(name, senders, counterpart, profile.rest(), profile.file)
        check = _OPTION_CHECKS.get(name)
        if check is not None:
            check(chosen)
        profiles[name] = chosen
    return profiles


SERVICEPLATFORM_SECTION = register_section(Section("serviceplatform", _serviceplatform))
RECEIVE = register_section(
    Section("receive", _receive, hint="it names the expected senders; see docs/configuration.md")
)


def serviceplatform_settings(settings: Settings) -> ServiceplatformSettings:
    return settings.require(SERVICEPLATFORM_SECTION)


def receive_profile(settings: Settings, name: str) -> ReceiveSettings:
    """The ``[receive.<name>]`` profile; a :class:`ConfigError` naming it when it is absent."""
    chosen = (settings.section(RECEIVE) or {}).get(name)
    if chosen is None:
        raise ConfigError(
            f"{settings.path}: no [receive.{name}] table",
            hint="it names the expected senders; see docs/configuration.md",
        )
    return chosen


def open_transport(settings: ServiceplatformSettings) -> FileTransport:
    """The configured transport (not yet connected: SFTP connects on first use)."""
    return open_file_transport(settings.transport, settings.sftp, settings.localdir)
