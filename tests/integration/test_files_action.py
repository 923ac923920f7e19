# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kaizen.hybrid.files through real ansible-playbook runs on this machine (connection local, files under a
temporary directory): templates found and rendered as the template module renders them, one module run for
the whole set, idempotence, check mode, diff, a failed check, and no file text in the task result."""

from __future__ import annotations

import json
import os
import stat
import textwrap

from test_preflight import ANSIBLE_PLAYBOOK, REPO, output_of, recap_lines

import subprocess

PLAYBOOK = textwrap.dedent("""\
    - name: Write a set of files with kaizen.hybrid.files
      hosts: localhost
      gather_facts: false
      vars:
        greeting: hello
        password: s3cr3t-value-not-for-logs
      tasks:
        - name: The set
          kaizen.hybrid.files:
            mode: "0640"
            files:
              - dest: "{{ base }}/conf.d"
                state: directory
                mode: "0750"
              - dest: "{{ base }}/conf.d/main.conf"
                src: main.conf.j2
              - dest: "{{ base }}/conf.d/unit-a.conf"
                src: unit.conf.j2
                vars: {item: {unit: a}}
              - dest: "{{ base }}/conf.d/unit-b.conf"
                src: unit.conf.j2
                vars: {item: {unit: b}}
              - dest: "{{ base }}/conf.d/secret.conf"
                content: "password={{ password }}\\n"
                mode: "0600"
              - dest: "{{ base }}/conf.d/checked.conf"
                content: "{{ checked }}\\n"
                validate: grep -q ok %s
          register: written
          notify: Say it changed

        - name: Show the result
          ansible.builtin.copy:
            content: "{{ written | to_json }}"
            dest: "{{ base }}/result.json"
            mode: "0600"
          when: not ansible_check_mode
      handlers:
        - name: Say it changed
          ansible.builtin.debug:
            msg: handler ran
    """)

TEMPLATE = "# {{ ansible_managed }}\\ngreeting = {{ greeting }}\\n{% for n in range(3) %}\\nline {{ n }}\\n{% endfor %}\\n"


def _run(tmp_path, *args, checked="ok"):
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0")
    env.pop("ANSIBLE_FORCE_COLOR", None)
    command = [str(ANSIBLE_PLAYBOOK), "-i", "localhost,", "-c", "local", "-e", "ansible_python_interpreter=" + os.sys.executable,
               "-e", "base=%s" % (tmp_path / "out"), "-e", "checked=%s" % checked, str(tmp_path / "play.yml"), *args]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)


def _setup(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "main.conf.j2").write_text(TEMPLATE.replace("\\n", "\n"))
    (tmp_path / "templates" / "unit.conf.j2").write_text("unit {{ item.unit }} of {{ greeting }}\n")
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    (tmp_path / "out").mkdir()


def test_renders_writes_and_is_idempotent(tmp_path):
    _setup(tmp_path)
    conf = tmp_path / "out" / "conf.d"
    first = _run(tmp_path)
    assert first.returncode == 0, output_of(first)
    assert "handler ran" in first.stdout
    main = (conf / "main.conf").read_text()
    assert "greeting = hello\nline 0\nline 1\nline 2\n" in main and main.startswith("# Ansible managed")
    assert stat.S_IMODE(os.stat(conf).st_mode) == 0o750
    assert stat.S_IMODE(os.stat(conf / "main.conf").st_mode) == 0o640
    assert stat.S_IMODE(os.stat(conf / "secret.conf").st_mode) == 0o600
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert (conf / "unit-a.conf").read_text() == "unit a of hello\n" and (conf / "unit-b.conf").read_text() == "unit b of hello\n"
    assert result["changed_files"] == [str(conf / name) if name else str(conf)
                                       for name in ("", "main.conf", "unit-a.conf", "unit-b.conf", "secret.conf", "checked.conf")]
    # The file text (a secret among it) is not carried into the result or the output.
    assert "s3cr3t" not in json.dumps(result) and "s3cr3t" not in first.stdout
    second = _run(tmp_path)
    assert second.returncode == 0, output_of(second)
    assert "handler ran" not in second.stdout
    the_set = second.stdout.split("TASK [The set]", 1)[1].split("TASK [", 1)[0]
    assert "ok: [localhost]" in the_set and "changed:" not in the_set, the_set
    assert "changed=1" in recap_lines(second)[0]  # only the result file, whose text holds the changed flag


def test_check_mode_with_diff_shows_the_change_and_writes_nothing(tmp_path):
    _setup(tmp_path)
    assert _run(tmp_path).returncode == 0
    (tmp_path / "templates" / "main.conf.j2").write_text("greeting = {{ greeting }} again\n")
    checked = _run(tmp_path, "--check", "--diff")
    assert checked.returncode == 0, output_of(checked)
    assert "+greeting = hello again" in checked.stdout and "-greeting = hello" in checked.stdout
    assert "greeting = hello\n" in (tmp_path / "out" / "conf.d" / "main.conf").read_text()


def test_a_failed_check_fails_the_task_and_keeps_the_installed_file(tmp_path):
    _setup(tmp_path)
    assert _run(tmp_path).returncode == 0
    failed = _run(tmp_path, checked="not-good")
    assert failed.returncode != 0
    assert "failed its check" in output_of(failed)
    assert (tmp_path / "out" / "conf.d" / "checked.conf").read_text() == "ok\n"


def test_a_missing_template_names_it(tmp_path):
    _setup(tmp_path)
    (tmp_path / "templates" / "main.conf.j2").unlink()
    failed = _run(tmp_path)
    assert failed.returncode != 0
    assert "the template main.conf.j2 could not be rendered" in output_of(failed)
