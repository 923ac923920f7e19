# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scenarios' check scripts load (with molecule/shared/scenario_lib.py), and what they share works."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted(path for path in (ROOT / "molecule").glob("*/scenario_*.py") if path.parent.name != "shared")


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda path: path.parent.name)
def test_each_script_loads_with_the_shared_helpers(path):
    module = _load(path)
    assert callable(module.main) and callable(module.scenario_lib.run_cli)


def test_failure_text_is_the_result_lines_failures():
    lib = _load(ROOT / "molecule" / "shared" / "scenario_lib.py")
    events = [{"kind": "task_changed", "host": "h1"},
              {"kind": "result", "failures": [{"host": "h1", "message": "Rolling update stopped\n  at h1"}, {"host": "h2", "message": "x"}]}]
    assert lib.failure_text(events) == "h1: Rolling update stopped at h1 h2: x"
    assert lib.failure_text([]) == ""


def test_converge_times_and_results(tmp_path):
    lib = _load(ROOT / "molecule" / "shared" / "scenario_lib.py")
    (tmp_path / "converge-started").write_text("100.0\n")
    (tmp_path / "converge-ended").write_text("250.25\n")
    (tmp_path / "reconverge-started").write_text("300\n")
    assert lib.converge_times(str(tmp_path)) == {"converge_seconds": 150.2, "reconverge_seconds": None}
    logged = []
    lib.save_results(str(tmp_path / "out" / "r.json"), {"b": 1, "a": 2}, logged.append)
    assert json.loads((tmp_path / "out" / "r.json").read_text()) == {"a": 2, "b": 1} and "r.json" in logged[0]
