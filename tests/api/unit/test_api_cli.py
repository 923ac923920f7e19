# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kaizen-hybrid command: help, JSON lines, summary, exit codes, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import click

from kaizen_hybrid import exitcodes, options
from kaizen_hybrid.cli import EXIT_CODES
from kaizen_hybrid.result import RunResult

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "integration" / "fixtures" / "preflight"
PLAYBOOKS = Path(__file__).resolve().parent.parent / "playbooks"


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src")
    env["KAIZEN_HYBRID_ARTIFACTS"] = str(tmp_path / "artifacts")
    env.pop("ANSIBLE_CONFIG", None)
    return env


def kaizen(tmp_path: Path, *args: str, cwd: Path | None = None, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kaizen_hybrid", *args],
        cwd=cwd or tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_help_lists_the_commands_and_exit_codes(tmp_path):
    result = kaizen(tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    for command in ("deploy", "preflight", "verify", "switchover", "failover", "update", "run", "operations", "lab"):
        assert "  %s " % command in result.stdout
    for code in EXIT_CODES:
        assert "%d " % code in " ".join(result.stdout.split())
    lab = kaizen(tmp_path, "lab", "--help")
    assert "up " in lab.stdout and "down " in lab.stdout
    deploy = kaizen(tmp_path, "deploy", "--help")
    for option in ("--inventory", "--extra-vars", "--limit", "--user", "--ask-become-pass", "--tags", "--check", "--diff", "--forks",
                   "--vault-id", "--vault-password-file", "--ask-vault-pass", "--json"):
        assert option in deploy.stdout


def test_json_lines_for_ci(tmp_path):
    result = kaizen(tmp_path, "preflight", "-i", str(FIXTURES / "good"), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = [line["kind"] for line in lines]
    assert kinds[0] == "run_status" and kinds[-1] == "result"
    assert {"play_started", "task_started", "task_ok", "task_skipped", "playbook_stats"} <= set(kinds)
    final = lines[-1]
    assert final["status"] == "successful" and final["ok"] is True
    # Preflight's tasks run once, reported for the first host of the play.
    assert final["stats"] and all(host["changed"] == 0 and host["failed"] == 0 for host in final["stats"].values())
    assert Path(final["artifact_dir"]).is_dir()


def test_failed_run_prints_the_summary_and_exits_with_ansible_playbooks_status(tmp_path):
    result = kaizen(tmp_path, "preflight", "-i", str(FIXTURES / "two_primaries"))
    assert result.returncode == 2, result.stdout + result.stderr  # ansible-playbook's: a task failed on a host
    out = result.stdout
    assert "PLAY Preflight | Validate the topology" in out
    assert "Recap" in out and "Failures" in out
    assert "exactly one PostgreSQL primary" in " ".join(out.split())
    assert "preflight failed in" in out


def test_invalid_inputs_exit_64_and_start_nothing(tmp_path):
    result = kaizen(tmp_path, "deploy", "-i", str(FIXTURES / "good"), "-e", "common_hosts_manage=maybe", "-e", "common_timezon=UTC")
    assert result.returncode == 64
    assert "did you mean common_timezone?" in " ".join(result.stderr.split())
    assert not (tmp_path / "artifacts").exists()
    json_mode = kaizen(tmp_path, "deploy", "-i", str(FIXTURES / "good"), "-e", "common_timezon=UTC", "--json")
    assert json_mode.returncode == 64
    error = json.loads(json_mode.stdout.splitlines()[-1])
    assert error["kind"] == "invalid_input" and len(error["problems"]) == 1
    usage = kaizen(tmp_path, "deploy")
    assert usage.returncode == 64 and "--inventory" in usage.stderr


def test_day_2_operations_take_their_parameters(tmp_path):
    switchover = kaizen(tmp_path, "switchover", "--help")
    assert "--to" in switchover.stdout and "--max-lag-bytes" in switchover.stdout and "kaizen.hybrid.pg_switchover" in switchover.stdout
    failover = kaizen(tmp_path, "failover", "--help")
    assert "--to" in failover.stdout and "--force" in failover.stdout and "kaizen.hybrid.pg_failover" in failover.stdout
    update = kaizen(tmp_path, "update", "--help")
    assert "--image" in update.stdout and "--batch" in update.stdout and "kaizen.hybrid.rolling_update" in update.stdout
    bad = kaizen(tmp_path, "switchover", "-i", str(FIXTURES / "good"), "--max-lag-bytes", "lots")
    assert bad.returncode == 64 and "'lots' is not a valid integer" in bad.stderr
    clash = kaizen(tmp_path, "switchover", "-i", str(FIXTURES / "good"), "--to", "pg2", "-e", "pg_switchover_target=pg3", "--json")
    assert clash.returncode == 64
    assert "pg_switchover_target set both as a parameter and as an extra variable" in json.loads(clash.stdout.splitlines()[-1])["message"]
    assert not (tmp_path / "artifacts").exists()


def test_lab_refuses_outside_a_checkout(tmp_path):
    for command in (("lab", "up"), ("lab", "down")):
        result = kaizen(tmp_path, *command)
        assert result.returncode == 69, result.stdout + result.stderr
        assert "is not inside a checkout of the kaizen.hybrid repository" in " ".join(result.stderr.split())


def test_run_any_playbook_with_extra_vars_from_a_file(tmp_path):
    local = tmp_path / "local.yml"
    local.write_text(
        "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n      ansible_python_interpreter: %s\n" % sys.executable
    )
    varsfile = tmp_path / "vars.yml"
    varsfile.write_text("api_test_sleep: 1\napi_test_marker_file: %s\n" % (tmp_path / "marker"))
    result = kaizen(tmp_path, "run", str(PLAYBOOKS / "long.yml"), "-i", str(local), "-e", "@%s" % varsfile)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "marker").read_text() == "finished\n"
    assert "long.yml successful in" in result.stdout and "1 changed" in result.stdout


def test_ctrl_c_cancels_the_run(tmp_path):
    local = tmp_path / "local.yml"
    local.write_text(
        "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n      ansible_python_interpreter: %s\n" % sys.executable
    )
    marker = tmp_path / "marker"
    process = subprocess.Popen(
        [sys.executable, "-m", "kaizen_hybrid", "run", str(PLAYBOOKS / "long.yml"), "-i", str(local), "--json",
         "-e", "api_test_sleep=120", "-e", "api_test_marker_file=%s" % marker],
        cwd=tmp_path, env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            if '"task_started"' in line and "API test | Sleep" in line:
                break
        else:
            pytest.fail("the long task did not start within 60 s")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)
    assert process.returncode == 130, err
    assert "cancelling the run" in err
    final = json.loads(out.strip().splitlines()[-1])
    assert final["kind"] == "result" and final["status"] == "canceled"
    assert not marker.exists()


def test_extra_vars_are_read_as_ansible_playbook_reads_them(tmp_path):
    varsfile = tmp_path / "vars.yml"
    varsfile.write_text("from_file: 1\nb: file\n")
    parsed = options.parse_extra_vars(("a=1 b=2", "c='x y' d=\"q\"", '{"e": [1, 2]}', "@%s" % varsfile, " f=last "))
    assert parsed == {"a": "1", "b": "file", "c": "x y", "d": "q", "e": [1, 2], "from_file": 1, "f": "last"}
    assert options.parse_extra_vars(("k=v=w", "empty=")) == {"k": "v=w", "empty": ""}
    for bad, message in (("word", "expected KEY=VALUE pairs"), ("a=1 stray", "expected KEY=VALUE pairs"),
                         ('k="open', "cannot parse"), ("[1, 2]", "does not give a mapping"),
                         ("@%s" % (tmp_path / "missing.yml"), "cannot read")):
        with pytest.raises(click.BadParameter, match=message):
            options.parse_extra_vars((bad,))


def test_become_password_user_and_vault_ids_become_run_options(monkeypatch, tmp_path):
    monkeypatch.setattr(options.getpass, "getpass", lambda prompt: "sudo-pw" if prompt.startswith("BECOME") else pytest.fail(prompt))
    opts = options.api_options({"extra_vars": ("a=1",), "ask_become_pass": True, "remote_user": "deploy",
                                "vault_ids": ("prod@%s" % tmp_path,)})
    assert opts["secret_vars"] == {"ansible_become_password": "sudo-pw"}
    assert opts["remote_user"] == "deploy" and opts["vault_ids"] == ["prod@%s" % tmp_path]
    assert opts["extra_vars"] == {"a": "1"}
    assert options.api_options({})["secret_vars"] == {}


@pytest.mark.parametrize("status, rc, code", [
    ("successful", 0, 0), ("canceled", 254, 130), ("timeout", 254, 124),
    ("failed", 2, 2), ("failed", 4, 4), ("failed", 1, 1), ("failed", 250, 250),
    # Unknown, or colliding with the command's own codes: the generic failure.
    ("failed", None, 1), ("failed", 0, 1), ("failed", 64, 1), ("failed", 130, 1), ("failed", 300, 1),
])
def test_a_failed_run_exits_with_ansible_playbooks_status(status, rc, code):
    result = RunResult(status=status, rc=rc, stats={}, failures=(), changed_hosts=(), duration=1.0)
    assert exitcodes.exit_code(result) == code
