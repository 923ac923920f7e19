# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small value helpers shared by the settings checks (controller side and modules alike).

No Ansible imports, nothing else imported: a module that uses one ships only this file.
"""

from __future__ import annotations

import typing as t


def as_int(value: t.Any) -> int | None:
    """A whole number given as an int or as digits; None for anything else (a bool, a float, other text)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
