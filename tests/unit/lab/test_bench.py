# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What lab/bench.py reads from a converge: the tasks that ran on each host."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "lab" / "bench.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tasks_that_ran_per_host_come_from_the_recap():
    stdout = """PLAY RECAP *********
localhost                  : ok=3    changed=0    unreachable=0    failed=0    skipped=5    rescued=0    ignored=0
lb1                        : ok=178  changed=87   unreachable=0    failed=0    skipped=43   rescued=0    ignored=0
pg1                        : ok=150  changed=0    unreachable=0    failed=1    skipped=40   rescued=0    ignored=0
"""
    assert _bench().tasks_per_host(stdout) == {"lb1": {"ran": 178, "changed": 87, "skipped": 43},
                                               "pg1": {"ran": 151, "changed": 0, "skipped": 40}}
    assert _bench().tasks_per_host("") == {}


def test_the_goals_are_the_issues():
    assert _bench().GOALS == {"converge_to_apt_floor": 2.0, "reconverge_to_converge": 0.25}
