"""``[debitor]``: TØK's side of SF1590_B; ``[debitor.callback]`` is the callback service.

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

__all__ = ["DEBITOR_SECTION", "CallbackServerSettings", "DebitorSettings", "load_trusted"]

DEFAULT_AUDIENCE = "http://entityid.kombit.dk/service/daekningafskrivningregistreringafsend/1"


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
class DebitorSettings:
    counterpart: str
    callback: CallbackServerSettings | None


def load_trusted(paths: tuple[Path, ...]) -> list[x509.Certificate]:
    """The STS certificates (PEM; a file may hold several)."""
    try:
        return [c for p in paths for c in x509.load_pem_x509_certificates(p.read_bytes())]
    except OSError as exc:
        raise ConfigError(f"[debitor.callback] trusted_sts: cannot read {exc.filename}") from exc
    except ValueError as exc:
        raise ConfigError(f"[debitor.callback] trusted_sts: not PEM certificates: {exc}") from exc


def _callback(table: Table) -> CallbackServerSettings:
    trusted = table.data.get("trusted_sts", [])
    if not isinstance(trusted, list) or not trusted:
        raise ConfigError(f"{table.file}: [debitor.callback] trusted_sts: a list of PEM files")
    table.used.add("trusted_sts")
    settings = CallbackServerSettings(
        host=table.text("host", "127.0.0.1"),
        port=table.integer("port", 8443, 1, 65535),
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


def _parse(table: Table, core: CoreSettings) -> DebitorSettings:
    callback = table.table("callback")
    settings = DebitorSettings(
        counterpart=table.text("counterpart", "debitor"),
        callback=_callback(callback) if callback is not None else None,
    )
    table.finish()
    return settings


DEBITOR_SECTION = register_section(
    Section("debitor", _parse, hint="it configures TØK's SF1590_B side; see docs/kombit.md")
)
