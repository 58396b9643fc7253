"""docs/ says what the code does: the REST reference lists the OpenAPI document's operations and
parameters, the configuration page every setting with its real default, the rules page every
error and reason code, the Alibaba page every action and wire code."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from mqtt_ca_registry.alibaba.errors import TABLE
from mqtt_ca_registry.alibaba.router import ACTIONS
from mqtt_ca_registry.alibaba.signing import SignatureErrorCode
from mqtt_ca_registry.app import create_app
from mqtt_ca_registry.config import Settings
from mqtt_ca_registry.device_certificates.outcomes import ConnectReason
from mqtt_ca_registry.errors import ErrorCode

DOCS = Path(__file__).resolve().parents[1] / "docs"
HTTP_METHODS = {"get", "put", "post", "delete", "patch"}


def page(name: str) -> str:
    return (DOCS / name).read_text()


def table_rows(text: str) -> list[list[str]]:
    """Cells of every Markdown table row (header and rule rows included)."""
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("|")
    ]


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    database = tmp_path_factory.mktemp("openapi") / "unused.db"
    document: dict[str, Any] = create_app(Settings(database_url=f"sqlite:///{database}")).openapi()
    return document


class TestRestReference:
    def documented(self) -> dict[tuple[str, str], str]:
        rows = {}
        for cells in table_rows(page("rest-api.md")):
            match = re.fullmatch(r"`(GET|POST|PUT|PATCH|DELETE) (/\S*)`", cells[0])
            if match:
                rows[(match.group(1), match.group(2))] = " | ".join(cells[1:])
        return rows

    def test_lists_exactly_the_operations_of_the_openapi_document(
        self, openapi: dict[str, Any]
    ) -> None:
        served = {
            (method.upper(), path)
            for path, item in openapi["paths"].items()
            for method in item
            if method in HTTP_METHODS
        }
        documented = set(self.documented())
        assert sorted(served - documented) == [], "add these to docs/rest-api.md"
        assert sorted(documented - served) == [], "docs/rest-api.md lists operations not served"

    def test_names_every_query_parameter(self, openapi: dict[str, Any]) -> None:
        rows = self.documented()
        missing = []
        for path, item in openapi["paths"].items():
            for method, operation in item.items():
                if method not in HTTP_METHODS:
                    continue
                for parameter in operation.get("parameters", []):
                    row = rows[(method.upper(), path)]
                    if parameter["in"] == "query" and f"`{parameter['name']}`" not in row:
                        missing.append(f"{method.upper()} {path}: {parameter['name']}")
        assert missing == []


def test_configuration_lists_every_setting_with_its_default() -> None:
    rows = {
        cells[0].strip("`"): cells[1]
        for cells in table_rows(page("configuration.md"))
        if cells[0].startswith("`MQTT_CA_REGISTRY_")
    }
    expected = {}
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        if hasattr(default, "get_secret_value"):
            default = default.get_secret_value()
        if default is None:
            shown = "unset"
        elif isinstance(default, bool):
            shown = f"`{str(default).lower()}`"
        else:
            shown = f"`{default}`"
        expected["MQTT_CA_REGISTRY_" + name.upper()] = shown
    assert rows == expected, "docs/configuration.md must list every setting and its default"


def test_rules_and_rest_reference_explain_every_error_code() -> None:
    text = page("rules.md") + page("rest-api.md")
    assert [str(code) for code in ErrorCode if f"`{code}`" not in text] == []


def test_rules_explain_every_reason_code() -> None:
    text = page("rules.md")
    assert [str(reason) for reason in ConnectReason if f"| `{reason}` |" not in text] == []


def test_alibaba_page_lists_every_action_and_code() -> None:
    text = page("alibaba-api.md")
    assert [action for action in ACTIONS if f"| `{action}` |" not in text] == []
    codes = {error.code for error in TABLE.values()} | {str(c) for c in SignatureErrorCode}
    assert sorted(code for code in codes if f"`{code}`" not in text) == []
