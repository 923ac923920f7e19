# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A client's operations over time, and what they say about an outage.

A :class:`Timeline` holds one sample per operation: when it ended (monotonic seconds) and whether
the server acknowledged it. The writers and load clients record into one; the scenarios read their
figures from it: when operations succeeded again after a kill (:meth:`Timeline.recovery`), and the
longest stretch without an acknowledgement in a window (:meth:`Timeline.longest_pause`), which counts
an outage still going on at the end of the window in full.
"""

from __future__ import annotations

import threading
import typing as t


class Timeline:
    """Samples ``(at, ok)`` in the order they were recorded (which is time order: one clock)."""

    def __init__(self, samples: t.Iterable[tuple[float, bool]] = ()) -> None:
        self._lock = threading.Lock()
        self._samples: list[tuple[float, bool]] = list(samples)

    def record(self, at: float, ok: bool) -> None:
        with self._lock:
            self._samples.append((at, ok))

    @property
    def samples(self) -> list[tuple[float, bool]]:
        with self._lock:
            return list(self._samples)

    def successes(self, start: float = float("-inf"), end: float = float("inf")) -> list[float]:
        """When operations were acknowledged, within [start, end]."""
        return [at for at, ok in self.samples if ok and start <= at <= end]

    def first_success_after(self, moment: float) -> float | None:
        """The first acknowledgement strictly after ``moment``."""
        return next((at for at, ok in self.samples if ok and at > moment), None)

    def recovery(self, moment: float) -> float | None:
        """When operations succeeded again after an interruption at ``moment``.

        That is the first success after the first failure that follows ``moment`` (an operation that
        was already on its way when the server died and was still acknowledged does not end the
        outage), or, when nothing failed after ``moment``, the first success after it. None when
        operations never succeeded again (an outage that did not end while the timeline ran).
        """
        failed = next((at for at, ok in self.samples if not ok and at > moment), None)
        return self.first_success_after(moment if failed is None else failed)

    def longest_pause(self, start: float, end: float) -> float:
        """The longest time within [start, end] without an acknowledgement.

        The edges count: from ``start`` to the first success, between successes, and from the last
        success to ``end``; an outage that had not ended by ``end`` counts until ``end``. No success at
        all in the window: the whole window.
        """
        if end <= start:
            return 0.0
        points = [start] + self.successes(start, end) + [end]
        return max(later - earlier for earlier, later in zip(points, points[1:]))
