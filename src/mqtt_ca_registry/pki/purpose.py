"""The ``sslclient`` purpose rules of OpenSSL (v3_purp.c), which pyOpenSSL's verifier skips.

``openssl verify -purpose sslclient`` (and a TLS server verifying client certificates) checks
every certificate of the built chain, the trust anchor included:

* any certificate with extendedKeyUsage must list clientAuth (anyExtendedKeyUsage does *not*
  count: OpenSSL records it as a separate bit that the sslclient check ignores);
* the leaf's keyUsage, when present, must allow digitalSignature or keyAgreement, and its
  Netscape cert type, when present, must allow SSL client;
* a CA certificate must be a CA in OpenSSL's sense (``check_ca``): basicConstraints CA:TRUE, or,
  without basicConstraints, a self-signed v1 root or a keyUsage with keyCertSign, or Netscape
  CA bits, in which case they must include the SSL CA bit; keyUsage, when present, must allow
  keyCertSign.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

NETSCAPE_CERT_TYPE = ObjectIdentifier("2.16.840.1.113730.1.1")
# Bits of the Netscape cert type's first octet, as OpenSSL reads them (x509v3.h NS_*).
NS_SSL_CLIENT = 0x80
NS_SSL_CA = 0x04
NS_ANY_CA = 0x07


_EKU_NAMES = {
    ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth",
    ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth",
    ExtendedKeyUsageOID.CODE_SIGNING: "codeSigning",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "emailProtection",
    ExtendedKeyUsageOID.TIME_STAMPING: "timeStamping",
    ExtendedKeyUsageOID.OCSP_SIGNING: "OCSPSigning",
    ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE: "anyExtendedKeyUsage",
}


class UndecodableExtensions(Exception):
    """cryptography cannot decode the certificate's extensions, so its purpose is unknown."""


def _netscape_cert_type(extensions: x509.Extensions) -> int | None:
    """First octet of the Netscape cert type BIT STRING, or None when the extension is absent."""
    # get_extension_for_oid's own search, minus the exception it raises when absent (usual).
    raw = next((ext.value for ext in extensions if ext.oid == NETSCAPE_CERT_TYPE), None)
    if raw is None:
        return None
    data = raw.value if isinstance(raw, x509.UnrecognizedExtension) else b""
    # DER BIT STRING: tag 0x03, one length octet (the value is tiny), unused-bits octet, bits.
    if len(data) < 3 or data[0] != 0x03:
        return 0
    return data[3] if len(data) > 3 else 0


def _extensions(cert: x509.Certificate) -> x509.Extensions:
    try:
        return cert.extensions
    except Exception as exc:  # DuplicateExtension, ValueError, ...: all mean undecodable
        raise UndecodableExtensions(str(exc)) from None


def _get(extensions: x509.Extensions, kind: type[x509.ExtensionType]) -> x509.ExtensionType | None:
    # get_extension_for_class's own search, minus the exception it raises when absent: a
    # device certificate often has none of the extensions asked for.
    for extension in extensions:
        if isinstance(extension.value, kind):
            return extension.value
    return None


def ca_kind(cert: x509.Certificate) -> int:
    """OpenSSL's ``check_ca``: 0 not a CA, 1 CA:TRUE, 3 v1 root, 4 keyUsage CA, 5 Netscape CA."""
    extensions = _extensions(cert)
    usage = _get(extensions, x509.KeyUsage)
    if isinstance(usage, x509.KeyUsage) and not usage.key_cert_sign:
        return 0
    constraints = _get(extensions, x509.BasicConstraints)
    if isinstance(constraints, x509.BasicConstraints):
        return 1 if constraints.ca else 0
    if cert.version == x509.Version.v1 and cert.subject == cert.issuer:
        return 3
    if usage is not None:
        return 4
    netscape = _netscape_cert_type(extensions)
    if netscape is not None and netscape & NS_ANY_CA:
        return 5
    return 0


def sslclient_problem(cert: x509.Certificate, *, non_leaf: bool) -> str | None:
    """Why ``cert`` fails OpenSSL's sslclient purpose at its place in the chain, or None.

    Raises :class:`UndecodableExtensions` when the extensions cannot be read at all.
    """
    extensions = _extensions(cert)
    eku = _get(extensions, x509.ExtendedKeyUsage)
    if isinstance(eku, x509.ExtendedKeyUsage) and ExtendedKeyUsageOID.CLIENT_AUTH not in eku:
        listed = ", ".join(_EKU_NAMES.get(oid, oid.dotted_string) for oid in eku) or "nothing"
        return f"its extendedKeyUsage allows {listed} but not clientAuth (TLS client)"
    if non_leaf:
        kind = ca_kind(cert)
        if kind == 0:
            return "it is not a CA certificate (needs basicConstraints CA:TRUE and keyCertSign)"
        netscape = _netscape_cert_type(extensions)
        if kind == 5 and not (netscape or 0) & NS_SSL_CA:
            return "its Netscape cert type marks a CA but not an SSL CA"
        return None
    usage = _get(extensions, x509.KeyUsage)
    if isinstance(usage, x509.KeyUsage) and not (usage.digital_signature or usage.key_agreement):
        return "its keyUsage allows neither digitalSignature nor keyAgreement"
    netscape = _netscape_cert_type(extensions)
    if netscape is not None and not netscape & NS_SSL_CLIENT:
        return "its Netscape cert type does not allow SSL client use"
    return None
