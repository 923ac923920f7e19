# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""App tier filters: the Kaizen settings and their environment, image references, app instances and the load
balancers' upstreams.

Thin wrappers over ``plugins/module_utils/kaizen_app.py`` and ``loadbalancer.py``; each filter has its
documentation in ``plugins/filter/<name>.yml``.
"""

from __future__ import annotations

import typing as t

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.kaizen.hybrid.plugins.plugin_utils.filters import filter_errors, module_utils, plain, topology_of

kaizen_app = module_utils("kaizen_app")
loadbalancer = module_utils("loadbalancer")


def app_settings_problems(settings: t.Mapping[str, t.Any]) -> list[str]:
    return kaizen_app.settings_problems(plain(settings) or {})


@filter_errors
def app_environment(settings: t.Mapping[str, t.Any], extra: t.Any = None) -> dict[str, str]:
    return kaizen_app.environment(plain(settings) or {}, plain(extra) or {})


@filter_errors
def app_env_file(env: t.Mapping[str, t.Any]) -> str:
    return kaizen_app.env_file(plain(env) or {})


def app_image_problems(reference: t.Any, variable: str = "app_image") -> list[str]:
    return kaizen_app.image_problems(reference, str(variable))


@filter_errors
def app_instances(host: str, count: t.Any, port_base: t.Any, name: str = "kaizen") -> list[dict[str, t.Any]]:
    return kaizen_app.instances(str(host), count, port_base, str(name))


@filter_errors
def loadbalancer_upstreams(groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any], drained: t.Any = None,
                           group: str = "app") -> list[dict[str, t.Any]]:
    if isinstance(drained, str):
        drained = [drained]
    return kaizen_app.upstreams(topology_of(groups, hostvars), drained or [], str(group))


@filter_errors
def app_rolling_plan(groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any], batch: t.Any = 1, allow_downtime: t.Any = False,
                     group: str = "app") -> dict[str, t.Any]:
    return kaizen_app.rolling_plan(topology_of(groups, hostvars), batch, boolean(allow_downtime, strict=False), str(group))


@filter_errors
def app_scale_plan(groups: t.Mapping[str, t.Any], hostvars: t.Mapping[str, t.Any], add: t.Any = None, remove: t.Any = None,
                   group: str = "app") -> dict[str, t.Any]:
    return kaizen_app.scale_plan(topology_of(groups, hostvars), plain(add), plain(remove), str(group))


def loadbalancer_problems(settings: t.Mapping[str, t.Any]) -> list[str]:
    return loadbalancer.settings_problems(plain(settings) or {})


def loadbalancer_certificate_problems(sans: t.Any, names: t.Any, path: str = "the certificate") -> list[str]:
    return loadbalancer.certificate_name_problems(plain(sans), plain(names), str(path))


class FilterModule:
    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {
            "app_settings_problems": app_settings_problems,
            "app_environment": app_environment,
            "app_env_file": app_env_file,
            "app_image_problems": app_image_problems,
            "app_instances": app_instances,
            "app_rolling_plan": app_rolling_plan,
            "app_scale_plan": app_scale_plan,
            "loadbalancer_upstreams": loadbalancer_upstreams,
            "loadbalancer_problems": loadbalancer_problems,
            "loadbalancer_certificate_problems": loadbalancer_certificate_problems,
        }
