"""Certificates made at test time with ``cryptography`` (never committed keys)."""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from toekgw.simulators.sts.identity import self_signed


@dataclasses.dataclass(frozen=True)
class Identity:
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    def write_pem(self, directory: Path, name: str) -> tuple[Path, Path]:
        """The certificate and the (unencrypted) key as PEM files ``name.crt``/``name.key``."""
        directory.mkdir(parents=True, exist_ok=True)
        cert = directory / f"{name}.crt"
        key = directory / f"{name}.key"
        cert.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))
        key.write_bytes(
            self.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return cert, key


@lru_cache(maxsize=16)
def identity(common_name: str) -> Identity:
    """A self-signed RSA-2048 identity (cached per name within a test process)."""
    key, certificate = self_signed(common_name, days=30)
    return Identity(key, certificate)
