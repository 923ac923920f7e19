# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The outcome of a run, built from the events as they stream in.

The result never depends on what a caller's event handler returns, nor on the
event files ansible-runner writes: :class:`ResultBuilder` sees every event
first. When the run ends without a play recap (cancelled, timed out, killed)
the per-host counters are tallied from the task events instead, and
``stats_complete`` is ``False``.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .events import (
    Event,
    HostStats,
    PlaybookStats,
    PlayStarted,
    TaskChanged,
    TaskFailed,
    TaskOk,
    TaskSkipped,
    TaskStarted,
    TaskUnreachable,
    _plain,
)

# The statuses ansible-runner ends a run with.
FINAL_STATUSES = ("successful", "failed", "canceled", "timeout")


@dataclass(frozen=True)
class Failure:
    """A task that failed on a host (or could not reach it), as the run ended with it."""

    host: str
    task: str
    message: str
    play: str = ""
    action: str = ""
    role: str = ""
    rc: int | None = None
    unreachable: bool = False

    def __str__(self) -> str:
        what = "unreachable" if self.unreachable else "failed"
        return "%s: task %r %s: %s" % (self.host, self.task, what, self.message)


@dataclass(frozen=True)
class RunResult:
    """What a run did.

    ``status`` is ansible-runner's: ``successful``, ``failed``, ``canceled`` or
    ``timeout``. ``rc`` is ansible-playbook's exit status (254 when the run was
    cancelled or timed out). ``stats`` holds the play recap per host,
    ``failures`` the failed and unreachable tasks that ended the run for a
    host (rescued and ignored failures are not in it), ``changed_hosts`` the
    hosts where something changed (or would change, in check mode).
    ``errors`` and ``warnings`` are ansible's own ``[ERROR]``/``[WARNING]``
    lines (a playbook that does not parse fails with no task failure).
    """

    status: str
    rc: int | None
    stats: Mapping[str, HostStats]
    failures: tuple[Failure, ...]
    changed_hosts: tuple[str, ...]
    duration: float
    playbook: str = ""
    operation: str | None = None
    ident: str = ""
    artifact_dir: Path | None = None
    check: bool = False
    stats_complete: bool = True
    plays: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    callback_errors: tuple[str, ...] = field(default=(), repr=False)

    @property
    def ok(self) -> bool:
        return self.status == "successful"

    @property
    def canceled(self) -> bool:
        return self.status == "canceled"

    @property
    def failed_hosts(self) -> tuple[str, ...]:
        return tuple(sorted({f.host for f in self.failures if f.host}))

    def to_dict(self) -> dict[str, Any]:
        data = _plain(self)
        data["ok"] = self.ok
        return data


_ANSIBLE_LINE = re.compile(r"^\s*(?:\[(ERROR|WARNING|DEPRECATION WARNING)\]|(ERROR!))\s*:?\s*(.*)$")


class ResultBuilder:
    """Accumulates events into a :class:`RunResult` (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tally: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self._stats: dict[str, HostStats] | None = None
        self._changed: set[str] = set()
        self._failures: list[Failure] = []
        self._plays: list[str] = []
        self._errors: list[str] = []
        self._warnings: list[str] = []
        self.callback_errors: list[str] = []
        self.events_seen = 0

    def feed(self, event: Event) -> None:
        with self._lock:
            self.events_seen += 1
            self._feed(event)

    def _feed(self, event: Event) -> None:
        if isinstance(event, PlayStarted):
            self._plays.append(event.play)
        elif isinstance(event, TaskStarted):
            self._tally[event.host]  # a host that started a task is in the stats
        elif isinstance(event, PlaybookStats):
            self._stats = dict(event.hosts)
        elif isinstance(event, TaskChanged):
            self._changed.add(event.host)
            self._count(event.host, "ok", "changed")
        elif isinstance(event, TaskOk):
            self._count(event.host, "ok")
        elif isinstance(event, TaskSkipped):
            self._count(event.host, "skipped")
        elif isinstance(event, TaskFailed):
            if event.ignored:
                self._count(event.host, "ignored")
            else:
                self._count(event.host, "failed")
                self._failures.append(
                    Failure(event.host, event.task, event.message, event.play, event.action, event.role, event.rc)
                )
        elif isinstance(event, TaskUnreachable):
            self._count(event.host, "unreachable")
            self._failures.append(
                Failure(event.host, event.task, event.message, event.play, event.action, event.role, unreachable=True)
            )

    def _count(self, host: str, *counters: str) -> None:
        for counter in counters:
            self._tally[host][counter] += 1

    def feed_output(self, text: str) -> None:
        """Collect ansible's ``[ERROR]`` and ``[WARNING]`` lines from event stdout."""
        if not text or ("ERROR" not in text and "WARNING" not in text):
            return
        with self._lock:
            current: list[str] | None = None
            for raw_line in text.splitlines():
                line = _strip_ansi(raw_line)
                match = _ANSIBLE_LINE.match(line)
                if match:
                    target = self._errors if (match.group(1) == "ERROR" or match.group(2)) else self._warnings
                    target.append(match.group(3).strip())
                    current = target
                elif current is not None and line.strip() and raw_line[:1].isspace():
                    # continuation lines of a multi-line error, kept short
                    if len(current[-1]) < 1000:
                        current[-1] += "\n" + line.strip()
                else:
                    current = None

    def record_callback_error(self, message: str) -> None:
        with self._lock:
            self.callback_errors.append(message)

    def build(
        self,
        *,
        status: str,
        rc: int | None,
        duration: float,
        playbook: str = "",
        operation: str | None = None,
        ident: str = "",
        artifact_dir: Path | None = None,
        check: bool = False,
    ) -> RunResult:
        with self._lock:
            if self._stats is not None:
                stats = dict(self._stats)
                complete = True
            else:
                stats = {host: HostStats(**dict(counts)) for host, counts in sorted(self._tally.items())}
                complete = False
            failures = self._final_failures(stats) if complete else list(self._failures)
            changed = set(self._changed) | {h for h, s in stats.items() if s.changed}
            return RunResult(
                status=status,
                rc=rc,
                stats=stats,
                failures=tuple(failures),
                changed_hosts=tuple(sorted(changed)),
                duration=round(duration, 3),
                playbook=playbook,
                operation=operation,
                ident=ident,
                artifact_dir=artifact_dir,
                check=check,
                stats_complete=complete,
                plays=tuple(self._plays),
                errors=tuple(_unique(self._errors)),
                warnings=tuple(_unique(self._warnings)),
                callback_errors=tuple(self.callback_errors),
            )

    def _final_failures(self, stats: Mapping[str, HostStats]) -> list[Failure]:
        """Keep, per host, only as many failures as the recap counts (the last ones).

        A failure inside a block that a ``rescue`` handled is reported as a
        failed task while it happens, but the recap counts it as rescued.
        """
        kept: list[Failure] = []
        by_host: dict[tuple[str, bool], list[Failure]] = defaultdict(list)
        for failure in self._failures:
            by_host[(failure.host, failure.unreachable)].append(failure)
        for (host, unreachable), failures in by_host.items():
            host_stats = stats.get(host)
            if host_stats is None:
                kept.extend(failures)
                continue
            limit = host_stats.unreachable if unreachable else host_stats.failed
            if limit:
                kept.extend(failures[-limit:])
        order = {id(f): i for i, f in enumerate(self._failures)}
        return sorted(kept, key=lambda f: order[id(f)])


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def _unique(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out
