"""Installs are reproducible: constraints.txt pins every dependency within pyproject.toml's
ranges, the Docker build and CI install from it, and the Docker build's install step, run here
in a scratch venv, installs exactly the pinned versions."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.deploy.container_files import ROOT, Stage, read_dockerfile

CONSTRAINTS = ROOT / "constraints.txt"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# Libraries whose internals the code uses must have an upper bound (see pyproject.toml).
BOUNDED = {"fastapi", "uvicorn", "sqlalchemy"}


def pins() -> dict[str, str]:
    """constraints.txt as {canonical name: version}; every line must be an exact pin."""
    found: dict[str, str] = {}
    for line in CONSTRAINTS.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        assert sep and version and " " not in line, f"not an exact pin: {line}"
        found[canonicalize_name(name)] = version
    return found


def requirements() -> list[Requirement]:
    project = PYPROJECT["project"]
    listed = project["dependencies"] + project["optional-dependencies"]["test"]
    return [Requirement(text) for text in listed + PYPROJECT["build-system"]["requires"]]


def test_every_declared_dependency_is_pinned_inside_its_range() -> None:
    pinned = pins()
    for requirement in requirements():
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{name} is not in constraints.txt: run .ci/refresh-constraints"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"constraints.txt pins {name}=={pinned[name]}, outside {requirement}"
        )


def test_libraries_used_through_their_internals_have_upper_bounds() -> None:
    for requirement in requirements():
        if canonicalize_name(requirement.name) in BOUNDED:
            assert any(spec.operator == "<" for spec in requirement.specifier), requirement


def test_the_docker_build_and_ci_install_from_the_constraints() -> None:
    builder = read_dockerfile()[0]
    copied = " ".join(c.arguments for c in builder.all("COPY"))
    assert "constraints.txt" in copied
    installs = [r.arguments for r in builder.all("RUN") if "pip install" in r.arguments]
    assert installs and all("-c constraints.txt" in run for run in installs), installs
    ci = (ROOT / ".ci" / "run").read_text()
    export = ci.index('export PIP_CONSTRAINT="$PWD/constraints.txt"')
    assert export < ci.index(".venv/bin/pip install -q -e '.[test]'"), "pin before installing"
    refresh = (ROOT / ".ci" / "refresh-constraints").read_text()
    assert "freeze --exclude-editable" in refresh and os.access(
        ROOT / ".ci" / "refresh-constraints", os.X_OK
    )


def _install_step(builder: Stage, venv: Path, wheels: Path) -> str:
    """The builder's RUN commands (venv creation, wheel build, install) for this machine: the
    venv and wheel directory in the scratch directory, `pip` the scratch venv's."""
    commands = [r.arguments for r in builder.all("RUN")]
    script = " && ".join(f"( {command} )" for command in commands)
    script = script.replace("/opt/venv", str(venv)).replace("/wheels", str(wheels))
    script = re.sub(r"(?<![/\w])pip wheel", f"{venv}/bin/pip wheel", script)
    return script.replace("python -m venv", f"{sys.executable} -m venv")


@pytest.mark.slow
def test_the_docker_build_install_step_installs_exactly_the_pins(tmp_path: Path) -> None:
    builder = read_dockerfile()[0]
    context = tmp_path / "src"  # the builder's WORKDIR, with what its COPY lines copy
    context.mkdir()
    for name in ("pyproject.toml", "README.md", "constraints.txt"):
        shutil.copy(ROOT / name, context / name)
    for folder in ("src", "migrations"):
        shutil.copytree(
            ROOT / folder, context / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    venv, wheels = tmp_path / "venv", tmp_path / "wheels"
    script = _install_step(builder, venv, wheels).replace(
        "/src/constraints.txt", str(context / "constraints.txt")
    )
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PIP_CONSTRAINT", "VIRTUAL_ENV"))
    }
    env.update(builder.env())
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=context,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    frozen = subprocess.run(
        [venv / "bin" / "pip", "freeze", "--exclude", "mqtt-ca-registry"],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    installed = {
        canonicalize_name(name): version
        for name, _, version in (line.partition("==") for line in frozen.splitlines())
    }
    pinned = pins()
    assert {
        name: (version, pinned.get(name))
        for name, version in installed.items()
        if pinned.get(name) != version
    } == {}
    assert {"fastapi", "uvicorn", "sqlalchemy", "python-multipart"} <= set(installed)
    version = subprocess.run(
        [venv / "bin" / "mqtt-ca-registry", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert version.stdout.startswith("mqtt-ca-registry ")
