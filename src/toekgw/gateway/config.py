"""One TOML file -> typed settings. Every mistake is named by file, table and key.

The reference, with an example, is ``docs/configuration.md`` (and ``examples/toekgw.toml``).
Relative paths are relative to the directory of the configuration file, so that a
configuration and its keys and journal can move together.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from toekgw.formats.idents import cvr_problem
from toekgw.gateway.errors import UsageError
from toekgw.gateway.transport.files import FileTransport
from toekgw.gateway.transport.localdir import LocalDirTransport
from toekgw.gateway.transport.mq import DEFAULT_BACKOUT_THRESHOLD, MessageQueue, SqliteQueue
from toekgw.gateway.transport.sftp import SftpSettings, SftpTransport

__all__ = [
    "DEFAULT_CONFIG",
    "EINDKOMST_REPLY_QUEUE",
    "EINDKOMST_REQUEST_QUEUE",
    "ConfigError",
    "EindkomstSettings",
    "MqSettings",
    "NemKontoAuthoritySettings",
    "NemKontoSettings",
    "ReceiveSettings",
    "ServiceplatformSettings",
    "Settings",
    "find_config",
    "load_settings",
    "open_queue",
    "open_transport",
]

DEFAULT_CONFIG = "toekgw.toml"
# eIndkomst's queues, here once: the adapter, the simulator and the CLI take them from here.
EINDKOMST_REQUEST_QUEUE = "SKAT.EINDKOMST.REQUEST"
EINDKOMST_REPLY_QUEUE = "SKAT.EINDKOMST.REPLY"


class ConfigError(UsageError):
    """The configuration file is missing, unreadable or says something that cannot work."""


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
class MqSettings:
    """How to reach a queue manager: the embedded SQLite queue or IBM MQ (pymqi)."""

    transport: Literal["sqlite", "pymqi"]
    queue_db: Path | None
    queue_manager: str | None = None
    channel: str | None = None
    conn_name: str | None = None
    user: str | None = None
    password_env: str | None = None
    backout_threshold: int = DEFAULT_BACKOUT_THRESHOLD


@dataclass(frozen=True, slots=True)
class EindkomstSettings:
    """``[eindkomst]``: income reports to SKAT over MQ (see ``docs/eindkomst.md``)."""

    sender_se: str
    sender_cvr: str
    companies: tuple[str, ...]  # SE numbers registered for withholding (nil reports)
    mq: MqSettings
    request_queue: str
    reply_queue: str
    outbox: Path  # each delivery as sent, so a re-send is the same bytes
    overdue_hours: float
    max_message_bytes: int
    production: bool


@dataclass(frozen=True, slots=True)
class ReceiveSettings:
    """``[receive.<name>]``: who may send this kind of file, and the adapter's own options."""

    name: str
    senders: tuple[str, ...]
    counterpart: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NemKontoAuthoritySettings:
    """``[nemkonto.authorities.<municipality>]``: the municipality's NemKonto agreement."""

    municipality: str
    cvr: str
    agreement_number: str
    debtor_registration: str
    debtor_account: str


@dataclass(frozen=True, slots=True)
class NemKontoSettings:
    mq: MqSettings
    request_queue: str
    reply_queue: str
    counterpart: str
    banking_days_before: int
    max_payments: int
    max_bytes: int
    overdue_hours: int
    authorities: Mapping[str, NemKontoAuthoritySettings]


@dataclass(frozen=True, slots=True)
class Settings:
    path: Path
    journal: Path
    staging: Path
    serviceplatform: ServiceplatformSettings
    receive: Mapping[str, ReceiveSettings]
    eindkomst: EindkomstSettings | None = None
    nemkonto: NemKontoSettings | None = None


class _Table:
    """One TOML table, read key by key; unknown keys are refused with a suggestion."""

    def __init__(self, file: Path, name: str, data: Any) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"{file}: [{name}] must be a table")
        self.file, self.name, self.data = file, name, data
        self.used: set[str] = set()

    def _where(self, key: str) -> str:
        return f"{self.file}: [{self.name}] {key}"

    def _get(self, key: str, default: Any) -> Any:
        self.used.add(key)
        if key not in self.data:
            if default is _REQUIRED:
                raise ConfigError(f"{self._where(key)}: missing (required)")
            return default
        return self.data[key]

    def text(self, key: str, default: Any = None) -> Any:
        value = self._get(key, default)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ConfigError(f"{self._where(key)}: expected a non-empty string, found {value!r}")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> Any:
        value = self.text(key, default)
        if value not in choices:
            raise ConfigError(
                f"{self._where(key)}: expected one of {', '.join(choices)}, found {value!r}"
            )
        return value

    def integer(self, key: str, default: Any, low: int, high: int) -> int:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(
                f"{self._where(key)}: expected an integer from {low} to {high}, found {value!r}"
            )
        return value

    def seconds(self, key: str, default: float) -> float:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(
                f"{self._where(key)}: expected a number of seconds > 0, found {value!r}"
            )
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise ConfigError(f"{self._where(key)}: expected true or false, found {value!r}")
        return value

    def path(self, key: str, default: Any = None) -> Path | None:
        value = self.text(key, default)
        if value is None:
            return None
        path = Path(value).expanduser()
        return path if path.is_absolute() else (self.file.parent / path)

    def names(self, key: str) -> tuple[str, ...]:
        value = self._get(key, _REQUIRED)
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, str) and v.strip() for v in value)
        ):
            raise ConfigError(
                f"{self._where(key)}: expected a non-empty list of names, found {value!r}"
            )
        return tuple(value)

    def table(self, key: str, *, required: bool = False) -> _Table | None:
        self.used.add(key)
        if key not in self.data:
            if required:
                raise ConfigError(f"{self.file}: [{self.name}.{key}] missing (required)")
            return None
        return _Table(self.file, f"{self.name}.{key}" if self.name else key, self.data[key])

    def finish(self) -> None:
        for key in self.data:
            if key not in self.used:
                close = difflib.get_close_matches(key, sorted(self.used), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                where = f"[{self.name}]" if self.name else "the top level"
                raise ConfigError(f"{self.file}: unknown key {key!r} in {where}{hint}")

    def rest(self) -> dict[str, Any]:
        return {k: v for k, v in self.data.items() if k not in self.used}


_REQUIRED: Any = object()


def find_config(path: str | Path | None) -> Path:
    """``path``, else ``$TOEKGW_CONFIG``, else ``./toekgw.toml``."""
    chosen = Path(path or os.environ.get("TOEKGW_CONFIG") or DEFAULT_CONFIG)
    if not chosen.is_file():
        raise ConfigError(
            f"no configuration file {chosen}",
            hint="pass --config FILE or set TOEKGW_CONFIG; see docs/configuration.md",
        )
    return chosen


def load_settings(path: str | Path | None = None) -> Settings:
    file = find_config(path).resolve()
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror}") from exc
    top = _Table(file, "", data)

    journal = top.table("journal", required=True)
    assert journal is not None
    journal_path = journal.path("path", _REQUIRED)
    journal.finish()

    staging = top.table("staging", required=True)
    assert staging is not None
    staging_dir = staging.path("dir", _REQUIRED)
    staging.finish()

    sp = top.table("serviceplatform", required=True)
    assert sp is not None
    transport = sp.choice("transport", ("sftp", "localdir"), "sftp")
    after = sp.choice("after_receive", ("remove", "archive"), "remove")
    archive_dir = sp.text("archive_dir")
    if after == "archive" and archive_dir is None:
        raise ConfigError(
            f'{file}: [serviceplatform] archive_dir: required when after_receive = "archive"'
        )
    sftp_table = sp.table("sftp", required=transport == "sftp")
    sftp = None
    if sftp_table is not None:
        sftp = SftpSettings(
            host=sftp_table.text("host", _REQUIRED),
            port=sftp_table.integer("port", 22, 1, 65535),
            user=sftp_table.text("user", _REQUIRED),
            key=_must(sftp_table.path("key", _REQUIRED)),
            known_hosts=_must(sftp_table.path("known_hosts", _REQUIRED)),
            connect_timeout=sftp_table.seconds("connect_timeout", 30),
            timeout=sftp_table.seconds("timeout", 60),
            retries=sftp_table.integer("retries", 3, 0, 20),
        )
        sftp_table.finish()
    local_table = sp.table("localdir", required=transport == "localdir")
    localdir = None
    if local_table is not None:
        localdir = local_table.path("root", _REQUIRED)
        local_table.finish()
    settings_sp = ServiceplatformSettings(
        party=sp.text("party", _REQUIRED),
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

    receive: dict[str, ReceiveSettings] = {}
    receive_table = top.table("receive")
    if receive_table is not None:
        for name in list(receive_table.data):
            profile = receive_table.table(name)
            assert profile is not None
            senders = profile.names("senders")
            counterpart = profile.text("counterpart", name)
            receive[name] = ReceiveSettings(name, senders, counterpart, profile.rest())
    eik = top.table("eindkomst")
    eindkomst = None
    if eik is not None:
        eindkomst = _eindkomst(eik, _must(staging_dir))
        eik.finish()
    nk_table = top.table("nemkonto")
    nemkonto = _nemkonto(file, nk_table) if nk_table is not None else None
    top.finish()
    return Settings(
        file,
        _must(journal_path),
        _must(staging_dir),
        settings_sp,
        receive,
        eindkomst=eindkomst,
        nemkonto=nemkonto,
    )


def _eindkomst(t: _Table, staging: Path) -> EindkomstSettings:
    se = t.text("sender_se", _REQUIRED)
    cvr = t.text("sender_cvr", se)
    companies = t.names("companies") if "companies" in t.data else (se,)
    for key, values in (("sender_se", (se,)), ("sender_cvr", (cvr,)), ("companies", companies)):
        for value in values:
            problem = cvr_problem(value)
            if problem:
                raise ConfigError(f"{t._where(key)}: {value!r} is not an SE/CVR number: {problem}")
    hours = t.seconds("overdue_hours", 24)
    return EindkomstSettings(
        sender_se=se,
        sender_cvr=cvr,
        companies=companies,
        mq=_eindkomst_mq(t),
        request_queue=t.text("request_queue", EINDKOMST_REQUEST_QUEUE),
        reply_queue=t.text("reply_queue", EINDKOMST_REPLY_QUEUE),
        outbox=t.path("outbox") or staging / "eindkomst-outbox",
        overdue_hours=hours,
        max_message_bytes=t.integer("max_message_bytes", 4 * 1024 * 1024, 4096, 100 * 1024 * 1024),
        production=t.flag("production", False),
    )


def _eindkomst_mq(t: _Table) -> MqSettings:
    mq_table = t.table("mq")
    if mq_table is None:
        # The short form: ``queue_db`` alone in [eindkomst] is the embedded queue.
        return MqSettings("sqlite", _must(t.path("queue_db", "var/queues.sqlite")))
    if "queue_db" in t.data:
        raise ConfigError(
            f"{t._where('queue_db')}: the queue is set in [eindkomst.mq]; "
            "give queue_db there, not in both places"
        )
    return _mq(mq_table)


def _mq(t: _Table) -> MqSettings:
    """``[<counterpart>.mq]``: the embedded SQLite queue or IBM MQ (pymqi)."""
    transport = t.choice("transport", ("sqlite", "pymqi"), "sqlite")
    mq = MqSettings(
        transport=transport,
        queue_db=t.path("queue_db", _REQUIRED if transport == "sqlite" else None),
        queue_manager=t.text("queue_manager", _REQUIRED if transport == "pymqi" else None),
        channel=t.text("channel", _REQUIRED if transport == "pymqi" else None),
        conn_name=t.text("conn_name", _REQUIRED if transport == "pymqi" else None),
        user=t.text("user"),
        password_env=t.text("password_env"),
        backout_threshold=t.integer("backout_threshold", DEFAULT_BACKOUT_THRESHOLD, 1, 99),
    )
    t.finish()
    return mq


def _digits(table: _Table, key: str, low: int, high: int) -> str:
    value = table.text(key, _REQUIRED)
    if not value.isdigit() or not low <= len(value) <= high:
        width = f"{low}" if low == high else f"{low} to {high}"
        raise ConfigError(f"{table._where(key)}: expected {width} digits, found {value!r}")
    return str(value)


def _nemkonto(file: Path, nk: _Table) -> NemKontoSettings:
    mq_table = nk.table("mq", required=True)
    assert mq_table is not None
    mq = _mq(mq_table)
    authorities: dict[str, NemKontoAuthoritySettings] = {}
    auth_table = nk.table("authorities", required=True)
    assert auth_table is not None
    for municipality in list(auth_table.data):
        one = auth_table.table(municipality)
        assert one is not None
        if not municipality.isdigit():
            raise ConfigError(
                f"{file}: [nemkonto.authorities.{municipality}]: the key is the municipality's "
                "registration place (digits, as in the G68 records)"
            )
        authorities[municipality] = NemKontoAuthoritySettings(
            municipality=municipality,
            cvr=_digits(one, "cvr", 8, 8),
            agreement_number=_digits(one, "agreement_number", 1, 15),
            debtor_registration=_digits(one, "debtor_registration", 4, 4),
            debtor_account=_digits(one, "debtor_account", 1, 10),
        )
        one.finish()
    settings = NemKontoSettings(
        mq=mq,
        request_queue=nk.text("request_queue", "NKS.PAYMENT.REQUEST"),
        reply_queue=nk.text("reply_queue", "NKS.PAYMENT.REPLY"),
        counterpart=nk.text("counterpart", "nemkonto"),
        banking_days_before=nk.integer("banking_days_before", 2, 0, 30),
        max_payments=nk.integer("max_payments", 10_000, 1, 10_000),
        max_bytes=nk.integer("max_bytes", 100 * 1024 * 1024, 64 * 1024, 100 * 1024 * 1024),
        overdue_hours=nk.integer("overdue_hours", 48, 1, 24 * 60),
        authorities=authorities,
    )
    nk.finish()
    return settings


def _must(path: Path | None) -> Path:
    assert path is not None
    return path


def open_transport(settings: ServiceplatformSettings) -> FileTransport:
    """The configured transport (not yet connected: SFTP connects on first use)."""
    if settings.transport == "sftp":
        assert settings.sftp is not None
        return SftpTransport(settings.sftp)
    assert settings.localdir is not None
    return LocalDirTransport(settings.localdir)


def open_queue(settings: MqSettings) -> MessageQueue:
    """A session with the configured queue manager (the caller closes it)."""
    if settings.transport == "sqlite":
        assert settings.queue_db is not None
        return SqliteQueue(settings.queue_db, backout_threshold=settings.backout_threshold)
    from toekgw.gateway.transport.pymqi_queue import PymqiQueue

    password = None
    if settings.password_env:
        password = os.environ.get(settings.password_env)
        if password is None:
            raise ConfigError(
                f"the environment variable {settings.password_env} (password_env) is not set"
            )
    assert settings.queue_manager and settings.channel and settings.conn_name
    return PymqiQueue(
        settings.queue_manager,
        settings.channel,
        settings.conn_name,
        user=settings.user,
        password=password,
        backout_threshold=settings.backout_threshold,
    )
