# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/preflight.yml against fixture inventories, through real ansible-playbook runs.

Fixture hosts use addresses from 192.0.2.0/24 (documentation range) and are never
contacted: every preflight task runs once, on the controller.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PREFLIGHT = REPO / "playbooks" / "preflight.yml"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "preflight"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"


def run_playbook(inventory: Path | list[Path], playbook: Path = PREFLIGHT, *args: str) -> subprocess.CompletedProcess:
    inventories = inventory if isinstance(inventory, list) else [inventory]
    command = [str(ANSIBLE_PLAYBOOK)]
    for source in inventories:
        command += ["-i", str(source)]
    command += [str(playbook), *args]
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_TIMEOUT": "3",  # should a host ever be contacted, fail fast instead of hanging
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
    })
    env.pop("ANSIBLE_FORCE_COLOR", None)
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)


def output_of(result: subprocess.CompletedProcess) -> str:
    """stdout and stderr with whitespace collapsed (the callback may wrap long lines)."""
    return " ".join((result.stdout + "\n" + result.stderr).split())


def recap_lines(result: subprocess.CompletedProcess) -> list[str]:
    """The host lines of the PLAY RECAP."""
    recap = result.stdout.split("PLAY RECAP", 1)
    assert len(recap) == 2, result.stdout
    lines = []
    for line in recap[1].splitlines()[1:]:
        if re.match(r"^(\S+)\s+:\s+ok=", line):
            lines.append(line)
        elif lines and not line.strip():
            break
    return lines


def assert_no_host_touched(result: subprocess.CompletedProcess) -> None:
    """Only preflight tasks ran, nothing changed, no host was contacted (it would be unreachable)."""
    tasks = re.findall(r"^TASK \[(.*?)\]", result.stdout, flags=re.M)
    # The tiers' plays include their roles' preflight.yml (checks only).
    assert tasks and all(task.startswith("Preflight |")
                         or re.match(r"kaizen\.hybrid\.(app|loadbalancer|exporters|prometheus|alertmanager|grafana) : (Check |Load )", task)
                         for task in tasks), describe(result)
    for line in recap_lines(result):
        assert " changed=0 " in line and " unreachable=0 " in line, describe(result)


def describe(result: subprocess.CompletedProcess) -> str:
    return "rc=%d\nSTDOUT:\n%s\nSTDERR:\n%s" % (result.returncode, result.stdout, result.stderr)


def test_ansible_playbook_is_next_to_the_interpreter():
    assert ANSIBLE_PLAYBOOK.exists(), "run the tests with the virtualenv's python (.venv/bin/pytest)"


@pytest.mark.parametrize("case", ["good", "single_instance"])
def test_valid_inventory_passes_and_changes_nothing(case):
    result = run_playbook(FIXTURES / case)
    assert result.returncode == 0, describe(result)
    assert_no_host_touched(result)
    assert "changed=0" in result.stdout
    assert "failed=0" in result.stdout


def test_summary_shows_the_topology():
    result = run_playbook(FIXTURES / "good")
    text = output_of(result)
    assert result.returncode == 0, describe(result)
    assert "PostgreSQL primary: pg1" in text
    assert "PostgreSQL replicas: pg2" in text
    assert "Redis primary: redis1" in text
    # redis_sentinel_quorum comes from group_vars/all.yml: group_vars are visible to preflight
    assert "Redis Sentinels: redis1, redis2, redis3 (quorum 2)" in text


@pytest.mark.parametrize("extra, expected", [
    (["-e", "app_secret_key="], "app1: 1 problem(s); nothing was changed: - app_secret_key is required"),
    (["-e", '{"app_image": "registry.example.com:5000/Kaizen/App:1"}'],
     "app_image: 'registry.example.com:5000/Kaizen/App:1' is not a valid image reference (repository names are lowercase)"),
    (["-e", "app_image=kaizen:"], "app_image: 'kaizen:' is not a valid image reference"),
    (["-e", '{"loadbalancer_rate_limit_per_minute": 0}'],
     "lb1: 1 problem(s); nothing was changed: - loadbalancer_rate_limit_per_minute must be a positive integer"),
    (["-e", "loadbalancer_rate_limit_per_minute=lots"],
     "loadbalancer_rate_limit_per_minute must be a positive integer (requests per minute per client), not 'lots'"),
    (["-e", '{"alertmanager_receivers": [{"name": "oncall", "webhook": [{"send_resolved": true}]}]}'],
     "mon1: 1 problem(s); nothing was changed: - alertmanager_receivers[0] (oncall): webhook 1 has no url"),
    (["-e", "prometheus_retention_time=15days"],
     "prometheus_retention_time: '15days' is not a Prometheus duration"),
    (["-e", '{"grafana_dashboards_extra": ["%s"]}' % (FIXTURES / "bad-dashboard.json")],
     "bad-dashboard.json: invalid JSON at line 4, column 3: Expecting ',' delimiter"),
])
def test_bad_tier_settings_fail_before_any_host(extra, expected):
    result = run_playbook(FIXTURES / "good", PREFLIGHT, *extra)
    assert result.returncode != 0, describe(result)
    assert expected in output_of(result), describe(result)
    assert_no_host_touched(result)


BAD_CASES = {
    "two_primaries": [
        "pg1: is in group postgres_primary but pg2 is also primary (pg2 has postgres_role 'primary'; "
        "exactly one PostgreSQL primary allowed",
    ],
    "replicas_without_primary": [
        "postgres: no PostgreSQL primary; the replicas pg1 (postgres_role is 'replica'), pg2 (is replica by default)",
        "Set postgres_role: primary on exactly one host of group postgres",
    ],
    "host_without_address": [
        "app2: no address; set kaizen_address (or ansible_host) to an IP address",
    ],
    "sentinel_quorum_too_large": [
        "redis1, redis2, redis3: redis_sentinel_quorum is 4 but only 3 sentinels run (redis1, redis2, redis3)",
    ],
    "sentinel_quorum_no_failover": [
        "redis1: Redis Sentinel cannot fail over when the Redis primary's host redis1 is lost",
        "only 1 of the 2 sentinels (redis2) run on other hosts",
        "a majority of all sentinels (2) must authorise the failover",
        "redis_sentinel_quorum",
    ],
    "malformed_cidr": [
        "lb1: kaizen_admin_cidrs contains '10.0.0.0/33', which is not a CIDR or an IP address",
    ],
    "missing_secret": [
        "app1: required secret pki_ca_passphrase still holds the CHANGE_ME... placeholder",
    ],
    "patroni_without_quorum": [
        "etcd: 2 member(s) (pg1, pg2, from the PostgreSQL hosts and the first other site hosts)",
        "set postgresql_ha_mode: manual",
    ],
    "patroni_without_api_password": [
        "postgresql_patroni_api_password",
    ],
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_inventory_fails_naming_host_and_variable(case):
    result = run_playbook(FIXTURES / case)
    text = output_of(result)
    assert result.returncode != 0, describe(result)
    assert "topology problem(s) in the inventory; nothing was changed" in text
    for expected in BAD_CASES[case]:
        assert expected in text, "%r not in output\n%s" % (expected, describe(result))
    assert_no_host_touched(result)


def test_every_problem_is_reported_at_once():
    result = run_playbook(FIXTURES / "many_problems")
    text = output_of(result)
    assert result.returncode != 0, describe(result)
    assert "5 topology problem(s) in the inventory" in text, describe(result)
    for expected in [
        "pg2: postgres_role is 'primary' but pg1 is also primary",
        "redis1, redis2, redis3: redis_sentinel_quorum is 5 but only 3 sentinels run",
        "app1: no address",
        "lb1, app1, pg1, pg2, redis1, redis2, redis3, mon1: kaizen_client_cidrs contains 'everyone'",
        "mon1: required secret pki_ca_passphrase is not defined",
    ]:
        assert expected in text, "%r not in output\n%s" % (expected, describe(result))


def test_secret_values_are_never_shown(tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(textwrap.dedent("""\
        all:
          hosts:
            app1: {ansible_host: 192.0.2.11, pki_ca_passphrase: CHANGE_ME_hunter2}
          children:
            app: {hosts: {app1: }}
        """))
    result = run_playbook(inventory)
    assert result.returncode != 0
    assert "hunter2" not in result.stdout + result.stderr


def test_extra_required_secrets(tmp_path):
    result = run_playbook(FIXTURES / "good", PREFLIGHT, "-e", '{"kaizen_preflight_extra_required_secrets": {"postgres": ["postgres_password"]}}')
    text = output_of(result)
    assert result.returncode != 0, describe(result)
    assert "pg1, pg2: required secret postgres_password is not defined (required for hosts of group postgres" in text
    # the collection's own table still applies, and is satisfied
    assert "pki_ca_passphrase" not in text.split("nothing was changed", 1)[1]


def test_required_secrets_table_replaced_from_the_inventory(tmp_path):
    override = tmp_path / "override.yml"
    override.write_text(textwrap.dedent("""\
        all:
          vars:
            kaizen_preflight_required_secrets:
              app: [app_sso_client_secret]
        """))
    result = run_playbook([FIXTURES / "good", override])
    text = output_of(result)
    assert result.returncode != 0, describe(result)
    assert "app1, app2: required secret app_sso_client_secret is not defined (required for hosts of group app" in text


def test_preflight_runs_whatever_tags_are_selected():
    result = run_playbook(FIXTURES / "two_primaries", PREFLIGHT, "--tags", "postgresql")
    assert result.returncode != 0, describe(result)
    assert "pg2 is also primary" in output_of(result)


def test_check_mode():
    result = run_playbook(FIXTURES / "good", PREFLIGHT, "--check")
    assert result.returncode == 0, describe(result)


def test_nothing_runs_after_a_failed_preflight(tmp_path):
    site = tmp_path / "site.yml"
    site.write_text(textwrap.dedent("""\
        ---
        - name: Preflight
          ansible.builtin.import_playbook: {preflight}

        - name: Would touch every host
          hosts: all
          gather_facts: false
          tasks:
            - name: Reach the host
              ansible.builtin.ping:
        """).format(preflight=PREFLIGHT))
    result = run_playbook(FIXTURES / "many_problems", site)
    assert result.returncode != 0, describe(result)
    assert "Would touch every host" not in result.stdout
    assert_no_host_touched(result)


def test_preflight_runs_under_limit():
    """--limit to one host must not skip the checks of the whole topology."""
    result = run_playbook(FIXTURES / "two_primaries", PREFLIGHT, "--limit", "pg1")
    assert result.returncode != 0, describe(result)
    assert "pg2 is also primary" in output_of(result)
    assert_no_host_touched(result)
