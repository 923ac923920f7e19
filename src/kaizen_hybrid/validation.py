# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check every input of a run before anything starts.

:func:`build_request` turns the keyword arguments of ``run_playbook`` into a
:class:`RunRequest` or raises :class:`~kaizen_hybrid.errors.ValidationError`
listing every problem at once. Extra variables (and secret variables) named
after a role of the collection (``common_*``, ``pki_*``, ...) are checked
against that role's ``meta/argument_specs.yml``: an unknown name is a typo,
a value of the wrong type or outside ``choices`` is refused. Values that are
Jinja templates are left to Ansible. Messages never include a secret value.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from .collection import FQCN, Collection
from .errors import ValidationError

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_GROUP_KEYS = frozenset(["hosts", "children", "vars"])
_TAG = re.compile(r"^[^\s,]+$")
# Variables Ansible sets itself; passing them as extra vars breaks plays.
_MAGIC_VARIABLES = frozenset(
    [
        "hostvars",
        "groups",
        "group_names",
        "inventory_hostname",
        "inventory_hostname_short",
        "inventory_dir",
        "inventory_file",
        "playbook_dir",
        "play_hosts",
        "ansible_play_hosts",
        "ansible_play_batch",
        "role_name",
        "role_path",
        "omit",
        "ansible_check_mode",
        "ansible_diff_mode",
        "ansible_version",
        "ansible_facts",
    ]
)
# Keys of an argument spec option the check uses; the rest is documentation.
_SPEC_KEYS = ("type", "elements", "choices", "aliases", "no_log")
MAX_FORKS = 1000
MAX_VERBOSITY = 6

EventHandler = Callable[[Any], Any]
PasswordSource = Callable[[], "str | bytes"]


# The vault id under which the runner encrypts secret_vars for one run.
RUN_VAULT_ID = "kaizen_run"


def default_artifacts_dir() -> Path:
    """``$KAIZEN_HYBRID_ARTIFACTS``, else ``$XDG_STATE_HOME/kaizen-hybrid/artifacts`` (~/.local/state)."""
    explicit = os.environ.get("KAIZEN_HYBRID_ARTIFACTS")
    if explicit:
        return Path(explicit).expanduser().resolve()
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return (Path(state) / "kaizen-hybrid" / "artifacts").resolve()


@dataclass(frozen=True)
class RunRequest:
    """Validated, normalised inputs of one run (absolute paths only)."""

    playbook: str
    collection: Collection
    inventory_path: Path | None = None
    inventory_data: Mapping[str, Any] | None = field(default=None, repr=False)
    extra_vars: Mapping[str, Any] = field(default_factory=dict)
    secret_vars: Mapping[str, Any] = field(default_factory=dict, repr=False)
    limit: str | None = None
    tags: tuple[str, ...] = ()
    skip_tags: tuple[str, ...] = ()
    check: bool = False
    diff: bool = False
    forks: int | None = None
    verbosity: int = 0
    vault_password_file: Path | None = None
    vault_password_source: PasswordSource | None = field(default=None, repr=False)
    vault_ids: tuple[str, ...] = ()
    remote_user: str | None = None
    timeout: float | None = None
    event_handler: EventHandler | None = field(default=None, repr=False)
    artifacts_dir: Path = field(default_factory=default_artifacts_dir)
    keep_artifacts: int = 20
    env: Mapping[str, str] = field(default_factory=dict)
    operation: str | None = None


def _is_pathlike(value: Any) -> bool:
    return isinstance(value, (str, os.PathLike))


def _check_playbook(playbook: Any, collection: Collection, problems: list[str]) -> str:
    if isinstance(playbook, os.PathLike) or (
        isinstance(playbook, str) and ("/" in playbook or playbook.endswith((".yml", ".yaml")))
    ):
        path = Path(playbook).expanduser()
        if not path.is_file():
            problems.append("playbook: %s is not a file" % path)
            return str(path)
        return str(path.resolve())
    if not isinstance(playbook, str) or not playbook:
        problems.append("playbook: expected a path or a name like %s.site, got %s" % (FQCN, type(playbook).__name__))
        return ""
    parts = playbook.split(".")
    if len(parts) < 3 or not all(parts):
        problems.append("playbook: %r is neither a file path nor a collection playbook name (namespace.collection.name)" % playbook)
        return playbook
    if ".".join(parts[:2]) == FQCN:
        name = ".".join(parts[2:])
        if not collection.playbook_path(name).is_file():
            problems.append(
                "playbook: %s has no playbook %r (it has: %s)" % (FQCN, name, ", ".join(collection.playbooks()) or "none")
            )
    return playbook


def _check_group(where: str, body: Any, problems: list[str], depth: int = 0) -> None:
    if body is None:
        return
    if depth > 50:
        problems.append("%s: groups nested too deeply" % where)
        return
    if not isinstance(body, Mapping):
        problems.append("%s: a group must be a mapping with hosts, children and vars, got %s" % (where, type(body).__name__))
        return
    unknown = sorted(str(k) for k in body if k not in _GROUP_KEYS)
    if unknown:
        problems.append("%s: unknown keys %s (a group has only hosts, children and vars)" % (where, ", ".join(unknown)))
    hosts = body.get("hosts")
    if hosts is not None:
        if not isinstance(hosts, Mapping):
            problems.append("%s.hosts: must map host names to their variables, got %s" % (where, type(hosts).__name__))
        else:
            for host, host_vars in hosts.items():
                if not isinstance(host, str) or not host.strip():
                    problems.append("%s.hosts: host names must be non-empty strings" % where)
                elif host_vars is not None and not isinstance(host_vars, Mapping):
                    problems.append("%s.hosts.%s: host variables must be a mapping" % (where, host))
    children = body.get("children")
    if children is not None:
        if not isinstance(children, Mapping):
            problems.append("%s.children: must map group names to groups" % where)
        else:
            for child, child_body in children.items():
                _check_group("%s.children.%s" % (where, child), child_body, problems, depth + 1)
    group_vars = body.get("vars")
    if group_vars is not None and not isinstance(group_vars, Mapping):
        problems.append("%s.vars: must be a mapping" % where)


def _check_inventory(inventory: Any, problems: list[str]) -> tuple[Path | None, Mapping[str, Any] | None]:
    if isinstance(inventory, Mapping):
        if not inventory:
            problems.append("inventory: the mapping is empty")
            return None, None
        for group, body in inventory.items():
            if not isinstance(group, str) or not re.match(r"^[A-Za-z_][A-Za-z0-9_-]*$", group):
                problems.append("inventory: %r is not a valid group name" % (group,))
                continue
            _check_group("inventory.%s" % group, body, problems)
        try:
            json.dumps(inventory)
        except (TypeError, ValueError) as exc:
            problems.append("inventory: not serialisable as JSON (%s)" % type(exc).__name__)
        return None, inventory
    if _is_pathlike(inventory) and str(inventory):
        path = Path(inventory).expanduser()
        if not path.exists():
            problems.append("inventory: %s does not exist" % path)
            return None, None
        return path.resolve(), None
    problems.append("inventory: expected a path (file or directory) or a mapping, got %s" % type(inventory).__name__)
    return None, None


def _check_vars(what: str, variables: Any, problems: list[str], secret: bool) -> dict[str, Any]:
    if variables is None:
        return {}
    if not isinstance(variables, Mapping):
        problems.append("%s: expected a mapping of variable names to values, got %s" % (what, type(variables).__name__))
        return {}
    checked = {}
    for name, value in variables.items():
        if not isinstance(name, str) or not _IDENTIFIER.match(name):
            problems.append("%s: %r is not a valid variable name" % (what, name))
            continue
        if name in _MAGIC_VARIABLES:
            problems.append("%s: %s is set by Ansible itself and cannot be passed in" % (what, name))
            continue
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            problems.append(
                "%s[%r]: the value is not serialisable as JSON (type %s)" % (what, name, type(value).__name__)
                if not secret
                else "%s[%r]: the value is not serialisable as JSON" % (what, name)
            )
            continue
        checked[name] = value
    return checked


def _is_template(value: Any) -> bool:
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, Mapping):
        return any(_is_template(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_is_template(v) for v in value)
    return False


def _sanitise_spec(option: Mapping[str, Any]) -> dict[str, Any]:
    spec = {key: option[key] for key in _SPEC_KEYS if key in option}
    if isinstance(option.get("options"), Mapping):
        spec["options"] = {
            name: dict(_sanitise_spec(sub), **({"required": True} if sub.get("required") else {}))
            for name, sub in option["options"].items()
            if isinstance(sub, Mapping)
        }
    return spec


def _role_of(name: str, roles: Sequence[str]) -> str | None:
    matches = [role for role in roles if name.startswith(role + "_")]
    return max(matches, key=len) if matches else None


def check_role_variables(
    variables: Mapping[str, Any], collection: Collection, secret_names: frozenset[str] = frozenset()
) -> list[str]:
    """Problems of the variables named after a role of the collection, per its argument spec."""
    specs = collection.role_specs()
    if not specs:
        return []
    owner = {name: role for role, options in specs.items() for name in options}
    problems: list[str] = []
    to_check: dict[str, tuple[str, Mapping[str, Any]]] = {}
    for name, value in variables.items():
        role = owner.get(name) or _role_of(name, list(specs))
        if role is None:
            continue
        where = "%s (role %s.%s)" % (name, FQCN, role)
        if name not in specs[role]:
            close = difflib.get_close_matches(name, list(specs[role]), n=1)
            problems.append(
                "%s: the role has no variable of that name%s" % (where, "; did you mean %s?" % close[0] if close else "")
            )
            continue
        if not _is_template(value):
            to_check[name] = (role, specs[role][name])
    if not to_check:
        return problems
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    for name, (role, option) in sorted(to_check.items()):
        spec = _sanitise_spec(option)
        hidden = name in secret_names or bool(option.get("no_log"))
        result = ArgumentSpecValidator({name: spec}).validate({name: variables[name]})
        for message in result.error_messages:
            if hidden:
                message = "the value does not match the role's argument spec (type %s); the value is not shown" % spec.get(
                    "type", "raw"
                )
            problems.append("%s (role %s.%s): %s" % (name, FQCN, role, message))
    return problems


def _check_patterns(what: str, value: Any, problems: list[str], tag_like: bool) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(item, str) for item in items):
        problems.append("%s: expected a string or a list of strings" % what)
        return ()
    out = []
    for item in items:
        for piece in item.split(","):
            piece = piece.strip()
            if not piece:
                problems.append("%s: empty entry in %r" % (what, item))
            elif tag_like and not _TAG.match(piece):
                problems.append("%s: %r contains white space" % (what, piece))
            elif not tag_like and any(ch.isspace() for ch in piece):
                problems.append("%s: %r contains white space" % (what, piece))
            else:
                out.append(piece)
    return tuple(out)


def _check_int(what: str, value: Any, low: int, high: int, problems: list[str]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append("%s: expected an integer, got %s" % (what, type(value).__name__))
        return None
    if not low <= value <= high:
        problems.append("%s: %d is outside %d..%d" % (what, value, low, high))
        return None
    return value


def _check_vault_password(value: Any, problems: list[str]) -> tuple[Path | None, PasswordSource | None]:
    if value is None:
        return None, None
    if callable(value):
        return None, value
    if _is_pathlike(value):
        path = Path(value).expanduser()
        if path.is_file() and os.access(path, os.R_OK):
            return path.resolve(), None
        # Never echo the value: a caller may have passed the password itself.
        problems.append(
            "vault_password: not a readable file (give a path to a password file or a callable that "
            "returns the password; the value is not shown)"
        )
        return None, None
    problems.append("vault_password: expected a file path or a callable, got %s" % type(value).__name__)
    return None, None


def _check_vault_ids(value: Any, problems: list[str]) -> tuple[str, ...]:
    """``[label@]source`` as ansible-playbook's --vault-id, the source a readable file (a password or a script)."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(item, str) for item in items):
        problems.append("vault_ids: expected a string or a list of strings")
        return ()
    out = []
    for item in items:
        label, _at, source = item.rpartition("@") if "@" in item else ("", "", item)
        if source == "prompt":
            problems.append("vault_ids: %r prompts on a terminal the run does not have; give a password file, or "
                            "vault_password / --ask-vault-pass" % item)
        elif label == RUN_VAULT_ID:
            problems.append("vault_ids: the label %r is the one the run encrypts secret_vars under; choose another" % label)
        elif not (source and os.path.isfile(os.path.expanduser(source)) and os.access(os.path.expanduser(source), os.R_OK)):
            problems.append("vault_ids: %r: %r is not a readable file" % (item, source))
        else:
            path = str(Path(source).expanduser().resolve())
            out.append("%s@%s" % (label, path) if label else path)
    return tuple(out)


def _check_user(value: Any, problems: list[str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value or value.startswith("-") or any(ch.isspace() for ch in value):
        problems.append("remote_user: expected a user name (no white space, not starting with '-')")
        return None
    return value


def build_request(
    playbook: Any,
    inventory: Any,
    *,
    collection: Collection,
    extra_vars: Any = None,
    secret_vars: Any = None,
    limit: Any = None,
    tags: Any = None,
    skip_tags: Any = None,
    check: Any = False,
    diff: Any = False,
    forks: Any = None,
    verbosity: Any = 0,
    vault_password: Any = None,
    vault_ids: Any = None,
    remote_user: Any = None,
    timeout: Any = None,
    event_handler: Any = None,
    artifacts_dir: Any = None,
    keep_artifacts: Any = 20,
    env: Any = None,
    operation: str | None = None,
) -> RunRequest:
    """Validate everything; raise :class:`ValidationError` with every problem found."""
    problems: list[str] = []
    playbook_ref = _check_playbook(playbook, collection, problems)
    inventory_path, inventory_data = _check_inventory(inventory, problems)
    extra = _check_vars("extra_vars", extra_vars, problems, secret=False)
    secret = _check_vars("secret_vars", secret_vars, problems, secret=True)
    for name in sorted(set(extra) & set(secret)):
        problems.append("%s is given both in extra_vars and in secret_vars" % name)
    problems.extend(check_role_variables({**extra, **secret}, collection, frozenset(secret)))
    limit_items = _check_patterns("limit", limit, problems, tag_like=False)
    tag_items = _check_patterns("tags", tags, problems, tag_like=True)
    skip_items = _check_patterns("skip_tags", skip_tags, problems, tag_like=True)
    for what, value in (("check", check), ("diff", diff)):
        if not isinstance(value, bool):
            problems.append("%s: expected True or False, got %s" % (what, type(value).__name__))
    forks_value = _check_int("forks", forks, 1, MAX_FORKS, problems)
    verbosity_value = _check_int("verbosity", verbosity, 0, MAX_VERBOSITY, problems) or 0
    keep = _check_int("keep_artifacts", keep_artifacts, 0, 10000, problems)
    password_file, password_source = _check_vault_password(vault_password, problems)
    vault_id_items = _check_vault_ids(vault_ids, problems)
    user = _check_user(remote_user, problems)
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0):
        problems.append("timeout: expected a positive number of seconds")
    if event_handler is not None and not callable(event_handler):
        problems.append("event_handler: expected a callable taking one event, got %s" % type(event_handler).__name__)
    if artifacts_dir is not None and not (_is_pathlike(artifacts_dir) and str(artifacts_dir)):
        problems.append("artifacts_dir: expected a path")
    environment: dict[str, str] = {}
    if env is not None:
        if not isinstance(env, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
            problems.append("env: expected a mapping of strings to strings")
        else:
            environment = dict(env)
    if problems:
        raise ValidationError(problems)
    artifacts = Path(artifacts_dir).expanduser().resolve() if artifacts_dir is not None else default_artifacts_dir()
    return RunRequest(
        playbook=playbook_ref,
        collection=collection,
        inventory_path=inventory_path,
        inventory_data=inventory_data,
        extra_vars=extra,
        secret_vars=secret,
        limit=",".join(limit_items) or None,
        tags=tag_items,
        skip_tags=skip_items,
        check=bool(check),
        diff=bool(diff),
        forks=forks_value,
        verbosity=verbosity_value,
        vault_password_file=password_file,
        vault_password_source=password_source,
        vault_ids=vault_id_items,
        remote_user=user,
        timeout=float(timeout) if timeout is not None else None,
        event_handler=event_handler,
        artifacts_dir=artifacts,
        keep_artifacts=20 if keep is None else keep,
        env=environment,
        operation=operation,
    )
