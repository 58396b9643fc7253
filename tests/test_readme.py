"""The README stays true: its commands run as written, and its coverage table matches the code."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from alibabacloud_onsmqtt20200420.client import Client

from mqtt_ca_registry.alibaba.router import ACTIONS
from tests.support.servers import LiveServerFactory, clean_environment

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _section(title: str) -> str:
    start = README.index(f"## {title}")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def _blocks(section: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)


def test_quick_start_test_command_is_what_ci_runs() -> None:
    commands = _blocks(_section("Quick start"), "sh")
    assert len(commands) == 2
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1].strip() in ci
    assert "mqtt-ca-registry serve" in commands[0]


def test_coverage_table_matches_the_code_and_the_sdk() -> None:
    marks = re.findall(r"^- \[([X ])\] (\w+)$", _section("The Alibaba Cloud SDK"), re.M)
    listed = {action: mark for mark, action in marks}
    sdk = {m.removesuffix("_with_options") for m in dir(Client) if m.endswith("_with_options")}
    assert len(listed) == len(sdk)
    assert {a for a, mark in listed.items() if mark == "X"} == set(ACTIONS)


def test_register_and_authenticate_commands_run_as_written(
    live_server: LiveServerFactory, tmp_path: Path
) -> None:
    server = live_server.start(f"sqlite:///{tmp_path}/readme.db")
    script = "\n".join(
        _blocks(_section("Register a CA"), "sh")
        + _blocks(_section("Would the broker accept this device?"), "sh")
    ).replace("http://127.0.0.1:8000", server.base_url)
    work = tmp_path / "work"
    work.mkdir()
    # The kit's commands find this server by $MQTT_CA_REGISTRY_URL, the script on $PATH.
    kit_env = {
        "MQTT_CA_REGISTRY_URL": server.base_url,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=work,
        capture_output=True,
        text=True,
        env=clean_environment(kit_env),
        input="",
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert '"status":"active"' in result.stdout  # the CA registered
    assert '"reason_code":"auto_registered"' in result.stdout  # and the device was accepted
    assert "registered CA " in result.stdout and ": active" in result.stdout  # the kit's path
    assert "accepted [auto_registered] device-0001 " in result.stdout


def test_sdk_example_runs_as_written(live_server: LiveServerFactory, tmp_path: Path) -> None:
    server = live_server.start(f"sqlite:///{tmp_path}/sdk.db")
    (example,) = _blocks(_section("The Alibaba Cloud SDK"), "python")
    assert len(example.strip().splitlines()) <= 12
    port = server.base_url.rsplit(":", 1)[1]
    result = subprocess.run(
        [sys.executable, "-c", example.replace("127.0.0.1:8000", f"127.0.0.1:{port}")],
        capture_output=True,
        text=True,
        env=clean_environment(),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "register code: " in result.stdout
    assert "CAs registered: 0" in result.stdout
