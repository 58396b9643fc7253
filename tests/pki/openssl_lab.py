"""A small PKI made with the `openssl` command line, and `openssl verify` as the oracle.

Keys are generated once per lab (per test session and xdist worker) and reused by every
certificate, because key generation is the slow part. Certificates are made with ``openssl req``
and ``openssl x509 -req`` from the extension sections of :data:`LAB_CNF`; a certificate issued
without a section is X.509 v1, like the seed's verification certificate.
"""

from __future__ import annotations

import functools
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

LAB_CNF = """
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused

[root_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[root_ca_no_ku]
basicConstraints = critical, CA:TRUE
subjectKeyIdentifier = hash

[int_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[int_ca_pathlen0]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[int_ca_false]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyCertSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[int_no_bc]
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[int_eku_server]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[int_eku_client]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[int_ku_no_certsign]
basicConstraints = critical, CA:TRUE
keyUsage = critical, digitalSignature, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[leaf_client]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[leaf_server_only]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
authorityKeyIdentifier = keyid:always
[leaf_client_server]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth, clientAuth
authorityKeyIdentifier = keyid:always
[leaf_any_eku]
basicConstraints = CA:FALSE
extendedKeyUsage = anyExtendedKeyUsage
authorityKeyIdentifier = keyid:always
[leaf_ku_certsign]
keyUsage = critical, keyCertSign
authorityKeyIdentifier = keyid:always
[leaf_ku_agreement]
keyUsage = critical, keyAgreement
authorityKeyIdentifier = keyid:always
[leaf_ku_encipherment]
keyUsage = critical, keyEncipherment
authorityKeyIdentifier = keyid:always
[leaf_ns_server]
nsCertType = server
authorityKeyIdentifier = keyid:always
[leaf_ns_client]
nsCertType = client, email
authorityKeyIdentifier = keyid:always
[leaf_unknown_critical]
basicConstraints = CA:FALSE
1.3.6.1.4.1.55555.1 = critical, ASN1:UTF8String:must-understand
authorityKeyIdentifier = keyid:always
[leaf_unknown_noncritical]
basicConstraints = CA:FALSE
1.3.6.1.4.1.55555.1 = ASN1:UTF8String:may-ignore
authorityKeyIdentifier = keyid:always
[leaf_ca_true]
basicConstraints = critical, CA:TRUE
authorityKeyIdentifier = keyid:always
"""

_ERROR = re.compile(r"error (\d+) at (\d+) depth lookup")


@dataclass(frozen=True)
class OpensslVerdict:
    """What `openssl verify` said: accepted, or the first error number and its depth."""

    ok: bool
    code: int | None
    depth: int | None
    output: str


class OpensslLab:
    """Keys and certificates made with the openssl command line in one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        (directory / "lab.cnf").write_text(LAB_CNF)
        self._serial = 0x1000

    def run(self, *args: str, stdin: str = "") -> str:
        result = subprocess.run(
            ["openssl", *args],
            cwd=self.directory,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"openssl {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    @functools.cache  # noqa: B019 - one lab per session; caching keys is the point
    def key(self, spec: str) -> str:
        """A private key file for ``spec``: rsa:BITS, ec:CURVE, ed25519, dsa:BITS; a ``#tag``
        suffix asks for a second, distinct key of the same kind."""
        name = "key-" + re.sub(r"[^A-Za-z0-9]+", "-", spec) + ".pem"
        algorithm, _, size = spec.partition("#")[0].partition(":")
        if algorithm == "rsa":
            self.run(
                "genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{size}", "-out", name
            )
        elif algorithm == "ec":
            self.run(
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                f"ec_paramgen_curve:{size}",
                "-pkeyopt",
                "ec_param_enc:named_curve",
                "-out",
                name,
            )
        elif algorithm == "ed25519":
            self.run("genpkey", "-algorithm", "ED25519", "-out", name)
        elif algorithm == "dsa":
            self.run(
                "genpkey",
                "-genparam",
                "-algorithm",
                "DSA",
                "-pkeyopt",
                f"dsa_paramgen_bits:{size}",
                "-out",
                f"params-{name}",
            )
            self.run("genpkey", "-paramfile", f"params-{name}", "-out", name)
        else:
            raise ValueError(spec)
        return name

    def _next_serial(self) -> str:
        self._serial += 1
        return str(self._serial)

    def root(
        self,
        name: str,
        key: str,
        *,
        digest: str = "sha256",
        ext: str = "root_ca",
        days: int = 3650,
        file: str | None = None,
    ) -> str:
        """A self-signed CA made with ``openssl req -x509`` (subject CN = ``name``)."""
        out = file or f"{name}.crt"
        self.run(
            "req",
            "-x509",
            "-new",
            "-key",
            self.key(key),
            "-subj",
            f"/CN={name}",
            f"-{digest}",
            "-days",
            str(days),
            "-set_serial",
            self._next_serial(),
            "-config",
            "lab.cnf",
            "-extensions",
            ext,
            "-out",
            out,
        )
        return out

    def issue(
        self,
        name: str,
        *,
        issuer: str,
        issuer_key: str,
        key: str,
        ext: str | None,
        digest: str = "sha256",
        days: int = 365,
        force_pubkey: str | None = None,
        subject: str | None = None,
    ) -> str:
        """A certificate signed by ``issuer`` with ``openssl x509 -req`` (v1 when ``ext`` is
        None). ``force_pubkey`` puts another public key in it (e.g. an RSA modulus of an odd
        size that was never a real key)."""
        csr, out = f"{name}.csr", f"{name}.crt"
        self.run(
            "req",
            "-new",
            "-key",
            self.key(key),
            "-subj",
            subject or f"/CN={name}",
            "-config",
            "lab.cnf",
            "-out",
            csr,
        )
        args = [
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            issuer,
            "-CAkey",
            self.key(issuer_key),
            "-set_serial",
            self._next_serial(),
            "-days",
            str(days),
            f"-{digest}",
            "-out",
            out,
        ]
        if ext is not None:
            args += ["-extfile", "lab.cnf", "-extensions", ext]
        if force_pubkey is not None:
            args += ["-force_pubkey", force_pubkey]
        self.run(*args)
        return out

    def resign(
        self,
        name: str,
        template: x509.Certificate,
        *,
        issuer: str,
        issuer_key: str,
        digest: str = "sha256",
    ) -> str:
        """Re-sign ``template`` with ``issuer`` keeping its exact validity dates
        (``openssl x509 -preserve_dates``): how the validity boundaries get pinned."""
        from cryptography.hazmat.primitives.serialization import Encoding

        source, out = f"{name}.template.pem", f"{name}.crt"
        (self.directory / source).write_bytes(template.public_bytes(Encoding.PEM))
        self.run(
            "x509",
            "-in",
            source,
            "-CA",
            issuer,
            "-CAkey",
            self.key(issuer_key),
            "-preserve_dates",
            f"-{digest}",
            "-out",
            out,
        )
        return out

    def bundle(self, name: str, files: Sequence[str]) -> str:
        """Concatenate certificate files into one PEM file."""
        text = "".join((self.directory / f).read_text() for f in files)
        (self.directory / name).write_text(text)
        return name

    def load(self, file: str) -> x509.Certificate:
        return x509.load_pem_x509_certificate((self.directory / file).read_bytes())

    def verify(
        self,
        anchors: Sequence[str],
        chain: Sequence[str],
        *,
        attime: int,
        level: int,
        partial_chain: bool = False,
    ) -> OpensslVerdict:
        """`openssl verify -purpose sslclient -auth_level L -attime T` on the same files."""
        ca_file = self.bundle(f"anchors-{abs(hash(tuple(anchors)))}.pem", anchors)
        args = [
            "openssl",
            "verify",
            "-purpose",
            "sslclient",
            "-auth_level",
            str(level),
            "-attime",
            str(attime),
            "-CAfile",
            ca_file,
            # Only our anchors: never the system's default CA directory or store.
            "-no-CApath",
            "-no-CAstore",
        ]
        if len(chain) > 1:
            args += [
                "-untrusted",
                self.bundle(f"untrusted-{abs(hash(tuple(chain)))}.pem", chain[1:]),
            ]
        if partial_chain:
            args.append("-partial_chain")
        result = subprocess.run(
            [*args, chain[0]],
            cwd=self.directory,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        output = result.stdout + result.stderr
        found = _ERROR.search(output)
        if result.returncode == 0 and found is None:
            return OpensslVerdict(True, None, None, output)
        return OpensslVerdict(
            False,
            int(found.group(1)) if found else None,
            int(found.group(2)) if found else None,
            output,
        )
