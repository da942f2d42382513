"""The simulator's own signing identity: a self-signed RSA certificate, made once and kept."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

__all__ = ["ensure_identity", "self_signed"]


def ensure_identity(
    certificate: Path, key: Path, common_name: str
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """Read the PEM pair, or make a self-signed RSA-2048 one valid 2 years and write it."""
    if certificate.exists() and key.exists():
        loaded = serialization.load_pem_private_key(key.read_bytes(), password=None)
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise ValueError(f"{key} is not an RSA key")
        return loaded, x509.load_pem_x509_certificate(certificate.read_bytes())
    private, made = self_signed(common_name, days=730)
    certificate.parent.mkdir(parents=True, exist_ok=True)
    key.touch(mode=0o600)
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    certificate.write_bytes(made.public_bytes(serialization.Encoding.PEM))
    return private, made


def self_signed(
    common_name: str, *, days: int, valid_from: dt.datetime | None = None
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A new RSA-2048 key and a self-signed certificate for it (SAN ``localhost``), valid
    from ``valid_from`` (default: a day ago) until ``days`` from now."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    made = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from or now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(private, hashes.SHA256())
    )
    return private, made
