# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small value helpers shared by the settings checks (controller side and modules alike).

The one place that says what counts as a whole number, a port and a boolean
in a variable. Only Ansible's own boolean parsing is imported, so a module
that uses one ships only this file.
"""

from __future__ import annotations

import typing as t

from ansible.module_utils.parsing.convert_bool import boolean


def as_int(value: t.Any) -> int | None:
    """A whole number given as an int or as digits; None for anything else (a bool, a float, other text)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def is_int(value: t.Any) -> bool:
    """An int as YAML gives it (a bool is not one); text digits are not either."""
    return isinstance(value, int) and not isinstance(value, bool)


def as_port(value: t.Any) -> int | None:
    """A TCP port (1-65535) given as an int or as digits; None for anything else."""
    port = as_int(value)
    return port if port is not None and 1 <= port <= 65535 else None


def as_bool(value: t.Any) -> bool | None:
    """A boolean as Ansible reads one (``yes``, ``on``, ``1``, ``true``, ...); None for anything else."""
    try:
        return boolean(value, strict=True)
    except TypeError:
        return None
