# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HAProxy filters (the PostgreSQL read-write and read-only ports on the app hosts).

Thin wrappers over ``plugins/module_utils/haproxy.py``; each filter has its documentation in
``plugins/filter/<name>.yml``.
"""

from __future__ import annotations

import typing as t

from ansible_collections.kaizen.hybrid.plugins.plugin_utils.filters import module_utils, plain

haproxy = module_utils("haproxy")


def haproxy_settings_problems(settings: t.Mapping[str, t.Any]) -> list[str]:
    return haproxy.settings_problems(plain(settings) or {})


class FilterModule:
    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"haproxy_settings_problems": haproxy_settings_problems}
