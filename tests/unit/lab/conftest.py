# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab harness (molecule/shared/labtest) and its driver are importable here, as they are to the scenarios."""

from __future__ import annotations

import os
import sys

_SHARED = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, os.pardir, "molecule", "shared"))
if _SHARED not in sys.path:
    sys.path.insert(0, _SHARED)
