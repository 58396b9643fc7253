"""How hard to fuzz: thorough and reproducible in CI (``CI=true``), quick on a laptop.

Every run uses a fixed seed and no example database (no ``.hypothesis/`` directory), so a
failure in CI replays locally. Set ``FUZZ_SEED`` to explore other inputs.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import settings

IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
SEED = int(os.environ.get("FUZZ_SEED", "20260601"))


def examples(*, ci: int, local: int) -> int:
    """The example count for this environment."""
    return ci if IN_CI else local


def fuzz_settings(*, ci: int, local: int, **overrides: Any) -> settings:
    """Hypothesis settings for one property: no deadline (live servers, loaded CI machines)."""
    return settings(
        max_examples=examples(ci=ci, local=local),
        deadline=None,
        database=None,
        print_blob=True,
        **overrides,
    )
