# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build hooks: ship the collection itself inside the Python package.

``pip install .`` must make ``ansible-playbook kaizen.hybrid.site`` work with no
Galaxy. ansible-core scans ``sys.path`` for ``ansible_collections`` packages
(``ANSIBLE_COLLECTIONS_SCAN_SYS_PATH``, on by default), so the wheel carries
``ansible_collections/kaizen/hybrid/`` next to ``kaizen_hybrid/``: the same
files ``ansible-galaxy collection build`` would put in the Galaxy artifact
(``galaxy.yml``'s ``build_ignore`` applies, so ``src/`` and ``pyproject.toml``
stay out), with the ``MANIFEST.json`` and ``FILES.json`` Galaxy writes.

setuptools loads this module by file path (``[tool.setuptools.cmdclass]``),
without importing the package; it needs only the standard library, setuptools
and PyYAML (``[build-system] requires``).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

from setuptools.command.build_py import build_py as _build_py
from setuptools.command.sdist import sdist as _sdist

NAMESPACE = "kaizen"
NAME = "hybrid"
# Where the collection goes inside the wheel (relative to site-packages).
WHEEL_PREFIX = Path("ansible_collections") / NAMESPACE / NAME

# What ansible-galaxy always leaves out (ansible.galaxy.collection
# _build_files_manifest_walk), before galaxy.yml's build_ignore.
_ALWAYS_IGNORED = [
    "MANIFEST.json",
    "FILES.json",
    "galaxy.yml",
    "galaxy.yaml",
    ".git",
    "*.pyc",
    "*.retry",
    "tests/output",
]
# What an sdist adds at its root; never part of the collection.
_SDIST_METADATA = ["PKG-INFO", "setup.cfg", "*.egg-info"]
_IGNORED_DIR_NAMES = frozenset(["CVS", ".bzr", ".hg", ".git", ".svn", "__pycache__", ".tox"])
_MANIFEST_FORMAT = 1


def project_root() -> Path:
    """The source tree this module belongs to (``src/kaizen_hybrid/_build.py``)."""
    return Path(__file__).resolve().parents[2]


def read_galaxy(root: Path) -> dict[str, Any]:
    import yaml  # a build requirement; imported late so the module loads without it

    path = root / "galaxy.yml"
    if not path.is_file():
        raise RuntimeError(
            "%s not found: the kaizen-hybrid package is built from a checkout of the kaizen.hybrid "
            "collection (or an sdist made from one)" % path
        )
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("namespace") != NAMESPACE or data.get("name") != NAME:
        raise RuntimeError("%s does not describe the %s.%s collection" % (path, NAMESPACE, NAME))
    return data


def collection_files(root: Path, galaxy: dict[str, Any]) -> list[tuple[str, str]]:
    """(relative path, 'dir' or 'file') for what the Galaxy artifact holds, in walk order."""
    patterns = _ALWAYS_IGNORED + ["%s-%s-*.tar.gz" % (NAMESPACE, NAME)] + _SDIST_METADATA + list(galaxy.get("build_ignore") or [])
    entries: list[tuple[str, str]] = []

    def ignored(rel: str) -> bool:
        return any(fnmatch.fnmatch(rel, pattern) for pattern in patterns)

    def walk(directory: Path, rel_base: str) -> None:
        for item in sorted(os.listdir(directory)):
            path = directory / item
            rel = os.path.join(rel_base, item) if rel_base else item
            if path.is_dir():
                if item in _IGNORED_DIR_NAMES or ignored(rel):
                    continue
                if path.is_symlink():
                    # Galaxy keeps links that stay inside the collection as links; a
                    # wheel cannot hold links, and none are needed: leave them out.
                    continue
                entries.append((rel, "dir"))
                walk(path, rel)
            elif not ignored(rel):
                if path.is_symlink() and not path.resolve().is_relative_to(root.resolve()):
                    continue
                entries.append((rel, "file"))

    walk(root, "")
    return entries


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(65536), b""):
            digest.update(block)
    return digest.hexdigest()


def _entry(name: str, ftype: str, chksum: str | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "ftype": ftype,
        "chksum_type": "sha256" if chksum else None,
        "chksum_sha256": chksum,
        "format": _MANIFEST_FORMAT,
    }


def stage_collection(root: Path, dest: Path) -> list[str]:
    """Copy the collection from ``root`` to ``dest`` with MANIFEST.json and FILES.json.

    Returns the relative paths of the files written. ``dest`` is replaced.
    """
    galaxy = read_galaxy(root)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    files = [_entry(".", "dir")]
    written = []
    for rel, ftype in collection_files(root, galaxy):
        if ftype == "dir":
            (dest / rel).mkdir(exist_ok=True)
            files.append(_entry(rel, "dir"))
        else:
            shutil.copyfile(root / rel, dest / rel)
            files.append(_entry(rel, "file", _sha256(dest / rel)))
            written.append(rel)
    files_json = json.dumps({"files": files, "format": _MANIFEST_FORMAT}, indent=True).encode("utf-8")
    manifest = {
        "collection_info": {
            "namespace": galaxy["namespace"],
            "name": galaxy["name"],
            "version": str(galaxy["version"]),
            "authors": galaxy.get("authors") or [],
            "readme": galaxy.get("readme"),
            "tags": galaxy.get("tags") or [],
            "description": galaxy.get("description"),
            "license": galaxy.get("license") or [],
            "license_file": galaxy.get("license_file") or None,
            "dependencies": galaxy.get("dependencies") or {},
            "repository": galaxy.get("repository"),
            "documentation": galaxy.get("documentation"),
            "homepage": galaxy.get("homepage"),
            "issues": galaxy.get("issues"),
        },
        "file_manifest_file": _entry("FILES.json", "file", hashlib.sha256(files_json).hexdigest()),
        "format": _MANIFEST_FORMAT,
    }
    (dest / "FILES.json").write_bytes(files_json)
    (dest / "MANIFEST.json").write_bytes(json.dumps(manifest, indent=True).encode("utf-8"))
    return written + ["FILES.json", "MANIFEST.json"]


class BuildPy(_build_py):
    """build_py that also stages the collection under ``ansible_collections/``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            # An editable install runs from the checkout; the API finds the
            # collection there (collections/ links back to the checkout).
            return
        dest = Path(self.build_lib) / WHEEL_PREFIX
        written = stage_collection(project_root(), dest)
        self.announce("staged %d collection files in %s" % (len(written), dest), level=2)


class SDist(_sdist):
    """sdist that carries the collection files, so a wheel can be built from it."""

    def make_distribution(self) -> None:
        root = project_root()
        extra = ["galaxy.yml"] + [rel for rel, ftype in collection_files(root, read_galaxy(root)) if ftype == "file"]
        known = set(self.filelist.files)
        self.filelist.files.extend(rel for rel in extra if rel not in known)
        super().make_distribution()
