"""The product documentation's OpenSSL commands ("CA certificate management"), run as written.

Reusable by any test that needs real OpenSSL-made CA and verification certificates::

    from tests.pki.openssl_seed import make_seed_ca, make_seed_verification

    ca = make_seed_ca(tmp_path, "rsa")                      # CA.key / CA.crt
    verification = make_seed_verification(tmp_path, ca, code)  # verificationCert.crt

The only change from the seed is the openssl.cnf path: the seed names the CentOS/Mac/Windows
locations; Debian's equivalent of /etc/pki/tls/openssl.cnf is /usr/lib/ssl/openssl.cnf
(override with MQTT_CA_REGISTRY_TEST_OPENSSL_CNF). The interactive ``openssl req`` prompts are
answered through stdin, the verification CSR's Common Name being the registration code.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

OPENSSL_CNF = os.environ.get("MQTT_CA_REGISTRY_TEST_OPENSSL_CNF", "/usr/lib/ssl/openssl.cnf")

SeedKind = Literal["rsa", "ecc"]
_counter = itertools.count(1)


@dataclass(frozen=True)
class SeedCa:
    """A CA made by the seed's commands: its directory, CA.key and CA.crt."""

    kind: SeedKind
    directory: Path
    key: Path
    cert: Path

    @property
    def pem(self) -> str:
        return self.cert.read_text()


def openssl_available() -> bool:
    return shutil.which("openssl") is not None


def _answers(common_name: str) -> str:
    """Replies to `openssl req`'s prompts: C, ST, L, O, OU, CN, email, then the two attributes
    a CSR asks for (challenge password, optional company name), left empty."""
    return (
        "\n".join(
            ["CN", "Zhejiang", "Hangzhou", "Example IoT Ltd", "Devices", common_name, "", "", ""]
        )
        + "\n"
    )


def _run(command: str, cwd: Path, answers: str | None = None) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENSSL_CONF"}  # the built-in default
    result = subprocess.run(
        command.split(),
        cwd=cwd,
        input=answers if answers is not None else "",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"`{command}` failed ({result.returncode}):\n{result.stderr}")


def make_seed_ca(
    tmp_path: Path, kind: SeedKind, *, common_name: str = "Example IoT Root CA"
) -> SeedCa:
    """Create CA.key and CA.crt in a new directory under ``tmp_path`` with the seed's commands."""
    directory = tmp_path / f"seed-{kind}-ca-{next(_counter)}"
    directory.mkdir(parents=True)
    if kind == "rsa":
        _run("openssl genrsa -out CA.key 2048", directory)
        _run("openssl req -new -key CA.key -out CA.csr", directory, _answers(common_name))
        _run(
            f"openssl x509 -req -extfile {OPENSSL_CNF} -extensions v3_ca -in CA.csr -out CA.crt "
            "-signkey CA.key -CAcreateserial -days 3650",
            directory,
        )
    else:
        _run("openssl ecparam -genkey -name prime256v1 -out CA.key", directory)
        _run(
            f"openssl req -new -x509 -days 3650 -config {OPENSSL_CNF} -extensions v3_ca "
            "-key CA.key -out CA.crt",
            directory,
            _answers(common_name),
        )
    return SeedCa(kind, directory, directory / "CA.key", directory / "CA.crt")


def make_seed_verification(tmp_path: Path, ca: SeedCa, code: str) -> Path:
    """Create verificationCert.crt (CN = ``code``) signed by ``ca``, with the seed's commands.

    The commands name CA.crt and CA.key relative to the working directory, so they run in a
    fresh directory holding copies of both. Returns the verification certificate's path.
    """
    directory = tmp_path / f"seed-{ca.kind}-verification-{next(_counter)}"
    directory.mkdir(parents=True)
    shutil.copy(ca.cert, directory / "CA.crt")
    shutil.copy(ca.key, directory / "CA.key")
    if ca.kind == "rsa":
        _run("openssl genrsa -out verificationCert.key 2048", directory)
    else:
        _run("openssl ecparam -out verificationCert.key -name prime256v1 -genkey", directory)
    _run(
        "openssl req -new -key verificationCert.key -out verificationCert.csr",
        directory,
        _answers(code),
    )
    _run(
        "openssl x509 -req -in verificationCert.csr -CA CA.crt -CAkey CA.key -CAcreateserial "
        "-out verificationCert.crt -days 300 -sha512",
        directory,
    )
    return directory / "verificationCert.crt"
