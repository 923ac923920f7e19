# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's test harness: what the molecule scenarios measure on the hosts they created, and how.

``timeline``, ``writers`` and ``load`` measure (outages, pauses, failed requests) and are unit-tested
with known timelines (tests/unit/lab/); ``report`` turns checks and figures into the results files;
``runs`` runs playbooks and the CLI; ``hosts`` acts on lab hosts (kill, start, exec); the tier modules
(``postgresql``, ``redis``, ``app``, ``monitoring``) hold the day-2 tests; ``molecule/shared/scenario.py``
runs them. Every loop is bounded in count and time, and only the scenario's own lab hosts are addressed.
"""
