"""Reading the user's CA files and writing ours: clear errors, atomic writes, keys mode 0600."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mqtt_ca_registry.kit.certs import Issuer, PrivateKey, is_self_signed
from mqtt_ca_registry.kit.errors import KitError

KEY_MODE = 0o600
CERT_MODE = 0o644


def read_bytes(path: Path, what: str) -> bytes:
    """A file's bytes, or a KitError that names the file and the problem."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise KitError(f"{what} {path}: no such file") from None
    except IsADirectoryError:
        raise KitError(f"{what} {path}: is a directory, expected a file") from None
    except OSError as exc:
        raise KitError(f"{what} {path}: cannot read it ({exc.strerror})") from None


def load_certificates(path: Path, what: str = "CA certificate") -> list[x509.Certificate]:
    """Every certificate of a PEM file (or one DER certificate), at least one."""
    data = read_bytes(path, what)
    if b"-----BEGIN" in data:
        try:
            certs = x509.load_pem_x509_certificates(data)
        except ValueError:
            raise KitError(
                f"{what} {path}: holds no readable PEM certificate (is it a key or a CSR?)"
            ) from None
        return certs
    try:
        return [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise KitError(f"{what} {path}: not a certificate (PEM or DER expected)") from None


def load_key(path: Path) -> PrivateKey:
    """An unencrypted RSA or EC private key (PEM or DER)."""
    data = read_bytes(path, "CA key")
    try:
        if b"-----BEGIN" in data:
            key = serialization.load_pem_private_key(data, password=None)
        else:
            key = serialization.load_der_private_key(data, password=None)
    except TypeError:
        raise KitError(
            f"CA key {path}: is encrypted; write a decrypted copy first "
            f"(openssl pkey -in {path} -out decrypted.key)"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise KitError(f"CA key {path}: not a private key (PEM or DER expected)") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise KitError(f"CA key {path}: a {type(key).__name__}; the kit signs with RSA or EC keys")
    return key


def load_issuer(cert_path: Path, key_path: Path) -> Issuer:
    """The CA from ``--ca`` (its first certificate; the rest is its chain) and ``--ca-key``.

    Refuses a key that is not the CA's own, and a first certificate that is not a CA.
    """
    certs = load_certificates(cert_path)
    key = load_key(key_path)
    cert = certs[0]
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if key.public_key().public_bytes(der, spki) != cert.public_key().public_bytes(der, spki):
        raise KitError(
            f"CA key {key_path} is not the private key of {cert_path} (their public keys differ)"
        )
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        is_ca = constraints.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        raise KitError(
            f"{cert_path} is not a CA certificate (no basicConstraints CA:TRUE); "
            "make one with `mqtt-ca-registry kit ca`"
        )
    chain = tuple(c for c in certs if not is_self_signed(c))
    return Issuer(cert, key, chain)


def refuse_existing(paths: Iterable[Path], force: bool) -> None:
    """Refuse to overwrite files unless ``--force``."""
    if force:
        return
    existing = [p for p in paths if p.exists()]
    if len(existing) == 1:
        raise KitError(f"{existing[0]} already exists; pass --force to overwrite")
    if existing:
        named = f"{existing[0]} and {existing[1]}"
        if len(existing) > 2:
            named = f"{existing[0]}, {existing[1]} and {len(existing) - 2:,} more files"
        raise KitError(f"{named} already exist; pass --force to overwrite")


def ensure_directory(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise KitError(f"cannot create the directory {path} ({exc.strerror})") from None


def temporary_name(path: Path, token: str) -> Path:
    """A hidden sibling of ``path`` for an atomic write (same directory, so rename is atomic)."""
    return path.with_name(f".{path.name}.{token}.tmp")


def write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` (refusing to follow or reuse an existing name) with ``mode`` and data."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes, mode: int) -> None:
    """Write to a temporary name, then rename: readers see the whole file or none of it."""
    temp = temporary_name(path, secrets.token_hex(4))
    try:
        write_new(temp, data, mode)
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise KitError(f"cannot write {path} ({exc.strerror})", exit_code=1) from None
