# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Docker engine filters: the daemon.json the role installs, and its problems.

Thin wrappers over ``plugins/module_utils/docker_daemon.py``; each filter has its
documentation in ``plugins/filter/<name>.yml``.
"""

from __future__ import annotations

import typing as t

from ansible_collections.kaizen.hybrid.plugins.plugin_utils.filters import filter_errors, module_utils, plain

docker_daemon = module_utils("docker_daemon")


@filter_errors
def docker_daemon_config(log_max_size: t.Any, log_max_file: t.Any, live_restore: t.Any, address_pools: t.Any = None,
                         metrics_address: t.Any = None, extra: t.Any = None) -> dict[str, t.Any]:
    return docker_daemon.build(log_max_size, log_max_file, live_restore, plain(address_pools), metrics_address, plain(extra))


def docker_daemon_problems(config: t.Any) -> list[str]:
    return docker_daemon.problems(plain(config))


class FilterModule:
    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {
            "docker_daemon_config": docker_daemon_config,
            "docker_daemon_problems": docker_daemon_problems,
        }
