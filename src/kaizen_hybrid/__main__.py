# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``python -m kaizen_hybrid`` is ``kaizen-hybrid``."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    main()
