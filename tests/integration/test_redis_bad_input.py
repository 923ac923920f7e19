# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input to the Redis tier fails with a clear message before any host is touched.

Real ansible-playbook runs of playbooks/redis.yml (the role alone, as an
operator runs a tier) and playbooks/preflight.yml (site.yml's first play)
against inventories whose hosts are in 192.0.2.0/24 (documentation range) and
are never contacted: every case must fail in checks that run on the
controller, so the recap shows no change and no unreachable host.
The same runs against live hosts are in molecule/redis/side_effect.yml.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
REDIS = REPO / "playbooks" / "redis.yml"
PREFLIGHT = REPO / "playbooks" / "preflight.yml"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"

SECRETS = {
    "pki_ca_passphrase": "not-a-real-passphrase",
    "redis_admin_password": "not-a-real-password-1",
    "redis_app_password": "not-a-real-password-2",
    "redis_replication_password": "not-a-real-password-3",
    "redis_sentinel_password": "not-a-real-password-4",
    "redis_monitoring_password": "not-a-real-password-5",
}


def write_inventory(tmp_path: Path, **group_vars) -> Path:
    inventory = {
        "all": {
            "vars": dict(dict(SECRETS, ansible_connection="ssh", ansible_user="nobody", redis_sentinel_quorum=2), **group_vars),
            "children": {
                "redis": {
                    "children": {"redis_primary": {"hosts": {"redis1": {"kaizen_address": "192.0.2.41"}}}},
                    "hosts": {"redis2": {"kaizen_address": "192.0.2.42"}, "redis3": {"kaizen_address": "192.0.2.43"}},
                },
            },
        },
    }
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump(inventory, sort_keys=False))
    return path


def run(inventory: Path, playbook: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_TIMEOUT": "3",  # should a host ever be contacted, fail fast (and show as unreachable)
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_HOST_KEY_CHECKING": "0",
    })
    env.pop("ANSIBLE_FORCE_COLOR", None)
    return subprocess.run([str(ANSIBLE_PLAYBOOK), "-i", str(inventory), str(playbook)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def text_of(result: subprocess.CompletedProcess) -> str:
    return " ".join((result.stdout + "\n" + result.stderr).split())


def recap(result: subprocess.CompletedProcess) -> dict[str, dict[str, int]]:
    found = re.findall(r"(?m)^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", result.stdout)
    return {host: {"changed": int(changed), "unreachable": int(unreachable), "failed": int(failed)}
            for host, _ok, changed, unreachable, failed in found}


def describe(result: subprocess.CompletedProcess) -> str:
    return "rc=%d\nSTDOUT:\n%s\nSTDERR:\n%s" % (result.returncode, result.stdout, result.stderr)


CASES = {
    "quorum_larger_than_the_sentinels": (
        {"redis_sentinel_quorum": 4},
        ["redis_sentinel_quorum is 4 but 3 Sentinel(s) run", "no failover would ever happen", "nothing was changed"],
    ),
    "missing_password": (
        {"redis_app_password": ""},
        ["redis_app_password is required", "Keep it in a vault"],
    ),
    "placeholder_password": (
        {"redis_replication_password": "CHANGE_ME-hunter2"},
        ["redis_replication_password is required", "not a CHANGE_ME placeholder"],
    ),
    "acl_rule_that_does_not_parse": (
        {"redis_app_acl_rules": ["-@all", "+gett", "+@nosuch", "~"]},
        ["ACL rules Redis would refuse; nothing was changed",
         "redis_app_acl_rules: '+gett': unknown command 'gett'",
         "redis_app_acl_rules: '+@nosuch': unknown command category 'nosuch'"],
    ),
    "acl_rule_with_a_password": (
        {"redis_monitoring_acl_rules": ["-@all", "+info", ">hunter2"]},
        ["redis_monitoring_acl_rules: '>...': passwords do not belong in ACL rules"],
    ),
}


def test_ansible_playbook_is_next_to_the_interpreter():
    assert ANSIBLE_PLAYBOOK.exists(), "run the tests with the virtualenv's python (.venv/bin/pytest)"


def test_good_input_passes_the_checks_and_then_needs_the_hosts(tmp_path):
    """The control case: with good input the role gets past its checks and tries to reach the hosts."""
    result = run(write_inventory(tmp_path), REDIS)
    assert result.returncode != 0
    assert all(host["unreachable"] == 1 for host in recap(result).values()), describe(result)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_fails_before_any_host_is_touched(case, tmp_path):
    overrides, expected = CASES[case]
    result = run(write_inventory(tmp_path, **overrides), REDIS)
    text = text_of(result)
    assert result.returncode != 0, describe(result)
    for message in expected:
        assert message in text, "%r not in output\n%s" % (message, describe(result))
    hosts = recap(result)
    assert set(hosts) == {"redis1", "redis2", "redis3"}, describe(result)
    for name, counts in hosts.items():
        assert counts == {"changed": 0, "unreachable": 0, "failed": 1}, (name, describe(result))
    assert "hunter2" not in result.stdout + result.stderr


@pytest.mark.parametrize("overrides, expected", [
    ({"redis_sentinel_quorum": 4}, "redis_sentinel_quorum is 4 but only 3 sentinels run"),
    ({"redis_app_password": ""}, "required secret redis_app_password is empty (required for hosts of group redis"),
])
def test_site_preflight_refuses_the_same(overrides, expected, tmp_path):
    result = run(write_inventory(tmp_path, **overrides), PREFLIGHT)
    assert result.returncode != 0, describe(result)
    assert expected in text_of(result), describe(result)
    assert all(counts["changed"] == 0 and counts["unreachable"] == 0 for counts in recap(result).values()), describe(result)
