# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the kaizen.hybrid collection is, and what it declares.

Two layouts are recognised, in this order:

1. **Installed**: ``pip install`` put the collection next to this package,
   ``<site-packages>/ansible_collections/kaizen/hybrid`` (with MANIFEST.json).
2. **Checkout**: this package is imported from ``<checkout>/src`` (editable
   install, or ``PYTHONPATH=src``); the collection is the checkout itself and
   ansible finds it through ``<checkout>/collections/ansible_collections/kaizen/hybrid``,
   a link back to the checkout.

Every run tells ansible-playbook which one to use (``ANSIBLE_COLLECTIONS_PATH``
starts with :attr:`Collection.search_path`), so the playbooks that run are the
ones whose argument specs were checked.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .errors import CollectionNotFound, NotACheckout

NAMESPACE = "kaizen"
NAME = "hybrid"
FQCN = "%s.%s" % (NAMESPACE, NAME)

# How far up from the working directory find_checkout looks.
_CHECKOUT_SEARCH_DEPTH = 25


@dataclass(frozen=True)
class Collection:
    """One copy of the collection.

    ``root`` holds roles/, playbooks/, ...; ``search_path`` is the directory
    that contains ``ansible_collections/kaizen/hybrid`` (what goes on
    ``ANSIBLE_COLLECTIONS_PATH``); ``checkout`` is the repository when the
    copy is a checkout.
    """

    root: Path
    search_path: Path
    checkout: Path | None = None

    @property
    def installed(self) -> bool:
        return self.checkout is None

    @property
    def version(self) -> str:
        manifest = self.root / "MANIFEST.json"
        if manifest.is_file():
            return str(json.loads(manifest.read_text(encoding="utf-8"))["collection_info"]["version"])
        galaxy = _load_yaml(self.root / "galaxy.yml")
        return str(galaxy.get("version", "")) if isinstance(galaxy, Mapping) else ""

    def playbook_path(self, name: str) -> Path:
        """The file of playbook ``kaizen.hybrid.<name>``."""
        for suffix in (".yml", ".yaml"):
            path = self.root / "playbooks" / (name + suffix)
            if path.is_file():
                return path
        return self.root / "playbooks" / (name + ".yml")

    def playbooks(self) -> list[str]:
        folder = self.root / "playbooks"
        if not folder.is_dir():
            return []
        return sorted(p.stem for p in folder.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file())

    def roles(self) -> list[str]:
        folder = self.root / "roles"
        if not folder.is_dir():
            return []
        return sorted(p.name for p in folder.iterdir() if (p / "tasks").is_dir())

    def role_specs(self) -> dict[str, dict[str, Any]]:
        """``{role: options}`` of each role's ``main`` entry point (meta/argument_specs.yml)."""
        return dict(_role_specs(str(self.root)))

    @classmethod
    def from_checkout(cls, checkout: str | os.PathLike[str]) -> "Collection":
        path = Path(checkout).resolve()
        if not _is_collection_source(path):
            raise CollectionNotFound("%s is not a checkout of the %s collection" % (path, FQCN))
        return cls(root=path, search_path=path / "collections", checkout=path)


def _load_yaml(path: Path) -> Any:
    import yaml

    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except (OSError, yaml.YAMLError):
        return None


def _is_collection_source(path: Path) -> bool:
    galaxy = _load_yaml(path / "galaxy.yml") if (path / "galaxy.yml").is_file() else None
    return (
        isinstance(galaxy, Mapping)
        and galaxy.get("namespace") == NAMESPACE
        and galaxy.get("name") == NAME
        and (path / "collections" / "ansible_collections" / NAMESPACE / NAME).is_dir()
    )


@functools.lru_cache(maxsize=8)
def _role_specs(root: str) -> Mapping[str, dict[str, Any]]:
    specs: dict[str, dict[str, Any]] = {}
    roles = Path(root) / "roles"
    if not roles.is_dir():
        return specs
    for role in sorted(roles.iterdir()):
        for name in ("argument_specs.yml", "argument_specs.yaml"):
            data = _load_yaml(role / "meta" / name)
            if isinstance(data, Mapping):
                # Every entry point's variables (a day-2 playbook passes those of its entry point), main's first.
                entries = data.get("argument_specs") or {}
                options: dict[str, Any] = {}
                for entry in ["main"] + sorted(name for name in entries if name != "main"):
                    for option, spec in ((entries.get(entry) or {}).get("options") or {}).items():
                        options.setdefault(option, spec)
                specs[role.name] = options
                break
    return specs


def locate_collection() -> Collection:
    """The collection this package runs: the installed copy, else the checkout it lives in."""
    package = Path(__file__).resolve().parent
    site = package.parent
    installed = site / "ansible_collections" / NAMESPACE / NAME
    if (installed / "MANIFEST.json").is_file():
        return Collection(root=installed, search_path=site)
    checkout = package.parent.parent
    if package.parent.name == "src" and _is_collection_source(checkout):
        return Collection.from_checkout(checkout)
    raise CollectionNotFound(
        "the %s collection was not found next to %s (install the package with `pip install .` "
        "from a checkout, or run from a checkout's src/)" % (FQCN, package)
    )


def find_checkout(start: str | os.PathLike[str] | None = None) -> Path:
    """The repository checkout containing ``start`` (default: the working directory).

    A checkout has galaxy.yml for kaizen.hybrid, the ``collections/`` link,
    ``lab/up.yml`` and ``inventories/lab``. Raises :class:`NotACheckout`.
    """
    here = Path(start if start is not None else os.getcwd()).resolve()
    candidate = here
    for _level in range(_CHECKOUT_SEARCH_DEPTH):
        if _is_collection_source(candidate) and (candidate / "lab" / "up.yml").is_file() and (
            candidate / "inventories" / "lab"
        ).is_dir():
            return candidate
        if candidate.parent == candidate:
            break
        candidate = candidate.parent
    raise NotACheckout(
        "%s is not inside a checkout of the %s repository: the lab commands drive lab/up.yml, "
        "lab/down.yml and inventories/lab from a clone (run them there, or pass --checkout PATH)" % (here, FQCN)
    )
