"""The checks ``openssl verify -purpose sslclient -auth_level N`` adds to pyOpenSSL's verifier.

Each function returns ``None`` when the certificate passes, else a :data:`Problem`: the reason
and a sentence naming the certificate and the fix. The order is ``X509_verify_cert``'s: the
sslclient purpose of every certificate (leaf first), then, at security level N, every CA key
and every signature digest below the trust anchor.
"""

from __future__ import annotations

from cryptography import x509

from mqtt_ca_registry.pki.certinfo import key_facts
from mqtt_ca_registry.pki.chain_reasons import RejectReason, role, subject_of
from mqtt_ca_registry.pki.purpose import UndecodableExtensions, sslclient_problem
from mqtt_ca_registry.pki.strength import key_security_bits, min_bits, signature_security_bits

#: Why a chain is refused, and the sentence saying so.
Problem = tuple[RejectReason, str]


def leaf_problem(leaf: x509.Certificate, level: int, *, late: bool) -> Problem | None:
    """The checks OpenSSL runs on the leaf before a failure higher up or later."""
    problem = purpose_problem(leaf, 0, is_anchor=False)
    if problem is None and late:
        problem = digest_problem(leaf, 0, level)
    return problem


def policy_problem(certs: list[x509.Certificate], level: int) -> Problem | None:
    """Purpose for every certificate, then key and digest levels, in OpenSSL's order."""
    count = len(certs)
    for depth, cert in enumerate(certs):
        problem = purpose_problem(cert, depth, is_anchor=depth == count - 1)
        if problem is not None:
            return problem
    need = min_bits(level)
    if not need:
        return None
    for depth, cert in enumerate(certs):
        is_anchor = depth == count - 1
        if depth > 0 and key_security_bits(cert) < need:
            return weak_key_problem(cert, depth, level, need, is_anchor=is_anchor)
        # The anchor's own signature is never checked, so neither is its digest.
        if not is_anchor:
            problem = digest_problem(cert, depth, level)
            if problem is not None:
                return problem
    return None


def purpose_problem(cert: x509.Certificate, depth: int, *, is_anchor: bool) -> Problem | None:
    """OpenSSL's sslclient purpose for the certificate at ``depth`` (0 is the leaf)."""
    who = role(depth, is_anchor=is_anchor)
    try:
        problem = sslclient_problem(cert, non_leaf=depth > 0)
    except UndecodableExtensions:
        return (
            RejectReason.malformed,
            f"The {who} '{subject_of(cert)}' has extensions that cannot be decoded; "
            "reissue it with well-formed extensions.",
        )
    if problem is None:
        return None
    fix = (
        "reissue it with extendedKeyUsage clientAuth (or none) and keyUsage digitalSignature"
        if depth == 0
        else "a CA in a client chain needs basicConstraints CA:TRUE, keyUsage keyCertSign "
        "if keyUsage is present, and clientAuth if extendedKeyUsage is present"
    )
    message = (
        f"The {who} '{subject_of(cert)}' is not valid for TLS client authentication: "
        f"{problem}; {fix}."
    )
    return RejectReason.purpose, message


def digest_problem(cert: x509.Certificate, depth: int, level: int) -> Problem | None:
    """The signature digest's strength against ``level`` (``X509_V_ERR_CA_MD_TOO_WEAK``)."""
    need = min_bits(level)
    bits = signature_security_bits(cert)
    if not need or bits >= need:
        return None
    name = cert.signature_algorithm_oid.dotted_string
    try:
        digest = cert.signature_hash_algorithm
        if digest is not None:
            name = digest.name.upper()
    except Exception:  # noqa: S110 - unknown algorithm: the OID names it well enough
        pass
    return (
        RejectReason.weak_digest,
        f"The {role(depth, is_anchor=False)} '{subject_of(cert)}' is signed with {name} "
        f"({bits} bits of security); security level {level} needs at least {need}. "
        "Reissue it signed with SHA-256 or stronger.",
    )


def weak_key_problem(
    cert: x509.Certificate, depth: int, level: int, need: int, *, is_anchor: bool
) -> Problem:
    """The refusal of a key below ``need`` bits (``EE_KEY_TOO_SMALL``/``CA_KEY_TOO_SMALL``)."""
    facts = key_facts(cert)
    kind = f"EC {facts.curve}" if facts.curve else f"{facts.algorithm} {facts.size}-bit"
    return (
        RejectReason.weak_key,
        f"The {role(depth, is_anchor=is_anchor)} '{subject_of(cert)}' has a {kind} key "
        f"worth {key_security_bits(cert)} bits of security; security level {level} needs "
        f"at least {need}. Reissue it with a stronger key (RSA 2048 or EC P-256 meet "
        "level 2, RSA 3072 or EC P-256 level 3).",
    )
