# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks, figures and goals of a scenario run, and the results files they go to.

A check passes or fails with one sentence. A goal is a figure compared with its limit: the figure is
written first, then the comparison is a check, so a missed goal fails the run and its figure is still
in the results. A figure that could not be measured (None) misses its goal.
"""

from __future__ import annotations

import json
import os
import time
import typing as t


def log(message: str) -> None:
    print("[scenario %s] %s" % (time.strftime("%H:%M:%S"), message), flush=True)


class Report:
    """What one tier's tests found: ``figures`` (name -> value), ``goals``, passed and failed checks."""

    def __init__(self, tier: str, say: t.Callable[[str], None] = log) -> None:
        self.tier = tier
        self.say = say
        self.figures: dict[str, t.Any] = {}
        self.goals: dict[str, dict[str, t.Any]] = {}
        self.passed: list[str] = []
        self.failed: list[str] = []

    def check(self, ok: bool, what: str) -> bool:
        (self.passed if ok else self.failed).append(what)
        self.say("%s %s: %s" % ("ok" if ok else "FAILED", self.tier, what))
        return ok

    def figure(self, name: str, value: t.Any) -> t.Any:
        self.figures[name] = value
        return value

    def goal(self, name: str, value: float | None, limit: float, what: str, at_least: bool = False) -> bool:
        """Record ``value`` as figure ``name``, then check it against ``limit`` (at most, or ``at_least``)."""
        self.figure(name, value)
        rule = ">=" if at_least else "<="
        met = value is not None and (value >= limit if at_least else value <= limit)
        self.goals[name] = {"value": value, "rule": rule, "limit": limit, "met": met}
        return self.check(met, "%s: %s = %s (goal %s %s)" % (what, name, value, rule, limit))

    def document(self) -> dict[str, t.Any]:
        document = dict(self.figures)
        document.update(goals=self.goals, checks_passed=len(self.passed), checks_failed=self.failed)
        return document


def save(path: str, document: t.Mapping[str, t.Any], say: t.Callable[[str], None] = log) -> None:
    """``document`` as sorted JSON in ``path`` (written whole: nothing of an earlier run stays)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as handle:
        json.dump(document, handle, indent=2, sort_keys=True, default=str)
        handle.write("\n")
    say("results in %s" % path)
