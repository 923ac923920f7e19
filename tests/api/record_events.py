# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record the ansible-runner event dicts the unit tests replay.

    .venv/bin/python tests/api/record_events.py

Creates two lab hosts (h1, h2) plus an inventory host that does not exist
(ghost), runs playbooks/outcomes.yml through ansible-runner with a raw event
handler, keeps the fields the parser reads (paths made relative, container
names replaced) and writes unit/fixtures/outcomes.jsonl. Run it again when
ansible-runner's event format changes.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "src"))

from labhosts import LabHosts  # noqa: E402

KEEP_DATA = (
    "host", "task", "play", "play_uuid", "play_pattern", "pattern", "name", "playbook", "task_action",
    "resolved_action", "role", "task_uuid", "task_path", "res", "duration", "ignore_errors",
    "changed", "dark", "failures", "ok", "processed", "rescued", "skipped", "ignored",
)


def main() -> int:
    import ansible_runner

    hosts = LabHosts(("h1", "h2")).start()
    recorded = []
    try:
        inventory = hosts.inventory()
        inventory["all"]["hosts"]["ghost"] = {"ansible_host": "kaizen-apitest-does-not-exist", "kaizen_address": "192.0.2.1"}
        with tempfile.TemporaryDirectory() as private:
            def keep(raw):
                data = {k: v for k, v in (raw.get("event_data") or {}).items() if k in KEEP_DATA}
                event = {
                    "event": raw.get("event"), "counter": raw.get("counter"), "uuid": raw.get("uuid"),
                    "created": raw.get("created"), "stdout": raw.get("stdout", ""), "event_data": data,
                }
                text = json.dumps(event).replace(str(HERE.parents[1]) + "/", "").replace(hosts.run_id, "RUNID")
                recorded.append(json.loads(text))
                return True

            runner = ansible_runner.run(
                private_data_dir=private, playbook=str(HERE / "playbooks" / "outcomes.yml"), inventory=inventory,
                quiet=True, event_handler=keep, envvars={"ANSIBLE_NOCOLOR": "1", "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]},
            )
            print("status", runner.status, "rc", runner.rc)
    finally:
        hosts.remove()
    out = HERE / "unit" / "fixtures" / "outcomes.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as handle:
        for event in recorded:
            handle.write(json.dumps(event, sort_keys=True) + "\n")
    print("wrote %d events to %s" % (len(recorded), os.path.relpath(out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
