# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real playbooks through the API against lab hosts the session created.

h2 gets kaizen.hybrid.site in check mode first (what would change, nothing
changed), h1 the real deploy (site: preflight, then the baseline roles), with
the CA passphrase as a vault variable that must appear in no artifact and no
event. Small test playbooks give a deterministic failure and a long task to
cancel.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from pathlib import Path

import kaizen_hybrid
from kaizen_hybrid import (
    PlaybookStats,
    PlayStarted,
    TaskChanged,
    TaskFailed,
    TaskOk,
    TaskStarted,
    TaskUnreachable,
)

PLAYBOOKS = Path(__file__).resolve().parent.parent / "playbooks"


def _grep(directory: Path, *needles: str) -> list[str]:
    hits = []
    for path in directory.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits.extend("%s in %s" % (needle[:6], path) for needle in needles if needle.encode() in data)
    return hits


def _events_text(events) -> str:
    return json.dumps([e.to_dict(include_result=True) for e in events])


def test_check_mode_reports_what_would_change_and_changes_nothing(lab, tmp_path, site_secrets):
    seen = []
    result = kaizen_hybrid.deploy(
        site_secrets.site_inventory(lab, "h2"),
        check=True,
        vault_password=lambda: site_secrets.vault_password,
        event_handler=seen.append,
        artifacts_dir=tmp_path / "artifacts",
    )
    assert result.ok, result.failures or result.errors
    assert result.check
    assert result.changed_hosts == ("h2",)
    assert result.stats["h2"].changed > 0 and result.stats["h2"].failed == 0
    would_change = {e.task for e in seen if isinstance(e, TaskChanged)}
    assert any("packages" in task.lower() for task in would_change), would_change
    # ... and nothing changed: not on the host, not on the controller.
    assert not lab.file_exists("h2", "/etc/sysctl.d/60-kaizen.conf")
    assert not lab.file_exists("h2", "/etc/kaizen/pki")
    assert lab.exec("h2", "dpkg-query", "-W", "-f=${Status}", "chrony", check=False).stdout.strip() != "install ok installed"
    assert not site_secrets.ca_dir.exists()


def test_deploy_reports_stats_and_changed_hosts_and_keeps_the_secret(lab, tmp_path, site_secrets):
    passphrase, vault_password = site_secrets.passphrase, site_secrets.vault_password
    seen = []

    def handler(event):
        seen.append(event)  # returns None

    started = time.monotonic()
    result = kaizen_hybrid.deploy(
        site_secrets.site_inventory(lab, "h1"),
        vault_password=lambda: vault_password,
        event_handler=handler,
        artifacts_dir=tmp_path / "artifacts",
    )
    print("deploy on one fresh host: %.1fs" % (time.monotonic() - started))
    assert result.ok and result.rc == 0, result.failures or result.errors
    assert result.stats_complete and result.failures == ()
    # The preflight runs on the controller (run_once, reported for h1) and
    # changes nothing; h1 is converged.
    assert set(result.stats) == {"h1"}
    assert result.stats["h1"].changed > 0 and result.stats["h1"].succeeded
    assert result.changed_hosts == ("h1",)
    # The preflight plays come first, then the baseline; later tiers' plays
    # match no host of this inventory (h1 is in no group).
    plays = [e.play for e in seen if isinstance(e, PlayStarted)]
    preflight = [play for play in plays if play.startswith("Preflight | ")]
    assert preflight[0] == "Preflight | Validate the topology"
    assert plays[: len(preflight) + 1] == [*preflight, "Baseline every host"], plays
    assert list(result.plays) == plays
    recap = [e for e in seen if isinstance(e, PlaybookStats)]
    assert len(recap) == 1 and dict(recap[0].hosts) == dict(result.stats)
    changed_events = [e for e in seen if isinstance(e, TaskChanged)]
    assert {e.host for e in changed_events} == {"h1"}
    assert len(changed_events) == result.stats["h1"].changed
    assert lab.file_exists("h1", "/etc/kaizen/pki/host.crt")
    assert any(site_secrets.ca_dir.iterdir())  # the CA, made on the controller
    # The vault variable (and the vault password) are in no artifact and no event.
    assert _grep(result.artifact_dir, passphrase, vault_password) == []
    text = _events_text(seen)
    assert passphrase not in text and vault_password not in text


def test_failing_task_is_a_structured_failure(lab, tmp_path):
    inventory = lab.inventory()
    inventory["all"]["hosts"]["ghost"] = {"ansible_host": "kaizen-apitest-%s-ghost" % lab.run_id, "kaizen_address": "192.0.2.1"}
    seen = []
    result = kaizen_hybrid.run_playbook(
        PLAYBOOKS / "outcomes.yml", inventory, event_handler=seen.append, artifacts_dir=tmp_path
    )
    assert result.status == "failed" and result.rc == 4  # ansible: some host unreachable
    failures = {(f.host, f.task): f for f in result.failures}
    assert set(failures) == {("h1", "API test | Fail on the first host"), ("ghost", "API test | Ping")}
    real = failures[("h1", "API test | Fail on the first host")]
    assert real.message == "kaizen api test: deliberate failure on h1"
    assert real.play == "API test | Outcomes" and not real.unreachable
    assert failures[("ghost", "API test | Ping")].unreachable
    # Rescued and ignored failures are counted, not reported.
    assert result.stats["h1"].rescued == 1 and result.stats["h1"].ignored == 1
    assert result.stats["h2"].failed == 0
    assert any(isinstance(e, TaskOk) and e.host == "h2" and e.task == "API test | Still running on the other hosts" for e in seen)
    assert any(isinstance(e, TaskUnreachable) and e.host == "ghost" for e in seen)
    assert [e.host for e in seen if isinstance(e, TaskFailed) and not e.ignored and e.task.endswith("first host")] == ["h1"]
    assert result.failed_hosts == ("ghost", "h1")


def test_cancel_stops_the_run(lab, tmp_path):
    started = threading.Event()

    def handler(event):
        if isinstance(event, TaskStarted) and event.task == "API test | Sleep":
            started.set()

    handle = kaizen_hybrid.run_playbook_async(
        PLAYBOOKS / "long.yml",
        lab.inventory(only=("h1",)),
        extra_vars={"api_test_sleep": 300},
        event_handler=handler,
        artifacts_dir=tmp_path,
    )
    assert started.wait(120), "the long task never started"
    time.sleep(1)
    t0 = time.monotonic()
    threading.Thread(target=handle.cancel).start()
    result = handle.wait(60)
    assert result is not None, "the run did not stop within 60 s of cancel()"
    stop_time = time.monotonic() - t0
    print("cancel took %.2fs" % stop_time)
    assert stop_time < 15
    assert result.status == "canceled" and result.rc == 254
    assert not result.stats_complete and result.stats["h1"].ok == 0  # started, never finished
    # The task after the long one never ran; nothing of the run is left on the controller.
    time.sleep(1)
    assert not lab.file_exists("h1", "/root/kaizen-api-after-sleep")
    private = json.loads((result.artifact_dir / "command").read_text())["cwd"]
    import subprocess

    leftovers = subprocess.run(["pgrep", "-f", private], capture_output=True, text=True, timeout=10, check=False)
    assert leftovers.stdout.strip() == ""
    # ansible stops its own processes; a command already running on the host
    # is the host's (as with Ctrl-C on ansible-playbook): clean it up here.
    lab.exec("h1", "pkill", "-f", "sleep 300", check=False)


def test_secret_vault_variables_appear_in_no_artifact_and_no_event(lab, tmp_path, site_secrets):
    vault_password = site_secrets.vault_password
    inventory_secret = secrets.token_hex(20)
    api_token = secrets.token_hex(20)
    inventory = lab.inventory(only=("h1",), api_test_secret=site_secrets.vaulted(inventory_secret))
    seen = []
    result = kaizen_hybrid.run_playbook(
        PLAYBOOKS / "secret.yml",
        inventory,
        secret_vars={"api_test_token": api_token},  # encrypted for the run by the API
        vault_password=lambda: vault_password,
        event_handler=seen.append,
        artifacts_dir=tmp_path,
        diff=True,
        verbosity=1,
    )
    assert result.ok, result.failures or result.errors
    # The secrets reached the host...
    assert lab.exec("h1", "cat", "/root/kaizen-api-secret").stdout == "%s\n%s\n" % (inventory_secret, api_token)
    # ... and nothing else.
    assert sum(1 for p in result.artifact_dir.rglob("*") if p.is_file()) > 5
    assert _grep(result.artifact_dir, inventory_secret, api_token, vault_password) == []
    text = _events_text(seen)
    assert inventory_secret not in text and api_token not in text and vault_password not in text
    argv = json.loads((result.artifact_dir / "command").read_text())["command"]
    secret_paths = [a.split("@", 1)[1] for a in argv if a.startswith("kaizen_run@")]
    secret_paths += [argv[i + 1] for i, a in enumerate(argv) if a == "--vault-password-file"]
    assert len(secret_paths) == 2 and not any(Path(p).exists() for p in secret_paths)
