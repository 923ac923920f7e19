# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the scenarios' check scripts (scenario_app.py, scenario_failover.py, scenario_monitoring.py) share.

They load it with :func:`importlib.util.spec_from_file_location` (they run as scripts, not as a package).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import typing as t


class CliRun(t.NamedTuple):
    """A finished ``kaizen-hybrid ... --json`` run: exit code, the JSON events it printed, seconds."""

    returncode: int
    events: list[dict]
    elapsed: float


def run_cli(project: str, inventory: str, logs: str, argv: t.Sequence[str], timeout: int,
            log: t.Callable[[str], None]) -> CliRun:
    """``kaizen-hybrid ARGV -i INVENTORY --json`` from the checkout (the package from src/); its output goes to LOGS."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.join(project, "src")] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])))
    command = [sys.executable, "-m", "kaizen_hybrid", *argv, "-i", inventory, "--json", "--timeout", str(timeout)]
    log("running kaizen-hybrid " + " ".join(argv))
    started = time.monotonic()
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=timeout + 60, check=False)
    elapsed = time.monotonic() - started
    events = []
    for line in result.stdout.splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    log("kaizen-hybrid %s: exit %d in %.1f s" % (argv[0], result.returncode, elapsed))
    os.makedirs(logs, exist_ok=True)
    with open(os.path.join(logs, "cli-%s-%d.log" % (argv[0], int(time.time()))), "w") as handle:
        handle.write(result.stdout + "\n--- stderr ---\n" + result.stderr)
    return CliRun(result.returncode, events, elapsed)


def failure_text(events: list[dict]) -> str:
    """The failures of a CLI run (its final ``result`` line), as one line of text."""
    result = next((event for event in reversed(events) if event.get("kind") == "result"), {})
    return " ".join(" ".join("%s: %s" % (item.get("host"), item.get("message")) for item in result.get("failures") or []).split())


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


def save_results(path: str, results: t.Mapping[str, t.Any], log: t.Callable[[str], None]) -> None:
    """The figures as sorted JSON in ``path``, and in the log."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        json.dump(results, handle, indent=2, sort_keys=True)
        handle.write("\n")
    log("results in %s:\n%s" % (path, json.dumps(results, indent=2, sort_keys=True)))
