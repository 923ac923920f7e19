# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How ``kaizen-hybrid`` shows a run: live progress, the summary, JSON lines.

:class:`Output` is where a command reports (rich on a terminal, plain lines
otherwise, or JSON lines with ``--json``); :class:`ProgressView` follows the
events of one run; :func:`summary_table` renders a :class:`RunResult`;
:func:`follow` starts a run with the progress view, waits for it and cancels
it cleanly on Ctrl-C.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Mapping

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from .events import (
    Event,
    PlaybookStats,
    PlayStarted,
    RunStatusChanged,
    TaskChanged,
    TaskFailed,
    TaskOk,
    TaskSkipped,
    TaskStarted,
    TaskUnreachable,
)
from .exitcodes import EXIT_CANCELED
from .result import RunResult
from .runner import RunHandle

# After Ctrl-C, how long to wait for ansible-playbook to stop (seconds).
CANCEL_WAIT = 30.0


class Output:
    """Where a command reports: rich on a terminal, plain lines otherwise, or JSON lines."""

    def __init__(self, json_mode: bool) -> None:
        self.json_mode = json_mode
        self.out = Console(highlight=False, soft_wrap=False)
        if not self.out.is_terminal and "COLUMNS" not in os.environ:
            # Logs and CI: wide enough that the tables do not wrap every cell.
            self.out = Console(highlight=False, soft_wrap=False, width=140)
        self.err = Console(stderr=True, highlight=False)
        self._lock = threading.Lock()

    def json_line(self, data: Mapping[str, Any]) -> None:
        with self._lock:
            sys.stdout.write(json.dumps(data, default=str) + "\n")
            sys.stdout.flush()

    def problem(self, message: str, problems: list[str] | None = None, kind: str = "error") -> None:
        if self.json_mode:
            self.json_line({"kind": kind, "message": message, "problems": problems or [message]})
            return
        self.err.print(Text("error: ", style="bold red") + Text(message))

    def note(self, message: str) -> None:
        (self.err if self.json_mode else self.out).print(message, markup=False)


class ProgressView:
    """Follows the events of one run: current play and task, hosts done, counters."""

    def __init__(self, title: str, output: Output) -> None:
        self.title = title
        self.output = output
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.play = ""
        self.task = ""
        self.task_uuid = ""
        self.task_hosts: set[str] = set()
        self.task_done: set[str] = set()
        self.hosts: set[str] = set()
        self.counts = {"ok": 0, "changed": 0, "failed": 0, "unreachable": 0, "skipped": 0}
        self.changed_hosts: set[str] = set()
        self.failed_hosts: set[str] = set()
        self.status = "starting"
        self.live = output.out.is_terminal and not output.json_mode

    def __call__(self, event: Event) -> None:
        if self.output.json_mode:
            self.output.json_line(event.to_dict())
            return
        lines: list[Text] = []
        with self.lock:
            if isinstance(event, RunStatusChanged):
                self.status = event.status
            elif isinstance(event, PlayStarted):
                self.play = event.play
                self.task = ""
                lines.append(Text("PLAY ", style="bold") + Text(event.play))
            elif isinstance(event, TaskStarted):
                if event.task_uuid != self.task_uuid:
                    self.task_uuid = event.task_uuid
                    self.task = event.task
                    self.task_hosts = set()
                    self.task_done = set()
                    if not self.live:
                        lines.append(Text("  TASK ", style="bold") + Text(event.task))
                self.task_hosts.add(event.host)
                self.hosts.add(event.host)
            elif isinstance(event, (TaskOk, TaskChanged, TaskSkipped, TaskFailed, TaskUnreachable)):
                self.task_done.add(event.host)
                self.hosts.add(event.host)
                if isinstance(event, TaskChanged):
                    self.counts["changed"] += 1
                    self.changed_hosts.add(event.host)
                elif isinstance(event, TaskOk):
                    self.counts["ok"] += 1
                elif isinstance(event, TaskSkipped):
                    self.counts["skipped"] += 1
                elif isinstance(event, TaskFailed) and not event.ignored:
                    self.counts["failed"] += 1
                    self.failed_hosts.add(event.host)
                    lines.append(Text("  failed: ", style="bold red") + Text("%s: %s: %s" % (event.host, event.task, _first_line(event.message))))
                elif isinstance(event, TaskUnreachable):
                    self.counts["unreachable"] += 1
                    self.failed_hosts.add(event.host)
                    lines.append(Text("  unreachable: ", style="bold red") + Text("%s: %s" % (event.host, _first_line(event.message))))
            elif isinstance(event, PlaybookStats):
                self.hosts.update(event.hosts)
        for line in lines:
            self.output.out.print(line)

    def render(self) -> Table:
        with self.lock:
            grid = Table.grid(padding=(0, 1))
            grid.add_column(style="bold", no_wrap=True)
            grid.add_column(overflow="ellipsis", no_wrap=True)
            elapsed = time.monotonic() - self.started
            grid.add_row(self.title, "%s, %ds" % (self.status, elapsed))
            grid.add_row("play", self.play or "-")
            grid.add_row("task", self.task or "-")
            grid.add_row("hosts", "%d/%d done with this task, %d seen" % (len(self.task_done), len(self.task_hosts), len(self.hosts)))
            counts = Text()
            counts.append("ok %d  " % self.counts["ok"], style="green")
            counts.append("changed %d on %d hosts  " % (self.counts["changed"], len(self.changed_hosts)), style="yellow")
            counts.append("failed %d  " % self.counts["failed"], style="red" if self.counts["failed"] else "")
            counts.append("unreachable %d  " % self.counts["unreachable"], style="red" if self.counts["unreachable"] else "")
            counts.append("skipped %d" % self.counts["skipped"], style="cyan")
            grid.add_row("tasks", counts)
            return grid


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] + (" ..." if len(lines) > 1 else "") if lines else ""


def summary_table(result: RunResult, title: str = "") -> Group:
    stats = Table(title="Recap", title_justify="left", show_edge=False)
    stats.add_column("host")
    for column in ("ok", "changed", "failed", "unreachable", "skipped", "rescued", "ignored"):
        stats.add_column(column, justify="right")
    for host, s in sorted(result.stats.items()):
        style = "red" if not s.succeeded else ("yellow" if s.changed else "green")
        stats.add_row(
            Text(host, style=style), str(s.ok), str(s.changed), str(s.failed), str(s.unreachable),
            str(s.skipped), str(s.rescued), str(s.ignored),
        )
    parts: list[Any] = [stats] if result.stats else []
    if not result.stats_complete and result.stats:
        parts.append(Text("(no play recap: counts tallied from the events seen before the run stopped)", style="dim"))
    if result.failures:
        failures = Table(title="Failures", title_justify="left", show_edge=False)
        failures.add_column("host", style="red")
        failures.add_column("task")
        failures.add_column("message", overflow="fold")
        for failure in result.failures:
            failures.add_row(failure.host, failure.task, ("unreachable: " if failure.unreachable else "") + failure.message)
        parts.append(failures)
    for error in result.errors:
        parts.append(Text("ansible: ", style="bold red") + Text(error))
    style = {"successful": "bold green", "canceled": "bold yellow"}.get(result.status, "bold red")
    label = title or result.operation or Path(result.playbook).name
    line = Text("%s %s in %.1fs" % (label, result.status, result.duration), style=style)
    line.append(
        " - %d hosts, %d %s%s" % (
            len(result.stats),
            len(result.changed_hosts),
            "would change" if result.check else "changed",
            " (check mode: nothing was changed)" if result.check else "",
        ),
        style="default",
    )
    parts.append(line)
    if result.artifact_dir is not None:
        parts.append(Text("artifacts: %s" % result.artifact_dir, style="dim"))
    return Group(*parts)


def follow(start_run: Callable[[Callable[[Event], None]], RunHandle], title: str, output: Output) -> RunResult:
    """Start a run with a progress view, wait for it, cancel cleanly on Ctrl-C."""
    view = ProgressView(title, output)
    handle = start_run(view)
    live = Live(get_renderable=view.render, console=output.out, refresh_per_second=4, transient=True) if view.live else None
    if live is not None:
        live.start()
    try:
        result = _wait(handle, output)
    finally:
        if live is not None:
            live.stop()
    if output.json_mode:
        output.json_line({"kind": "result", **result.to_dict()})
    else:
        output.out.print(summary_table(result, title))
    return result


def _wait(handle: RunHandle, output: Output) -> RunResult:
    try:
        while True:
            result = handle.wait(0.25)
            if result is not None:
                return result
    except KeyboardInterrupt:
        output.err.print("cancelling the run (Ctrl-C again to stop waiting) ...")
        handle.cancel()
        try:
            result = handle.wait(CANCEL_WAIT)
        except KeyboardInterrupt:
            result = None
        if result is None:
            output.err.print("the run did not stop within %ds; it is cancelled at exit" % CANCEL_WAIT)
            raise SystemExit(EXIT_CANCELED) from None
        return result
