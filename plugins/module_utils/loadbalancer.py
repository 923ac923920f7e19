# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nginx load balancer's settings, checked before any host changes.

``nginx -t`` catches a configuration nginx cannot load, but only on the host and only after
the preceding tiers ran. :func:`settings_problems` catches the mistakes one can tell from the
variables themselves (a rate limit that is not a positive integer, sizes and times nginx will not
parse, protocols outside TLS 1.2/1.3, exempt networks that do not parse) in preflight, with the
variable's name.

No Ansible imports: unit-tested directly.
"""

from __future__ import annotations

import ipaddress
import re
import typing as t

from ansible_collections.kaizen.hybrid.plugins.module_utils.values import is_int

_SIZE = re.compile(r"^[0-9]+[kKmMgG]?$")
_TIME = re.compile(r"^(?:[0-9]+(?:ms|s|m|h|d|w|M|y)?)+$")
PROTOCOLS = ("TLSv1.2", "TLSv1.3")
_SERVER_NAME = re.compile(r"^(?:\*\.)?[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$|^_$")


def settings_problems(settings: t.Mapping[str, t.Any]) -> list[str]:
    """Problems of the loadbalancer role's variables (keys without the ``loadbalancer_`` prefix)."""
    problems: list[str] = []

    def var(name: str) -> t.Any:
        return settings.get(name)

    rate = var("rate_limit_per_minute")
    if not is_int(rate) or rate < 1:
        problems.append("loadbalancer_rate_limit_per_minute must be a positive integer (requests per minute per client), not %r" % (rate,))
    if not isinstance(var("rate_limit_enabled"), bool):
        problems.append("loadbalancer_rate_limit_enabled must be true or false, not %r" % (var("rate_limit_enabled"),))
    for name in ("client_max_body_size",):
        value = var(name)
        if not isinstance(value, str) or not _SIZE.match(value):
            problems.append("loadbalancer_%s must be an nginx size such as 10m or 512k, not %r" % (name, value))
    for name in ("proxy_connect_timeout", "proxy_read_timeout", "proxy_send_timeout", "client_body_timeout",
                 "client_header_timeout", "upstream_fail_timeout"):
        value = var(name)
        if not isinstance(value, str) or not _TIME.match(value):
            problems.append("loadbalancer_%s must be an nginx time such as 30s or 1m, not %r" % (name, value))
    for name, minimum in (("upstream_max_fails", 0), ("upstream_keepalive", 0), ("hsts_max_age", 0), ("https_port", 1),
                          ("http_port", 1), ("proxy_next_upstream_tries", 0)):
        value = var(name)
        if not is_int(value) or value < minimum or (name.endswith("_port") and value > 65535):
            problems.append("loadbalancer_%s must be an integer of at least %d, not %r" % (name, minimum, value))
    protocols = var("tls_protocols")
    if not isinstance(protocols, (list, tuple)) or not protocols:
        problems.append("loadbalancer_tls_protocols must be a non-empty list drawn from %s" % ", ".join(PROTOCOLS))
    else:
        wrong = [str(item) for item in protocols if item not in PROTOCOLS]
        if wrong:
            problems.append("loadbalancer_tls_protocols: %s not allowed; only %s (TLS 1.0 and 1.1 are broken and refused)"
                            % (", ".join(wrong), ", ".join(PROTOCOLS)))
    names = var("server_names")
    if not isinstance(names, (list, tuple)) or not names:
        problems.append("loadbalancer_server_names must be a non-empty list of host names")
    else:
        problems.extend("loadbalancer_server_names: %r is not a host name" % (name,) for name in names
                        if not isinstance(name, str) or not _SERVER_NAME.match(name))
    exempt = var("rate_limit_exempt_cidrs")
    if not isinstance(exempt, (list, tuple)):
        problems.append("loadbalancer_rate_limit_exempt_cidrs must be a list of CIDRs, not %r" % (exempt,))
    else:
        for cidr in exempt:
            try:
                ipaddress.ip_network(str(cidr), strict=False)
            except ValueError:
                problems.append("loadbalancer_rate_limit_exempt_cidrs: %r is not a CIDR" % (cidr,))
    cert, key = var("tls_cert_file"), var("tls_key_file")
    for name, value in (("tls_cert_file", cert), ("tls_key_file", key)):
        if not isinstance(value, str) or not value.startswith("/"):
            problems.append("loadbalancer_%s must be an absolute path on the load balancer, not %r" % (name, value))
    return problems


def _covers(san: str, name: str) -> bool:
    """Whether the DNS SAN ``san`` is valid for ``name`` (RFC 6125: a wildcard stands for one whole left-most label)."""
    san, name = san.lower().rstrip("."), name.lower().rstrip(".")
    if san == name:
        return True
    if not san.startswith("*.") or name.startswith("*."):
        return False
    label, rest = name.split(".", 1) if "." in name else (name, "")
    return bool(label) and rest == san[2:]


def certificate_name_problems(sans: t.Any, names: t.Any, path: str = "the certificate") -> list[str]:
    """Problems when the certificate whose subjectAltName entries are ``sans`` (``DNS:x``, ``IP:y``, as
    community.crypto's x509_certificate_info gives them) is not valid for every server name in ``names``
    (nginx's catch-all ``_`` aside): a client verifying it by that name would refuse the connection."""
    dns = [str(entry)[4:] for entry in sans or [] if str(entry).upper().startswith("DNS:")]
    missing = [str(name) for name in names or [] if name != "_" and not any(_covers(san, str(name)) for san in dns)]
    if not missing:
        return []
    which = "that name" if len(missing) == 1 else "those names"
    return ["%s is not valid for %s (its DNS names: %s): clients connecting by %s would fail certificate verification; "
            "with the pki role's certificate the names come from loadbalancer_server_names (pki_service_names), "
            "a certificate of your own must carry them" % (path, ", ".join(missing), ", ".join(dns) or "none", which)]
