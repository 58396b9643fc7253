"""Hypothesis strategies for what users paste as certificates: real ones, broken ones, junk.

A small real PKI (P-256, made once per process) is the raw material: its DER is flipped,
truncated, spliced and re-wrapped, so the inputs sit close to valid certificates, where parsers
and lazily decoded fields break.
"""

from __future__ import annotations

import base64
import textwrap
import warnings
from dataclasses import dataclass
from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.utils import CryptographyDeprecationWarning
from hypothesis import strategies as st

from tests.support.certs import NOW, Issued, ec_key, make_ca, make_leaf

REGISTRATION_CODE = "fuzz-registration-code"


@dataclass(frozen=True)
class SmallPki:
    """A root, an intermediate under it, device leaves, and a root's verification certificate."""

    root: Issued
    intermediate: Issued
    device: Issued
    deep_device: Issued
    ed25519_device: Issued
    verification: Issued
    expired_root: Issued

    @classmethod
    def make(cls) -> SmallPki:
        root = make_ca("Fuzz Root")
        intermediate = make_ca("Fuzz Intermediate", issuer=root)
        return cls(
            root=root,
            intermediate=intermediate,
            device=make_leaf(root, "device-1", client_auth=True),
            deep_device=make_leaf(intermediate, "device-2", client_auth=True),
            ed25519_device=make_leaf(root, "device-3", key=ed25519.Ed25519PrivateKey.generate()),
            verification=make_leaf(root, REGISTRATION_CODE),
            expired_root=make_ca(
                "Expired Root",
                not_before=NOW - timedelta(days=30),
                not_after=NOW - timedelta(days=1),
            ),
        )

    @property
    def certificates(self) -> list[Issued]:
        return [
            self.root,
            self.intermediate,
            self.device,
            self.deep_device,
            self.ed25519_device,
            self.verification,
            self.expired_root,
        ]


PKI = SmallPki.make()
REAL_DERS = [issued.cert.public_bytes(serialization.Encoding.DER) for issued in PKI.certificates]
PRIVATE_KEY_PEMS = [
    ec_key().private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()
    for fmt in (serialization.PrivateFormat.TraditionalOpenSSL, serialization.PrivateFormat.PKCS8)
]
PRIVATE_KEY_DER = ec_key().private_bytes(
    serialization.Encoding.DER,
    serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption(),
)
LABELS = [
    "CERTIFICATE", "CERTIFICATE", "CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE",
    "CERTIFICATE REQUEST", "PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY",
    "PUBLIC KEY", "certificate", "",
]  # fmt: skip


@st.composite
def _flipped(draw: st.DrawFn, der: bytes) -> bytes:
    """``der`` with a few bytes XOR-ed (lengths, tags, OIDs and values all get hit)."""
    data = bytearray(der)
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(data) - 1))
        data[position] ^= draw(st.integers(1, 255))
    return bytes(data)


@st.composite
def _edited(draw: st.DrawFn, der: bytes) -> bytes:
    """``der`` truncated, with bytes inserted or deleted, or spliced with another certificate."""
    cut = draw(st.integers(0, len(der)))
    kind = draw(st.sampled_from(["truncate", "insert", "delete", "splice"]))
    if kind == "truncate":
        return der[:cut]
    if kind == "insert":
        return der[:cut] + draw(st.binary(min_size=1, max_size=8)) + der[cut:]
    if kind == "delete":
        return der[:cut] + der[cut + draw(st.integers(1, 8)) :]
    other = draw(st.sampled_from(REAL_DERS))
    return der[:cut] + other[draw(st.integers(0, len(other))) :]


_real_der = st.sampled_from(REAL_DERS)
#: DER bytes: real, slightly damaged, or arbitrary.
ders = st.one_of(
    _real_der,
    _real_der.flatmap(_flipped),
    _real_der.flatmap(_edited),
    st.just(PRIVATE_KEY_DER),
    st.binary(max_size=64),
)


def _armour(der: bytes, label: str, width: int, newline: str) -> str:
    body = base64.b64encode(der).decode()
    lines = textwrap.wrap(body, width) if width else [body]
    return newline.join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----", ""])


@st.composite
def _pem_block(draw: st.DrawFn) -> str:
    """One PEM block around (maybe damaged) DER, with odd labels, widths and line ends."""
    return _armour(
        draw(ders),
        draw(st.sampled_from(LABELS)),
        draw(st.sampled_from([64, 64, 76, 0, 1])),
        draw(st.sampled_from(["\n", "\n", "\r\n", " "])),
    )


@st.composite
def _damaged_text(draw: st.DrawFn, text: str) -> str:
    """Text-level damage: a cut, a dropped END line, junk around or inside."""
    kind = draw(st.sampled_from(["cut", "drop_end", "wrap", "inject"]))
    if kind == "cut":
        return text[: draw(st.integers(0, len(text)))]
    if kind == "drop_end":
        return text.replace("-----END CERTIFICATE-----", "", 1)
    junk = draw(st.text(max_size=40))
    if kind == "wrap":
        return junk + text + junk
    at = draw(st.integers(0, len(text)))
    return text[:at] + junk + text[at:]


_single = st.one_of(
    _pem_block(),
    ders.map(lambda der: base64.b64encode(der).decode()),
    st.sampled_from([issued.pem for issued in PKI.certificates]),
)
#: Certificate text as a user might paste it: one or several blocks, keys, junk, damage.
certificate_texts = st.one_of(
    _single,
    st.lists(_single, min_size=2, max_size=12).map("".join),
    st.tuples(_single, st.sampled_from(PRIVATE_KEY_PEMS)).map("\n".join),
    _single.flatmap(_damaged_text),
    st.text(max_size=200),
    st.text(st.characters(codec="utf-8"), max_size=50).map(lambda t: f"-----BEGIN {t}-----"),
    st.just(" \n\t "),
    st.integers(1, 40).map(lambda n: PKI.device.pem * n),  # past the size and count limits
)


def parse_der(der: bytes) -> x509.Certificate | None:
    """Parse like a client library would, or None: the lazily decoded fields stay unread."""
    try:
        with warnings.catch_warnings():
            # Zero and negative serials parse with a deprecation warning; they are wanted here.
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            return x509.load_der_x509_certificate(der)
    except (ValueError, x509.InvalidVersion):
        return None


#: Parsed certificates whose fields may be broken: cryptography decodes most of them lazily.
parsed_certificates = (
    st.one_of(_real_der, _real_der.flatmap(_flipped), _real_der.flatmap(_edited))
    .map(parse_der)
    .filter(lambda cert: cert is not None)
)
