"""The one table the benchmark prints (Markdown, ready to paste into the README)."""

from __future__ import annotations

from typing import Any

from bench.registration import Rate
from bench.wrk import Load


class Table:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self._section = ""

    def section(self, name: str) -> None:
        self._section = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "peer": "vs moto"}.get(
            name, name
        )

    def _add(
        self, item: int, figure: str, value: str, target: str = "", met: bool | None = None
    ) -> None:
        self.rows.append(
            {
                "item": item,
                "database": self._section,
                "figure": figure,
                "value": value,
                "target": target,
                "met": met,
            }
        )

    def load(self, item: int, figure: str, *runs: Load) -> None:
        rate = sum(r.rate for r in runs) / len(runs)
        p50 = max(r.p50_ms for r in runs)
        p99 = max(r.p99_ms for r in runs)
        client = max(r.client_cpu for r in runs)
        self._add(
            item,
            figure,
            f"{rate:,.0f}/s (p50 {p50:.1f} ms, p99 {p99:.1f} ms; wrk {client:.0%} of a core)",
        )

    def rate(self, item: int, figure: str, rate: Rate) -> None:
        self._add(
            item, figure, f"{rate.rate:,.0f}/s (p50 {rate.p50_ms:.1f} ms, p99 {rate.p99_ms:.1f} ms)"
        )

    def ratio(
        self, item: int, figure: str, value: float, target: float, *, lower_is_better: bool = False
    ) -> None:
        met = value <= target if lower_is_better else value >= target
        sign = "≤" if lower_is_better else "≥"
        self._add(item, figure, f"{value:.2f}", f"{sign} {target:g}", met)

    def ms(self, item: int, figure: str, value: float, limit: float | None = None) -> None:
        if limit is None:
            self._add(item, figure, f"{value:.1f} ms")
        else:
            self._add(item, figure, f"{value:.1f} ms", f"≤ {limit:g} ms", value <= limit)

    def seconds(self, item: int, figure: str, value: float, limit: float) -> None:
        self._add(item, figure, f"{value:.2f} s", f"≤ {limit:g} s", value <= limit)

    def memory(self, figure: str, peaks: dict[int, float], limit: float | None = None) -> None:
        top = max(peaks.values()) if peaks else 0.0
        value = f"{top:.0f} MiB per process ({len(peaks)} process{'es' if len(peaks) > 1 else ''})"
        if limit is None:
            self._add(7, f"peak RSS, {figure}", value)
        else:
            self._add(7, f"peak RSS, {figure}", value, f"≤ {limit:g} MB", top * 1.048576 <= limit)

    def text(self, item: int, figure: str, value: str) -> None:
        self._add(item, figure, value)

    def render(self, header: str) -> str:
        lines = [
            header,
            "",
            "| # | DB | Figure | Measured | Target | Met |",
            "|---|----|--------|----------|--------|-----|",
        ]
        for row in self.rows:
            met = {True: "yes", False: "**no**", None: ""}[row["met"]]
            lines.append(
                f"| {row['item']} | {row['database']} | {row['figure']} | {row['value']} "
                f"| {row['target']} | {met} |"
            )
        return "\n".join(lines)
