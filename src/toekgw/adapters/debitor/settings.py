"""``[debitor]``: TØK's side of SF1590_B; ``[debitor.afsend]`` the outbound calls (B_01, B_03),
``[debitor.callback]`` the callback service.

``[debitor.afsend]``: ``registrering_url`` and ``indbetaling_url`` (the B_01 and B_03
endpoints; default Serviceplatformen's test endpoints), ``ca`` (verify their TLS with this CA;
default: the system's trust store), ``timeout_seconds`` (30), ``attempts`` (4 in all, on
transport faults), ``backoff_seconds`` (1, doubling) up to ``backoff_max_seconds`` (30). The
token comes from ``[kombit]``.

``[debitor.callback]``: ``host``/``port`` to listen on, the TLS ``certificate`` and ``key``
(PEM; required: the service is HTTPS only), ``client_ca`` (require client certificates
signed by it), ``trusted_sts`` (the STS's signing certificates, PEM), ``issuer`` and
``audience`` (the token's expected issuer and this service's entity id), ``max_body_bytes``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from cryptography import x509

from toekgw.gateway.config import ConfigError, CoreSettings, Section, Table, register_section
from toekgw.gateway.errors import os_problem
from toekgw.gateway.httpserver import TlsFiles

__all__ = [
    "DEBITOR_SECTION",
    "DEFAULT_CALLBACK_PORT",
    "AfsendSettings",
    "CallbackServerSettings",
    "DebitorSettings",
    "check_callback_tls",
    "load_trusted",
]

_PLATFORM = "https://exttest.serviceplatformen.dk/service/OIR"
DEFAULT_AUDIENCE = "http://entityid.kombit.dk/service/daekningafskrivningregistreringafsend/1"
#: Where TØK's callback service listens unless ``[debitor.callback] port`` says otherwise.
DEFAULT_CALLBACK_PORT = 8443


@dataclasses.dataclass(frozen=True, slots=True)
class CallbackServerSettings:
    host: str
    port: int
    certificate: Path
    key: Path
    client_ca: Path | None
    trusted_sts: tuple[Path, ...]
    issuer: str
    audience: str
    max_body_bytes: int


@dataclasses.dataclass(frozen=True, slots=True)
class AfsendSettings:
    registrering_url: str = f"{_PLATFORM}/DebitorRegistreringAfsend/1"
    indbetaling_url: str = f"{_PLATFORM}/DebitorIndbetalingAfsend/1"
    ca: Path | None = None
    timeout_seconds: float = 30
    attempts: int = 4
    backoff_seconds: float = 1
    backoff_max_seconds: float = 30


@dataclasses.dataclass(frozen=True, slots=True)
class DebitorSettings:
    counterpart: str
    callback: CallbackServerSettings | None
    afsend: AfsendSettings | None = None


def load_trusted(paths: tuple[Path, ...]) -> list[x509.Certificate]:
    """The STS certificates (PEM; a file may hold several)."""
    try:
        return [c for p in paths for c in x509.load_pem_x509_certificates(p.read_bytes())]
    except OSError as exc:
        raise ConfigError(f"[debitor.callback] trusted_sts: cannot read {exc.filename}") from exc
    except ValueError as exc:
        raise ConfigError(f"[debitor.callback] trusted_sts: not PEM certificates: {exc}") from exc


def check_callback_tls(file: Path, cb: CallbackServerSettings) -> None:
    """The callback's TLS files as its server will load them, before it starts: a
    :class:`ConfigError` naming the configuration ``file``, the key and the file when one is
    missing, unreadable or not PEM."""
    where = f"{file}: [debitor.callback]"
    named = {"certificate": cb.certificate, "key": cb.key, "client_ca": cb.client_ca}
    for key, path in named.items():
        if path is None:
            continue
        try:
            with path.open("rb"):
                pass
        except OSError as exc:
            raise ConfigError(
                f"{where} {key}: cannot read {path}: {os_problem(path, exc)}"
            ) from exc
    tls = TlsFiles(cb.certificate, cb.key, cb.client_ca)
    problem = tls.pair_problem()
    if problem is not None:
        raise ConfigError(f"{where} certificate {cb.certificate}, key {cb.key}: {problem}")
    problem = tls.client_ca_problem()
    if problem is not None:
        raise ConfigError(f"{where} client_ca {cb.client_ca}: {problem}")


def _callback(table: Table) -> CallbackServerSettings:
    trusted = table.data.get("trusted_sts", [])
    if not isinstance(trusted, list) or not trusted:
        raise ConfigError(f"{table.file}: [debitor.callback] trusted_sts: a list of PEM files")
    table.used.add("trusted_sts")
    settings = CallbackServerSettings(
        host=table.text("host", "127.0.0.1"),
        port=table.integer("port", DEFAULT_CALLBACK_PORT, 1, 65535),
        certificate=table.required_path("certificate"),
        key=table.required_path("key"),
        client_ca=table.path("client_ca"),
        trusted_sts=tuple(
            p if (p := Path(str(t)).expanduser()).is_absolute() else table.file.parent / p
            for t in trusted
        ),
        issuer=table.text("issuer", "https://adgangsstyring.stoettesystemerne.dk"),
        audience=table.text("audience", DEFAULT_AUDIENCE),
        max_body_bytes=table.integer("max_body_bytes", 1024 * 1024, 1024, 64 * 1024 * 1024),
    )
    table.finish()
    return settings


def _afsend(table: Table) -> AfsendSettings:
    default = AfsendSettings()
    settings = AfsendSettings(
        registrering_url=table.text("registrering_url", default.registrering_url),
        indbetaling_url=table.text("indbetaling_url", default.indbetaling_url),
        ca=table.path("ca"),
        timeout_seconds=table.seconds("timeout_seconds", default.timeout_seconds),
        attempts=table.integer("attempts", default.attempts, 1, 20),
        backoff_seconds=table.seconds("backoff_seconds", default.backoff_seconds),
        backoff_max_seconds=table.seconds("backoff_max_seconds", default.backoff_max_seconds),
    )
    table.finish()
    return settings


def _parse(table: Table, core: CoreSettings) -> DebitorSettings:
    callback = table.table("callback")
    afsend = table.table("afsend")
    settings = DebitorSettings(
        counterpart=table.text("counterpart", "debitor"),
        callback=_callback(callback) if callback is not None else None,
        afsend=_afsend(afsend) if afsend is not None else None,
    )
    table.finish()
    return settings


DEBITOR_SECTION = register_section(
    Section("debitor", _parse, hint="it configures TØK's SF1590_B side; see docs/kombit.md")
)
