"""Keys and certificates as the product documentation's openssl commands make them.

- ``openssl genrsa 2048`` / ``openssl ecparam -genkey -name prime256v1``: :func:`new_key`.
- The self-signed CA with ``-extensions v3_ca`` of openssl.cnf (subjectKeyIdentifier=hash,
  authorityKeyIdentifier=keyid:always,issuer, basicConstraints=critical,CA:true): :func:`make_ca`.
- ``openssl x509 -req -CA CA.crt -CAkey CA.key`` without an extfile (X.509 v1, no extensions):
  :func:`v1_leaf`, used for device and verification certificates.
Serial numbers are random 159-bit positive integers, as OpenSSL 3 draws them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mqtt_ca_registry.kit import v1

Algorithm = Literal["rsa", "ec"]
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
ALGORITHMS: tuple[Algorithm, ...] = ("rsa", "ec")
KEY_LABELS = {"rsa": "RSA-2048", "ec": "P-256"}


@dataclass(frozen=True)
class Issuer:
    """A CA that signs: its certificate, its key, and the certificates a chain bundle carries."""

    cert: x509.Certificate
    key: PrivateKey
    intermediates: tuple[x509.Certificate, ...] = ()  # the CA file's non-self-signed certs


def new_key(algorithm: Algorithm) -> PrivateKey:
    """A fresh RSA-2048 or P-256 key."""
    if algorithm == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def key_algorithm(key: PrivateKey) -> Algorithm:
    return "rsa" if isinstance(key, rsa.RSAPrivateKey) else "ec"


def key_pem(key: PrivateKey) -> bytes:
    """Unencrypted PEM in the form openssl writes it: OpenSSL 3's genrsa writes PKCS#8
    (BEGIN PRIVATE KEY), ecparam -genkey writes SEC1 (BEGIN EC PRIVATE KEY)."""
    form = (
        serialization.PrivateFormat.PKCS8
        if isinstance(key, rsa.RSAPrivateKey)
        else serialization.PrivateFormat.TraditionalOpenSSL
    )
    return key.private_bytes(serialization.Encoding.PEM, form, serialization.NoEncryption())


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def common_name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def now() -> datetime:
    """Whole seconds (certificates carry no fractions), UTC."""
    return datetime.now(UTC).replace(microsecond=0)


def _authority_key_id(issuer: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    # keyid:always: the issuer's own subjectKeyIdentifier when it has one.
    try:
        ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key())  # type: ignore[arg-type]
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _ca_builder(
    key: PrivateKey, cn: str, days: int, issuer_name: x509.Name, aki: x509.AuthorityKeyIdentifier
) -> x509.CertificateBuilder:
    start = now()
    return (
        x509.CertificateBuilder()
        .subject_name(common_name(cn))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(aki, critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    )


def make_ca(key: PrivateKey, cn: str, days: int) -> x509.Certificate:
    """A self-signed CA with openssl.cnf's v3_ca extensions, signed with SHA-256."""
    aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key())
    return _ca_builder(key, cn, days, common_name(cn), aki).sign(key, hashes.SHA256())


def make_intermediate(key: PrivateKey, cn: str, days: int, issuer: Issuer) -> x509.Certificate:
    """A sub-CA signed by ``issuer``, with the same v3_ca extensions (no path length limit,
    so an intermediate can itself sign another)."""
    builder = _ca_builder(key, cn, days, issuer.cert.subject, _authority_key_id(issuer.cert))
    return builder.sign(issuer.key, hashes.SHA256())


def v1_leaf(
    public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey,
    cn: str,
    days: int,
    issuer: Issuer,
    *,
    digest: str = "sha256",
    start: datetime | None = None,
    serial: int | None = None,
) -> bytes:
    """DER of an X.509 v1 certificate for ``cn`` signed by ``issuer`` (``openssl x509 -req``)."""
    start = start or now()
    return v1.sign_v1(
        subject=common_name(cn),
        issuer=issuer.cert.subject,
        public_key_der=v1.spki_der(public_key),
        serial=serial or x509.random_serial_number(),
        not_before=start,
        not_after=start + timedelta(days=days),
        issuer_key=issuer.key,
        digest=digest,
    )


def v3_device(
    public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey, cn: str, days: int, issuer: Issuer
) -> x509.Certificate:
    """An X.509 v3 TLS client certificate: openssl.cnf's usr_cert extensions plus the key
    usages a client certificate carries (digitalSignature, and keyEncipherment for RSA;
    extendedKeyUsage clientAuth)."""
    start = now()
    is_rsa = isinstance(public_key, rsa.RSAPublicKey)
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=is_rsa,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    return (
        x509.CertificateBuilder()
        .subject_name(common_name(cn))
        .issuer_name(issuer.cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=False)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(_authority_key_id(issuer.cert), critical=False)
        .sign(issuer.key, hashes.SHA256())
    )


def verification_pem(registration_code: str, issuer: Issuer) -> bytes:
    """The proof of possession: CN = the registration code, signed by the CA's key.

    As the documentation's ``openssl x509 -req ... -days 300 -sha512`` makes it (v1). Its own
    key is a throwaway P-256 key (the service checks only the CA's signature). It starts five
    minutes back, so a server clock slightly behind this machine's still finds it valid.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    start = now() - timedelta(minutes=5)
    der = v1_leaf(key.public_key(), registration_code, 300, issuer, digest="sha512", start=start)
    return v1.pem(der)


def sn(cert: x509.Certificate) -> str:
    """The serial as the service writes it: lowercase hex, an even number of digits."""
    digits = format(cert.serial_number, "x")
    return digits if len(digits) % 2 == 0 else "0" + digits


def is_self_signed(cert: x509.Certificate) -> bool:
    return cert.issuer == cert.subject
