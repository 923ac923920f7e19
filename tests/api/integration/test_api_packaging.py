# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""As a new user would: a plain virtualenv, ``pip install <checkout>``, then the
CLI, the collection by name (no Galaxy, no ansible.cfg), and a deploy onto a
lab host with progress and the summary table.

The checkout is staged as git would clone it (tracked and untracked-but-not-
ignored files), so nothing is built inside the working tree. pip downloads
ansible and friends from the package index (its wheel cache makes later runs
faster).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from checkout import stage_checkout

ROOT = Path(__file__).resolve().parents[3]
GOOD = ROOT / "tests" / "integration" / "fixtures" / "preflight" / "good"
INSTALL_TIMEOUT = 1200


def _run(args, cwd, env, timeout=300):
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(checkout copy, venv bin dir, clean environment)."""
    base = tmp_path_factory.mktemp("newuser")
    checkout = stage_checkout(base / "kaizen.hybrid")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "VIRTUAL_ENV", "PYTHONPATH", "KAIZEN_"))}
    venv = base / "venv"
    # A plain virtualenv: nothing from the system or from the project's .venv.
    result = _run([sys.executable, "-m", "venv", venv], cwd=base, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    bindir = venv / "bin"
    env["PATH"] = "%s%s%s" % (bindir, os.pathsep, env.get("PATH", ""))
    env["KAIZEN_HYBRID_ARTIFACTS"] = str(base / "artifacts")
    result = _run([bindir / "pip", "install", "--quiet", checkout], cwd=base, env=env, timeout=INSTALL_TIMEOUT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return checkout, bindir, env, base


def _site_packages(bindir: Path) -> Path:
    found = list((bindir.parent / "lib").glob("python3*/site-packages"))
    assert len(found) == 1, found
    return found[0]


def test_cli_help(installed):
    bindir, env, base = installed[1:]
    result = _run([bindir / "kaizen-hybrid", "--help"], cwd=base, env=env)
    assert result.returncode == 0, result.stderr
    assert "deploy" in result.stdout and "lab" in result.stdout


def _galaxy_version(checkout: Path) -> str:
    match = re.search(r"^version:\s*([^\s#]+)", (checkout / "galaxy.yml").read_text(), flags=re.M)
    assert match, "galaxy.yml states no version"
    return match.group(1).strip("'\"")


def test_collection_resolves_by_name_without_galaxy(installed):
    checkout, bindir, env, base = installed
    assert not (base / "ansible.cfg").exists()
    result = _run([bindir / "ansible-playbook", "kaizen.hybrid.site", "--syntax-check", "-i", checkout / "inventories" / "prod"],
                  cwd=base, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    site = _site_packages(bindir) / "ansible_collections" / "kaizen" / "hybrid"
    assert "playbook: %s" % (site / "playbooks" / "site.yml") in result.stdout
    listed = _run([bindir / "ansible-galaxy", "collection", "list", "kaizen.hybrid"], cwd=base, env=env)
    assert listed.returncode == 0 and "kaizen.hybrid %s" % _galaxy_version(checkout) in " ".join(listed.stdout.split())
    # MANIFEST.json and FILES.json are Galaxy's: verify finds every file intact
    # (pip's byte-compiled __pycache__ directories are the only extras).
    verify = _run([bindir / "ansible-galaxy", "collection", "verify", "--offline", "kaizen.hybrid"], cwd=base, env=env)
    reported = [line.strip() for line in verify.stdout.splitlines() if line.startswith("    ")]
    assert all(line.endswith("__pycache__") for line in reported), verify.stdout


def test_wheel_holds_what_the_galaxy_artifact_holds(installed):
    checkout, bindir, env, base = installed
    out = base / "galaxy"
    result = _run([bindir / "ansible-galaxy", "collection", "build", "--output-path", out, checkout], cwd=base, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    (tarball,) = out.glob("kaizen-hybrid-*.tar.gz")
    with tarfile.open(tarball) as tar:
        galaxy = {m.name for m in tar.getmembers() if m.isfile()}
    assert not any(n.startswith(("src/", "pyproject.toml", "tests/", "lab/")) for n in galaxy)
    site = _site_packages(bindir) / "ansible_collections" / "kaizen" / "hybrid"
    wheel = {str(p.relative_to(site)) for p in site.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert wheel == galaxy


def test_installed_api_runs_the_installed_collection(installed):
    bindir, env, base = installed[1:]
    result = _run([bindir / "kaizen-hybrid", "preflight", "-i", GOOD, "--json"], cwd=base, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    final = json.loads(result.stdout.splitlines()[-1])
    assert final["status"] == "successful"
    command = json.loads((Path(final["artifact_dir"]) / "command").read_text())
    assert command["env"]["ANSIBLE_COLLECTIONS_PATH"].split(os.pathsep)[0] == str(_site_packages(bindir))


def test_cli_deploy_on_a_lab_host_shows_progress_and_the_summary(installed, lab, site_secrets, tmp_path):
    bindir, env, base = installed[1:]
    # The site of the API tests (same CA, passphrase as a vault variable): on
    # h1, already converged by them when they ran first, this is a re-run.
    inventory = tmp_path / "hosts.json"
    inventory.write_text(json.dumps(site_secrets.site_inventory(lab, "h1")))
    password_file = tmp_path / "vault-pass"
    password_file.write_text(site_secrets.vault_password + "\n")
    password_file.chmod(0o600)
    result = _run([bindir / "kaizen-hybrid", "deploy", "-i", inventory, "--vault-password-file", password_file],
                  cwd=base, env=env, timeout=900)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
    out = result.stdout
    for expected in ("PLAY Preflight | Validate the topology", "PLAY Baseline every host", "  TASK ", "Recap", "deploy successful in"):
        assert expected in out, expected
    recap = out[out.index("Recap"):]
    assert "h1" in recap
