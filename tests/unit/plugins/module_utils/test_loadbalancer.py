# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/loadbalancer.py: the load balancer's settings checked in preflight."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from ansible_collections.kaizen.hybrid.plugins.module_utils.loadbalancer import certificate_name_problems, settings_problems

ROLE_DEFAULTS = yaml.safe_load((pathlib.Path(__file__).resolve().parents[4] / "roles" / "loadbalancer" / "defaults" / "main.yml").read_text())


def settings(**changes):
    values = {name[len("loadbalancer_"):]: value for name, value in ROLE_DEFAULTS.items()}
    values.update(server_names=["kaizen.example.com"], tls_cert_file="/etc/kaizen/pki/host-fullchain.crt", tls_key_file="/etc/kaizen/pki/host.key")
    values.update(changes)
    return values


def test_the_role_defaults_pass():
    assert settings_problems(settings()) == []


@pytest.mark.parametrize("changes, expected", [
    ({"rate_limit_per_minute": 0}, "loadbalancer_rate_limit_per_minute must be a positive integer"),
    ({"rate_limit_per_minute": "100r/m"}, "loadbalancer_rate_limit_per_minute must be a positive integer"),
    ({"rate_limit_enabled": "yes"}, "loadbalancer_rate_limit_enabled must be true or false"),
    ({"client_max_body_size": "10 MB"}, "loadbalancer_client_max_body_size must be an nginx size"),
    ({"proxy_read_timeout": "thirty"}, "loadbalancer_proxy_read_timeout must be an nginx time"),
    ({"tls_protocols": ["TLSv1", "TLSv1.3"]}, "TLSv1 not allowed"),
    ({"tls_protocols": []}, "non-empty list"),
    ({"server_names": ["kaizen example"]}, "is not a host name"),
    ({"rate_limit_exempt_cidrs": ["10.0.0.0/33"]}, "is not a CIDR"),
    ({"tls_key_file": "host.key"}, "loadbalancer_tls_key_file must be an absolute path"),
    ({"https_port": 70000}, "loadbalancer_https_port must be an integer"),
])
def test_each_wrong_setting_is_named(changes, expected):
    problems = settings_problems(settings(**changes))
    assert len(problems) == 1 and expected in problems[0], problems


@pytest.mark.parametrize("sans, names", [
    (["DNS:lb1", "IP:10.0.0.5", "DNS:kaizen.example.com"], ["kaizen.example.com"]),
    (["DNS:Kaizen.Example.com"], ["kaizen.example.com."]),
    (["DNS:*.example.com"], ["kaizen.example.com", "api.example.com"]),
    (["DNS:*.example.com"], ["*.example.com"]),
    (["DNS:lb1"], ["_"]),
    ([], []),
])
def test_a_certificate_valid_for_every_name_passes(sans, names):
    assert certificate_name_problems(sans, names, "/etc/kaizen/pki/host-fullchain.crt") == []


@pytest.mark.parametrize("sans, names, missing", [
    (["DNS:lb1", "IP:10.0.0.5"], ["_", "kaizen.example.com"], "kaizen.example.com"),
    # A wildcard stands for one whole label: not for two, not for the bare domain, not for a wildcard name.
    (["DNS:*.example.com"], ["a.b.example.com"], "a.b.example.com"),
    (["DNS:*.example.com"], ["example.com"], "example.com"),
    (["DNS:kaizen.example.com"], ["*.example.com"], "*.example.com"),
    # An IP entry is not a name, even when it reads like one.
    (["IP:10.0.0.5"], ["10.0.0.5"], "10.0.0.5"),
    (None, ["kaizen.example.com", "www.example.com"], "kaizen.example.com, www.example.com"),
])
def test_each_name_the_certificate_is_not_valid_for_is_named(sans, names, missing):
    problems = certificate_name_problems(sans, names, "/srv/own.crt")
    assert len(problems) == 1
    assert problems[0].startswith("/srv/own.crt is not valid for %s (" % missing)
    assert "loadbalancer_server_names" in problems[0]
