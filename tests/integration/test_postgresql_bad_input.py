# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The postgresql tier refuses bad input in its preflight, before anything is installed.

Real ``ansible-playbook playbooks/postgresql.yml`` runs against throw-away inventories whose hosts
are this controller (``ansible_connection: local``), in check mode and limited to the role's
preflight tag, so that nothing on this machine could change even if a check let the input through.
The same cases against real servers (and an unknown setting name, which needs the server's
catalogue) are in the molecule scenario ``postgresql`` (side effect).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / "playbooks" / "postgresql.yml"
PASSWORDS = ("replication", "app_owner", "app_user", "readonly", "monitoring", "backup")


def inventory(tmp_path: Path, body: str, passwords: bool = True) -> Path:
    secrets = "".join("    postgresql_%s_password: not-a-real-password\n" % name for name in PASSWORDS) if passwords else ""
    path = tmp_path / "hosts.yml"
    path.write_text("all:\n  vars:\n    ansible_connection: local\n    ansible_python_interpreter: %s\n%s%s" % (
        sys.executable, secrets, textwrap.indent(textwrap.dedent(body), "  ")))
    return path


def run(inventory_path: Path, *extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0", PY_COLORS="0",
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default")
    argv = [str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(inventory_path), str(PLAYBOOK),
            "--check", "--tags", "postgresql_preflight", *extra]
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


def text_of(result: subprocess.CompletedProcess) -> str:
    return " ".join((result.stdout + result.stderr).split())


TWO_HOSTS = """\
children:
  postgres:
    hosts:
      pg1: {kaizen_address: 192.0.2.31, postgres_role: primary}
      pg2: {kaizen_address: 192.0.2.32, postgres_role: replica}
"""


def test_missing_password_is_named_and_not_shown(tmp_path):
    path = inventory(tmp_path, TWO_HOSTS)
    result = run(path, "-e", '{"postgresql_backup_password": "", "postgresql_readonly_password": "CHANGE_ME-later"}')
    text = text_of(result)
    assert result.returncode != 0, text
    assert ("required password(s) missing or still a CHANGE_ME placeholder: postgresql_readonly_password, "
            "postgresql_backup_password") in text
    assert "not-a-real-password" not in text and "CHANGE_ME-later" not in text


def test_all_passwords_missing(tmp_path):
    result = run(inventory(tmp_path, TWO_HOSTS, passwords=False))
    text = text_of(result)
    assert result.returncode != 0
    assert "postgresql_replication_password, postgresql_app_owner_password" in text


def test_replica_with_no_primary(tmp_path):
    body = """\
      children:
        postgres:
          children:
            postgres_replicas:
              hosts:
                pg1: {kaizen_address: 192.0.2.31}
                pg2: {kaizen_address: 192.0.2.32}
    """
    result = run(inventory(tmp_path, body))
    text = text_of(result)
    assert result.returncode != 0
    assert "no PostgreSQL primary; the replicas pg1 (is in group postgres_replicas), pg2 (is in group postgres_replicas)" in text
    assert "Nothing was changed" in text


def test_synchronous_count_larger_than_the_peers(tmp_path):
    result = run(inventory(tmp_path, TWO_HOSTS), "-e", '{"postgresql_synchronous": true, "postgresql_synchronous_count": 2}')
    text = text_of(result)
    assert result.returncode != 0
    assert "postgresql_synchronous_count (2: at least 1 and fewer than the 2 hosts of group postgres" in text


@pytest.mark.parametrize("extra, fragment", [
    ('{"postgresql_apt_source": "pgdg"}', "pgdg needs postgresql_pgdg_repository_url"),
    ('{"postgresql_tuning_storage": "tape"}', "value of postgresql_tuning_storage must be one of: ssd, hdd, got: tape"),
])
def test_invalid_choices(tmp_path, extra, fragment):
    result = run(inventory(tmp_path, TWO_HOSTS), "-e", extra)
    text = text_of(result)
    assert result.returncode != 0
    assert fragment in text, text[-2000:]
