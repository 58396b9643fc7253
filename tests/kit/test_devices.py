"""`kit devices`: the files, the manifest, the progress output, and Ctrl-C."""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import signal
import stat
import subprocess
from pathlib import Path

import pytest

from tests.kit.support import kit, ok, openssl, serial_of, text_of
from tests.support.servers import clean_environment, console_script

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")

DEVICES = ("kit", "devices", "--ca", "CA.crt", "--ca-key", "CA.key")


@pytest.fixture
def ca_dir(tmp_path: Path) -> Path:
    """A directory with an RSA CA.key / CA.crt made by the kit."""
    ok(kit("kit", "ca", "--algorithm", "rsa", cwd=tmp_path))
    return tmp_path


def pairs(directory: Path) -> tuple[set[str], set[str]]:
    names = [p.name for p in directory.iterdir()]
    return (
        {n.removesuffix(".crt") for n in names if n.endswith(".crt")},
        {n.removesuffix(".key") for n in names if n.endswith(".key")},
    )


@pytest.mark.parametrize("version", ["v1", "v3"])
def test_devices_verify_with_openssl_as_tls_clients(ca_dir: Path, version: str) -> None:
    result = ok(kit(*DEVICES, "--count", "12", "--algorithm", "ec", f"--{version}", cwd=ca_dir))
    assert "wrote 12 P-256 device certificates" in result.stdout

    out = ca_dir / "devices"
    certs, keys = pairs(out)
    assert certs == keys == {f"device-{i:02d}" for i in range(1, 13)}
    chosen = [out / "device-01.crt", out / "device-12.crt"]
    verified = openssl("verify", "-purpose", "sslclient", "-CAfile", ca_dir / "CA.crt", *chosen)
    assert verified.count(": OK") == 2
    text = text_of(out / "device-07.crt")
    assert "Subject: CN = device-07" in text and "ASN1 OID: prime256v1" in text
    if version == "v1":  # as `openssl x509 -req` without an extfile makes them
        assert "Version: 1 (0x0)" in text and "X509v3" not in text
    else:
        assert "Version: 3 (0x2)" in text
        assert "TLS Web Client Authentication" in text and "CA:FALSE" in text
    # The key belongs to the certificate, and only its owner may read it.
    pub_from_key = openssl("pkey", "-in", out / "device-07.key", "-pubout")
    assert pub_from_key == openssl("x509", "-in", out / "device-07.crt", "-noout", "-pubkey")
    assert stat.S_IMODE(os.stat(out / "device-07.key").st_mode) == 0o600


def test_manifest_lists_every_device_with_a_unique_serial(ca_dir: Path) -> None:
    ok(
        kit(
            *DEVICES,
            "--count",
            "150",
            "--algorithm",
            "ec",
            "--name-prefix",
            "meter",
            "--out",
            "fleet",
            "-q",
            cwd=ca_dir,
        )
    )
    out = ca_dir / "fleet"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] is True and manifest["written"] == manifest["requested"] == 150
    devices = manifest["devices"]
    assert [d["cn"] for d in devices] == [f"meter-{i:03d}" for i in range(1, 151)]
    serials = [int(d["serial"], 16) for d in devices]
    assert len(set(serials)) == 150
    assert all(0 < s < 2**159 for s in serials)  # random 159-bit positive, as openssl
    for device in devices[::50]:
        assert serial_of(out / device["files"]["certificate"]) == device["serial"]
        assert (out / device["files"]["key"]).exists()


def test_rsa_devices_default_to_the_ca_algorithm(ca_dir: Path) -> None:
    ok(kit(*DEVICES, "--count", "2", "-q", cwd=ca_dir))
    text = text_of(ca_dir / "devices" / "device-1.crt")
    assert "Public-Key: (2048 bit)" in text and "sha256WithRSAEncryption" in text
    openssl(
        "verify",
        "-purpose",
        "sslclient",
        "-CAfile",
        ca_dir / "CA.crt",
        ca_dir / "devices" / "device-1.crt",
    )


def test_chain_bundles_carry_the_intermediate(ca_dir: Path) -> None:
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
            cwd=ca_dir,
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
            "3",
            "--chain",
            "--v3",
            cwd=ca_dir,
        )
    )
    bundle = ca_dir / "devices" / "device-2-chain.pem"
    assert bundle.read_text().count("BEGIN CERTIFICATE") == 2
    assert bundle.read_text().startswith((ca_dir / "devices" / "device-2.crt").read_text())
    verified = openssl(
        "verify",
        "-purpose",
        "sslclient",
        "-CAfile",
        ca_dir / "CA.crt",
        "-untrusted",
        bundle,
        bundle,
    )
    assert "OK" in verified
    manifest = json.loads((ca_dir / "devices" / "manifest.json").read_text())
    assert manifest["devices"][1]["files"]["chain"] == "device-2-chain.pem"


def test_existing_devices_are_not_overwritten_unless_forced(ca_dir: Path) -> None:
    ok(kit(*DEVICES, "--count", "2", "--algorithm", "ec", "-q", cwd=ca_dir))
    before = (ca_dir / "devices" / "device-1.crt").read_text()
    refused = kit(*DEVICES, "--count", "2", "--algorithm", "ec", cwd=ca_dir)
    assert refused.returncode == 2 and "already exist" in refused.stderr
    assert (ca_dir / "devices" / "device-1.crt").read_text() == before
    ok(kit(*DEVICES, "--count", "2", "--algorithm", "ec", "--force", "-q", cwd=ca_dir))
    assert (ca_dir / "devices" / "device-1.crt").read_text() != before


PLAIN_LINE = re.compile(
    r"devices: ([\d,]+)/60 \(\d+%\), [\d,]+/s, elapsed \d+:\d\d, ETA (\d+:\d\d|-)"
)


def test_plain_progress_lines_without_a_terminal(ca_dir: Path) -> None:
    result = ok(
        kit(
            *DEVICES,
            "--count",
            "60",
            "--algorithm",
            "ec",
            "--jobs",
            "2",
            "--progress-every",
            "0",
            cwd=ca_dir,
        )
    )
    assert "\r" not in result.stderr and "\x1b" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) >= 2
    counts = []
    for line in lines:
        match = PLAIN_LINE.fullmatch(line)
        assert match, line
        counts.append(int(match.group(1).replace(",", "")))
    assert counts == sorted(counts) and counts[-1] == 60
    assert lines[-1].startswith("devices: 60/60 (100%)")
    assert result.stdout.startswith("wrote 60 P-256 device certificates")


def test_live_progress_bar_on_a_terminal(ca_dir: Path) -> None:
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [*console_script(), *DEVICES, "--count", "60", "--algorithm", "ec"],
        cwd=ca_dir,
        env=clean_environment(),
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
    )
    os.close(secondary)
    output = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # EIO: the other side closed
            break
        if not chunk:
            break
        output += chunk
    os.close(primary)
    assert process.wait(timeout=120) == 0
    text = output.decode()
    assert "\r" in text  # redrawn in place
    final = text.replace("\r\n", "\n").split("\r")[-1].splitlines()[0]
    assert re.search(r"devices \[#+\] 60/60 100% [\d,]+/s ETA 0:00", final), final
    assert "wrote 60 P-256 device certificates" in text


def test_quiet_prints_nothing(ca_dir: Path) -> None:
    result = ok(kit(*DEVICES, "--count", "5", "--algorithm", "ec", "--quiet", cwd=ca_dir))
    assert result.stdout == "" and result.stderr == ""
    assert len(pairs(ca_dir / "devices")[0]) == 5


def _start_rsa_run(directory: Path, count: int, *, session: bool) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            *console_script(),
            *DEVICES,
            "--count",
            str(count),
            "--algorithm",
            "rsa",
            "--progress-every",
            "0",
        ],
        cwd=directory,
        env=clean_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=session,
    )


def _wait_for_progress(process: subprocess.Popen[str], devices: int) -> None:
    """Block until the run reports ``devices`` done (read from its own progress lines)."""
    assert process.stderr is not None
    for line in process.stderr:
        match = re.match(r"devices: ([\d,]+)/", line)
        if match and int(match.group(1).replace(",", "")) >= devices:
            return
    raise AssertionError("the run ended before it was interrupted")


@pytest.mark.parametrize("target", ["process", "process group (a terminal's Ctrl-C)"])
def test_interrupt_leaves_only_complete_pairs(ca_dir: Path, target: str) -> None:
    count = 5000
    process = _start_rsa_run(ca_dir, count, session=target != "process")
    _wait_for_progress(process, 4)
    if target == "process":
        process.send_signal(signal.SIGINT)
    else:
        os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr

    out = ca_dir / "devices"
    certs, keys = pairs(out)
    assert certs == keys and 4 <= len(certs) < count
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no temporary files
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] is False and manifest["written"] == len(certs)
    assert {d["cn"] for d in manifest["devices"]} == certs
    newest = max(certs)
    openssl("verify", "-CAfile", ca_dir / "CA.crt", out / f"{newest}.crt")
    openssl("pkey", "-in", out / f"{newest}.key", "-check", "-noout")


def test_validity_beyond_2049_is_encoded_as_openssl_expects(ca_dir: Path) -> None:
    # RFC 5280: UTCTime through 2049, GeneralizedTime from 2050 (the v1 encoder writes both).
    ok(kit(*DEVICES, "--count", "1", "--algorithm", "ec", "--days", "12000", "-q", cwd=ca_dir))
    device = ca_dir / "devices" / "device-1.crt"
    end = openssl("x509", "-in", device, "-noout", "-enddate").strip()
    assert int(end.split()[-2]) >= 2050
    openssl("verify", "-CAfile", ca_dir / "CA.crt", device)
    der = subprocess.run(
        ["openssl", "asn1parse", "-in", str(device)], capture_output=True, text=True, check=True
    ).stdout
    assert "UTCTIME" in der and "GENERALIZEDTIME" in der
