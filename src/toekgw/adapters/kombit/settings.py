"""``[kombit]``: where the security token service is and who the gateway is to it.

The certificate and key are PEM files (``certificate``, ``key``) or one PKCS#12 file
(``pkcs12``) whose password is read from the environment variable named by
``pkcs12_password_env`` (never from the file). ``sts_ca`` verifies the STS's TLS certificate
(default: the system's trust store).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from toekgw.gateway.config import ConfigError, CoreSettings, Section, Table, register_section

__all__ = [
    "DEFAULT_EXCHANGE_URL",
    "DEFAULT_STS_URL",
    "KOMBIT_SECTION",
    "Credentials",
    "KombitSettings",
    "load_credentials",
]

DEFAULT_STS_URL = (
    "https://n2adgangsstyring.eksterntest-stoettesystemerne.dk"
    "/runtime/services/kombittrust/14/certificatemixed"
)
DEFAULT_EXCHANGE_URL = "https://exttest.serviceplatformen.dk/service/AccessTokenService_1/token"


@dataclasses.dataclass(frozen=True, slots=True)
class Credentials:
    """The gateway's certificate and private key (RSA)."""

    certificate: x509.Certificate
    key: rsa.RSAPrivateKey


@dataclasses.dataclass(frozen=True, slots=True)
class KombitSettings:
    sts_url: str = DEFAULT_STS_URL
    exchange_url: str = DEFAULT_EXCHANGE_URL
    certificate: Path | None = None
    key: Path | None = None
    pkcs12: Path | None = None
    pkcs12_password_env: str | None = None
    sts_ca: Path | None = None
    margin_seconds: float = 15 * 60
    exchange_margin_seconds: float = 60
    timeout_seconds: float = 30


def load_credentials(settings: KombitSettings) -> Credentials:
    """Read the certificate and key the settings name (a :class:`ConfigError` if unusable)."""
    try:
        if settings.pkcs12 is not None:
            return _from_pkcs12(settings)
        if settings.certificate is None or settings.key is None:
            raise ConfigError("[kombit]: give certificate and key (PEM) or pkcs12")
        certificate = x509.load_pem_x509_certificate(settings.certificate.read_bytes())
        key = serialization.load_pem_private_key(settings.key.read_bytes(), password=None)
    except OSError as exc:
        raise ConfigError(f"[kombit]: cannot read {exc.filename}: {exc.strerror}") from exc
    except ValueError as exc:
        raise ConfigError(f"[kombit]: the certificate or key cannot be read: {exc}") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError("[kombit]: the key must be an RSA key (KOMBIT signs with RSA-SHA256)")
    return Credentials(certificate, key)


def _from_pkcs12(settings: KombitSettings) -> Credentials:
    assert settings.pkcs12 is not None
    password = os.environ.get(settings.pkcs12_password_env or "", "")
    key, certificate, _chain = pkcs12.load_key_and_certificates(
        settings.pkcs12.read_bytes(), password.encode() or None
    )
    if certificate is None or not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(f"[kombit]: {settings.pkcs12} holds no RSA key with its certificate")
    return Credentials(certificate, key)


def _kombit(table: Table, core: CoreSettings) -> KombitSettings:
    settings = KombitSettings(
        sts_url=table.text("sts_url", DEFAULT_STS_URL),
        exchange_url=table.text("exchange_url", DEFAULT_EXCHANGE_URL),
        certificate=table.path("certificate"),
        key=table.path("key"),
        pkcs12=table.path("pkcs12"),
        pkcs12_password_env=table.text("pkcs12_password_env", None),
        sts_ca=table.path("sts_ca"),
        margin_seconds=table.seconds("margin_seconds", 15 * 60),
        exchange_margin_seconds=table.seconds("exchange_margin_seconds", 60),
        timeout_seconds=table.seconds("timeout_seconds", 30),
    )
    table.finish()
    if settings.pkcs12 is None and (settings.certificate is None or settings.key is None):
        raise ConfigError(f"{table.file}: [kombit] needs certificate and key, or pkcs12")
    return settings


KOMBIT_SECTION = register_section(
    Section(
        "kombit",
        _kombit,
        hint="it names the security token service and the gateway's certificate; "
        "see docs/kombit.md",
    )
)
