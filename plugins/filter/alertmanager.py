# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Alertmanager filters: the configuration, its secret files, the daemon's arguments, and the problems of the
alertmanager role's variables.

Thin wrappers over ``plugins/module_utils/alertmanager.py``; each filter has its documentation in
``plugins/filter/<name>.yml``.
"""

from __future__ import annotations

import typing as t
from collections.abc import Mapping

import yaml

from ansible_collections.kaizen.hybrid.plugins.plugin_utils.filters import filter_errors, module_utils, plain

alertmanager = module_utils("alertmanager")


def _native(value: t.Any) -> t.Any:
    """Plain Python types all the way down: templated values may be subclasses of str or int, which PyYAML's safe
    dumper refuses."""
    if isinstance(value, Mapping):
        return {_native(key): _native(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_native(item) for item in value]
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str.__str__(value)
    return value


def _settings(settings: t.Any) -> dict[str, t.Any]:
    return _native(plain(settings) or {})


def alertmanager_problems(settings: t.Mapping[str, t.Any]) -> list[str]:
    return alertmanager.settings_problems(_settings(settings))


@filter_errors
def alertmanager_config(settings: t.Mapping[str, t.Any]) -> str:
    config = alertmanager.config(_settings(settings))
    return yaml.safe_dump(config, default_flow_style=False, sort_keys=False, allow_unicode=True, width=4096)


@filter_errors
def alertmanager_secret_files(settings: t.Mapping[str, t.Any]) -> list[dict[str, str]]:
    return alertmanager.secret_files(_settings(settings))


@filter_errors
def alertmanager_args(settings: t.Mapping[str, t.Any]) -> list[str]:
    return alertmanager.daemon_args(_settings(settings))


class FilterModule:
    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {
            "alertmanager_problems": alertmanager_problems,
            "alertmanager_config": alertmanager_config,
            "alertmanager_secret_files": alertmanager_secret_files,
            "alertmanager_args": alertmanager_args,
        }
