# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Firewall filters: the rules of a host from the topology, as nftables, and whether they admit an address.

Thin wrappers over ``plugins/module_utils/firewall.py``; each filter has its documentation in
``plugins/filter/<name>.yml``.
"""

from __future__ import annotations

import typing as t

from ansible_collections.kaizen.hybrid.plugins.plugin_utils.filters import filter_errors, module_utils, plain, topology_of

firewall = module_utils("firewall")


@filter_errors
def firewall_rules(hostname: str, groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any],
                   settings: t.Any = None) -> dict[str, t.Any]:
    return firewall.host_rules(topology_of(groups, hostvars), str(hostname), plain(settings) or {})


@filter_errors
def firewall_nft(rules: t.Mapping[str, t.Any]) -> str:
    return firewall.nft_ruleset(plain(rules) or {})


@filter_errors
def firewall_admits(rules: t.Mapping[str, t.Any], address: t.Any, port: t.Any) -> bool:
    return firewall.admits(plain(rules) or {}, str(address), int(port))


class FilterModule:
    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {
            "firewall_rules": firewall_rules,
            "firewall_nft": firewall_nft,
            "firewall_admits": firewall_admits,
        }
