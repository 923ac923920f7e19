# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Docker engine's ``daemon.json``: built from the role's variables and checked before it is installed.

Debian 12's dockerd (20.10) has no ``--validate``; a wrong key or value only shows when the
engine refuses to start. :func:`problems` catches what can be told from the file itself (unknown
keys, values of the wrong shape, address pools that do not parse) so that a bad configuration is
refused before it replaces a working one; the role still restores the previous file if the engine
does not come back with the new one.

No Ansible imports: unit-tested directly.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
import typing as t

# Top-level keys dockerd accepts in daemon.json (20.10 and later; the later releases' additions
# are included so that a file written for Docker's own packages passes too).
KNOWN_KEYS = frozenset("""
allow-nondistributable-artifacts api-cors-header authorization-plugins bip bridge cgroup-parent cluster-advertise
cluster-store cluster-store-opts containerd containerd-namespace containerd-plugin-namespace cpu-rt-period
cpu-rt-runtime cri-containerd data-root debug default-address-pools default-cgroupns-mode default-gateway
default-gateway-v6 default-ipc-mode default-network-opts default-runtime default-shm-size default-ulimits dns
dns-opts dns-search exec-opts exec-root experimental features fixed-cidr fixed-cidr-v6 group hosts http-proxy
https-proxy icc init init-path insecure-registries ip ip-forward ip-masq ip6tables iptables ipv6 labels
live-restore log-driver log-format log-level log-opts max-concurrent-downloads max-concurrent-uploads
max-download-attempts metrics-addr mtu no-new-privileges no-proxy node-generic-resources oom-score-adjust pidfile
raw-logs registry-mirrors runtimes seccomp-profile selinux-enabled shutdown-timeout storage-driver storage-opts
swarm-default-advertise-addr tls tlscacert tlscert tlskey tlsverify userland-proxy userland-proxy-path userns-remap
""".split())

_SIZE = re.compile(r"^[1-9][0-9]*[kmg]?$")


def build(log_max_size: t.Any, log_max_file: t.Any, live_restore: t.Any, address_pools: t.Any, metrics_address: t.Any,
          extra: t.Any = None) -> dict[str, t.Any]:
    """``daemon.json`` as a mapping: json-file logs with rotation, live restore, pools, metrics, then ``extra``."""
    config: dict[str, t.Any] = {
        "log-driver": "json-file",
        "log-opts": {"max-size": str(log_max_size), "max-file": str(log_max_file)},
        "live-restore": bool(live_restore),
    }
    if address_pools:
        config["default-address-pools"] = [{"base": str(pool.get("base")), "size": pool.get("size")} if isinstance(pool, t.Mapping)
                                           else pool for pool in address_pools]
    if metrics_address:
        config["metrics-addr"] = str(metrics_address)
        # dockerd 20.10 serves metrics only with experimental features on.
        config["experimental"] = True
    if extra:
        config.update(dict(extra))
    return config


def _pool_problems(index: int, pool: t.Any) -> list[str]:
    where = "default-address-pools[%d]" % index
    if not isinstance(pool, t.Mapping) or set(pool) != {"base", "size"}:
        return ["%s: expected {base: <CIDR>, size: <prefix length>}, got %r" % (where, pool)]
    try:
        base = ipaddress.ip_network(str(pool["base"]), strict=True)
    except ValueError as exc:
        return ["%s: base %r is not a network in CIDR form (%s)" % (where, pool["base"], exc)]
    size = pool["size"]
    if isinstance(size, bool) or not isinstance(size, int):
        return ["%s: size %r is not a prefix length (an integer)" % (where, size)]
    if not base.prefixlen <= size <= base.max_prefixlen - 2:
        return ["%s: size %d must be between the base's prefix length %d and %d" % (where, size, base.prefixlen, base.max_prefixlen - 2)]
    return []


def problems(config: t.Any) -> list[str]:
    """Everything wrong with a ``daemon.json`` mapping that can be told without starting dockerd."""
    if not isinstance(config, t.Mapping):
        return ["daemon.json must be a mapping, got %r" % (config,)]
    found: list[str] = []
    for key in sorted(set(map(str, config)) - KNOWN_KEYS):
        close = difflib.get_close_matches(key, sorted(KNOWN_KEYS), n=1)
        found.append("unknown key %r%s" % (key, " (did you mean %s?)" % close[0] if close else ""))
    options = config.get("log-opts") or {}
    if config.get("log-driver", "json-file") == "json-file" and isinstance(options, t.Mapping):
        if "max-size" in options and not _SIZE.match(str(options["max-size"])):
            found.append("log-opts.max-size %r is not a size such as 10m, 512k or 1g" % options["max-size"])
        if "max-file" in options and not re.match(r"^[1-9][0-9]*$", str(options["max-file"])):
            found.append("log-opts.max-file %r is not a positive number of files" % options["max-file"])
    pools = config.get("default-address-pools")
    if pools is not None:
        if not isinstance(pools, list):
            found.append("default-address-pools must be a list, got %r" % (pools,))
        else:
            bases = []
            for index, pool in enumerate(pools):
                pool_problems = _pool_problems(index, pool)
                found.extend(pool_problems)
                if not pool_problems:
                    bases.append(ipaddress.ip_network(str(pool["base"])))
            for i, one in enumerate(bases):
                for other in bases[i + 1:]:
                    if one.version == other.version and one.overlaps(other):
                        found.append("default-address-pools: %s and %s overlap" % (one, other))
    metrics = config.get("metrics-addr")
    if metrics is not None:
        host, _sep, port = str(metrics).rpartition(":")
        try:
            ipaddress.ip_address(host.strip("[]"))
            valid_port = 0 < int(port) < 65536
        except ValueError:
            valid_port = False
        if not valid_port:
            found.append("metrics-addr %r is not <IP address>:<port>" % metrics)
    for key in ("live-restore", "experimental", "debug", "iptables", "icc"):
        if key in config and not isinstance(config[key], bool):
            found.append("%s must be true or false, got %r" % (key, config[key]))
    return found
