"""The repository documents itself: every relative link in the Markdown files resolves (file and
#anchor), and nothing points at files that are not in the repository."""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Written in two pieces so that this file does not trip its own check.
OUTSIDE_FOLDER = "../" + "shared"
_SKIPPED_DIRS = {".git", ".venv", "node_modules", ".mypy_cache", ".ruff_cache", ".pytest_cache"}


@cache
def tracked_files() -> tuple[Path, ...]:
    """The repository's files: git's list in a checkout, else a walk (e.g. an unpacked sdist)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
        ).stdout.decode()
        paths = [ROOT / name for name in listed.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        paths = [
            p
            for p in ROOT.rglob("*")
            if p.is_file() and not _SKIPPED_DIRS & set(p.relative_to(ROOT).parts)
        ]
    return tuple(p for p in paths if p.is_file())


def markdown_files() -> list[Path]:
    return sorted(p for p in tracked_files() if p.suffix == ".md")


def _without_code(text: str) -> str:
    """Markdown without fenced code blocks or inline code (links there are not links)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def anchor_of(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.S | re.M)
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, flags=re.M):
        anchor, n = anchor_of(heading), 1
        unique = anchor
        while unique in found:  # GitHub numbers repeated headings: name, name-1, name-2
            unique, n = f"{anchor}-{n}", n + 1
        found.add(unique)
    return frozenset(found)


def links(path: Path) -> list[str]:
    text = _without_code(path.read_text())
    inline = re.findall(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", text)
    references = re.findall(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", text, flags=re.M)
    return inline + references


def broken_links(path: Path) -> list[str]:
    problems = []
    for target in links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, flags=re.I):
            continue  # http:, https:, mailto: ...: not ours to check offline
        file_part, _, fragment = target.partition("#")
        destination = (path.parent / file_part).resolve() if file_part else path
        where = f"{path.relative_to(ROOT)}: ({target})"
        if not destination.exists():
            problems.append(f"{where} names a file that does not exist")
        elif fragment and destination.suffix == ".md" and fragment not in anchors(destination):
            problems.append(f"{where}: no heading makes #{fragment} in {file_part or 'itself'}")
        elif ROOT not in destination.parents and destination != ROOT:
            problems.append(f"{where} leaves the repository")
    return problems


def test_the_documentation_exists() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in markdown_files()}
    for page in ("rules", "rest-api", "alibaba-api", "configuration", "operations"):
        assert f"docs/{page}.md" in names
    readme = (ROOT / "README.md").read_text()
    assert all(f"(docs/{page}.md" in readme for page in ("rules", "rest-api", "configuration"))


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves(path: Path) -> None:
    assert broken_links(path) == []


def test_the_anchor_rule_matches_github() -> None:
    assert anchor_of("Serial numbers (Sn)") == "serial-numbers-sn"
    assert anchor_of("The Alibaba Cloud SDK, unchanged") == "the-alibaba-cloud-sdk-unchanged"
    assert anchor_of("`MQTT_CA_REGISTRY_PORT` and `--port`") == "mqtt_ca_registry_port-and---port"


def test_nothing_points_outside_the_repository() -> None:
    """No file names the team's private notes; every *.md file named anywhere exists here."""
    existing = {p.name for p in tracked_files()}
    offenders = []
    for path in tracked_files():
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue  # binary files
        relative = path.relative_to(ROOT).as_posix()
        if OUTSIDE_FOLDER in text:
            offenders.append(f"{relative}: mentions {OUTSIDE_FOLDER}")
        for name in set(re.findall(r"\b[\w.-]+\.md\b", text)):
            if name not in existing:
                offenders.append(f"{relative}: names {name}, which is not in the repository")
    assert offenders == []
