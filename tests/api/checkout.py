# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Copy the checkout as a clone would have it (tracked files and untracked
files git does not ignore), so tests can build or change it without touching
the working tree."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def stage_checkout(dest: Path) -> Path:
    """A copy of the checkout in ``dest`` (created); returns ``dest``."""
    dest.mkdir(parents=True)
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, timeout=60, check=True,
    ).stdout.split(b"\0")
    archive = dest.parent / (dest.name + ".tar")
    with tarfile.open(archive, "w") as tar:
        for name in filter(None, files):
            path = ROOT / name.decode()
            if path.exists() or path.is_symlink():
                tar.add(path, arcname=name.decode(), recursive=False)
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="tar")
    archive.unlink()
    return dest
