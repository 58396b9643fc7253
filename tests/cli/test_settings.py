"""Settings and the command line, run as a user runs them: `mqtt-ca-registry ...` in a
subprocess, judged on its exit status and what it prints."""

from __future__ import annotations

import socket
import subprocess
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest

from mqtt_ca_registry.config import Settings
from mqtt_ca_registry.settings_report import setting_lines
from tests.support.servers import LiveServerFactory, clean_environment, console_script, free_port

PREFIX = "MQTT_CA_REGISTRY_"
BAD_SETTINGS = [
    ("LOG_LEVEL", "verbose", "DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ("ACCESS_KEYS", "nocolon", "id:secret"),
    ("PORT", "eighty", "integer"),
    ("PORT", "70000", "65535"),
    ("HOST", "", "at least 1 character"),
    ("DATABASE_URL", "mysql://db/registry", "postgresql://"),
    ("LOG_FORMAT", "xml", "'text' or 'json'"),
    ("MAX_CHAIN_LENGTH", "0", "greater than or equal to 1"),
    ("ALIBABA_VERIFY_SIGNATURES", "maybe", "boolean"),
]


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*console_script(), *args],
        env=clean_environment(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# Every bad setting against `serve`; the two examples against every command.
CASES = [("serve", *case) for case in BAD_SETTINGS] + [
    (command, *case) for command in ("migrate", "config") for case in BAD_SETTINGS[:2]
]


@pytest.mark.parametrize(
    ("command", "name", "value", "expected"),
    CASES,
    ids=[f"{command}-{name}={value}" for command, name, value, _ in CASES],
)
def test_a_bad_setting_is_one_line_and_exit_2_before_anything_starts(
    command: str, name: str, value: str, expected: str, tmp_path: Path
) -> None:
    env = {f"{PREFIX}{name}": value}
    if name != "DATABASE_URL":
        env[f"{PREFIX}DATABASE_URL"] = f"sqlite:///{tmp_path}/registry.db"
    result = run_cli(command, env=env, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"mqtt-ca-registry: invalid setting {PREFIX}{name}: "), line
    assert expected in line
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == [], "nothing may start: no database is created"


def test_a_bad_setting_never_echoes_a_secret(tmp_path: Path) -> None:
    result = run_cli(
        "serve", env={f"{PREFIX}ACCESS_KEYS": "mine:topsecret-value,broken"}, cwd=tmp_path
    )
    assert result.returncode == 2
    assert "entry 2 is malformed" in result.stderr
    assert "topsecret" not in result.stderr


def test_a_busy_port_is_one_line_and_exit_1_before_serving(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(
            "serve",
            env={f"{PREFIX}PORT": str(port), f"{PREFIX}DATABASE_URL": f"sqlite:///{tmp_path}/r.db"},
            cwd=tmp_path,
        )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "serving on" not in result.stderr + result.stdout
    (line,) = result.stderr.splitlines()
    assert line == (
        f"mqtt-ca-registry: port {port} on 127.0.0.1 is already in use (is another server "
        "running?); stop it, or choose another port with --port or MQTT_CA_REGISTRY_PORT"
    )
    assert not (tmp_path / "r.db").exists(), "the database is not touched when it cannot serve"


def test_an_address_not_of_this_machine_is_one_line_and_exit_1(tmp_path: Path) -> None:
    # 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never assigned to a real interface.
    result = run_cli("serve", "--host", "192.0.2.1", "--port", str(free_port()), cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "mqtt-ca-registry: 192.0.2.1 is not an address of this machine; use one of its "
        "addresses (127.0.0.1, or 0.0.0.0 for every interface) with --host or "
        "MQTT_CA_REGISTRY_HOST"
    ]


class TestHostAndPort:
    def test_the_settings_choose_where_serve_listens(
        self, live_server: LiveServerFactory, tmp_path: Path
    ) -> None:
        port = free_port()
        server = live_server.start(
            f"sqlite:///{tmp_path}/r.db",
            command=[*console_script(), "serve"],
            env={f"{PREFIX}HOST": "127.0.0.1", f"{PREFIX}PORT": str(port)},
            port=port,
        )
        assert server.base_url == f"http://127.0.0.1:{port}"
        assert f"serving on http://127.0.0.1:{port}" in server.log()

    def test_flags_win_over_the_settings(
        self, live_server: LiveServerFactory, tmp_path: Path
    ) -> None:
        port = free_port()
        with socket.socket() as taken:  # the setting names a busy port: the flag must win
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            env = {f"{PREFIX}PORT": str(taken.getsockname()[1]), f"{PREFIX}HOST": "192.0.2.1"}
            server = live_server.start(
                f"sqlite:///{tmp_path}/r.db",
                command=[*console_script(), "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                port=port,
            )
        with httpx.Client(trust_env=False) as client:
            assert client.get(f"{server.base_url}/healthz").json() == {"status": "ok"}


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"mqtt-ca-registry {version('mqtt-ca-registry')}"


def test_serve_help_lists_every_setting_with_its_default() -> None:
    result = run_cli("serve", "--help")
    assert result.returncode == 0
    assert f"{PREFIX}PORT (default: 8000)" in result.stdout
    assert f"{PREFIX}API_TOKEN (default: unset)" in result.stdout
    lines = setting_lines()
    assert {line.variable for line in lines} == {PREFIX + n.upper() for n in Settings.model_fields}
    for line in lines:
        assert f"{line.variable} (default: {line.default})" in result.stdout


def test_config_prints_the_effective_settings_with_secrets_masked(tmp_path: Path) -> None:
    env = {
        f"{PREFIX}DATABASE_URL": "postgresql://registry:db-password@db.example:5432/registry",
        f"{PREFIX}ACCESS_KEYS": "LTAI5tMine:first-secret,LTAI5tOther:second-secret",
        f"{PREFIX}API_TOKEN": "the-api-token",
        f"{PREFIX}PORT": "9000",
    }
    result = run_cli("config", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert set(lines) == {PREFIX + name.upper() for name in Settings.model_fields}
    assert lines[f"{PREFIX}PORT"] == "9000"
    assert lines[f"{PREFIX}HOST"] == "127.0.0.1"
    assert (
        lines[f"{PREFIX}DATABASE_URL"] == "postgresql://registry:********@db.example:5432/registry"
    )
    assert lines[f"{PREFIX}ACCESS_KEYS"] == "LTAI5tMine:********,LTAI5tOther:********"
    assert lines[f"{PREFIX}API_TOKEN"] == "********"
    for secret in ("db-password", "first-secret", "second-secret", "the-api-token"):
        assert secret not in result.stdout + result.stderr
    assert list(tmp_path.iterdir()) == [], "config touches no database"
