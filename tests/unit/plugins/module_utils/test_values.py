# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What counts as a whole number, a port and a boolean in a variable: one answer for every check."""

from __future__ import annotations

import pytest

from ansible_collections.kaizen.hybrid.plugins.module_utils.values import as_bool, as_int, as_port, is_int


@pytest.mark.parametrize("value, expected", [
    (0, 0), (5432, 5432), ("5432", 5432), (" 12 ", 12),
    (True, None), (False, None), (5.0, None), ("5.0", None), ("-1", None), ("", None), (None, None), ("12a", None),
])
def test_as_int(value, expected):
    assert as_int(value) == expected


@pytest.mark.parametrize("value, expected", [
    (1, True), (0, True), (-3, True), (True, False), ("1", False), (1.0, False), (None, False),
])
def test_is_int_takes_ints_as_yaml_gives_them(value, expected):
    assert is_int(value) is expected


@pytest.mark.parametrize("value, expected", [
    (1, 1), (65535, 65535), ("6379", 6379), (0, None), (65536, None), ("70000", None), (True, None), ("http", None),
])
def test_as_port(value, expected):
    assert as_port(value) == expected


@pytest.mark.parametrize("value, expected", [
    (True, True), (False, False), ("yes", True), ("On", True), ("1", True), (1, True), ("true", True),
    ("no", False), ("off", False), ("0", False), (0, False), ("false", False),
    ("maybe", None), ("", None), (None, None), (2, None),
])
def test_as_bool_reads_booleans_as_ansible_does(value, expected):
    assert as_bool(value) is expected
