# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus wiring derived from the inventory.

* :func:`scrape_configs`: one scrape job per kind of exporter, every target the topology implies
  (node exporter on every site host, the PostgreSQL, Redis, nginx and mtail exporters on their
  groups' hosts, the Docker engine and every Kaizen instance on the app hosts, Prometheus and
  Alertmanager themselves), each labelled with ``host``, ``group``, ``site`` and ``region``.
* :func:`alertmanager_targets`: the Alertmanagers Prometheus sends alerts to.
* :func:`settings_problems`: what is wrong with the Prometheus role's settings (durations and
  sizes Prometheus would not parse, ports), before any host changes.

Per-host ports come from the host's variables when the inventory sets them (for example
``exporters_node_port``, ``app_port_base``, ``app_instances``, ``docker_metrics_port``), else from
the defaults passed in, which the roles define.
"""

from __future__ import annotations

import re
import typing as t

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.kaizen.hybrid.plugins.module_utils.addresses import host_port
from ansible_collections.kaizen.hybrid.plugins.module_utils.topology import SITE_GROUPS, Topology, TopologyError
from ansible_collections.kaizen.hybrid.plugins.module_utils.values import as_int, as_port

# The exporters role's jobs: (job, host variable that overrides the port, host variable that turns it off).
EXPORTER_JOBS: tuple[tuple[str, str, str], ...] = (
    ("node", "exporters_node_port", "exporters_node_enabled"),
    ("postgres", "exporters_postgres_port", "exporters_postgres_enabled"),
    ("redis", "exporters_redis_port", "exporters_redis_enabled"),
    ("nginx", "exporters_nginx_port", "exporters_nginx_enabled"),
    ("nginx_log", "exporters_nginx_log_port", "exporters_nginx_log_enabled"),
)

JOBS = ("node", "postgres", "redis", "nginx", "nginx_log", "docker", "kaizen", "prometheus", "alertmanager", "etcd")
# The inventory group whose hosts each job scrapes ("": every host of a site group).
JOB_GROUPS = {"node": "", "postgres": "postgres", "redis": "redis", "nginx": "loadbalancers", "nginx_log": "loadbalancers",
              "docker": "app", "kaizen": "app", "prometheus": "monitoring", "alertmanager": "monitoring",
              # Only when Patroni runs the PostgreSQL tier (Patroni's own metrics come through the node exporter).
              "etcd": "etcd"}

_DURATION = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")
# Milliseconds per unit of a Prometheus duration, in the order the units are written.
DURATION_UNITS_MS = (("y", 365 * 86400000), ("w", 7 * 86400000), ("d", 86400000), ("h", 3600000), ("m", 60000), ("s", 1000),
                     ("ms", 1))
_SIZE = re.compile(r"^(\d+)(B|KB|MB|GB|TB|PB|EB)$")
_LABEL_VALUE_MAX = 1024


def parse_duration(value: t.Any) -> int:
    """A Prometheus duration (``30s``, ``5m``, ``1h30m``, ``2d``; ``0``) in milliseconds; ValueError when it does not parse."""
    if not isinstance(value, str) or not value:
        raise ValueError("not a duration: %r" % (value,))
    if value == "0":
        return 0
    match = _DURATION.match(value)
    if not match:
        raise ValueError("not a duration: %r" % (value,))
    return sum(int(part) * size for part, (_unit, size) in zip(match.groups(), DURATION_UNITS_MS) if part)


def is_duration(value: t.Any) -> bool:
    """A Prometheus duration (``30s``, ``1h30m``, ``15d``, ``2w``) longer than zero."""
    try:
        return parse_duration(value) > 0
    except ValueError:
        return False


def is_size(value: t.Any) -> bool:
    """A Prometheus storage size (``512MB``, ``50GB``)."""
    return isinstance(value, str) and bool(_SIZE.match(value)) and int(_SIZE.match(value).group(1)) > 0


def _port(value: t.Any, what: str) -> int:
    port = as_port(value)
    if port is None:
        raise TopologyError("%s: %r is not a port number (1-65535)" % (what, value))
    return port


def _count(value: t.Any, what: str) -> int:
    count = as_int(value)
    if count is None:
        raise TopologyError("%s: %r is not a count (a whole number, 0 or more)" % (what, value))
    return count


def _enabled(value: t.Any) -> bool:
    return boolean(value, strict=False)


class _Jobs:
    def __init__(self, topology: Topology, settings: t.Mapping[str, t.Any]) -> None:
        self.topology = topology
        self.settings = settings
        self.defaults = dict(settings.get("defaults") or {})

    def default(self, name: str, fallback: t.Any = None) -> t.Any:
        return self.defaults.get(name, fallback)

    def host_value(self, host: str, name: str, fallback: t.Any = None) -> t.Any:
        return self.topology.var(host, name, self.default(name, fallback))

    def labels(self, host: str, job: str) -> dict[str, str]:
        # The group the job serves; for the node exporter, every site group of the host.
        group = JOB_GROUPS[job] or ",".join(name for name in SITE_GROUPS if self.topology.in_group(host, name))
        labels = {"host": host, "group": group}
        for label, variable in (("site", "kaizen_site_name"), ("region", "kaizen_region")):
            value = self.topology.var(host, variable, self.settings.get(label, ""))
            value = "" if value is None else str(value)
            if len(value) > _LABEL_VALUE_MAX:
                raise TopologyError("%s of %s is longer than %d characters" % (variable, host, _LABEL_VALUE_MAX))
            if value:
                labels[label] = value
        return labels

    def group_hosts(self, group: str) -> list[str]:
        return self.topology.site_hosts() if not group else self.topology.members(group)

    def targets(self, job: str) -> list[dict[str, t.Any]]:
        """``static_configs`` entries of ``job``: one per host, with that host's labels."""
        entries = []
        for host in self._hosts(job):
            endpoints = [host_port(self.topology.address(host), port) for port in self._ports(job, host)]
            if endpoints:
                entries.append({"targets": endpoints, "labels": self.labels(host, job)})
        return entries

    def _hosts(self, job: str) -> list[str]:
        if job == "etcd":
            if not self.topology.members("postgres") or self.topology.postgres_ha_mode() != "patroni":
                return []
            return self.topology.etcd_members()
        for name, _port_var, enabled_var in EXPORTER_JOBS:
            if name == job:
                return [host for host in self.group_hosts(JOB_GROUPS[job]) if _enabled(self.host_value(host, enabled_var, True))]
        return self.topology.members(JOB_GROUPS[job])

    def _ports(self, job: str, host: str) -> list[int]:
        if job == "docker" and not _enabled(self.host_value(host, "docker_metrics_enabled", True)):
            return []
        if job == "kaizen":
            if not _enabled(self.host_value(host, "app_metrics_enabled", True)):
                return []
            base = self.topology.port(host, "app_port_base")
            count = _count(self.host_value(host, "app_instances", 2), "app_instances of %s" % host)
            return [_port(base + index, "app_port_base + app_instances of %s" % host) for index in range(count)]
        return [self.topology.port(host, job_port_variable(job))]


def job_port_variable(job: str) -> str:
    """The port variable of a job's targets (for ``kaizen``, the first instance's port)."""
    for name, port_var, _enabled_var in EXPORTER_JOBS:
        if name == job:
            return port_var
    return {"docker": "docker_metrics_port", "kaizen": "app_port_base", "etcd": "etcd_metrics_port"}.get(job, "%s_port" % job)


def scrape_configs(topology: Topology, settings: t.Mapping[str, t.Any]) -> list[dict[str, t.Any]]:
    """Prometheus ``scrape_configs``: one job per kind of target (:data:`JOBS`), jobs without a target left out.

    ``settings``: ``site`` and ``region`` (label values; a host's ``kaizen_site_name`` / ``kaizen_region`` win),
    ``defaults`` (the roles' defaults of the per-host variables, e.g. ``{'app_instances': 2}``),
    ``scrape_interval`` and ``scrape_timeout`` per job (``{'kaizen': '10s'}``, optional), ``jobs``
    (the jobs to generate, default all).
    """
    jobs = _Jobs(topology, settings)
    wanted = list(settings.get("jobs") or JOBS)
    unknown = [job for job in wanted if job not in JOBS]
    if unknown:
        raise TopologyError("unknown scrape job(s) %s; known: %s" % (", ".join(map(str, unknown)), ", ".join(JOBS)))
    intervals = settings.get("scrape_intervals") or {}
    configs = []
    for job in JOBS:
        if job not in wanted:
            continue
        static = jobs.targets(job)
        if not static:
            continue
        config: dict[str, t.Any] = {"job_name": job}
        if job in intervals:
            config["scrape_interval"] = str(intervals[job])
        config["static_configs"] = static
        configs.append(config)
    return configs


def target_count(configs: t.Iterable[t.Mapping[str, t.Any]]) -> int:
    """How many targets ``configs`` (from :func:`scrape_configs`) make Prometheus scrape."""
    return sum(len(entry.get("targets") or []) for config in configs for entry in config.get("static_configs") or [])


def alertmanager_targets(topology: Topology) -> list[str]:
    """``host:port`` of the Alertmanager on every monitoring host (``alertmanager_port`` per host)."""
    return [host_port(topology.address(host), topology.port(host, "alertmanager_port")) for host in topology.members("monitoring")]


def settings_problems(settings: t.Mapping[str, t.Any]) -> list[str]:
    """What is wrong with the prometheus role's settings (keys without the ``prometheus_`` prefix); empty when fine."""
    problems = []
    for key in ("retention_time", "scrape_interval", "scrape_timeout", "evaluation_interval"):
        value = settings.get(key)
        if key == "retention_time" and value in ("", None):
            continue
        if not is_duration(value):
            problems.append("prometheus_%s: %r is not a Prometheus duration (for example 15s, 5m, 1h30m, 15d, 2w)" % (key, value))
    size = settings.get("retention_size")
    if size not in ("", None, 0, "0") and not is_size(size):
        problems.append("prometheus_retention_size: %r is not a size Prometheus reads (a whole number and B, KB, MB, GB, TB, PB"
                        " or EB, for example 50GB; empty for no size limit)" % (size,))
    if settings.get("retention_time") in ("", None) and settings.get("retention_size") in ("", None, 0, "0"):
        problems.append("prometheus_retention_time and prometheus_retention_size are both empty: set at least one")
    if is_duration(settings.get("scrape_interval")) and is_duration(settings.get("scrape_timeout")):
        if _seconds(settings["scrape_timeout"]) > _seconds(settings["scrape_interval"]):
            problems.append("prometheus_scrape_timeout %s is longer than prometheus_scrape_interval %s"
                            % (settings["scrape_timeout"], settings["scrape_interval"]))
    for job, value in (settings.get("scrape_intervals") or {}).items():
        if job not in JOBS:
            problems.append("prometheus_scrape_intervals: %r is not a scrape job (%s)" % (job, ", ".join(JOBS)))
        elif not is_duration(value):
            problems.append("prometheus_scrape_intervals.%s: %r is not a Prometheus duration" % (job, value))
    try:
        _port(settings.get("port"), "prometheus_port")
    except TopologyError as exc:
        problems.append(str(exc))
    for label in ("site", "region"):
        value = settings.get(label)
        if value is not None and not isinstance(value, str):
            problems.append("prometheus_%s: %r is not a string" % (label, value))
    return problems


def alert_settings_problems(defaults: t.Mapping[str, t.Any], overrides: t.Mapping[str, t.Any]) -> list[str]:
    """What is wrong with ``prometheus_alert_settings`` (``overrides``) over the role's ``defaults``: unknown keys,
    durations (``*_for``, ``rate_window``, ``*_lookback``) Prometheus would not parse, thresholds that are not
    positive numbers."""
    problems = []
    for key, value in (overrides or {}).items():
        where = "prometheus_alert_settings.%s" % key
        if key not in defaults:
            problems.append("%s is not an alert setting (known: %s)" % (where, ", ".join(sorted(defaults))))
        elif key.endswith(("_for", "_lookback")) or key == "rate_window":
            if not is_duration(value):
                problems.append("%s: %r is not a Prometheus duration (for example 30s, 5m, 1h)" % (where, value))
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            problems.append("%s: %r is not a positive number" % (where, value))
    return problems


def _seconds(value: str) -> float:
    return parse_duration(value) / 1000.0
