# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running what an operator runs: ``kaizen-hybrid`` commands and playbooks, with their output kept."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import typing as t


class CliRun(t.NamedTuple):
    """A finished ``kaizen-hybrid ... --json`` run: exit code, the JSON events it printed, seconds."""

    returncode: int
    events: list[dict]
    elapsed: float


class PlaybookRun(t.NamedTuple):
    """A finished ``ansible-playbook`` run: exit code, its output, seconds."""

    returncode: int
    stdout: str
    stderr: str
    elapsed: float

    @property
    def text(self) -> str:
        """stdout and stderr with white space folded (messages wrap)."""
        return " ".join((self.stdout + " " + self.stderr).split())


class Runner:
    """Runs commands against one inventory from the checkout ``project``; every output goes to ``logs``."""

    def __init__(self, project: str, inventory: str, logs: str, say: t.Callable[[str], None]) -> None:
        self.project, self.inventory, self.logs, self.say = project, inventory, logs, say
        os.makedirs(logs, exist_ok=True)

    def _keep(self, name: str, stdout: str, stderr: str) -> None:
        with open(os.path.join(self.logs, "%s-%d.log" % (name, int(time.time() * 1000))), "w") as handle:
            handle.write(stdout + "\n--- stderr ---\n" + stderr)

    def cli(self, *argv: str, timeout: int = 900, inventory: str | None = None) -> CliRun:
        """``kaizen-hybrid ARGV -i INVENTORY --json`` from the checkout (the package from src/); ``inventory`` replaces
        the scenario's own for this run."""
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [os.path.join(self.project, "src")] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])))
        command = [sys.executable, "-m", "kaizen_hybrid", *argv, "-i", inventory or self.inventory, "--json", "--timeout", str(timeout)]
        self.say("running kaizen-hybrid " + " ".join(shown(argv)))
        started = time.monotonic()
        result = subprocess.run(command, cwd=self.project, env=env, capture_output=True, text=True, timeout=timeout + 60, check=False)
        elapsed = time.monotonic() - started
        self.say("kaizen-hybrid %s: exit %d in %.1f s" % (argv[0], result.returncode, elapsed))
        self._keep("cli-" + argv[0], result.stdout, result.stderr)
        return CliRun(result.returncode, parse_events(result.stdout), elapsed)

    def playbook(self, playbook: str, *extra: str, timeout: int = 900) -> PlaybookRun:
        """``ansible-playbook -i INVENTORY PROJECT/PLAYBOOK EXTRA...``"""
        argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", self.inventory,
                os.path.join(self.project, playbook), *extra]
        self.say("running ansible-playbook %s %s" % (playbook, " ".join(shown(extra))))
        started = time.monotonic()
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, env=env, cwd=self.project)
        elapsed = time.monotonic() - started
        self.say("%s: rc=%d in %.1f s" % (playbook, result.returncode, elapsed))
        self._keep(os.path.basename(playbook), result.stdout, result.stderr)
        return PlaybookRun(result.returncode, result.stdout, result.stderr, elapsed)


def shown(argv: t.Iterable[str]) -> list[str]:
    """The arguments as the log may show them: values of JSON extra vars named like a password are masked."""
    out = []
    for arg in argv:
        try:
            document = json.loads(arg)
        except ValueError:
            document = None
        if isinstance(document, dict):
            arg = json.dumps({key: "********" if "password" in key else value for key, value in document.items()})
        out.append(arg)
    return out


def parse_events(stdout: str) -> list[dict]:
    """The JSON lines of ``--json`` output."""
    events = []
    for line in stdout.splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events


def failures(events: list[dict]) -> list[dict]:
    """The failures of a CLI run (its final ``result`` line): each with ``host`` and ``message``."""
    result = next((event for event in reversed(events) if event.get("kind") == "result"), {})
    return list(result.get("failures") or [])


def failure_text(events: list[dict]) -> str:
    """The failures of a CLI run, as one line of text."""
    return " ".join(" ".join("%s: %s" % (item.get("host"), item.get("message")) for item in failures(events)).split())


def task_hosts(events: list[dict], task: str, kinds: tuple[str, ...] = ("task_changed",)) -> set[str]:
    """Hosts on which a task whose name contains ``task`` ended with one of ``kinds`` (CLI JSON events)."""
    return {event.get("host", "") for event in events if event.get("kind") in kinds and task in event.get("task", "")}


# kaizen-hybrid exits with ansible-playbook's status when a task failed on a host (a refusal, a failed check).
HOST_FAILED = 2
RECAP = re.compile(r"(?m)^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")


def recap(stdout: str) -> dict[str, dict[str, int]]:
    """The PLAY RECAP of an ansible-playbook run: host -> ok, changed, unreachable, failed."""
    return {host: {"ok": int(ok), "changed": int(changed), "unreachable": int(unreachable), "failed": int(failed)}
            for host, ok, changed, unreachable, failed in RECAP.findall(stdout)}


def changed_per_host(stdout: str) -> dict[str, int]:
    """The changed count of every host in the PLAY RECAP of an ansible-playbook run."""
    return {host: item["changed"] for host, item in recap(stdout).items()}


def wait_until(predicate: t.Callable[[], bool], seconds: float, *, interval: float = 1.0,
               clock: t.Callable[[], float] = time.monotonic, sleep: t.Callable[[float], None] = time.sleep) -> float | None:
    """Poll ``predicate`` until it holds, at most ``seconds`` (asked once more at the bound, never slept past it): the
    seconds waited, or None when it never held."""
    started = clock()
    while True:
        waited = clock() - started
        if predicate():
            return round(waited, 1)
        if waited >= seconds:
            return None
        sleep(min(interval, max(seconds - waited, 0.0)))


def converge_times(state: str) -> dict[str, float | None]:
    """``converge_seconds`` and ``reconverge_seconds`` from the notes of molecule/shared/converge-times.yml."""
    def seconds(start: str, end: str) -> float | None:
        try:
            with open(os.path.join(state, start)) as first, open(os.path.join(state, end)) as last:
                return round(float(last.read()) - float(first.read()), 1)
        except (OSError, ValueError):
            return None
    return {"converge_seconds": seconds("converge-started", "converge-ended"),
            "reconverge_seconds": seconds("reconverge-started", "reconverge-ended")}
