# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The molecule scenarios fit together: every one runs in `make molecule`, the monitoring scenario
shares the app scenario's hosts, and the app scenario converges every tier of site.yml but monitoring."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _imports(playbook: Path) -> list[str]:
    return [Path(play["ansible.builtin.import_playbook"]).name
            for play in yaml.safe_load(playbook.read_text()) if "ansible.builtin.import_playbook" in play]


def test_make_molecule_runs_every_scenario():
    scenarios = sorted(path.parent.name for path in (ROOT / "molecule").glob("*/molecule.yml"))
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile[makefile.index("\nmolecule:"):].split("\n\n", 1)[0]
    run = sorted(set(re.findall(r"molecule (?:test|converge|idempotence|verify) -s (\w+)", recipe)))
    assert run == scenarios


def test_the_monitoring_scenario_runs_on_the_app_scenarios_hosts():
    link = ROOT / "molecule" / "monitoring" / "molecule.yml"
    assert link.is_symlink() and link.resolve() == (ROOT / "molecule" / "app" / "molecule.yml").resolve()
    config = yaml.safe_load(link.read_text())
    assert "name" not in (config.get("scenario") or {}), "a scenario name would make both scenarios one"


def test_the_app_scenario_converges_site_yml_but_monitoring():
    site = _imports(ROOT / "playbooks" / "site.yml")
    app = [name for name in _imports(ROOT / "molecule" / "app" / "converge.yml") if name != "converge-times.yml"]
    assert site[-1] == "monitoring.yml" and app == site[:-1]
    monitoring = [name for name in _imports(ROOT / "molecule" / "monitoring" / "converge.yml") if name != "converge-times.yml"]
    assert monitoring == ["preflight.yml", "monitoring.yml"]
