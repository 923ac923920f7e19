# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The copier of Patroni's metrics (roles/postgresql/files/patroni_metrics.py) on Patroni 3.0.2's own output."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[3] / "roles" / "postgresql" / "files" / "patroni_metrics.py"

# What Patroni 3.0.2 serves on a replica: a timeline of None, and one sample with a space before its labels.
PATRONI_3_0_2 = """# HELP patroni_version Patroni semver without periods.
# TYPE patroni_version gauge
patroni_version{scope="kaizen"} 030002
patroni_replica{scope="kaizen"} 1
patroni_postgres_server_version {scope="kaizen"} 150020
patroni_postgres_timeline{scope="kaizen"} None
patroni_xlog_replayed_timestamp{scope="kaizen"} 1796197748.728916
broken
"""


def _script():
    spec = importlib.util.spec_from_file_location("patroni_metrics", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_samples_without_a_number_are_dropped_and_the_rest_made_valid():
    assert list(_script().samples(PATRONI_3_0_2)) == [
        "# HELP patroni_version Patroni semver without periods.",
        "# TYPE patroni_version gauge",
        'patroni_version{scope="kaizen"} 030002',
        'patroni_replica{scope="kaizen"} 1',
        'patroni_postgres_server_version{scope="kaizen"} 150020',
        'patroni_xlog_replayed_timestamp{scope="kaizen"} 1796197748.728916',
    ]


def test_an_api_that_does_not_answer_leaves_only_kaizen_patroni_up_0(tmp_path, monkeypatch):
    script = _script()
    output = tmp_path / "kaizen_patroni.prom"
    ca = tmp_path / "ca.crt"
    ca.write_text("")
    monkeypatch.setattr("sys.argv", ["patroni_metrics.py", "https://127.0.0.1:9/metrics", str(ca), str(output)])
    script.main()
    assert output.read_text().splitlines()[-1] == "kaizen_patroni_up 0"
    assert oct(output.stat().st_mode & 0o777) == "0o644"
