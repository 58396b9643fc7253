"""Progress of a long run, on stderr: a live bar on a terminal, plain lines otherwise.

Hand-rolled rather than `rich` or `tqdm`: one line redrawn with ``\\r`` is all this needs, and
a dependency (and its import time, paid by every CLI call) would buy nothing more.
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO

REDRAW_SECONDS = 0.1  # a terminal bar redraws at most ten times a second


def _clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class Progress:
    """Counts finished items out of ``total`` and shows it the way the output stream allows.

    ``mode``: "bar" (a terminal: one line redrawn in place, with rate and ETA), "lines" (a
    plain line every ``every`` seconds and at the end, for logs and pipes) or "quiet".
    """

    def __init__(
        self, total: int, label: str, mode: str, *, every: float = 5.0, stream: TextIO | None = None
    ) -> None:
        self.total = total
        self.label = label
        self.mode = mode
        self.every = every
        self.stream = stream or sys.stderr
        self.done = 0
        self.started = time.monotonic()
        self._shown_at = float("-inf")
        self._shown_done = -1
        self._width = 0

    @staticmethod
    def mode_for(stream: TextIO, quiet: bool) -> str:
        if quiet:
            return "quiet"
        return "bar" if stream.isatty() else "lines"

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def advance(self, count: int) -> None:
        self.done += count
        self._show(final=False)

    def tick(self) -> None:
        """Called while waiting: keeps the elapsed time and plain lines moving."""
        self._show(final=False)

    def finish(self) -> None:
        self._show(final=True)
        if self.mode == "bar" and self._width:
            self.stream.write("\n")
            self.stream.flush()

    def _show(self, *, final: bool) -> None:
        if self.mode == "quiet":
            return
        now = time.monotonic()
        interval = REDRAW_SECONDS if self.mode == "bar" else self.every
        if not final and (
            now - self._shown_at < interval or (self.mode == "lines" and not self.done)
        ):
            return
        if final and self.mode == "lines" and self._shown_done == self.done:
            return  # the last line already says it
        self._shown_at, self._shown_done = now, self.done
        if self.mode == "bar":
            self._bar()
        else:
            self.stream.write(self._summary() + "\n")
        self.stream.flush()

    def _summary(self) -> str:
        rate = self.rate()
        left = self.total - self.done
        eta = _clock(left / rate) if rate > 0 and left else ("-" if left else "0:00")
        share = self.done / self.total if self.total else 1.0
        return (
            f"{self.label}: {self.done:,}/{self.total:,} ({share:.0%}), {rate:,.0f}/s, "
            f"elapsed {_clock(time.monotonic() - self.started)}, ETA {eta}"
        )

    def _bar(self) -> None:
        rate = self.rate()
        left = self.total - self.done
        eta = _clock(left / rate) if rate > 0 and left else ("--:--" if left else "0:00")
        share = self.done / self.total if self.total else 1.0
        numbers = f" {self.done:,}/{self.total:,} {share:4.0%} {rate:,.0f}/s ETA {eta}"
        columns = shutil.get_terminal_size((80, 24)).columns - 1
        room = max(10, min(40, columns - len(self.label) - len(numbers) - 4))
        filled = round(room * share)
        line = f"{self.label} [{'#' * filled}{'.' * (room - filled)}]{numbers}"[:columns]
        # Pad over the previous, longer line instead of relying on terminal escape codes.
        self.stream.write("\r" + line.ljust(self._width))
        self._width = len(line)
