"""Pure certificate logic: PEM loading with limits, serials, registration proof, device chains.

Nothing here touches the database, HTTP or a clock: every time-dependent function takes an
explicit ``now``.
"""

from mqtt_ca_registry.pki.certinfo import CertificateInfo, describe
from mqtt_ca_registry.pki.chain import ChainDecision, RejectReason, TrustStore, chain_fingerprint
from mqtt_ca_registry.pki.pem import (
    contains_private_key,
    load_certificates,
    load_single_certificate,
    to_pem,
)
from mqtt_ca_registry.pki.registration import RegistrationEvidence, check_registration
from mqtt_ca_registry.pki.serials import canonical_sn, sn_of

__all__ = [
    "CertificateInfo",
    "ChainDecision",
    "RegistrationEvidence",
    "RejectReason",
    "TrustStore",
    "canonical_sn",
    "chain_fingerprint",
    "check_registration",
    "contains_private_key",
    "describe",
    "load_certificates",
    "load_single_certificate",
    "sn_of",
    "to_pem",
]
