# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make ``ansible_collections.kaizen.hybrid`` importable from this checkout.

``collections/ansible_collections/kaizen/hybrid`` in the repository root links back
to the repository, so putting ``collections`` on ``sys.path`` resolves the collection
to the working tree. Under ``ansible-test units`` the collection is already importable
and this is a no-op.
"""

from __future__ import annotations

import os
import sys

_COLLECTIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "collections")
_COLLECTIONS = os.path.normpath(_COLLECTIONS)

if os.path.isdir(os.path.join(_COLLECTIONS, "ansible_collections", "kaizen", "hybrid")) and _COLLECTIONS not in sys.path:
    sys.path.insert(0, _COLLECTIONS)
