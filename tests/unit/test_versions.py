# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ansible-core range is stated once and tested at both ends.

meta/runtime.yml's ``requires_ansible`` is what users read; requirements.txt
installs the newest release of that range (make venv) and
tests/constraints-oldest.txt holds its lower bound (make oldest), on which
make check runs unit and sanity again.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def _bounds(spec: str) -> tuple[str, str]:
    lower = re.search(r">=\s*([0-9][0-9.]*)", spec)
    upper = re.search(r"<\s*([0-9][0-9.]*)", spec)
    assert lower and upper, "a range with a lower and an upper bound: %r" % spec
    return lower.group(1), upper.group(1)


def _requirement(path: Path, name: str) -> str:
    for line in path.read_text().splitlines():
        match = re.match(r"%s\s*([<>=!~].*)$" % re.escape(name), line.strip())
        if match:
            return match.group(1)
    raise AssertionError("%s names no %s" % (path, name))


def _claimed() -> str:
    """meta/runtime.yml's requires_ansible, the range users read."""
    return yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())["requires_ansible"]


def _release(version: str) -> tuple[int, ...]:
    parts = [int(part) for part in re.findall(r"[0-9]+", version)[:3]]
    return tuple(parts + [0] * (3 - len(parts)))


def test_requirements_and_runtime_claim_the_same_range():
    runtime = _claimed()
    pinned = _requirement(REPO / "requirements.txt", "ansible-core")
    assert [_release(v) for v in _bounds(pinned)] == [_release(v) for v in _bounds(runtime)], (pinned, runtime)


def test_the_oldest_venv_holds_the_lower_bound():
    runtime = _claimed()
    held = _requirement(REPO / "tests" / "constraints-oldest.txt", "ansible-core")
    assert held.startswith("=="), held
    assert _release(held[2:]) == _release(_bounds(runtime)[0]), (held, runtime)


def test_this_interpreter_runs_a_release_inside_the_range():
    from ansible.release import __version__

    lower, upper = _bounds(_claimed())
    assert _release(lower) <= _release(__version__) < _release(upper), __version__
