# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kaizen app tier: its settings checked as the Kaizen config checks them, and its wiring.

* :func:`settings_problems` validates the app role's variables the way the Kaizen
  ``ProductionConfig`` does at start (secret key and database URL required, a model API key
  unless explicitly not required, every field of the right type and range), so that a wrong
  setting is refused before any host changes rather than by a container that will not start.
* :func:`environment` turns the settings into the container environment the Kaizen service reads.
* :func:`image_problems` checks a container image reference against Docker's grammar.
* :func:`instances` and :func:`upstreams` list the app containers (every app host, every
  instance) as the load balancers address them.

No Ansible imports: unit-tested directly.
"""

from __future__ import annotations

import re
import typing as t

from ansible_collections.kaizen.hybrid.plugins.module_utils.addresses import host_port
from ansible_collections.kaizen.hybrid.plugins.module_utils.topology import Topology
from ansible_collections.kaizen.hybrid.plugins.module_utils.values import is_int

# The role variable of each Kaizen ProductionConfig field is app_<field>.
VAR_PREFIX = "app_"

# Field -> (kind, lower bound). Kinds: str, bool, int, list, choice:<a|b>.
FIELDS: dict[str, tuple[str, t.Any]] = {
    "environment": ("str", None),
    "debug": ("bool", None),
    "log_level": ("choice:DEBUG|INFO|WARNING|ERROR|CRITICAL", None),
    "log_format": ("choice:json|text", None),
    "log_file": ("path", None),
    "workers": ("int", 1),
    "database_url": ("str", None),
    "database_pool_size": ("int", 1),
    "database_max_overflow": ("int", 0),
    "redis_max_connections": ("int", 1),
    "openai_api_key": ("str", None),
    "anthropic_api_key": ("str", None),
    "model_api_keys_required": ("bool", None),
    "model_timeout": ("int", 1),
    "model_retry_attempts": ("int", 0),
    "secret_key": ("str", None),
    "allowed_hosts": ("list", None),
    "cors_origins": ("list", None),
    "metrics_enabled": ("bool", None),
    "health_check_interval": ("int", 1),
    "cache_enabled": ("bool", None),
    "cache_ttl": ("int", 0),
    "rate_limiting": ("bool", None),
    "max_requests_per_minute": ("int", 1),
}

# Settings that reach the container under a name of their own (the Kaizen guide's names);
# every other field becomes KAIZEN_<FIELD>.
ENV_NAMES = {
    "database_url": "DATABASE_URL",
    "secret_key": "KAIZEN_SECRET_KEY",
    "openai_api_key": "OPENAI_API_KEY",
    "anthropic_api_key": "ANTHROPIC_API_KEY",
}
SECRET_FIELDS = frozenset(("database_url", "secret_key", "openai_api_key", "anthropic_api_key"))
# Not a Kaizen setting: how the role checks the others.
NOT_PASSED = frozenset(("model_api_keys_required",))
MIN_SECRET_KEY_LENGTH = 32
_PLACEHOLDER = re.compile(r"^(change[_-]?me|your[_-]|xxx+$|todo$|secret$|password$)", re.IGNORECASE)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _kind_problem(field: str, kind: str, minimum: t.Any, value: t.Any) -> str | None:
    name = VAR_PREFIX + field
    if kind == "bool":
        return None if isinstance(value, bool) else "%s must be true or false, not %r" % (name, value)
    if kind == "int":
        if not is_int(value):
            return "%s must be an integer, not %r" % (name, value)
        if minimum is not None and value < minimum:
            return "%s must be at least %d, not %d" % (name, minimum, value)
        return None
    if kind == "list":
        if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) and item for item in value):
            return "%s must be a list of non-empty strings, not %r" % (name, value)
        return None
    if kind.startswith("choice:"):
        choices = kind.split(":", 1)[1].split("|")
        if value not in choices:
            return "%s must be one of %s, not %r" % (name, ", ".join(choices), value)
        return None
    if not isinstance(value, str):
        return "%s must be a string, not %r" % (name, value)
    if kind == "path" and value and not value.startswith("/"):
        return "%s must be an absolute path inside the container (or empty), not %r" % (name, value)
    return None


def _secret_problem(name: str, value: t.Any, what: str) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return "%s is required (%s); set it from a vault" % (name, what)
    if _PLACEHOLDER.match(value.strip()):
        return "%s is a placeholder (%r); set the real value from a vault" % (name, value)
    return None


def settings_problems(settings: t.Mapping[str, t.Any]) -> list[str]:
    """Every problem of the Kaizen settings (keys are the ProductionConfig field names), one message each."""
    problems: list[str] = []
    for field, (kind, minimum) in FIELDS.items():
        if field not in settings:
            problems.append("%s%s is not set" % (VAR_PREFIX, field))
            continue
        problem = _kind_problem(field, kind, minimum, settings[field])
        if problem:
            problems.append(problem)
    problem = _secret_problem("app_secret_key", settings.get("secret_key"), "the Kaizen service refuses to start without KAIZEN_SECRET_KEY")
    if problem:
        problems.append(problem)
    elif isinstance(settings.get("secret_key"), str) and len(settings["secret_key"]) < MIN_SECRET_KEY_LENGTH:
        problems.append("app_secret_key is %d characters long; use at least %d random characters" % (len(settings["secret_key"]), MIN_SECRET_KEY_LENGTH))
    url = settings.get("database_url")
    if not isinstance(url, str) or not url.strip():
        problems.append("app_database_url is empty: the Kaizen service needs DATABASE_URL (the role derives it from the postgres group; "
                        "is the group empty and app_database_url unset?)")
    elif not re.match(r"^postgres(ql)?://", url):
        problems.append("app_database_url must be a postgresql:// URL, not %r" % url.split("@")[-1])
    if settings.get("model_api_keys_required", True) is True:
        keys = [settings.get("openai_api_key"), settings.get("anthropic_api_key")]
        if not any(isinstance(key, str) and key.strip() for key in keys):
            problems.append("neither app_openai_api_key nor app_anthropic_api_key is set: the Kaizen service needs a model API key "
                            "(set app_model_api_keys_required: false for a deployment that uses no model provider)")
    if settings.get("debug") is True and settings.get("environment") == "production":
        problems.append("app_debug is true with app_environment production: debug output must not reach production clients")
    return problems


def _env_value(value: t.Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    if value is None:
        return ""
    return str(value)


def environment(settings: t.Mapping[str, t.Any], extra: t.Mapping[str, t.Any] | None = None) -> dict[str, str]:
    """The container environment: the Kaizen guide's names for the secrets, ``KAIZEN_<FIELD>`` for the rest,
    then ``extra`` (for example the Redis connection) over them. Empty optional secrets are left out."""
    env: dict[str, str] = {}
    for field in FIELDS:
        if field in NOT_PASSED or field not in settings:
            continue
        value = settings[field]
        if field in SECRET_FIELDS and not value:
            continue
        env[ENV_NAMES.get(field, "KAIZEN_" + field.upper())] = _env_value(value)
    for name, value in (extra or {}).items():
        if not _ENV_NAME.match(str(name)):
            raise ValueError("%r is not a valid environment variable name" % (name,))
        env[str(name)] = _env_value(value)
    return env


def env_file(env: t.Mapping[str, str]) -> str:
    """``env`` as a Docker env file: one NAME=value per line, sorted. Docker takes the value literally (no quoting),
    so a value with a line break cannot be represented and is refused."""
    lines = []
    for name in sorted(env):
        value = str(env[name])
        if "\n" in value or "\r" in value:
            raise ValueError("the value of %s has a line break; a Docker env file cannot carry it" % name)
        lines.append("%s=%s" % (name, value))
    return "\n".join(lines) + "\n"


# --- image references -------------------------------------------------------------------------

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?"
_REFERENCE = re.compile(
    r"^(?:(?P<domain>%s)/)?(?P<path>%s(?:/%s)*)(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
    % (_DOMAIN, _COMPONENT, _COMPONENT))


def parse_image(reference: t.Any) -> dict[str, str]:
    """Split a Docker image reference into registry, repository, tag and digest; raise ValueError when it does not parse.

    As Docker reads it: the first component is a registry only when it has a dot or a port or is ``localhost``.
    """
    if not isinstance(reference, str) or not reference:
        raise ValueError("an image reference is required (for example registry.example.com/kaizen/app:1.4.2)")
    if len(reference) > 255:
        raise ValueError("%r is longer than 255 characters" % reference[:40])
    match = _REFERENCE.match(reference)
    if not match:
        name = reference.split("@")[0].rsplit(":", 1)[0] if "/" not in reference.rsplit(":", 1)[-1] else reference
        hint = ""
        if " " in reference:
            hint = " (it contains a space)"
        elif name.split("/", 1)[-1] != name.split("/", 1)[-1].lower():
            hint = " (repository names are lowercase)"
        raise ValueError("%r is not a valid image reference%s: expected [registry[:port]/]name[:tag][@sha256:digest]" % (reference, hint))
    domain, path = match.group("domain"), match.group("path")
    if domain and not ("." in domain or ":" in domain or domain == "localhost"):
        path, domain = domain.lower() + "/" + path, None
        if not re.match(r"^%s(?:/%s)*$" % (_COMPONENT, _COMPONENT), path):
            raise ValueError("%r is not a valid image reference (repository names are lowercase)" % reference)
    return {"registry": domain or "", "repository": path, "tag": match.group("tag") or ("" if match.group("digest") else "latest"),
            "digest": match.group("digest") or ""}


def image_problems(reference: t.Any, variable: str = "app_image") -> list[str]:
    try:
        parse_image(reference)
    except ValueError as exc:
        return ["%s: %s" % (variable, exc)]
    return []


# --- instances and upstreams ------------------------------------------------------------------

DEFAULT_INSTANCES = 2


def _positive_int(value: t.Any, name: str, host: str, minimum: int = 1) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError("%s of %s must be an integer, not %r" % (name, host, value)) from None
    if isinstance(value, bool) or number < minimum:
        raise ValueError("%s of %s must be at least %d, not %r" % (name, host, minimum, value))
    return number


def instances(host: str, count: t.Any, port_base: t.Any, name: str = "kaizen") -> list[dict[str, t.Any]]:
    """The app containers of one host: ``<name>-<n>`` publishing host port ``port_base + n - 1``."""
    total = _positive_int(count, "app_instances", host)
    base = _positive_int(port_base, "app_port_base", host)
    if base + total - 1 > 65535:
        raise ValueError("app_port_base %d with %d instances on %s runs past port 65535" % (base, total, host))
    return [{"index": index, "name": "%s-%d" % (name, index), "port": base + index - 1, "instance": "%s-%d" % (host, index)}
            for index in range(1, total + 1)]


def upstreams(topology: Topology, drained: t.Iterable[str] = (), group: str = "app") -> list[dict[str, t.Any]]:
    """Every app container of the site as a load balancer addresses it: host, address, port, and ``down`` for hosts
    being drained (a rolling update takes a host out of every load balancer this way)."""
    drained = [str(host) for host in drained]
    members = topology.members(group)
    unknown = [host for host in drained if host not in members]
    if unknown:
        raise ValueError("cannot drain %s: not in group %s" % (", ".join(unknown), group))
    servers = []
    for host in members:
        address = topology.address(host)
        for item in instances(host, topology.var(host, "app_instances", DEFAULT_INSTANCES),
                              topology.port(host, "app_port_base"), str(topology.var(host, "app_name", "kaizen"))):
            servers.append({"host": host, "address": address, "port": item["port"], "instance": item["instance"],
                            "endpoint": host_port(address, item["port"]),
                            "down": host in drained})
    return servers


ROTATION_MODES = ("host", "instance", "outage")


def rolling_plan(topology: Topology, batch: t.Any = 1, allow_downtime: bool = False, group: str = "app") -> dict[str, t.Any]:
    """How each app host leaves rotation in a rolling update of ``batch`` hosts at a time (the play's serial batches,
    in group order).

    ``host``: other app hosts serve while this one is out of every load balancer (the usual case). ``instance``: its
    batch holds every app host, so the host stays in rotation and each of its instances is taken out while it is
    replaced and another serves (two or more instances). ``outage``: a host with one instance in such a batch, replaced
    in place with a short outage, only when ``allow_downtime``; without it that host is a problem, one sentence each.
    Returns ``{"modes": {host: mode}, "problems": [...]}``.
    """
    members = topology.members(group)
    size = _positive_int(batch, "kaizen_rolling_batch", "the rolling update")
    modes: dict[str, str] = {}
    problems = []
    for start in range(0, len(members), size):
        chunk = members[start:start + size]
        for host in chunk:
            if len(chunk) < len(members):
                modes[host] = "host"
                continue
            count = _positive_int(topology.var(host, "app_instances", DEFAULT_INSTANCES), "app_instances", host)
            if count >= 2:
                modes[host] = "instance"
            elif allow_downtime:
                modes[host] = "outage"
            else:
                why = ("it is the only app host" if len(members) == 1
                       else "every app host is in the same batch (kaizen_rolling_batch %d)" % size)
                problems.append(
                    "%s cannot leave rotation: %s, and it runs one instance (app_instances 1), so replacing it would stop "
                    "the service. Run two or more instances there (each is then replaced while another serves)%s, or accept "
                    "a short outage with -e kaizen_rolling_allow_downtime=true. Nothing was changed."
                    % (host, why, ", add an app host" if len(members) == 1 else ", lower kaizen_rolling_batch"))
    return {"modes": modes, "problems": problems}


def _host_list(value: t.Any) -> list[str]:
    """Host names from a list or a comma-separated string (as a CLI option gives them), without blanks or duplicates."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value) if isinstance(value, (list, tuple)) else [value]
    names: list[str] = []
    for item in items:
        name = str(item).strip()
        if name and name not in names:
            names.append(name)
    return names


def scale_plan(topology: Topology, add: t.Any = None, remove: t.Any = None, group: str = "app") -> dict[str, t.Any]:
    """What ``playbooks/scale.yml`` does for app hosts joining (``add``) or leaving (``remove``) the site, checked against
    the inventory, which already describes the site after the change: a host added is in ``group``; a host removed is
    still in the inventory, so it can be reached, but no longer in ``group``. One direction per run (a host replaced is
    added first, then the old one removed: the leaving host keeps its database access until it has stopped).
    Returns ``{"add": [...], "remove": [...], "problems": [...]}``, one sentence per problem."""
    added, removed = _host_list(add), _host_list(remove)
    members, known = topology.members(group), topology.all_hosts()
    problems = []
    if not added and not removed:
        problems.append("Name the app hosts that join (kaizen_scale_add, --add) or leave (kaizen_scale_remove, --remove).")
    if added and removed:
        problems.append(
            "Add and remove in two runs: first --add %s, then --remove %s (a leaving host keeps serving until the new one does)."
            % (",".join(added), ",".join(removed)))
    for host in added:
        if host not in known:
            problems.append("%s is not in the inventory: add it, with its address, to group %s first." % (host, group))
        elif host not in members:
            problems.append("%s is not in group %s: add it there in the inventory first." % (host, group))
    for host in removed:
        if host not in known:
            problems.append(
                "%s is not in the inventory: keep it there, outside group %s, until scale has drained and stopped it." % (host, group))
        elif host in members:
            problems.append(
                "%s is still in group %s: take it out of the group in the inventory first (keep the host itself, so it can be reached)."
                % (host, group))
    if removed and not members:
        problems.append("Group %s would have no host left: the site would stop serving." % group)
    return {"add": added, "remove": removed, "problems": problems}
