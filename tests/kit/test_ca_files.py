"""`kit ca` and `kit intermediate`: the files the documentation's openssl commands make."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from tests.kit.support import kit, ok, openssl, serial_of, shape, text_of
from tests.pki.openssl_seed import OPENSSL_CNF

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")


def seed_ca_with_key(directory: Path, algorithm: str) -> Path:
    """The documentation's CA commands, run on a copy of the kit's CA.key, for comparison."""
    if algorithm == "rsa":
        openssl(
            "req", "-new", "-key", "CA.key", "-out", "CA.csr", "-subj", "/CN=Seed CA", cwd=directory
        )
        openssl(
            "x509",
            "-req",
            "-extfile",
            OPENSSL_CNF,
            "-extensions",
            "v3_ca",
            "-in",
            "CA.csr",
            "-out",
            "seed.crt",
            "-signkey",
            "CA.key",
            "-days",
            "3650",
            cwd=directory,
        )
    else:
        openssl(
            "req",
            "-new",
            "-x509",
            "-days",
            "3650",
            "-config",
            OPENSSL_CNF,
            "-extensions",
            "v3_ca",
            "-key",
            "CA.key",
            "-out",
            "seed.crt",
            "-subj",
            "/CN=Seed CA",
            cwd=directory,
        )
    return directory / "seed.crt"


@pytest.mark.parametrize("algorithm", ["rsa", "ec"])
def test_ca_is_what_the_documentation_commands_make(tmp_path: Path, algorithm: str) -> None:
    result = ok(kit("kit", "ca", "--algorithm", algorithm, "--name", "Fleet Root", cwd=tmp_path))
    assert "CA.crt" in result.stdout and "CA.key" in result.stdout

    ours = text_of(tmp_path / "CA.crt")
    theirs = text_of(seed_ca_with_key(tmp_path, algorithm))
    assert shape(ours) == shape(theirs)  # same version, algorithms, key and v3_ca extensions
    assert "X509v3 Basic Constraints: critical" in ours and "CA:TRUE" in ours
    assert ("Public-Key: (2048 bit)" if algorithm == "rsa" else "ASN1 OID: prime256v1") in ours
    assert "Subject: CN = Fleet Root" in ours
    # The same key gives the same key identifiers as openssl's subjectKeyIdentifier=hash.
    identifier = ours.split("X509v3 Subject Key Identifier:")[1].split()[0]
    assert identifier == theirs.split("X509v3 Subject Key Identifier:")[1].split()[0]

    assert "OK" in openssl("verify", "-CAfile", tmp_path / "CA.crt", tmp_path / "CA.crt")
    openssl("pkey", "-in", tmp_path / "CA.key", "-check", "-noout")
    assert stat.S_IMODE(os.stat(tmp_path / "CA.key").st_mode) == 0o600
    serial = int(serial_of(tmp_path / "CA.crt"), 16)
    assert 0 < serial < 2**159


def test_ca_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    ok(kit("kit", "ca", cwd=tmp_path))
    before = (tmp_path / "CA.crt").read_text()
    refused = kit("kit", "ca", "--algorithm", "ec", cwd=tmp_path)
    assert refused.returncode == 2
    assert "already exist" in refused.stderr and "--force" in refused.stderr
    assert (tmp_path / "CA.crt").read_text() == before

    ok(kit("kit", "ca", "--algorithm", "ec", "--force", cwd=tmp_path))
    assert (tmp_path / "CA.crt").read_text() != before
    assert "prime256v1" in text_of(tmp_path / "CA.crt")


def test_kit_needs_no_server_settings_and_makes_no_database(tmp_path: Path) -> None:
    env = {
        "MQTT_CA_REGISTRY_DATABASE_URL": "mysql://nowhere",
        "MQTT_CA_REGISTRY_MAX_BODY_BYTES": "x",
    }
    ok(kit("kit", "ca", "--out", "pki", cwd=tmp_path, env=env))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pki"]
    assert sorted(p.name for p in (tmp_path / "pki").iterdir()) == ["CA.crt", "CA.key"]


def test_intermediate_chains_to_its_ca(tmp_path: Path) -> None:
    ok(kit("kit", "ca", "--algorithm", "rsa", cwd=tmp_path))
    ok(
        kit(
            "kit",
            "intermediate",
            "--ca",
            "CA.crt",
            "--ca-key",
            "CA.key",
            "--algorithm",
            "ec",
            "--out",
            "sub",
            cwd=tmp_path,
        )
    )
    sub = tmp_path / "sub" / "intermediate.crt"
    assert "OK" in openssl("verify", "-CAfile", tmp_path / "CA.crt", sub)
    text = text_of(sub)
    assert "Issuer: CN = mqtt-ca-registry kit CA" in text
    assert "CA:TRUE" in text and "prime256v1" in text
    root_ski = text_of(tmp_path / "CA.crt").split("X509v3 Subject Key Identifier:")[1].split()[0]
    assert text.split("X509v3 Authority Key Identifier:")[1].split()[0] == root_ski
    assert stat.S_IMODE(os.stat(tmp_path / "sub" / "intermediate.key").st_mode) == 0o600


def test_bad_inputs_are_one_line_errors(tmp_path: Path) -> None:
    ok(kit("kit", "ca", cwd=tmp_path))
    ok(kit("kit", "ca", "--algorithm", "ec", "--out", "other", cwd=tmp_path))
    openssl(
        "pkey", "-in", "CA.key", "-aes256", "-passout", "pass:x", "-out", "locked.key", cwd=tmp_path
    )
    cases = {
        ("--ca", "CA.crt", "--ca-key", "other/CA.key"): "is not the private key of CA.crt",
        ("--ca", "CA.key", "--ca-key", "CA.key"): "holds no readable PEM certificate",
        ("--ca", "missing.crt", "--ca-key", "CA.key"): "missing.crt: no such file",
        ("--ca", "CA.crt", "--ca-key", "locked.key"): "is encrypted",
        ("--ca", "CA.crt", "--ca-key", "CA.crt"): "not a private key",
    }
    for options, message in cases.items():
        result = kit("kit", "intermediate", *options, "--out", "sub", cwd=tmp_path)
        assert result.returncode == 2, (options, result.stderr)
        assert message in result.stderr, (options, result.stderr)
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "sub").exists() or not any((tmp_path / "sub").iterdir())


def test_device_names_stay_inside_out(tmp_path: Path) -> None:
    ok(kit("kit", "ca", "--algorithm", "ec", cwd=tmp_path))
    for prefix in ("../escape", "a/b", ".hidden", "n" * 70):
        result = kit(
            "kit",
            "devices",
            "--ca",
            "CA.crt",
            "--ca-key",
            "CA.key",
            "--count",
            "1",
            "--name-prefix",
            prefix,
            cwd=tmp_path,
        )
        assert result.returncode == 2 and "--name-prefix" in result.stderr, prefix
    assert sorted(p.name for p in tmp_path.iterdir()) == ["CA.crt", "CA.key"]


def test_not_a_ca_is_refused_as_issuer(tmp_path: Path) -> None:
    ok(kit("kit", "ca", cwd=tmp_path))
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
            "--name-prefix",
            "leaf",
            cwd=tmp_path,
        )
    )
    result = kit(
        "kit",
        "devices",
        "--ca",
        "devices/leaf-1.crt",
        "--ca-key",
        "devices/leaf-1.key",
        "--count",
        "1",
        "--out",
        "deeper",
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "is not a CA certificate" in result.stderr


@pytest.mark.parametrize(
    ("command", "words"),
    [
        (["kit", "ca"], "v3_ca"),
        (["kit", "intermediate"], "sub-CA"),
        (["kit", "devices"], "Ctrl-C"),
        (["ca", "register"], "never leaves"),
        (["check"], "registers a valid device"),
    ],
)
def test_help(tmp_path: Path, command: list[str], words: str) -> None:
    result = ok(kit(*command, "--help", cwd=tmp_path))
    text = " ".join(result.stdout.split())
    assert words in text
    assert "exit status: 0 ok; 1 refused by the service" in text


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    for args in (
        ["kit"],
        ["kit", "devices", "--ca", "CA.crt"],
        ["kit", "ca", "--algorithm", "dsa"],
        ["kit", "devices", "--v1", "--v3"],
        ["ca"],
        ["check"],
    ):
        result = kit(*args, cwd=tmp_path)
        assert result.returncode == 2, args
        assert "usage:" in result.stderr
