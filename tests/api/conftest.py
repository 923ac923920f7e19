# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Import ``kaizen_hybrid`` from this checkout's src/ (no install needed).

Run from a checkout, the package finds the collection through
``collections/ansible_collections/kaizen/hybrid``, the link back to the
checkout; an installed copy (``pip install .``) would shadow it, so src/ goes
first on ``sys.path``.
"""

from __future__ import annotations

import os
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir))
SRC = os.path.join(ROOT, "src")
TESTS_API = os.path.dirname(os.path.abspath(__file__))

for _path in (SRC, TESTS_API):
    if _path not in sys.path:
        sys.path.insert(0, _path)
