# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scenarios' test driver (molecule/shared/scenario.py): every scenario names tests it has, in an order it
keeps; a misspelt selection is an error, never a run of nothing; what it parses from the CLI and playbooks."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / "molecule" / "shared"
if str(SHARED) not in sys.path:
    sys.path.insert(0, str(SHARED))

from labtest import runs  # noqa: E402 - after the path to the harness


def _driver():
    spec = importlib.util.spec_from_file_location("scenario_driver", SHARED / "scenario.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _scenario_tests(scenario: str) -> list[str]:
    plays = yaml.safe_load((ROOT / "molecule" / scenario / "side_effect.yml").read_text())
    return next(play["vars"]["molecule_site_tests"] for play in plays if "molecule_site_tests" in (play.get("vars") or {}))


SCENARIOS = sorted(path.parent.name for path in ROOT.glob("molecule/*/side_effect.yml") if "molecule_site_tests" in path.read_text())


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_scenario_names_tests_the_driver_has(scenario):
    names = _scenario_tests(scenario)
    catalogue = _driver().Scenario.catalogue(_driver().Scenario.__new__(_driver().Scenario))
    assert names and len(set(names)) == len(names)
    assert [name for name in names if name not in catalogue] == []


def test_every_test_the_driver_has_runs_in_a_scenario_in_the_drivers_order():
    catalogue = list(_driver().Scenario.catalogue(_driver().Scenario.__new__(_driver().Scenario)))
    assert sorted({name for scenario in SCENARIOS for name in _scenario_tests(scenario)}) == sorted(catalogue)
    for scenario in SCENARIOS:
        names = _scenario_tests(scenario)
        assert names == [name for name in catalogue if name in names], scenario


def test_a_selection_keeps_the_scenarios_order_and_refuses_unknown_names():
    driver = _driver()
    available = ["verify_before", "pg_failover", "pg_switchover", "verify_after"]
    assert driver.selection(available, None) == available
    assert driver.selection(available, "pg_switchover, pg_failover") == ["pg_failover", "pg_switchover"]
    with pytest.raises(ValueError, match="unknown test.*pg_falover.*this scenario has: verify_before"):
        driver.selection(available, "pg_falover")
    with pytest.raises(ValueError, match="none named"):
        driver.selection(available, " , ")


def test_a_misspelt_selection_exits_2_without_running_anything(tmp_path, capsys):
    site = {"scenario": "t", "tests": ["verify_before"], "project": str(ROOT), "inventory": str(tmp_path), "state": str(tmp_path),
            "results": str(tmp_path / "results"), "logs": str(tmp_path / "logs"), "ca": str(tmp_path / "ca.crt")}
    (tmp_path / "site.json").write_text(json.dumps(site))
    assert _driver().main(["--site", str(tmp_path / "site.json"), "--tests", "verify_befor"]) == 2
    assert "unknown test(s) verify_befor" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()
    site["tests"] = ["no_such_test"]
    (tmp_path / "site.json").write_text(json.dumps(site))
    assert _driver().main(["--site", str(tmp_path / "site.json")]) == 2


def test_failure_text_is_the_result_lines_failures():
    events = [{"kind": "task_changed", "host": "h1"},
              {"kind": "result", "failures": [{"host": "h1", "message": "Rolling update stopped\n  at h1"}, {"host": "h2", "message": "x"}]}]
    assert runs.failure_text(events) == "h1: Rolling update stopped at h1 h2: x"
    assert runs.failure_text([]) == ""
    assert runs.parse_events('{"kind": "a"}\nnot json\n{"kind": "b"}') == [{"kind": "a"}, {"kind": "b"}]


def test_the_play_recap_is_read_per_host():
    stdout = ("PLAY RECAP ****\nsite-db1                   : ok=12   changed=0    unreachable=1    failed=0    skipped=3\n"
              "site-app1 : ok=3 changed=2 unreachable=0 failed=1 skipped=0\n")
    assert runs.recap(stdout) == {"site-db1": {"ok": 12, "changed": 0, "unreachable": 1, "failed": 0},
                                  "site-app1": {"ok": 3, "changed": 2, "unreachable": 0, "failed": 1}}
    assert runs.recap("") == {}


def test_converge_times(tmp_path):
    (tmp_path / "converge-started").write_text("100.0\n")
    (tmp_path / "converge-ended").write_text("250.25\n")
    (tmp_path / "reconverge-started").write_text("300\n")
    assert runs.converge_times(str(tmp_path)) == {"converge_seconds": 150.2, "reconverge_seconds": None}


def test_task_hosts():
    events = [{"kind": "task_changed", "host": "db2", "task": "Rewind from the primary"}, {"kind": "task_ok", "host": "db3", "task": "Rewind"}]
    assert runs.task_hosts(events, "Rewind") == {"db2"}
    assert runs.task_hosts(events, "Rewind", ("task_changed", "task_ok")) == {"db2", "db3"}


def test_the_log_never_shows_a_password_passed_as_extra_vars():
    argv = ["update", "--image", "r:5000/k:2", "-e", json.dumps({"app_registry_password": "s3cret", "app_registry": "r:5000"})]
    assert "s3cret" not in " ".join(runs.shown(argv)) and "r:5000" in runs.shown(argv)[-1]
    assert runs.shown(["-e", "postgres_role=replica"]) == ["-e", "postgres_role=replica"]
