"""``ca register`` and ``check``: the kit's calls to a running registry.

Only certificates are ever sent: the CA key signs the verification certificate here, and a
file given to ``check`` is stripped to its certificates before it leaves the machine.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
from pathlib import Path
from typing import Any

from cryptography.x509.oid import NameOID

from mqtt_ca_registry.kit.certs import cert_pem, verification_pem
from mqtt_ca_registry.kit.client import Registry
from mqtt_ca_registry.kit.errors import OK, REFUSED, KitError
from mqtt_ca_registry.kit.files import load_certificates, load_issuer, read_bytes

_CERTIFICATE_BLOCK = re.compile(
    rb"-----BEGIN CERTIFICATE-----\r?\n.*?-----END CERTIFICATE-----", re.S
)
NAME_LIMIT = 64  # CaName: 1-64 characters


def _default_name(args: argparse.Namespace, subject_cn: str | None) -> str:
    return (subject_cn or Path(args.ca).stem)[:NAME_LIMIT]


def register_command(args: argparse.Namespace) -> int:
    """``ca register``: code, proof of possession, registration; prints the serial and status."""
    if len(load_certificates(args.ca)) != 1:
        raise KitError(f"{args.ca} holds several certificates; register one CA at a time")
    issuer = load_issuer(args.ca, args.ca_key)
    cns = issuer.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    name = (
        args.name
        if args.name is not None
        else _default_name(args, str(cns[0].value) if cns else None)
    )
    with Registry(args.url, args.token) as registry:
        code = registry.registration_code(args.instance)
        proof = verification_pem(code, issuer).decode()
        ca = registry.register_ca(args.instance, name, cert_pem(issuer.cert).decode(), proof)
    if args.json:
        print(json.dumps(ca, indent=2))
    else:
        print(
            f"registered CA {ca.get('sn')} ({ca.get('name')}) on {args.instance}: "
            f"{ca.get('status')}"
        )
    return OK


def chain_text(path: Path) -> str:
    """What ``check`` sends: the file's certificate blocks (never a key), or one DER in base64."""
    data = read_bytes(path, "certificate chain")
    blocks = _CERTIFICATE_BLOCK.findall(data)
    if blocks:
        return b"\n".join(blocks).decode("ascii", "replace") + "\n"
    if b"PRIVATE KEY" in data:
        raise KitError(f"{path} holds a private key and no certificate; pass the .crt file")
    if data.lstrip().startswith(b"-----BEGIN"):
        raise KitError(f"{path} holds no certificate (PEM 'BEGIN CERTIFICATE' expected)")
    return base64.b64encode(data).decode()  # DER: the service takes it in base64


def describe(decision: dict[str, Any]) -> str:
    """The broker's decision in one readable line."""
    device = decision.get("device") or {}
    who = ""
    if device:
        who = (
            f" {device.get('device_name') or '(no CN)'} (serial {device.get('device_sn')}, "
            f"CA {device.get('ca_sn')}, {device.get('status')}):"
        )
    elif decision.get("ca_sn"):
        who = f" (CA {decision['ca_sn']}):"
    else:
        who = ":"
    return (
        f"{decision.get('decision')} [{decision.get('reason_code')}]{who} {decision.get('reason')}"
    )


def check_command(args: argparse.Namespace) -> int:
    """``check``: what the broker would decide for this chain; exit 0 if accepted, 1 if not."""
    chain = chain_text(args.chain)
    with Registry(args.url, args.token) as registry:
        decision = registry.authenticate(args.instance, chain)
    print(json.dumps(decision, indent=2) if args.json else describe(decision))
    return OK if decision.get("decision") == "accepted" else REFUSED
