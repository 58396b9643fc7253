"""`ca register` and `check` against a live `mqtt-ca-registry serve`, as a user runs them."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import threading
from pathlib import Path

import httpx
import pytest

from tests.kit.support import kit, ok, serial_of
from tests.support.servers import LiveServerFactory, free_port
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")
INSTANCE = "mqtt-cn-local"  # the instance a new database starts with
DATABASES = pytest.mark.parametrize("scratch_database_url", ["sqlite", "postgresql"], indirect=True)


@DATABASES
@pytest.mark.parametrize("algorithm", ["rsa", "ec"])
def test_register_then_devices_v1_and_v3_are_accepted(
    live_server: LiveServerFactory, scratch_database_url: str, tmp_path: Path, algorithm: str
) -> None:
    server = live_server.start(scratch_database_url)
    url = ("--url", server.base_url)
    ok(kit("kit", "ca", "--algorithm", algorithm, "--name", f"Fleet {algorithm}", cwd=tmp_path))

    registered = ok(
        kit("ca", "register", "--ca", "CA.crt", "--ca-key", "CA.key", *url, cwd=tmp_path)
    )
    sn = serial_of(tmp_path / "CA.crt")
    assert (
        registered.stdout.strip() == f"registered CA {sn} (Fleet {algorithm}) on {INSTANCE}: active"
    )
    ca = httpx.get(f"{server.base_url}/v1/instances/{INSTANCE}/ca-certificates/{sn}").json()
    assert ca["status"] == "active"
    assert ca["key_algorithm"] == ("RSA" if algorithm == "rsa" else "EC")

    for version in ("v1", "v3"):
        ok(
            kit(
                "kit",
                "devices",
                "--ca",
                "CA.crt",
                "--ca-key",
                "CA.key",
                "--count",
                "2",
                f"--{version}",
                "--out",
                version,
                "-q",
                cwd=tmp_path,
            )
        )
        device = tmp_path / version / "device-1.crt"
        first = ok(kit("check", "--chain", device, *url, cwd=tmp_path))
        assert first.stdout.startswith("accepted [auto_registered] device-1 (serial "), first.stdout
        again = ok(kit("check", "--chain", device, *url, "--json", cwd=tmp_path))
        decision = json.loads(again.stdout)
        assert decision["decision"] == "accepted" and decision["reason_code"] == "accepted"
        assert decision["device"]["device_sn"] == serial_of(device)
        assert decision["device"]["ca_sn"] == sn


def test_chain_through_an_intermediate_is_accepted(
    live_server: LiveServerFactory, tmp_path: Path
) -> None:
    server = live_server.start(f"sqlite:///{tmp_path}/registry.db")
    ok(kit("kit", "ca", "--algorithm", "ec", cwd=tmp_path))
    ok(
        kit(
            "ca",
            "register",
            "--ca",
            "CA.crt",
            "--ca-key",
            "CA.key",
            cwd=tmp_path,
            env={"MQTT_CA_REGISTRY_URL": server.base_url},
        )
    )
    ok(
        kit(
            "kit",
            "intermediate",
            "--ca",
            "CA.crt",
            "--ca-key",
            "CA.key",
            "--out",
            "sub",
            cwd=tmp_path,
        )
    )
    ok(
        kit(
            "kit",
            "devices",
            "--ca",
            "sub/intermediate.crt",
            "--ca-key",
            "sub/intermediate.key",
            "--count",
            "1",
            "--chain",
            "-q",
            cwd=tmp_path,
        )
    )
    url = ("--url", server.base_url)

    alone = kit("check", "--chain", "devices/device-1.crt", *url, cwd=tmp_path)
    assert alone.returncode == 1  # without its intermediate the broker cannot build the chain
    assert alone.stdout.startswith("rejected [unknown_issuer]")
    bundle = ok(kit("check", "--chain", "devices/device-1-chain.pem", *url, cwd=tmp_path))
    assert bundle.stdout.startswith("accepted [auto_registered] device-1 ")


def test_refusals_print_the_service_message(live_server: LiveServerFactory, tmp_path: Path) -> None:
    server = live_server.start(
        f"sqlite:///{tmp_path}/registry.db", env={"MQTT_CA_REGISTRY_API_TOKEN": "s3cret"}
    )
    ok(kit("kit", "ca", "--algorithm", "ec", cwd=tmp_path))
    register = ("ca", "register", "--ca", "CA.crt", "--ca-key", "CA.key")
    env = {"MQTT_CA_REGISTRY_URL": server.base_url}

    no_token = kit(*register, cwd=tmp_path, env=env)
    assert no_token.returncode == 1
    assert no_token.stderr.startswith("mqtt-ca-registry: refused (Unauthorized): ")
    assert "MQTT_CA_REGISTRY_API_TOKEN" in no_token.stderr

    env["MQTT_CA_REGISTRY_API_TOKEN"] = "s3cret"
    assert ok(kit(*register, cwd=tmp_path, env=env)).stdout.endswith(": active\n")
    cases = [
        ((), "refused (CaAlreadyRegistered): "),
        (("--instance", "mqtt-cn-nowhere"), "refused (InstanceNotFound): "),
        (("--name", "n" * 65), "refused (ValidationFailed): "),
    ]
    for options, message in cases:
        result = kit(*register, *options, cwd=tmp_path, env=env)
        assert result.returncode == 1, options
        assert result.stderr.startswith(f"mqtt-ca-registry: {message}"), result.stderr
        assert len(result.stderr.splitlines()) == 1 and result.stdout == ""

    # A device of a CA the registry does not know: the broker's decision, exit 1.
    ok(kit("kit", "ca", "--out", "stranger", cwd=tmp_path))
    ok(
        kit(
            "kit",
            "devices",
            "--ca",
            "stranger/CA.crt",
            "--ca-key",
            "stranger/CA.key",
            "--count",
            "1",
            "--algorithm",
            "ec",
            "-q",
            cwd=tmp_path,
        )
    )
    rejected = kit("check", "--chain", "devices/device-1.crt", cwd=tmp_path, env=env)
    assert rejected.returncode == 1
    assert rejected.stdout.startswith("rejected [unknown_issuer]: ")


def test_local_problems_exit_2_and_unreachable_exits_1(tmp_path: Path) -> None:
    ok(kit("kit", "ca", "--algorithm", "ec", cwd=tmp_path))
    ok(kit("kit", "ca", "--algorithm", "ec", "--out", "other", cwd=tmp_path))
    nowhere = f"http://127.0.0.1:{free_port()}"
    cases = [
        (
            ("ca", "register", "--ca", "CA.crt", "--ca-key", "other/CA.key"),
            2,
            "is not the private key of CA.crt",
        ),
        (
            ("ca", "register", "--ca", "CA.crt", "--ca-key", "CA.key", "--url", "ftp://x"),
            2,
            "expected http://",
        ),
        (("check", "--chain", "CA.key"), 2, "holds a private key and no certificate"),
        (("check", "--chain", "nothing.crt"), 2, "nothing.crt: no such file"),
        (
            ("ca", "register", "--ca", "CA.crt", "--ca-key", "CA.key", "--url", nowhere),
            1,
            f"cannot reach the registry at {nowhere}",
        ),
    ]
    for args, code, message in cases:
        result = kit(*args, cwd=tmp_path)
        assert result.returncode == code, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr


class RecordingProxy(TcpProxy):
    """A loopback TCP proxy that keeps every byte it forwards, both ways."""

    def __init__(self, target_host: str, target_port: int) -> None:
        super().__init__(target_host, target_port)
        self.seen = bytearray()
        self._seen_lock = threading.Lock()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:  # type: ignore[override]
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                with self._seen_lock:
                    self.seen += data
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def test_private_keys_never_leave_the_machine(
    live_server: LiveServerFactory, tmp_path: Path
) -> None:
    server = live_server.start(f"sqlite:///{tmp_path}/registry.db")
    proxy = RecordingProxy("127.0.0.1", int(server.base_url.rsplit(":", 1)[1]))
    proxy.start()
    url = ("--url", f"http://127.0.0.1:{proxy.port}")
    ok(kit("kit", "ca", "--algorithm", "rsa", cwd=tmp_path))
    ok(
        kit(
            "kit",
            "devices",
            "--ca",
            "CA.crt",
            "--ca-key",
            "CA.key",
            "--count",
            "1",
            "--algorithm",
            "ec",
            "-q",
            cwd=tmp_path,
        )
    )
    device = tmp_path / "devices"
    # A file holding the device's key and certificate together, as some tools write them.
    (tmp_path / "both.pem").write_text(
        (device / "device-1.key").read_text() + (device / "device-1.crt").read_text()
    )

    ok(kit("ca", "register", "--ca", "CA.crt", "--ca-key", "CA.key", *url, cwd=tmp_path))
    checked = ok(kit("check", "--chain", "both.pem", *url, cwd=tmp_path))
    assert checked.stdout.startswith("accepted [auto_registered]")

    traffic = bytes(proxy.seen)
    assert b"/registration-codes" in traffic and b"/authenticate" in traffic
    assert b"PRIVATE KEY" not in traffic
    for key in (tmp_path / "CA.key", device / "device-1.key"):
        body_lines = key.read_text().splitlines()[1:-1]
        assert not any(line.encode() in traffic for line in body_lines)
