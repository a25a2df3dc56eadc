"""Keras's training progress display.

On a terminal (verbose=1) one bar redrawn in place: `12/32 ━━━━━━━──────── 1s 5ms/step - loss: 0.1234`.
When output is not a terminal (a log file, CI), verbose=1 prints one plain line per epoch instead
of redrawing; verbose=2 always prints one line per epoch: `32/32 - 1s - 5ms/step - loss: 0.1234`.
"""

from __future__ import annotations

import math
import re
import sys
import time

import numpy as np

_BOLD, _GREEN, _GREY, _RESET = "\x1b[1m", "\x1b[32m", "\x1b[37m", "\x1b[0m"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def format_value(value: float) -> str:
    return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"


def format_step_time(seconds: float, unit: str = "step") -> str:
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


def _format_eta(eta: float) -> str:
    if eta > 3600:
        return f"{eta // 3600:.0f}:{(eta % 3600) // 60:02.0f}:{eta % 60:02.0f}"
    if eta > 60:
        return f"{eta // 60:.0f}:{eta % 60:02.0f}"
    return f"{eta:.0f}s"


class Progbar:
    """A progress display for `target` steps (None: not known, shown as Keras shows it,
    `     17/Unknown`); `update(current, values, finalize)`."""

    def __init__(self, target: int | None, verbose: int = 1, width: int = 20, interval: float = 0.05,
                 unit_name: str = "step", stream=None):
        self.target, self.verbose, self.width = target, verbose, width
        self.interval, self.unit_name = interval, unit_name
        self.stream = stream or sys.stdout
        self.dynamic = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._start = time.perf_counter()
        self._last_update = 0.0
        self._prev_width = 0

    def _count(self, current: int) -> str:
        if not self.target:
            return f"{current:7d}/Unknown"
        digits = int(math.log10(max(self.target, 1))) + 1
        return f"{current:>{digits}d}/{self.target}"

    def _metrics(self, values) -> str:
        # a metric of several values (F1Score(average=None)) shows their mean, as in Keras
        return "".join(f" - {k}: {format_value(float(np.mean(v)))}" for k, v in values)

    def update(self, current: int, values=(), finalize: bool = False) -> None:
        now = time.perf_counter()
        elapsed = now - self._start
        per_step = elapsed / current if current else 0.0
        values = list(values)
        if self.verbose == 2 or (self.verbose == 1 and not self.dynamic):
            if finalize:
                self._write(f"{self._count(current)} - {elapsed:.0f}s - "
                            f"{format_step_time(per_step, self.unit_name)}{self._metrics(values)}\n")
            return
        if self.verbose != 1 or (now - self._last_update < self.interval and not finalize):
            return
        self._last_update = now
        if self.target:
            done = int(self.width * current / max(self.target, 1))
            bar = f"{_BOLD}{self._count(current)}{_RESET} "
            if done > 0:
                bar += f"{_GREEN}{'━' * done}{_RESET}"
            bar += f"{_GREY}{'━' * (self.width - done)}{_RESET}"
        else:
            bar = self._count(current)
        if finalize or not self.target:
            info = f" {_BOLD}{elapsed:.0f}s{_RESET}"
        else:
            info = f" {_BOLD}{_format_eta(per_step * (self.target - current))}{_RESET}"
        info += f" {format_step_time(per_step, self.unit_name)}{self._metrics(values)}"
        line = bar + info
        visible = len(_ANSI.sub("", line))
        pad = " " * max(0, self._prev_width - visible)
        self._prev_width = visible
        self._write("\r" + line + pad + ("\n" if finalize else ""))

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
