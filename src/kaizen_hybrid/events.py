# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed events, parsed from ansible-runner's event dicts.

ansible-runner hands every event of a run to a callback as a dict (the
``awx_display`` callback's ``event`` and ``event_data``). :func:`parse_event`
turns the ones a caller follows into frozen dataclasses:

=====================  ==================================  ==================
event                  ansible-runner event                per host
=====================  ==================================  ==================
``PlaybookStarted``    ``playbook_on_start``               no
``PlayStarted``        ``playbook_on_play_start``          no
``TaskStarted``        ``runner_on_start``                 yes
``TaskOk``             ``runner_on_ok`` (not changed)      yes
``TaskChanged``        ``runner_on_ok`` (changed)          yes
``TaskSkipped``        ``runner_on_skipped``               yes
``TaskFailed``         ``runner_on_failed``                yes
``TaskUnreachable``    ``runner_on_unreachable``           yes
``PlaybookStats``      ``playbook_on_stats``               all hosts
``RunStatusChanged``   (ansible-runner's status handler)   no
=====================  ==================================  ==================

Other events (per-item results, retries, verbose output, ...) are not typed:
:func:`parse_event` returns ``None`` for them. Results of tasks with
``no_log: true`` arrive censored by ansible-runner and stay censored (whether
such a task changed something is read from its display line).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Mapping

# Longest failure message kept in an event (the full result is in ``result``).
MESSAGE_LIMIT = 4000


@dataclass(frozen=True, kw_only=True)
class Event:
    """Common fields of every event.

    ``counter`` orders the events of one run (ansible-runner's counter; 0 for
    status events), ``created`` is the ISO 8601 time the event was made.
    """

    kind: ClassVar[str] = "event"

    counter: int = 0
    uuid: str = ""
    created: str = ""

    def to_dict(self, include_result: bool = False) -> dict[str, Any]:
        """A JSON-serialisable dict with ``kind`` first; ``result`` only on request."""
        data: dict[str, Any] = {"kind": self.kind}
        for f in dataclasses.fields(self):
            if f.name == "result" and not include_result:
                continue
            data[f.name] = _plain(getattr(self, f.name))
        return data


@dataclass(frozen=True, kw_only=True)
class PlaybookStarted(Event):
    """ansible-playbook started a playbook file."""

    kind: ClassVar[str] = "playbook_started"
    playbook: str = ""


@dataclass(frozen=True, kw_only=True)
class PlayStarted(Event):
    """A play started; ``pattern`` is its ``hosts:`` pattern."""

    kind: ClassVar[str] = "play_started"
    play: str = ""
    pattern: str = ""
    play_uuid: str = ""


@dataclass(frozen=True, kw_only=True)
class TaskEvent(Event):
    """Fields shared by the per-host task events."""

    kind: ClassVar[str] = "task"
    host: str = ""
    task: str = ""
    play: str = ""
    action: str = ""
    role: str = ""
    task_uuid: str = ""
    task_path: str = ""


@dataclass(frozen=True, kw_only=True)
class TaskStarted(TaskEvent):
    """A task started on one host."""

    kind: ClassVar[str] = "task_started"


@dataclass(frozen=True, kw_only=True)
class _TaskResultEvent(TaskEvent):
    duration: float | None = None
    # The module's result as ansible-runner reported it (censored under no_log).
    result: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), repr=False, compare=False)


@dataclass(frozen=True, kw_only=True)
class TaskOk(_TaskResultEvent):
    """A task finished on a host without changing anything."""

    kind: ClassVar[str] = "task_ok"


@dataclass(frozen=True, kw_only=True)
class TaskChanged(_TaskResultEvent):
    """A task changed a host (in check mode: would have changed it)."""

    kind: ClassVar[str] = "task_changed"
    diff: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)


@dataclass(frozen=True, kw_only=True)
class TaskSkipped(_TaskResultEvent):
    """A task was skipped on a host (a ``when:`` was false, or check mode)."""

    kind: ClassVar[str] = "task_skipped"
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class TaskFailed(_TaskResultEvent):
    """A task failed on a host. ``ignored`` when ``ignore_errors`` let the play go on."""

    kind: ClassVar[str] = "task_failed"
    message: str = ""
    rc: int | None = None
    ignored: bool = False


@dataclass(frozen=True, kw_only=True)
class TaskUnreachable(_TaskResultEvent):
    """Ansible could not reach a host to run a task."""

    kind: ClassVar[str] = "task_unreachable"
    message: str = ""


@dataclass(frozen=True)
class HostStats:
    """The recap line of one host (ansible's ``ok`` counts changed tasks too)."""

    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0
    rescued: int = 0
    ignored: int = 0

    @property
    def succeeded(self) -> bool:
        return self.failed == 0 and self.unreachable == 0


@dataclass(frozen=True, kw_only=True)
class PlaybookStats(Event):
    """The play recap: final counters per host, sent once at the end of a run."""

    kind: ClassVar[str] = "playbook_stats"
    hosts: Mapping[str, HostStats] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, kw_only=True)
class RunStatusChanged(Event):
    """The run's status: starting, running, then successful, failed, canceled or timeout."""

    kind: ClassVar[str] = "run_status"
    status: str = ""
    ident: str = ""


def _plain(value: Any) -> Any:
    """Make a value JSON-serialisable (dataclasses, mappings, tuples)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def _task_fields(raw: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "counter": int(raw.get("counter") or 0),
        "uuid": _str(raw.get("uuid")),
        "created": _str(raw.get("created")),
        "host": _str(data.get("host")),
        "task": _str(data.get("task")),
        "play": _str(data.get("play")),
        "action": _str(data.get("resolved_action") or data.get("task_action")),
        "role": _str(data.get("role")),
        "task_uuid": _str(data.get("task_uuid")),
        "task_path": _str(data.get("task_path")),
    }


def _duration(data: Mapping[str, Any]) -> float | None:
    value = data.get("duration")
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _truncate(text: str, limit: int = MESSAGE_LIMIT) -> str:
    text = text.strip()
    marker = " ... (truncated)"
    return text if len(text) <= limit else text[: limit - len(marker)].rstrip() + marker


def _last_lines(text: Any, count: int = 5) -> str:
    lines = [line for line in _str(text).strip().splitlines() if line.strip()]
    return "\n".join(lines[-count:])


_CHANGED_LINE = re.compile(r"^\s*changed: \[", re.MULTILINE)
_GENERIC_MESSAGES = ("non-zero return code", "One or more items failed", "All items completed")


def failure_message(result: Any) -> str:
    """The human message of a failed or unreachable result.

    ``msg`` first; for commands that only say "non-zero return code", the last
    lines of stderr (else stdout); for loops, the message of each failed item;
    for module crashes without a message, the last line of the exception.
    """
    if not isinstance(result, Mapping):
        return _truncate(_str(result))
    if "censored" in result:
        return _str(result["censored"])
    msg = _str(result.get("msg") or result.get("message") or result.get("reason")).strip()
    parts = [msg] if msg else []
    if not msg or msg in _GENERIC_MESSAGES:
        items = result.get("results")
        if isinstance(items, list):
            for item in items:
                if isinstance(item, Mapping) and (item.get("failed") or item.get("unreachable")):
                    label = item.get("_ansible_item_label", item.get("item"))
                    parts.append("item %s: %s" % (_str(label), failure_message(item)))
        tail = _last_lines(result.get("stderr")) or _last_lines(result.get("stdout"))
        if tail:
            parts.append(tail)
    if not parts and result.get("exception"):
        parts.append(_last_lines(result.get("exception"), 1))
    if not parts and result.get("rc") not in (None, 0):
        parts.append("exit status %s" % result.get("rc"))
    return _truncate("\n".join(parts) or "failed (no message)")


def _rc(result: Mapping[str, Any]) -> int | None:
    value = result.get("rc")
    if isinstance(value, bool):
        return None
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _diffs(result: Mapping[str, Any]) -> tuple[Mapping[str, Any], ...]:
    diff = result.get("diff")
    if isinstance(diff, Mapping):
        return (diff,) if diff else ()
    if isinstance(diff, list):
        return tuple(d for d in diff if isinstance(d, Mapping) and d)
    return ()


def _stats(data: Mapping[str, Any]) -> dict[str, HostStats]:
    """Per-host stats from ``playbook_on_stats`` event data (``dark`` = unreachable)."""
    counters = {
        "ok": "ok",
        "changed": "changed",
        "failures": "failed",
        "dark": "unreachable",
        "skipped": "skipped",
        "rescued": "rescued",
        "ignored": "ignored",
    }
    hosts: set[str] = set()
    for key in list(counters) + ["processed"]:
        value = data.get(key)
        if isinstance(value, Mapping):
            hosts.update(str(h) for h in value)
    stats = {}
    for host in sorted(hosts):
        values = {}
        for source, target in counters.items():
            table = data.get(source)
            values[target] = int(table.get(host, 0)) if isinstance(table, Mapping) else 0
        stats[host] = HostStats(**values)
    return stats


def parse_event(raw: Mapping[str, Any]) -> Event | None:
    """The typed event for one ansible-runner event dict, or ``None`` if not followed."""
    name = raw.get("event")
    data = raw.get("event_data") or {}
    if not isinstance(data, Mapping):
        data = {}
    common = {"counter": int(raw.get("counter") or 0), "uuid": _str(raw.get("uuid")), "created": _str(raw.get("created"))}
    if name == "playbook_on_start":
        return PlaybookStarted(playbook=_str(data.get("playbook")), **common)
    if name == "playbook_on_play_start":
        return PlayStarted(
            play=_str(data.get("name") or data.get("play")),
            pattern=_str(data.get("pattern") or data.get("play_pattern")),
            play_uuid=_str(data.get("play_uuid") or data.get("uuid")),
            **common,
        )
    if name == "playbook_on_stats":
        return PlaybookStats(hosts=MappingProxyType(_stats(data)), **common)
    if name == "runner_on_start":
        return TaskStarted(**_task_fields(raw, data))
    if name not in ("runner_on_ok", "runner_on_failed", "runner_on_skipped", "runner_on_unreachable"):
        return None
    result = data.get("res")
    result = MappingProxyType(dict(result)) if isinstance(result, Mapping) else MappingProxyType({})
    fields = _task_fields(raw, data)
    fields.update(duration=_duration(data), result=result)
    if name == "runner_on_ok":
        changed = result.get("changed")
        if changed is None and "censored" in result:
            # ansible-runner replaces a no_log result by {"censored": ...},
            # "changed" included; the display line still says which it was.
            changed = bool(_CHANGED_LINE.search(_str(raw.get("stdout"))))
        if changed:
            return TaskChanged(diff=_diffs(result), **fields)
        return TaskOk(**fields)
    if name == "runner_on_skipped":
        return TaskSkipped(reason=_str(result.get("skip_reason") or result.get("false_condition")), **fields)
    if name == "runner_on_failed":
        return TaskFailed(message=failure_message(result), rc=_rc(result), ignored=bool(data.get("ignore_errors")), **fields)
    return TaskUnreachable(message=failure_message(result), **fields)
