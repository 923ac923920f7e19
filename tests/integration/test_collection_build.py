# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Galaxy artifact: built, installed offline, used by name.

As a user without this checkout would: build the tarball, install it with
`ansible-galaxy collection install --offline` into an empty path, then
syntax-check `kaizen.hybrid.site` from a directory with no ansible.cfg.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run(args, cwd, env=None):
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def artifact(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    result = _run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(out), str(ROOT)], cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    tarballs = list(out.glob("kaizen-hybrid-*.tar.gz"))
    assert len(tarballs) == 1, tarballs
    return tarballs[0]


def test_artifact_holds_the_collection_and_nothing_else(artifact: Path):
    with tarfile.open(artifact) as tar:
        names = tar.getnames()
    tops = {n.split("/", 1)[0] for n in names}
    for wanted in ("roles", "playbooks", "plugins", "meta", "docs", "README.md"):
        assert wanted in tops, f"{wanted} missing from the artifact: {sorted(tops)}"
    for unwanted in ("lab", "molecule", "tests", ".venv", ".ci", "collections", "src", "build", ".results"):
        assert unwanted not in tops, f"{unwanted} must not be in the artifact"
    assert not any(n.startswith("inventories/lab") for n in names), "the lab inventory must not be shipped"
    assert not any("__pycache__" in n for n in names)


def test_installed_artifact_runs_by_name(artifact: Path, tmp_path: Path):
    dest = tmp_path / "collections"
    env = dict(os.environ)
    result = _run([str(BIN / "ansible-galaxy"), "collection", "install", "--offline", "--force", "-p", str(dest), str(artifact)],
                  cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (dest / "ansible_collections" / "kaizen" / "hybrid" / "MANIFEST.json").exists()

    # No repository ansible.cfg, no playbook-adjacent collections, the
    # installed path first (--force above: the API's wheel may have put a
    # copy into site-packages, which ansible-galaxy counts as installed).
    env.pop("ANSIBLE_CONFIG", None)
    # The dependencies (community.crypto, ...) come from the `ansible`
    # package in site-packages, as for a pip-installed Ansible.
    env["ANSIBLE_COLLECTIONS_PATH"] = str(dest)
    result = _run([str(BIN / "ansible-playbook"), "kaizen.hybrid.site", "--syntax-check",
                   "-i", str(ROOT / "inventories" / "prod")], cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    # ... and it is the installed copy that ran, not this checkout.
    installed = dest / "ansible_collections" / "kaizen" / "hybrid" / "playbooks" / "site.yml"
    assert f"playbook: {installed}" in result.stdout, result.stdout
