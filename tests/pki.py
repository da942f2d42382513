"""Certificates made at test time with ``cryptography`` (never committed keys)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

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


#: Test certificates are valid from here (to 30 days after they are made): signatures are
#: checked against the tests' injected clocks, some pinned to a day of their own.
VALID_FROM = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


@lru_cache(maxsize=16)
def identity(common_name: str) -> Identity:
    """A self-signed RSA-2048 identity (cached per name within a test process)."""
    key, certificate = self_signed(common_name, days=30, valid_from=VALID_FROM)
    return Identity(key, certificate)


def authority(common_name: str) -> Identity:
    """A self-signed certificate authority (basic constraints CA, may sign certificates)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(VALID_FROM)
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    return Identity(key, certificate)


def issued(common_name: str, ca: Identity, *, server: bool = False) -> Identity:
    """A certificate for ``common_name`` signed by ``ca``: a TLS server's (SAN localhost and
    127.0.0.1) or a client's."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(VALID_FROM)
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
    )
    if server:
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return Identity(key, builder.sign(ca.key, hashes.SHA256()))
