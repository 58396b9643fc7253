"""One log format for every line of a live server's log, uvicorn's own lines included, as text
(the default) or as one JSON object per line (MQTT_CA_REGISTRY_LOG_FORMAT=json)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import httpx

from tests.support.servers import LiveServer, LiveServerFactory

TEXT_LINE = re.compile(
    r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) "
    r"\[(?P<logger>[\w.]+)\] \[(?P<request_id>[^\]]+)\] (?P<message>.+)"
)
REQUEST_ID = "log-format-test-0001"


def exercise_and_stop(server: LiveServer) -> list[str]:
    """A request with a known id, one refused call, then SIGTERM; the whole log's lines."""
    with httpx.Client(base_url=server.base_url, trust_env=False, timeout=10) as client:
        assert client.get("/healthz", headers={"X-Request-Id": REQUEST_ID}).status_code == 200
        assert client.get("/v1/instances/no-such-instance").status_code == 404
    server.stop()  # SIGTERM: the shutdown lines are part of the log too
    return [line for line in server.log().splitlines() if line.strip()]


def test_text_log_of_two_workers_is_one_format(
    live_server: LiveServerFactory, tmp_path: Path
) -> None:
    server = live_server.start(f"sqlite:///{tmp_path}/r.db", workers=2)
    lines = exercise_and_stop(server)
    matches = [TEXT_LINE.fullmatch(line) for line in lines]
    assert [line for line, match in zip(lines, matches, strict=True) if not match] == []
    by_logger = {m["logger"] for m in matches if m}
    # uvicorn's lines (the parent's and each worker's) are in the same format as ours.
    assert {"uvicorn.error", "mqtt_ca_registry.cli", "mqtt_ca_registry.access"} <= by_logger
    messages = [m["message"] for m in matches if m]
    assert sum(m.startswith("Started server process") for m in messages) == 2
    assert any(m.startswith("Uvicorn running on") for m in messages)
    (access,) = [m for m in matches if m and m["request_id"] == REQUEST_ID]
    assert access["logger"] == "mqtt_ca_registry.access"
    assert access["message"].startswith("GET /healthz 200 ")


def test_json_log_is_one_object_per_line(live_server: LiveServerFactory, tmp_path: Path) -> None:
    server = live_server.start(
        f"sqlite:///{tmp_path}/r.db", env={"MQTT_CA_REGISTRY_LOG_FORMAT": "json"}
    )
    entries = [json.loads(line) for line in exercise_and_stop(server)]
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= set(entry) <= {
            "time", "level", "logger", "message", "request_id", "exception", "stack"
        }  # fmt: skip
        assert entry["time"].endswith("Z")
        datetime.fromisoformat(entry["time"])
        assert entry["level"] in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}
    assert any(e["logger"] == "uvicorn.error" for e in entries)
    (access,) = [e for e in entries if e.get("request_id") == REQUEST_ID]
    assert access["logger"] == "mqtt_ca_registry.access"
    assert access["message"].startswith("GET /healthz 200 ")
    refused = [e for e in entries if "/v1/instances/no-such-instance 404" in e["message"]]
    assert len(refused) == 1 and refused[0]["request_id"]  # every request line carries its id
    startup = [e for e in entries if e["message"].startswith("serving on")]
    assert len(startup) == 1 and "request_id" not in startup[0]  # outside a request: none
