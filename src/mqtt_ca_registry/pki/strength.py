"""OpenSSL's security-level arithmetic, for the checks pyOpenSSL's verifier does not expose.

``openssl verify -auth_level N`` (and a TLS server at security level N) requires every key in
the chain and every signature digest below the trust anchor to offer at least
``MIN_BITS[N]`` bits of security, as ``EVP_PKEY_get_security_bits`` and
``X509_get_signature_info`` count them. This module repeats that counting so that the decision
matches OpenSSL's (x509_vfy.c ``check_key_level`` / ``check_sig_level``):

* RSA: NIST SP 800-56B's estimate with OpenSSL's fixed-point formula (2048 -> 112, 3072 -> 128);
* DSA/DH: SP 800-57's table over the prime and subgroup sizes;
* EC: the group order's size, in SP 800-57's steps (P-256 -> 128, secp192r1 -> 80);
* Ed25519 128, Ed448 224;
* signatures: half the digest size, but MD5 39 and SHA-1 63 (64 under RSA-PSS), so both fail
  from level 1 on (OpenSSL 3 behaviour, stricter than "SHA-1 from level 2").
"""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dh, dsa, ec, ed448, ed25519, rsa, x448, x25519
from cryptography.x509.oid import SignatureAlgorithmOID

#: Minimum security bits per level 1..5 (x509_vfy.c ``minbits_table``); level 0 checks nothing.
MIN_BITS = {1: 80, 2: 112, 3: 128, 4: 192, 5: 256}
MAX_LEVEL = 5

_U64 = (1 << 64) - 1
_SCALE = 1 << 18
_CBRT_SCALE = 1 << (2 * 18 // 3)
_LOG_2 = 0x02C5C8  # scale * ln(2)
_LOG_E = 0x05C551  # scale * log2(e)
_C1_923 = 0x07B126  # scale * 1.923
_C4_690 = 0x12C28F  # scale * 4.690
# Sizes the standards fix; OpenSSL answers these before applying the formula.
_CANONICAL_IFC = {2048: 112, 3072: 128, 4096: 152, 6144: 176, 7680: 192, 8192: 200, 15360: 256}


def min_bits(level: int) -> int:
    """Security bits required at ``level`` (0 below level 1, capped at level 5 like OpenSSL)."""
    if level <= 0:
        return 0
    return MIN_BITS[min(level, MAX_LEVEL)]


def _mul2(a: int, b: int) -> int:
    return ((a * b) & _U64) // _SCALE


def _icbrt64(x: int) -> int:
    root = 0
    for shift in range(63, -1, -3):
        root <<= 1
        b = (3 * root * (root + 1) + 1) & _U64
        if (x >> shift) >= b:
            x = (x - (b << shift)) & _U64
            root += 1
    return (root * _CBRT_SCALE) & _U64


def _ilog_e(v: int) -> int:
    r = 0
    while v >= 2 * _SCALE:
        v >>= 1
        r += _SCALE
    i = _SCALE // 2
    while i:
        v = _mul2(v, v)
        if v >= 2 * _SCALE:
            v >>= 1
            r += i
        i //= 2
    return ((r * _SCALE) // _LOG_E) & 0xFFFFFFFF


def ifc_ffc_security_bits(n: int) -> int:
    """Port of OpenSSL's ``ossl_ifc_ffc_compute_security_bits`` (RSA modulus of ``n`` bits)."""
    if n in _CANONICAL_IFC:
        return _CANONICAL_IFC[n]
    if n >= 687737:
        return 1200
    if n < 8:
        return 0
    cap = 192 if n <= 7680 else 256 if n <= 15360 else 1200
    x = n * _LOG_2
    lx = _ilog_e(x)
    inner = _mul2(_mul2(x, lx), lx)
    y = (((_mul2(_C1_923, _icbrt64(inner)) - _C4_690) & _U64) // _LOG_2) & 0xFFFF
    y = (y + 4) & ~7
    return min(y, cap)


def _bn_security_bits(l_bits: int, n_bits: int) -> int:
    """Port of OpenSSL's ``BN_security_bits`` (DSA/DH: prime ``L`` bits, subgroup ``N`` bits)."""
    for threshold, bits in ((15360, 256), (7680, 192), (3072, 128), (2048, 112), (1024, 80)):
        if l_bits >= threshold:
            secbits = bits
            break
    else:
        return 0
    if n_bits == -1:
        return secbits
    half = n_bits // 2
    if half < 80:
        return 0
    return min(half, secbits)


def _ec_security_bits(order_bits: int) -> int:
    for threshold, bits in ((512, 256), (384, 192), (256, 128), (224, 112), (160, 80)):
        if order_bits >= threshold:
            return bits
    return order_bits // 2


def key_security_bits(cert: x509.Certificate) -> int:
    """Bits of security of ``cert``'s public key as OpenSSL counts them; 0 if unknown."""
    try:
        key = cert.public_key()
    except (UnsupportedAlgorithm, ValueError):
        return 0  # OpenSSL: "unsupported or malformed keys are not secure"
    if isinstance(key, rsa.RSAPublicKey):
        return ifc_ffc_security_bits(key.key_size)
    if isinstance(key, ec.EllipticCurvePublicKey):
        # OpenSSL steps on the group order's size; for every curve cryptography loads, the
        # field size lands on the same step.
        return _ec_security_bits(key.curve.key_size)
    if isinstance(key, ed25519.Ed25519PublicKey | x25519.X25519PublicKey):
        return 128
    if isinstance(key, ed448.Ed448PublicKey | x448.X448PublicKey):
        return 224
    if isinstance(key, dsa.DSAPublicKey):
        params = key.parameters().parameter_numbers()
        return _bn_security_bits(params.p.bit_length(), params.q.bit_length())
    if isinstance(key, dh.DHPublicKey):
        numbers = key.parameters().parameter_numbers()
        q_bits = numbers.q.bit_length() if numbers.q is not None else -1
        return _bn_security_bits(numbers.p.bit_length(), q_bits)
    return 0


def signature_security_bits(cert: x509.Certificate) -> int:
    """Bits of security of the digest ``cert`` was signed with, as OpenSSL counts them.

    Returns 0 when the algorithm is unknown (OpenSSL then fails the level check too).
    """
    oid = cert.signature_algorithm_oid
    if oid == SignatureAlgorithmOID.ED25519:
        return 128
    if oid == SignatureAlgorithmOID.ED448:
        return 224
    try:
        digest = cert.signature_hash_algorithm
    except (UnsupportedAlgorithm, ValueError):
        return 0
    if digest is None:
        return 0
    pss = oid == SignatureAlgorithmOID.RSASSA_PSS
    if isinstance(digest, hashes.MD5):
        return 39
    if isinstance(digest, hashes.SHA1):
        return 64 if pss else 63
    return digest.digest_size * 4
