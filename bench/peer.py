"""The peer people use today: moto's IoT server, in a venv of its own under bench/.venv-moto."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.servers import free_port

VENV = Path(__file__).with_name(".venv-moto")
# moto routes a request by the service named in its signature's credential scope; it checks
# nothing else, so any signature will do.
HEADERS = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/iot/"
    "aws4_request, SignedHeaders=host;x-amz-date, Signature=0",
    "X-Amz-Date": "20260101T000000Z",
}


def install() -> Path:
    """bench/.venv-moto with moto[server] (made once, reused); the moto_server script."""
    script = VENV / "bin" / "moto_server"
    if not script.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(VENV / "bin" / "pip"), "install", "-q", "moto[server]"],
            check=True,
            capture_output=True,
        )
    return script


def version() -> str:
    done = subprocess.run(
        [str(VENV / "bin" / "python"), "-c", "import moto; print(moto.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@dataclass
class Moto:
    base_url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(10)


def start(workdir: Path) -> Moto:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    with (workdir / "moto.log").open("wb") as log:
        process = subprocess.Popen(
            [str(install()), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    with httpx.Client(trust_env=False) as client:
        while time.monotonic() < deadline:
            try:
                client.get(base_url + "/moto-api/", timeout=2)
                return Moto(base_url, process)
            except httpx.TransportError:
                time.sleep(0.1)
    process.kill()
    raise RuntimeError("moto_server did not start")


def register_ca(moto: Moto, ca_pem: str) -> None:
    with httpx.Client(base_url=moto.base_url, trust_env=False, headers=HEADERS) as http:
        response = http.post(
            "/cacertificate", params={"setAsActive": "true"}, json={"caCertificate": ca_pem}
        )
        if response.status_code != 200:
            raise RuntimeError(f"moto RegisterCACertificate: {response.text[:300]}")


def register_line(pem: str, ca_pem: str) -> tuple[str, str, str]:
    """A wrk request line for RegisterCertificate (under the CA, active)."""
    body = {"certificatePem": pem, "caCertificatePem": ca_pem, "setAsActive": True}
    return ("POST", "/certificate/register", json.dumps(body))


def describe_line(pem: str) -> tuple[str, str, str]:
    """A wrk request line for DescribeCertificate (moto's id: SHA-256 of the PEM text)."""
    certificate_id = hashlib.sha256(pem.encode()).hexdigest()
    return ("GET", f"/certificates/{certificate_id}", "")
