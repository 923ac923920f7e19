# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every role's public variables are declared once, and declared the same.

defaults/main.yml and meta/argument_specs.yml must list the same keys with
the same defaults, every option needs a description and a type, and public
variables carry the role's prefix (internals live in vars/ with `__`).
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(p for p in (ROOT / "roles").iterdir() if (p / "tasks" / "main.yml").exists())


def _load(path: Path):
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def _spec(role: Path) -> dict:
    spec_file = role / "meta" / "argument_specs.yml"
    assert spec_file.exists(), f"{role.name}: meta/argument_specs.yml is missing"
    specs = _load(spec_file)["argument_specs"]
    assert "main" in specs, f"{role.name}: argument_specs has no 'main' entry point"
    return specs["main"].get("options", {})


def test_there_are_roles():
    assert ROLES, "no roles found"


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_defaults_and_spec_list_the_same_variables(role: Path):
    defaults_file = role / "defaults" / "main.yml"
    defaults = _load(defaults_file) if defaults_file.exists() else {}
    options = _spec(role)
    # Required options have no default by definition.
    optional = {name for name, opt in options.items() if not opt.get("required")}
    assert set(defaults) == optional, (
        f"{role.name}: only in defaults: {sorted(set(defaults) - optional)}; "
        f"only in the spec: {sorted(optional - set(defaults))}"
    )


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_spec_defaults_match_defaults_file(role: Path):
    defaults_file = role / "defaults" / "main.yml"
    defaults = _load(defaults_file) if defaults_file.exists() else {}
    for name, opt in _spec(role).items():
        if name in defaults and "default" in opt:
            assert opt["default"] == defaults[name], f"{role.name}: {name} default differs between spec and defaults"


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_every_option_is_typed_described_and_prefixed(role: Path):
    for name, opt in _spec(role).items():
        assert name.startswith(role.name + "_"), f"{role.name}: public variable {name} lacks the role prefix"
        assert opt.get("description"), f"{role.name}: {name} has no description"
        assert opt.get("type"), f"{role.name}: {name} has no type"


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_internal_variables_are_underscored(role: Path):
    vars_file = role / "vars" / "main.yml"
    if not vars_file.exists():
        pytest.skip("role has no vars/main.yml")
    for name in _load(vars_file):
        assert name.startswith(f"__{role.name}_"), f"{role.name}: internal variable {name} must start with __{role.name}_"


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_the_readme_names_every_variable(role: Path):
    """Every option of every entry point appears in the README (a generated table, or the role's own prose)."""
    import sys
    sys.path.insert(0, str(ROOT / "tests"))
    import role_docs  # noqa: E402 - tests/role_docs.py, also run by make role-docs

    readme = (role / "README.md").read_text(encoding="utf-8")
    missing = sorted(name for name in role_docs.options(role) if "`%s`" % name not in readme)
    assert not missing, "%s/README.md does not name %s (add them, or a generated table: make role-docs)" % (role.name, ", ".join(missing))
    pair = role_docs.rendered(role)
    assert pair is None or pair[0] == pair[1], "%s/README.md: the generated variables table is stale; run make role-docs" % role.name


# --- one shape for every role ------------------------------------------------------------------
# preflight.yml, install.yml and configure.yml (topic files are imported from them), service.yml
# where the role runs a service; main.yml imports each with the tag <role>_<step>, and every tag in
# main.yml is the role's name, one of its own, or always.
STEPS = ("preflight", "install", "configure", "service")


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_every_role_has_the_one_shape(role: Path):
    name = role.name
    tasks = _load(role / "tasks" / "main.yml")
    imported = {}
    for task in tasks:
        tags = task.get("tags") or []
        tags = [tags] if isinstance(tags, str) else tags
        assert all(tag in (name, "always") or tag.startswith(name + "_") for tag in tags), (
            "%s/tasks/main.yml: %r has tags %s outside the role's scheme (%s, %s_*, always)" % (name, task.get("name"), tags, name, name))
        for key in ("ansible.builtin.import_tasks", "ansible.builtin.include_tasks"):
            target = task.get(key)
            target = target.get("file") if isinstance(target, dict) else target
            if target:
                imported[target] = (key, tags, task)
    for step in STEPS:
        if step == "service" and not (role / "tasks" / "service.yml").exists():
            continue
        assert (step + ".yml") in imported, "%s/tasks/main.yml does not import %s.yml" % (name, step)
        key, tags, _task = imported[step + ".yml"]
        assert key == "ansible.builtin.import_tasks", "%s: %s.yml is included, so tags given on the command line miss its tasks" % (name, step)
        assert "%s_%s" % (name, step) in tags, "%s: %s.yml is not tagged %s_%s" % (name, step, name, step)
    for target, (key, _tags, task) in imported.items():
        # A static file is imported; include_tasks only where it must be dynamic, and then its tags are applied.
        if key == "ansible.builtin.include_tasks":
            assert "loop" in task and "apply" in (task[key] if isinstance(task[key], dict) else {}), (
                "%s: %s is included without a loop or without apply: import it" % (name, target))
