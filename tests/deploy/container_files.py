"""Read the Dockerfile and docker-compose.yml the way Docker does, for tests that cannot run Docker.

The Dockerfile reader covers what our Dockerfile uses: comments, line continuations, stages,
exec-form (JSON) commands and ``ENV key=value`` pairs. It is not a general Dockerfile parser.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.support.servers import console_script

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERIGNORE = ROOT / ".dockerignore"
CONSOLE_SCRIPT = "mqtt-ca-registry"
DATABASE_URL_VARIABLE = "MQTT_CA_REGISTRY_DATABASE_URL"
CONTAINER_PORT = 8000


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case, e.g. "COPY"
    arguments: str  # the rest of the logical line, continuations joined

    def exec_form(self) -> list[str]:
        """The JSON array of an exec-form CMD/ENTRYPOINT/RUN (fails on the shell form)."""
        value = json.loads(self.arguments)
        assert isinstance(value, list), f"{self.keyword} is not in exec form: {self.arguments}"
        return [str(v) for v in value]


@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction:
        found = self.all(keyword)
        assert found, f"stage {self.name or self.image} has no {keyword}"
        return found[-1]

    def env(self) -> dict[str, str]:
        """Every ``ENV key=value`` of the stage, later ones winning."""
        values: dict[str, str] = {}
        for instruction in self.all("ENV"):
            for pair in shlex.split(instruction.arguments):
                key, sep, value = pair.partition("=")
                assert sep, f"use ENV key=value, not the legacy form: {instruction.arguments}"
                values[key] = value
        return values

    def healthcheck(self) -> list[str]:
        """The exec-form command of the stage's HEALTHCHECK (options such as --interval dropped)."""
        match = re.fullmatch(r"(?:--\S+\s+)*CMD\s+(\[.*\])", self.last("HEALTHCHECK").arguments)
        assert match, "HEALTHCHECK must be `[--options] CMD [exec form]`"
        return Instruction("CMD", match.group(1)).exec_form()


def logical_lines(text: str) -> list[str]:
    """Instructions with comments dropped and backslash continuations joined."""
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue  # Docker drops comment lines, also inside a continued instruction
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    assert not current, "the Dockerfile ends inside a line continuation"
    return lines


def read_dockerfile(path: Path = DOCKERFILE) -> list[Stage]:
    stages: list[Stage] = []
    for line in logical_lines(path.read_text()):
        keyword, _, arguments = line.partition(" ")
        keyword = keyword.upper()
        arguments = arguments.strip()
        if keyword == "FROM":
            words = arguments.split()
            named = len(words) == 3 and words[1].upper() == "AS"
            stages.append(Stage(image=words[0], name=words[2] if named else None))
            continue
        assert stages, f"{keyword} before the first FROM"
        stages[-1].instructions.append(Instruction(keyword, arguments))
    return stages


def read_env_file(path: Path = ENV_EXAMPLE) -> dict[str, str]:
    """``KEY=value`` lines of an env file as compose reads .env (comments and blanks skipped)."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not KEY=value: {line}"
        values[key.strip()] = value.strip()
    return values


class MissingVariable(Exception):
    """A ``${VAR:?message}`` whose variable is unset or empty: compose refuses to start."""


_VARIABLE = re.compile(r"\$(?:\$|\{(?P<braced>[^}]*)\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))")


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's variable substitution: $VAR, ${VAR}, ${VAR:-default}, ${VAR-default},
    ${VAR:?error}, ${VAR?error} and $$ for a literal dollar."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        if match.group("bare"):
            return env.get(match.group("bare"), "")
        expression = match.group("braced")
        operator = re.search(r":?[-?]", expression)
        if operator is None:
            return env.get(expression, "")
        name, op, argument = (
            expression[: operator.start()],
            operator.group(0),
            expression[operator.end() :],
        )
        value = env.get(name)
        unset = value is None or (op.startswith(":") and value == "")
        if op.endswith("?") and unset:
            raise MissingVariable(f"{name}: {argument}")
        return argument if unset else str(value)

    return _VARIABLE.sub(replace, text)


def _interpolated(value: Any, env: dict[str, str]) -> Any:
    if isinstance(value, str):
        return interpolate(value, env)
    if isinstance(value, list):
        return [_interpolated(v, env) for v in value]
    if isinstance(value, dict):
        return {k: _interpolated(v, env) for k, v in value.items()}
    return value


def read_compose(
    path: Path = COMPOSE_FILE, env: dict[str, str] | None = None, *, raw: bool = False
) -> dict[str, Any]:
    """docker-compose.yml as compose sees it after `cp .env.example .env` (or with ``env``);
    ``raw`` leaves the ${...} expressions as written."""
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), "docker-compose.yml is not a mapping"
    if raw:
        return data
    interpolated: dict[str, Any] = _interpolated(data, read_env_file() if env is None else env)
    return interpolated


def on_loopback(argv: list[str], port: int | None = None) -> list[str]:
    """A container's command as this machine runs it.

    Three substitutions, nothing else: the console script is the one installed next to the test
    interpreter (in the image it is found on PATH, in /opt/venv/bin); ``--host 0.0.0.0`` becomes
    127.0.0.1 (all interfaces is right inside a container, where Docker forwards the published
    port, but would expose a test server to the network here); ``--port 8000`` becomes ``port``,
    a free one, so parallel test workers and a developer's own server do not collide.
    """
    assert argv[0] == CONSOLE_SCRIPT, argv
    result = [*console_script(), *argv[1:]]
    if "--host" in result:
        result[result.index("--host") + 1] = "127.0.0.1"
    if "--port" in result:
        assert port is not None, f"give a free port for {argv}"
        result[result.index("--port") + 1] = str(port)
    return result


def probe_on_loopback(argv: list[str], port: int) -> list[str]:
    """A health-check command (``python -c "...urlopen('http://127.0.0.1:8000/...')"``) as run
    here: this interpreter instead of the image's ``python``, and the test server's port."""
    assert argv[:2] == ["python", "-c"], f"expected a `python -c` probe: {argv}"
    target = f"127.0.0.1:{CONTAINER_PORT}/"
    assert target in argv[2], f"the probe does not call {target}: {argv[2]}"
    return [sys.executable, "-c", argv[2].replace(target, f"127.0.0.1:{port}/")]
