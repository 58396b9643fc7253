"""Running the kit as a user does: the installed console script in a subprocess."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.support.servers import clean_environment, console_script


def kit(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`mqtt-ca-registry ARGS` in ``cwd``, without proxies or any MQTT_CA_REGISTRY_ setting."""
    return subprocess.run(
        [*console_script(), *map(str, args)],
        cwd=cwd,
        env=clean_environment(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr
    return result


def openssl(*args: str | Path, cwd: Path | None = None) -> str:
    """The real openssl CLI; its stdout, asserting it succeeded."""
    result = subprocess.run(
        ["openssl", *map(str, args)], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def text_of(cert: Path) -> str:
    return openssl("x509", "-in", cert, "-noout", "-text")


def shape(text: str) -> list[str]:
    """What `openssl x509 -text` says about a certificate's form, not its values: version,
    algorithms, key size or curve, and the extension names with their settings."""
    keep = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        stripped = line.strip()
        if re.match(
            r"(Version|Signature Algorithm|Public Key Algorithm|Public-Key|ASN1 OID):", stripped
        ):
            keep.append(stripped)
        elif stripped.startswith("X509v3 "):
            keep.append(stripped)
            following = lines[i + 1].strip() if i + 1 < len(lines) else ""
            if not re.fullmatch(r"[0-9A-F:]+", following):  # key identifiers differ by key
                keep.append(following)
    return keep


def serial_of(cert: Path) -> str:
    return openssl("x509", "-in", cert, "-noout", "-serial").strip().split("=", 1)[1].lower()
