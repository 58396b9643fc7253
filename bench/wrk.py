"""Running wrk (Debian's package) with bench/lua/load.lua, and reading its figures."""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).with_name("lua") / "load.lua"


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit(
            "bench needs wrk as its load generator: install it with `apt-get install -y wrk` "
            "(Debian/Ubuntu), or pass --install-wrk to let the benchmark run apt-get for you."
        )
    return path


def install_wrk() -> None:
    if shutil.which("wrk") is None:
        env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)


@dataclass(frozen=True)
class Load:
    """What one wrk run measured. Only good responses count towards the rate."""

    requests: int
    good: int
    bad: int
    seconds: float
    p50_ms: float
    p99_ms: float
    exhausted: bool
    # wrk's own CPU time over the run's wall time: near 1.0 (per thread) would mean the load
    # generator, not the server, set the pace.
    client_cpu: float = 0.0

    @property
    def rate(self) -> float:
        return self.good / self.seconds if self.seconds else 0.0


def write_requests(path: Path, lines: list[tuple[str, str, str]]) -> Path:
    """One request per line: method, path, body (a body must be a single line of JSON)."""
    with path.open("w") as out:
        for method, target, body in lines:
            assert "\n" not in body and "\t" not in body
            out.write(f"{method}\t{target}\t{body}\n")
    return path


def run(
    base_url: str,
    requests_file: Path,
    *,
    seconds: float,
    expect: str = "-",
    once: bool = False,
    connections: int = 16,
    threads: int = 1,
    headers: dict[str, str] | None = None,
) -> Load:
    """Drive ``base_url`` with the requests in ``requests_file`` for ``seconds``."""
    args = [require_wrk(), "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s"]
    args += ["--latency", "--timeout", "10s", "-s", str(LUA)]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    args += [base_url, "--", str(requests_file), expect, str(threads)]
    if once:
        args.append("once")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures:\n{done.stdout}\n{done.stderr}")
    figures = json.loads(line.removeprefix("WRKJSON "))
    if figures["bad"] or figures["connect_errors"] or figures["timeouts"]:
        raise RuntimeError(f"wrk saw failures: {figures}\n{done.stderr[-2000:]}")
    return Load(
        requests=figures["requests"],
        good=figures["good"],
        bad=figures["bad"],
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        exhausted=bool(figures["exhausted"]),
        client_cpu=cpu / wall if wall else 0.0,
    )
