# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kaizen.hybrid.files (the module) on a temporary directory: what it writes, what it keeps, what it refuses."""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.kaizen.hybrid.plugins.modules import files as files_module


def run(capsys, check_mode=False, diff=False, **args):
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            files_module.main()
    return json.loads(capsys.readouterr().out)


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def leftovers(directory):
    return [name for name in os.listdir(directory) if name.endswith(".kaizen-tmp")]


def test_creates_directories_then_files_and_a_rerun_changes_nothing(tmp_path, capsys):
    conf = tmp_path / "etc" / "svc.d"
    args = dict(files=[
        {"dest": str(conf), "state": "directory", "mode": "0750"},
        {"dest": str(conf / "a.conf"), "content": "a = 1\n", "mode": "0640"},
        {"dest": str(conf / "b.conf"), "content": "b = 2\n"},
    ], mode="0600")
    first = run(capsys, **args)
    assert first["changed"] and "failed" not in first
    assert first["changed_files"] == [str(conf), str(conf / "a.conf"), str(conf / "b.conf")]
    assert mode_of(conf) == 0o750 and mode_of(conf / "a.conf") == 0o640 and mode_of(conf / "b.conf") == 0o600
    assert (conf / "a.conf").read_text() == "a = 1\n"
    second = run(capsys, **args)
    assert second["changed"] is False and second["changed_files"] == []
    assert [entry["changed"] for entry in second["files"]] == [False, False, False]
    assert leftovers(conf) == []


def test_a_changed_file_is_replaced_and_keeps_what_the_entry_does_not_set(tmp_path, capsys):
    target = tmp_path / "x.conf"
    target.write_text("old\n")
    target.chmod(0o640)
    os.chown(target, 0, 65534)
    inode = os.stat(target).st_ino
    result = run(capsys, files=[{"dest": str(target), "content": "new\n"}])
    assert result["changed_files"] == [str(target)]
    assert target.read_text() == "new\n"
    assert mode_of(target) == 0o640 and os.stat(target).st_gid == 65534
    assert os.stat(target).st_ino != inode  # renamed over, not rewritten in place
    assert leftovers(tmp_path) == []


def test_owner_group_and_mode_are_corrected_when_the_content_is_right(tmp_path, capsys):
    target = tmp_path / "secret"
    target.write_text("s3cret\n")
    target.chmod(0o644)
    result = run(capsys, files=[{"dest": str(target), "content": "s3cret\n", "mode": "0600", "owner": "nobody", "group": "nogroup"}])
    assert result["changed_files"] == [str(target)]
    st = os.stat(target)
    assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 65534 and st.st_gid == 65534


def test_a_new_secret_is_never_readable_by_others(tmp_path, capsys, monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(mode_of(src))
        return real_replace(src, dst)

    monkeypatch.setattr(files_module.os, "replace", spy)
    run(capsys, files=[{"dest": str(tmp_path / "acl"), "content": "user x on\n", "mode": "0600"}])
    assert seen == [0o600]


def test_a_file_that_fails_its_check_is_not_installed(tmp_path, capsys):
    target = tmp_path / "rules.yml"
    target.write_text("good\n")
    result = run(capsys, files=[{"dest": str(target), "content": "bad\n"}], validate="grep -q good %s")
    assert result["failed"] and "failed its check" in result["msg"] and "grep -q good" in result["msg"]
    assert target.read_text() == "good\n"
    assert leftovers(tmp_path) == []
    passed = run(capsys, files=[{"dest": str(target), "content": "still good\n"}], validate="grep -q good %s")
    assert passed["changed"] and target.read_text() == "still good\n"


def test_check_mode_reports_and_diffs_and_changes_nothing(tmp_path, capsys):
    existing = tmp_path / "a.conf"
    existing.write_text("one\n")
    new_dir = tmp_path / "d"
    result = run(capsys, check_mode=True, diff=True, files=[
        {"dest": str(existing), "content": "two\n"},
        {"dest": str(new_dir), "state": "directory"},
        {"dest": str(new_dir / "b.conf"), "content": "b\n", "owner": "no-such-user-here"},
    ])
    assert result["changed"] and result["changed_files"] == [str(existing), str(new_dir), str(new_dir / "b.conf")]
    assert existing.read_text() == "one\n" and not new_dir.exists()
    assert {"before_header": str(existing), "after_header": str(existing), "before": "one\n", "after": "two\n"} in result["diff"]


def test_absent_removes_files_and_whole_directories(tmp_path, capsys):
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "sub" / "f").write_text("x")
    (tmp_path / "g").write_text("y")
    args = dict(files=[{"dest": str(tmp_path / "d"), "state": "absent"}, {"dest": str(tmp_path / "g"), "state": "absent"},
                       {"dest": str(tmp_path / "never"), "state": "absent"}])
    result = run(capsys, **args)
    assert result["changed_files"] == [str(tmp_path / "d"), str(tmp_path / "g")]
    assert os.listdir(tmp_path) == []
    assert run(capsys, **args)["changed"] is False


@pytest.mark.parametrize("entry, message", [
    ({"dest": "relative/path", "content": "x"}, "is not an absolute path (and no dest_dir is given)"),
    ({"dest": "/tmp/kaizen-files-test-never"}, "a file needs content"),
    ({"dest": "/tmp/kaizen-files-test-never", "state": "directory", "content": "x"}, "content is only for state file"),
    ({"dest": "/tmp/kaizen-files-test-never", "content": "x", "mode": "rw-r--r--"}, "is not an octal mode"),
    ({"dest": "/tmp/kaizen-files-test-never", "content": "x", "mode": "07777777"}, "is not an octal mode"),
    ({"dest": "/tmp/kaizen-files-test-never", "content": "x", "owner": "no-such-user-here"}, "there is no user no-such-user-here"),
    ({"dest": "/tmp/kaizen-files-test-never", "content": "x", "validate": "true"}, "validate must contain %s"),
    ({"dest": "/tmp/kaizen-files-test-never", "src": "x.j2"}, "are for the action plugin; call the module through"),
    ({"dest": "/nonexistent-kaizen-dir/x", "content": "x"}, "does not exist (list it before the file"),
])
def test_bad_entries_are_refused_with_the_reason(capsys, entry, message):
    result = run(capsys, files=[entry])
    assert result["failed"] and message in result["msg"], result["msg"]
    assert not os.path.exists("/tmp/kaizen-files-test-never")


def test_entries_before_a_bad_one_are_reported(tmp_path, capsys):
    result = run(capsys, files=[{"dest": str(tmp_path / "ok"), "content": "x"}, {"dest": str(tmp_path), "content": "x"}])
    assert result["failed"] and "is a directory" in result["msg"]
    assert result["changed"] and result["changed_files"] == [str(tmp_path / "ok")]


def test_modes_are_octal_strings_or_yaml_octal_ints():
    assert files_module.parse_mode("0640", "/x") == 0o640
    assert files_module.parse_mode("750", "/x") == 0o750
    assert files_module.parse_mode(0o600, "/x") == 0o600
    assert files_module.parse_mode(None, "/x") is None
    with pytest.raises(files_module.Problem):
        files_module.parse_mode(True, "/x")


def test_relative_dests_are_taken_in_dest_dir(tmp_path, capsys):
    result = run(capsys, dest_dir=str(tmp_path), files=[{"dest": "sub", "state": "directory"}, {"dest": "sub/a", "content": "a"}])
    assert result["changed_files"] == [str(tmp_path / "sub"), str(tmp_path / "sub" / "a")]
    assert (tmp_path / "sub" / "a").read_text() == "a"


def test_purge_removes_what_matches_and_is_not_listed(tmp_path, capsys):
    for name in ("kaizen-old.yml", "kaizen-kept.yml", "other.yml"):
        (tmp_path / name).write_text("x")
    args = dict(files=[{"dest": str(tmp_path / "kaizen-kept.yml"), "content": "x"},
                       {"dest": str(tmp_path / "kaizen-new.yml"), "content": "y"}],
                purge=[str(tmp_path / "kaizen-*.yml")])
    checked = run(capsys, check_mode=True, **args)
    assert checked["changed_files"] == [str(tmp_path / "kaizen-new.yml"), str(tmp_path / "kaizen-old.yml")]
    assert (tmp_path / "kaizen-old.yml").exists()
    result = run(capsys, **args)
    assert result["files"][-1] == {"dest": str(tmp_path / "kaizen-old.yml"), "state": "absent", "changed": True}
    assert sorted(os.listdir(tmp_path)) == ["kaizen-kept.yml", "kaizen-new.yml", "other.yml"]
    assert run(capsys, **args)["changed"] is False
    refused = run(capsys, files=[], purge=["kaizen-*.yml"])
    assert refused["failed"] and "is not an absolute path" in refused["msg"]


def test_force_false_writes_a_seed_only_once(tmp_path, capsys):
    seed = tmp_path / "dropin.conf"
    args = dict(files=[{"dest": str(seed), "content": "seed\n", "force": False, "mode": "0644"}])
    assert run(capsys, **args)["changed"] and seed.read_text() == "seed\n"
    seed.write_text("replaced by the full drop-in\n")
    seed.chmod(0o600)
    assert run(capsys, **args)["changed"] is False
    assert seed.read_text() == "replaced by the full drop-in\n" and mode_of(seed) == 0o600


def test_a_secret_file_is_written_but_its_text_never_shown(tmp_path, capsys):
    secret, plain = tmp_path / "secrets.conf", tmp_path / "settings.conf"
    secret.write_text("password old-one\n")
    entries = [{"dest": str(secret), "content": "password new-one\n", "secret": True},
               {"dest": str(plain), "content": "port 6379\n"}]
    result = run(capsys, diff=True, files=entries)
    assert result["changed_files"] == [str(secret), str(plain)]
    assert secret.read_text() == "password new-one\n"
    # (the action plugin drops the invocation, which holds the module's arguments)
    shown = json.dumps(dict(result, invocation=None))
    assert "old-one" not in shown and "new-one" not in shown
    assert {"before_header": str(plain), "after_header": str(plain), "before": "", "after": "port 6379\n"} in result["diff"]
    refused = run(capsys, files=[{"dest": str(secret), "content": "password leaked\n", "secret": True,
                                  "validate": "sh -c 'cat %s; exit 1'"}])
    assert refused["failed"] and "leaked" not in json.dumps(dict(refused, invocation=None)) and "secret" in refused["msg"]
    removed = run(capsys, diff=True, files=[{"dest": str(secret), "state": "absent", "secret": True}])
    assert removed["changed"] and "new-one" not in json.dumps(dict(removed, invocation=None))


def test_numeric_owner_and_group_need_no_account(tmp_path, capsys, monkeypatch):
    chowned = []
    monkeypatch.setattr(files_module.os, "lchown", lambda path, uid, gid: chowned.append((path, uid, gid)))
    target = tmp_path / "logs"
    result = run(capsys, files=[{"dest": str(target), "state": "directory", "owner": "10001", "group": "10001"}])
    assert result["changed"] and chowned == [(str(target), 10001, 10001)]
