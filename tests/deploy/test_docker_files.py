"""The Dockerfile, docker-compose.yml and .dockerignore, checked without Docker (none runs here).

What the containers actually run is proved in test_container_commands.py.
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from mqtt_ca_registry.alibaba.signing import parse_access_keys
from mqtt_ca_registry.config import LOCAL_ACCESS_KEY_ID
from tests.deploy.container_files import (
    CONSOLE_SCRIPT,
    CONTAINER_PORT,
    DATABASE_URL_VARIABLE,
    DOCKERFILE,
    DOCKERIGNORE,
    ENV_EXAMPLE,
    ROOT,
    MissingVariable,
    Stage,
    interpolate,
    read_compose,
    read_dockerfile,
    read_env_file,
)

HADOLINT = Path(sys.executable).parent / "hadolint"
DIGEST_PINNED = r"[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}"


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return read_dockerfile()


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    services: dict[str, Any] = read_compose()["services"]
    return services


class TestDockerfile:
    def test_passes_hadolint_at_its_strictest(self, tmp_path: Path) -> None:
        # Our own config, so a developer's ~/.config/hadolint.yaml cannot relax the check; any
        # finding down to "style" fails. Inline `# hadolint ignore=` pragmas (with a reason)
        # are the one sanctioned way to accept a rule.
        assert HADOLINT.exists(), "hadolint missing: .venv/bin/pip install -e '.[test]'"
        config = tmp_path / "hadolint.yaml"
        config.write_text("failure-threshold: style\n")
        result = subprocess.run(
            [str(HADOLINT), "--no-color", "--config", str(config), str(DOCKERFILE)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, f"hadolint:\n{result.stdout}{result.stderr}"

    def test_runtime_stage_gets_only_the_builders_venv(self, stages: list[Stage]) -> None:
        assert len(stages) >= 2, "expected a builder stage and a runtime stage"
        builder, runtime = stages[0], stages[-1]
        assert builder.name, "name the builder stage (FROM ... AS builder)"
        copies = [c.arguments for c in runtime.all("COPY")]
        assert copies, "the runtime stage copies nothing"
        assert all(c.startswith(f"--from={builder.name} ") for c in copies), (
            f"the runtime stage must take only built artefacts from {builder.name}: {copies}"
        )
        assert any("/opt/venv" in c for c in copies)
        assert runtime.env()["PATH"].startswith("/opt/venv/bin:")

    def test_base_images_are_pinned_by_digest_and_identical(self, stages: list[Stage]) -> None:
        images = {stage.image for stage in stages}
        for image in images:
            assert re.fullmatch(DIGEST_PINNED, image), f"pin {image} as name:tag@sha256:<digest>"
        # The venv holds absolute links to the builder's interpreter: same image on both sides.
        assert len(images) == 1, images
        syntax = DOCKERFILE.read_text().splitlines()[0]
        assert re.fullmatch(r"# syntax=" + DIGEST_PINNED, syntax), "pin the frontend too"

    def test_runs_as_a_non_root_user(self, stages: list[Stage]) -> None:
        user = stages[-1].last("USER").arguments.split(":")[0]
        assert user not in {"root", "0"}
        # Numeric, so Kubernetes' runAsNonRoot can check it without the image's /etc/passwd.
        assert user.isdigit(), user

    def test_health_check_probes_healthz_with_python(self, stages: list[Stage]) -> None:
        probe = stages[-1].healthcheck()
        assert probe[:2] == ["python", "-c"], "slim images have no curl; probe with Python"
        assert f"http://127.0.0.1:{CONTAINER_PORT}/healthz" in probe[2]

    def test_serves_on_all_interfaces_port_8000(self, stages: list[Stage]) -> None:
        runtime = stages[-1]
        command = runtime.last("CMD").exec_form()
        assert command == [
            CONSOLE_SCRIPT,
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            str(CONTAINER_PORT),
        ]
        assert runtime.last("EXPOSE").arguments == str(CONTAINER_PORT)
        # The name must be a console script the wheel installs into the venv on PATH.
        assert entry_points(group="console_scripts", name=CONSOLE_SCRIPT)

    def test_default_database_is_sqlite_in_data(self, stages: list[Stage]) -> None:
        runtime = stages[-1]
        assert runtime.env()[DATABASE_URL_VARIABLE].startswith("sqlite:////data/")
        # No VOLUME: it would make an anonymous volume for every container, unused on
        # PostgreSQL; the README mounts a named one for the SQLite default instead.
        assert runtime.all("VOLUME") == []
        assert "-v mqtt-ca-registry-data:/data" in (ROOT / "README.md").read_text()
        # The non-root user must be able to create the database file there.
        user = runtime.last("USER").arguments.split(":")[0]
        runs = [run.arguments for run in runtime.all("RUN")]
        assert any("chown" in run and "/data" in run for run in runs)
        assert any(f"--uid {user}" in run for run in runs)


class TestDockerignore:
    def _patterns(self) -> list[str]:
        lines = (line.strip() for line in DOCKERIGNORE.read_text().splitlines())
        return [line for line in lines if line and not line.startswith("#")]

    def test_excludes_local_state(self) -> None:
        patterns = self._patterns()
        for needed in (".venv", ".git", "*.db", "**/__pycache__"):
            assert needed in patterns, f".dockerignore should exclude {needed}"

    @pytest.mark.parametrize("path", ["pyproject.toml", "README.md", "src", "migrations"])
    def test_keeps_what_the_wheel_is_built_from(self, path: str) -> None:
        assert (ROOT / path).exists()
        for pattern in self._patterns():
            assert not fnmatch.fnmatch(path, pattern.removeprefix("**/")), (path, pattern)


def _condition(service: dict[str, Any], dependency: str) -> str:
    depends_on = service.get("depends_on")
    assert isinstance(depends_on, dict), "use the long depends_on form, with conditions"
    condition: str = depends_on[dependency]["condition"]
    return condition


class TestCompose:
    def test_has_the_three_services(self, services: dict[str, Any]) -> None:
        assert {"db", "migrate", "api"} <= set(services)

    def test_db_is_postgres_16_with_a_volume_and_pg_isready(self, services: dict[str, Any]) -> None:
        db = services["db"]
        assert db["image"].startswith("postgres:16")
        assert re.fullmatch(DIGEST_PINNED, db["image"]), "pin the database image by digest"
        assert "pg_isready" in db["healthcheck"]["test"]
        volume = db["volumes"][0].split(":")[0]
        assert volume in read_compose()["volumes"], "the data volume should be a named volume"
        env = db["environment"]
        assert env["POSTGRES_USER"] and env["POSTGRES_DB"]
        assert env.get("POSTGRES_PASSWORD") or env.get("POSTGRES_HOST_AUTH_METHOD")

    def test_migrate_runs_once_after_db_is_healthy(self, services: dict[str, Any]) -> None:
        migrate = services["migrate"]
        assert migrate["command"] == [CONSOLE_SCRIPT, "migrate"]
        assert _condition(migrate, "db") == "service_healthy"
        # Quoted in YAML: a bare `no` would load as False, which Compose rejects.
        assert migrate["restart"] == "no"
        api = services["api"]
        assert (migrate["build"], migrate["image"]) == (api["build"], api["image"]), "same image"

    def test_api_starts_after_db_healthy_and_migrate_done(self, services: dict[str, Any]) -> None:
        api = services["api"]
        assert _condition(api, "db") == "service_healthy"
        assert _condition(api, "migrate") == "service_completed_successfully"
        # Published on the loopback interface only, never on every interface of the host.
        assert api["ports"] == [f"127.0.0.1:{CONTAINER_PORT}:{CONTAINER_PORT}"]
        assert f"127.0.0.1:{CONTAINER_PORT}/readyz" in " ".join(api["healthcheck"]["test"])

    @pytest.mark.parametrize("service", ["migrate", "api"])
    def test_database_url_points_at_the_db_service(
        self, services: dict[str, Any], service: str
    ) -> None:
        db_env = services["db"]["environment"]
        url = urlsplit(services[service]["environment"][DATABASE_URL_VARIABLE])
        assert url.scheme == "postgresql"
        assert (url.hostname, url.port) == ("db", 5432)
        assert url.username == db_env["POSTGRES_USER"]
        # Both sides interpolate the same ${POSTGRES_PASSWORD...} expression (or trust auth).
        assert url.password == db_env.get("POSTGRES_PASSWORD")
        assert url.path == f"/{db_env['POSTGRES_DB']}"


class TestCredentials:
    """compose takes its credentials from .env, which .env.example shows how to write."""

    def test_the_stack_refuses_to_start_without_them(self) -> None:
        with pytest.raises(MissingVariable, match=r"POSTGRES_PASSWORD|MQTT_CA_REGISTRY_"):
            read_compose(env={})
        raw = read_compose(raw=True)["x-registry"]["environment"]
        for name in ("MQTT_CA_REGISTRY_ACCESS_KEYS", "MQTT_CA_REGISTRY_API_TOKEN"):
            assert raw[name].startswith(f"${{{name}:?"), f"{name} must have no default"

    def test_env_example_sets_a_private_key_pair_and_a_token(self) -> None:
        example = read_env_file(ENV_EXAMPLE)
        keys = parse_access_keys(example["MQTT_CA_REGISTRY_ACCESS_KEYS"])
        assert keys and LOCAL_ACCESS_KEY_ID not in keys, "not the public emulator pair"
        assert example["MQTT_CA_REGISTRY_API_TOKEN"]
        api = read_compose()["services"]["api"]["environment"]
        assert api["MQTT_CA_REGISTRY_API_TOKEN"] == example["MQTT_CA_REGISTRY_API_TOKEN"]

    def test_env_example_sets_every_variable_compose_requires(self) -> None:
        required = set(re.findall(r"\$\{(\w+):?\?", (ROOT / "docker-compose.yml").read_text()))
        assert required, "expected ${VAR:?...} expressions in docker-compose.yml"
        assert required <= set(read_env_file(ENV_EXAMPLE))

    def test_env_files_stay_out_of_git_and_the_image(self) -> None:
        assert ".env" in (ROOT / ".gitignore").read_text().split()
        assert ".env" in DOCKERIGNORE.read_text().split()

    def test_interpolation_follows_compose(self) -> None:
        env = {"SET": "x", "EMPTY": ""}
        assert interpolate("a${SET}b$SET$$", env) == "axbx$"
        assert interpolate("${EMPTY:-d} ${EMPTY-d} ${UNSET-d}", env) == "d  d"
        with pytest.raises(MissingVariable):
            interpolate("${EMPTY:?needed}", env)
        assert interpolate("${EMPTY?needed}", env) == ""
