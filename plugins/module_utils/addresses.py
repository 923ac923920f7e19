# -*- coding: utf-8 -*-
# Copyright: (c) 2025, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Endpoints written the one way: ``host:port`` with an IPv6 address in brackets.

Standard library only: used by the filters on the controller and by the modules
on the managed hosts alike (filter ``kaizen.hybrid.host_port``).
"""

from __future__ import annotations

import typing as t


def bracketed(host: t.Any) -> str:
    """``host``, in brackets when it is an IPv6 address (``[2001:db8::1]``); names and IPv4 as they are."""
    text = str(host)
    return "[%s]" % text if ":" in text and not text.startswith("[") else text


def host_port(host: t.Any, port: t.Any) -> str:
    """``host:port``, the host bracketed when it is an IPv6 address (``[2001:db8::1]:5432``)."""
    return "%s:%s" % (bracketed(host), port)
