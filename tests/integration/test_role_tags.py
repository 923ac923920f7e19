# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A role's tags reach the tasks they name: ``--tags docker_preflight`` runs the docker role's checks.

Real ``ansible-playbook playbooks/docker.yml`` in check mode against this controller
(``ansible_connection: local``), limited to the preflight tag, so nothing here can change.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  vars:\n    ansible_connection: local\n    ansible_python_interpreter: %s\n"
                         "  children:\n    app:\n      hosts:\n        app1: {kaizen_address: 192.0.2.21}\n" % sys.executable)
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0", PY_COLORS="0",
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default")
    argv = [str(Path(sys.executable).with_name("ansible-playbook")), "-i", str(inventory), str(ROOT / "playbooks" / "docker.yml"),
            "--check", "--tags", "docker_preflight", *extra]
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_the_preflight_tag_runs_the_checks(tmp_path):
    good = run(tmp_path)
    assert good.returncode == 0, good.stdout[-2000:] + good.stderr[-2000:]
    assert "Check the daemon configuration" in good.stdout and "ok: [app1]" in good.stdout
    # Only the checks ran: no task of the install or the configuration.
    tasks = [line for line in good.stdout.splitlines() if line.startswith("TASK [kaizen.hybrid.docker")]
    assert len(tasks) == 3, tasks  # the argument spec and the two checks
    bad = run(tmp_path, "-e", '{"docker_install_source": "docker", "docker_repository_url": ""}')
    text = " ".join((bad.stdout + bad.stderr).split())
    assert bad.returncode != 0 and "docker_install_source=docker needs docker_repository_url" in text, text[-2000:]
