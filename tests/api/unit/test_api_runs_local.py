# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real runs through ansible-runner on the controller (connection local): the
run's hygiene, fast enough for the unit suite. Runs against lab hosts are in
tests/api/integration."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import kaizen_hybrid
from kaizen_hybrid import RunStatusChanged, TaskStarted, ValidationError

HERE = Path(__file__).resolve().parent
PLAYBOOKS = HERE.parent / "playbooks"
ROOT = HERE.parents[2]
GOOD = ROOT / "tests" / "integration" / "fixtures" / "preflight" / "good"
LOCAL = {"all": {"hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}


def _files(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.is_file()]


def _grep(directory: Path, *needles: str) -> list[str]:
    hits = []
    for path in _files(directory):
        data = path.read_bytes()
        hits.extend("%s in %s" % (needle, path) for needle in needles if needle.encode() in data)
    return hits


def _command(result) -> dict:
    return json.loads((result.artifact_dir / "command").read_text(encoding="utf-8"))


def test_preflight_with_a_handler_that_returns_nothing(tmp_path):
    seen = []

    def handler(event):
        seen.append(event)  # returns None: ansible-runner would drop the event file

    result = kaizen_hybrid.preflight(GOOD, event_handler=handler, artifacts_dir=tmp_path)
    assert result.ok and result.rc == 0 and result.stats_complete
    # Preflight checks on the controller: nothing changes anywhere (the topology tasks run once, reported
    # for the first host; the app and load balancer checks for each of those hosts).
    assert result.changed_hosts == () and result.stats
    assert all(stats.changed == 0 and stats.failed == 0 and stats.ok > 0 for stats in result.stats.values())
    assert result.operation == "preflight" and result.playbook == "kaizen.hybrid.preflight"
    kinds = [e.kind for e in seen]
    assert kinds[:2] == ["run_status", "run_status"] and kinds[-1] == "run_status"
    assert "playbook_stats" in kinds and "play_started" in kinds
    # ... and the event files are written all the same.
    written = list((result.artifact_dir / "job_events").glob("*.json"))
    assert len(written) >= len([e for e in seen if not isinstance(e, RunStatusChanged)])
    assert (result.artifact_dir / "status").read_text() == "successful"


def test_the_run_is_isolated_and_recorded_without_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("KAIZEN_TEST_DB_PASSWORD", "env-secret-%s" % secrets.token_hex(8))
    result = kaizen_hybrid.preflight(
        GOOD, extra_vars={"kaizen_site_name": "unit"}, artifacts_dir=tmp_path / "artifacts", keep_artifacts=5
    )
    assert result.ok
    command = _command(result)
    private = Path(command["cwd"])
    assert private.is_absolute() and private.name.startswith("kaizen-hybrid-run-")
    assert not private.exists(), "the private data directory must be removed after the run"
    argv = command["command"]
    assert argv[0] == "ansible-playbook" and argv[-1] == "kaizen.hybrid.preflight"
    assert all(os.path.isabs(a[1:]) for a in argv if a.startswith("@"))
    assert command["env"]["ANSIBLE_COLLECTIONS_PATH"].split(os.pathsep)[0] == str(ROOT / "collections")
    assert command["env"]["ANSIBLE_HOST_KEY_CHECKING"] in ("True", os.environ.get("ANSIBLE_HOST_KEY_CHECKING"))
    assert os.environ["KAIZEN_TEST_DB_PASSWORD"] not in json.dumps(command)
    assert not (result.artifact_dir / "fact_cache").exists()
    assert oct((tmp_path / "artifacts").stat().st_mode & 0o777) == "0o700"


def test_artifacts_are_rotated(tmp_path):
    for _run in range(3):
        assert kaizen_hybrid.preflight(GOOD, artifacts_dir=tmp_path, keep_artifacts=2).ok
    assert len(list(tmp_path.iterdir())) == 2


def test_invalid_inputs_start_nothing(tmp_path):
    with pytest.raises(ValidationError):
        kaizen_hybrid.deploy(GOOD, extra_vars={"common_hosts_manage": "maybe"}, artifacts_dir=tmp_path / "a")
    assert not (tmp_path / "a").exists()


def test_secret_vars_and_vault_password_leave_no_trace(tmp_path):
    secret = secrets.token_hex(20)
    token = secrets.token_hex(20)
    password = "vault-pw-%s" % secrets.token_hex(8)
    target = tmp_path / "written" / "secret"
    target.parent.mkdir()
    seen = []
    result = kaizen_hybrid.run_playbook(
        PLAYBOOKS / "secret.yml",
        LOCAL,
        extra_vars={"api_test_secret_file": str(target)},
        secret_vars={"api_test_secret": secret, "api_test_token": token},
        vault_password=lambda: password,
        event_handler=seen.append,
        artifacts_dir=tmp_path / "artifacts",
    )
    assert result.ok, result
    assert target.read_text() == "%s\n%s\n" % (secret, token)  # the secrets did arrive
    assert _grep(tmp_path / "artifacts", secret, token, password) == []
    events = json.dumps([e.to_dict(include_result=True) for e in seen])
    assert secret not in events and token not in events and password not in events
    argv = _command(result)["command"]
    secret_files = [a.split("@", 1)[1] for a in argv if a.startswith("kaizen_run@")]
    secret_files += [argv[i + 1] for i, a in enumerate(argv) if a == "--vault-password-file"]
    secret_files += [a[1:] for a in argv if a.startswith("@") and "secrets" in a]
    assert len(secret_files) == 3, argv
    assert not any(os.path.exists(p) for p in secret_files), "secret files must be removed after the run"


def test_vault_ids_and_the_user_reach_ansible_playbook(tmp_path):
    """Variables vaulted under a label of the user's, opened with --vault-id; --user on the command line."""
    from ansible.parsing.vault import VaultLib, VaultSecret

    password_file = tmp_path / "lab-vault-pass"
    password_file.write_text("lab-password\n")
    vault = VaultLib([("lab", VaultSecret(b"lab-password"))])
    secret, token = secrets.token_hex(20), secrets.token_hex(20)
    host = dict(LOCAL["all"]["hosts"]["localhost"], **{
        name: {"__ansible_vault": vault.encrypt(value, vault_id="lab").decode()} for name, value in (("api_test_secret", secret), ("api_test_token", token))})
    target = tmp_path / "secret"
    result = kaizen_hybrid.run_playbook(
        PLAYBOOKS / "secret.yml", {"all": {"hosts": {"localhost": host}}},
        extra_vars={"api_test_secret_file": str(target)}, vault_ids=["lab@%s" % password_file],
        remote_user="operator", artifacts_dir=tmp_path / "artifacts",
    )
    assert result.ok, result
    assert target.read_text() == "%s\n%s\n" % (secret, token)
    argv = _command(result)["command"]
    assert ["--vault-id", "lab@%s" % password_file.resolve()] == argv[argv.index("--vault-id"):argv.index("--vault-id") + 2]
    assert ["--user", "operator"] == argv[argv.index("--user"):argv.index("--user") + 2]


def test_cancel_from_another_thread(tmp_path):
    marker = tmp_path / "after-sleep"
    started = threading.Event()

    def handler(event):
        if isinstance(event, TaskStarted) and event.task == "API test | Sleep":
            started.set()

    handle = kaizen_hybrid.run_playbook_async(
        PLAYBOOKS / "long.yml",
        LOCAL,
        extra_vars={"api_test_sleep": 120, "api_test_marker_file": str(marker)},
        event_handler=handler,
        artifacts_dir=tmp_path / "artifacts",
    )
    assert started.wait(60), "the long task never started"
    t0 = time.monotonic()
    canceller = threading.Thread(target=handle.cancel)
    canceller.start()
    canceller.join(5)
    result = handle.wait(30)
    assert result is not None, "the run did not stop within 30 s of cancel()"
    assert time.monotonic() - t0 < 10
    assert result.status == "canceled" and result.canceled and result.rc == 254
    assert not result.stats_complete
    assert not marker.exists()
    private = _command(result)["cwd"]
    leftovers = subprocess.run(["pgrep", "-f", private], capture_output=True, text=True, timeout=10, check=False)
    assert leftovers.stdout.strip() == "", "ansible-playbook processes left behind"


def test_timeout(tmp_path):
    result = kaizen_hybrid.run_playbook(
        PLAYBOOKS / "long.yml",
        LOCAL,
        extra_vars={"api_test_sleep": 120, "api_test_marker_file": str(tmp_path / "m")},
        timeout=3,
        artifacts_dir=tmp_path,
    )
    assert result.status == "timeout" and result.duration < 30
