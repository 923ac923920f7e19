# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The molecule scenarios fit together: `make test` runs every one; each converges the whole of site.yml over SSH
as a non-root operator with sudo, with host keys checked; idempotence is in every test sequence."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted(path.parent.name for path in (ROOT / "molecule").glob("*/molecule.yml"))


def _recipe(target: str) -> str:
    makefile = (ROOT / "Makefile").read_text()
    return makefile[makefile.index("\n%s:" % target):].split("\n\n", 1)[0]


def _config(scenario: str) -> dict:
    return yaml.safe_load((ROOT / "molecule" / scenario / "molecule.yml").read_text())


def test_make_test_runs_every_scenario():
    test = _recipe("test")
    lanes = re.findall(r"--output-sync=target \\\s*([\w -]+?) \|\|", test)
    assert lanes and lanes[0].split() == ["lane-check-api", "lane-single", "lane-site-tests"]
    # The site's timed tests wait for the end marks of the other two lanes; every lane leaves one, passed or failed.
    assert "KAIZEN_SITE_QUIET_AFTER=$(LANES)/check-api.done:$(LANES)/single.done " in test
    macro = (ROOT / "Makefile").read_text().split("\nlane = ", 1)[1].split("\n\n", 1)[0]
    assert macro.index("{ $(2); } 2>&1 | tee $(LANES)/$(1).log || rc=$$?") < macro.index("touch $(LANES)/$(1).done") < macro.index("exit $$rc")
    # Each lane is a make of its own: what they share is a prerequisite, made once before any starts. The site's
    # hosts come up first, alone; then its tests, check-api and the single scenario side by side.
    for lane, first in (("lane-site-up", "venv oldest tools image"), ("lane-check-api", "oldest tools lane-site-up"),
                        ("lane-site-tests", "lane-site-up"), ("lane-single", "lane-site-up")):
        assert _recipe(lane).strip().splitlines()[0] == "%s: %s" % (lane, first)
    # The other two lanes run in the site's background: niced, their hosts a lower CPU weight.
    assert "\nBACKGROUND := KAIZEN_LAB_CPU_SHARES=128 nice -n 10\n" in (ROOT / "Makefile").read_text()
    assert "$(call lane,check-api,$(BACKGROUND) $(MAKE) --no-print-directory check-api)" in _recipe("lane-check-api")
    assert "$(call lane,single,$(BACKGROUND) $(MAKE) --no-print-directory single)" in _recipe("lane-single")
    assert "$(call lane,site-up,$(MAKE) --no-print-directory site-up)" in _recipe("lane-site-up")
    assert "$(call lane,site-tests,$(MAKE) --no-print-directory site-tests)" in _recipe("lane-site-tests")
    assert _recipe("check-api").strip().startswith("check-api: check") and "$(MAKE) --no-print-directory api" in _recipe("check-api")
    assert SCENARIOS == ["single", "site"] and "molecule test -s single" in _recipe("single")
    # The site's two halves are molecule's whole test sequence for it.
    steps = re.findall(r"molecule ([\w-]+) -s site", _recipe("site-up") + _recipe("site-tests"))
    assert steps == ["destroy", "syntax", "create", "prepare", "converge", "idempotence", "side-effect", "verify", "destroy"]


def test_the_scenarios_converge_site_yml_whole():
    converge = yaml.safe_load((ROOT / "molecule" / "shared" / "converge.yml").read_text())
    imports = [Path(play["ansible.builtin.import_playbook"]).name for play in converge if "ansible.builtin.import_playbook" in play]
    assert imports == ["converge-times.yml", "site.yml", "converge-times.yml"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_each_scenario_reaches_its_hosts_over_ssh_as_an_operator_with_sudo(scenario):
    config = _config(scenario)
    assert config["provisioner"]["playbooks"]["converge"] == "../shared/converge.yml"
    assert config["ansible"]["cfg"]["defaults"]["host_key_checking"] is True
    hosts = config["provisioner"]["inventory"]["host_vars"]
    assert sorted(hosts) == sorted(platform["name"] for platform in config["platforms"])
    assert {host["ansible_connection"] for host in hosts.values()} == {"ssh"}
    assert all(host["ansible_host"] == host["kaizen_address"] for host in hosts.values())
    common = config["provisioner"]["inventory"]["group_vars"]["all"]
    assert common["ansible_user"] not in ("root", "") and common["ansible_become"] is True
    assert "StrictHostKeyChecking=yes" in common["ansible_ssh_common_args"] and "UserKnownHostsFile=" in common["ansible_ssh_common_args"]
    sequence = config.get("scenario", {}).get("test_sequence", [])
    assert sequence.index("converge") < sequence.index("idempotence") < sequence.index("side_effect") < sequence.index("verify")


def test_the_site_scenario_has_every_group_and_the_single_one_host_in_all():
    groups = {group for platform in _config("site")["platforms"] for group in platform["groups"]}
    assert {"loadbalancers", "app", "postgres", "redis", "monitoring", "backup"} <= groups
    assert len(_config("site")["platforms"]) <= 5
    single = _config("single")["platforms"]
    assert len(single) == 1 and {"loadbalancers", "app", "postgres", "redis", "monitoring", "backup"} <= set(single[0]["groups"])


def test_the_single_scenario_moves_every_published_port_and_both_reach_the_site_by_a_public_name():
    from ansible_collections.kaizen.hybrid.plugins.module_utils.topology import PORT_DEFAULTS

    single = _config("single")["provisioner"]["inventory"]["group_vars"]["all"]
    moved = {name: single.get(name) for name in PORT_DEFAULTS}
    assert all(isinstance(port, int) and port != PORT_DEFAULTS[name] for name, port in moved.items()), moved
    # One host: no two ports collide (the app's instances take app_port_base and the next few; its container port is inside).
    host_ports = [port for name, port in moved.items() if name not in ("app_container_port", "app_port_base")]
    app_ports = range(moved["app_port_base"], moved["app_port_base"] + 4)
    assert len(set(host_ports)) == len(host_ports) and not set(host_ports) & set(app_ports), moved
    # Nor with the port verify's TLS probe server takes on the host.
    probe = yaml.safe_load((ROOT / "molecule" / "shared" / "tasks" / "verify-tls.yml").read_text())[0]["ansible.builtin.set_fact"]["molecule_port"]
    assert probe not in host_ports, probe
    for scenario in SCENARIOS:
        names = _config(scenario)["provisioner"]["inventory"]["group_vars"]["all"]["loadbalancer_server_names"]
        assert names and "_" not in names
