"""The SDK example on the docs page (`GET|POST /` in router.py) runs as written.

The only change is the endpoint: the example says 127.0.0.1:8000, the default of `serve`; the
test server listens on a free port instead.
"""

from __future__ import annotations

import re

from mqtt_ca_registry.alibaba.router import DESCRIPTION
from tests.contract.support import DEFAULT_INSTANCE, Registry

EXAMPLE = re.search(r"```python\n(.*?)```", DESCRIPTION, re.DOTALL)


def test_the_example_is_short_and_targets_the_documented_defaults() -> None:
    assert EXAMPLE is not None, "no ```python block in the docs of GET|POST /"
    code = EXAMPLE.group(1)
    assert len(code.strip().splitlines()) <= 10
    assert 'endpoint="127.0.0.1:8000"' in code
    assert 'access_key_id="LTAI5tLocalEmulatorKey"' in code
    assert 'access_key_secret="local-emulator-secret"' in code
    assert DEFAULT_INSTANCE in code


def test_the_example_runs_against_a_live_server(registry: Registry) -> None:
    assert EXAMPLE is not None
    code = EXAMPLE.group(1).replace("127.0.0.1:8000", registry.endpoint)
    namespace: dict[str, object] = {"__name__": "docs_example"}
    exec(compile(code, "<docs example>", "exec"), namespace)
    registration_code = namespace["code"]
    assert isinstance(registration_code, str) and len(registration_code) >= 32
