#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: files
short_description: Write several files and directories on a host in one task
version_added: 1.0.0
description:
  - Puts a list of directories and files in the state given, in the order given, with one module run on the host,
    where a loop of M(ansible.builtin.template), M(ansible.builtin.copy) or M(ansible.builtin.file) tasks costs one
    to three module runs per item. The roles use it wherever they write a set of files that belong together
    (a service's configuration files, its unit drop-ins, a set of alert rules).
  - A file whose content differs is replaced atomically - written to a temporary file beside it with its owner, group
    and mode already set, checked with O(files[].validate) when one is given, then renamed over the old one - so a
    reader never sees half a file, a secret is never readable by others, and a file that fails its check is never
    installed. Owner, group and mode are corrected on files and directories whose content is already right.
  - The O(files[].src) templates are rendered on the controller by the action plugin of the same name, with the
    task's variables, exactly as M(ansible.builtin.template) renders them (it uses the C(ansible.builtin.template)
    lookup, so it finds them in the role's C(templates) directory); the host receives the rendered text.
  - The task is changed when any entry changed; RV(changed_files) names them, so a handler or a later task can tell.
author:
  - kaizen.hybrid maintainers (@kaizen)
options:
  files:
    description: The files and directories, handled in this order (a directory before the files in it).
    type: list
    elements: dict
    required: true
    suboptions:
      dest:
        description: Path on the host; absolute, or relative to O(dest_dir).
        type: str
        required: true
      state:
        description:
          - V(file) writes O(files[].src) or O(files[].content); V(directory) creates the directory (and missing
            parents); V(absent) removes a file or a whole directory.
        type: str
        choices: [file, directory, absent]
        default: file
      src:
        description:
          - A template on the controller (looked up in the role's C(templates) directory), rendered with the task's
            variables. Handled by the action plugin; exclusive with O(files[].content).
        type: str
      vars:
        description:
          - Variables for this entry's O(files[].src) template only, on top of the task's (for example the C(item)
            a template written for a loop expects). Handled by the action plugin.
        type: dict
      content:
        description: The file's text. Exclusive with O(files[].src).
        type: str
      owner:
        description:
          - Owner name, or a numeric uid (which needs no account on the host); default O(owner), else unchanged (a
            new entry gets the user running the module).
        type: str
      group:
        description: Group name, or a numeric gid; default O(group), else unchanged.
        type: str
      mode:
        description:
          - Octal permissions, for example V("0640"). Default O(mode) for files, O(directory_mode) for directories,
            else unchanged (a new file gets C(0600) and a new directory C(0755)).
        type: raw
      force:
        description:
          - With V(false) a file is written only when it does not exist yet (a seed that something else replaces
            later); an existing file is left as it is, its owner, group and mode included.
        type: bool
        default: true
      validate:
        description:
          - Command that checks the new file before it is installed; C(%s) is replaced by the temporary file's path.
            A non-zero exit fails the task and leaves the installed file as it was. Default O(validate).
        type: str
      secret:
        description:
          - The file holds secrets - passwords, keys - so its text is never shown - not in a diff, not in the message
            of a failed O(files[].validate) (a checker may quote the line it rejects). Use it instead of C(no_log) on
            a task that writes secret and ordinary files together, whose ordinary files keep their diff.
        type: bool
        default: false
  dest_dir:
    description: The directory a relative O(files[].dest) is taken in.
    type: path
  purge:
    description:
      - Absolute glob patterns; after the entries are handled, every existing path that matches one and is not an
        entry's O(files[].dest) is removed (files the role wrote once and no longer ships).
    type: list
    elements: str
    default: []
  owner:
    description: Default owner of the entries.
    type: str
  group:
    description: Default group of the entries.
    type: str
  mode:
    description: Default mode of the files.
    type: raw
  directory_mode:
    description: Default mode of the directories.
    type: raw
  validate:
    description: Default validation command of the files.
    type: str
attributes:
  check_mode:
    support: full
    description: Reports what would change and changes nothing.
  diff_mode:
    support: full
    description: Shows the old and new text of each changed file, and each directory created or entry removed.
notes:
  - Paths must be absolute. The parent directory of a file must exist or be listed before it.
  - No backups are kept; no SELinux contexts are set (Debian does not enable SELinux).
seealso:
  - module: ansible.builtin.template
  - module: ansible.builtin.file
"""

EXAMPLES = r"""
- name: Install the alert rules (each checked by promtool before it replaces the live one)
  kaizen.hybrid.files:
    owner: root
    group: prometheus
    mode: "0640"
    validate: promtool check rules %s
    files:
      - dest: /etc/prometheus/rules.d/kaizen-node.yml
        src: rules/node.rules.yml.j2
      - dest: /etc/prometheus/rules.d/kaizen-redis.yml
        src: rules/redis.rules.yml.j2
  notify: prometheus reload

- name: A unit drop-in directory and the drop-in in it
  kaizen.hybrid.files:
    files:
      - dest: /etc/systemd/system/redis-server.service.d
        state: directory
        mode: "0755"
      - dest: /etc/systemd/system/redis-server.service.d/kaizen.conf
        content: |
          [Service]
          LimitNOFILE=65536
        mode: "0644"
"""

RETURN = r"""
files:
  description: Each entry as handled, in order.
  returned: always
  type: list
  elements: dict
  sample: [{"dest": "/etc/prometheus/rules.d/kaizen-node.yml", "state": "file", "changed": true}]
changed_files:
  description: The paths of the entries that changed (or would change, in check mode).
  returned: always
  type: list
  elements: str
  sample: ["/etc/prometheus/rules.d/kaizen-node.yml"]
"""

import glob
import grp
import os
import pwd
import re
import shutil
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_text

# Text shown in a diff at most (a bigger file is reported as changed without its text).
DIFF_LIMIT = 128 * 1024
# What a diff shows of a secret file's text.
SECRET_TEXT = "(secret, not shown)\n"
_OCTAL = re.compile(r"^0?[0-7]{3,4}$")


class Problem(Exception):
    """One entry cannot be handled; the message says which and why."""


def parse_mode(value, dest):
    """Octal permission bits from V("0640"), V("640") or an int (YAML's 0640); None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise Problem("%s: mode %r is not an octal mode such as \"0640\"" % (dest, value))
    if isinstance(value, int):
        bits = value
    elif _OCTAL.match(str(value).strip()):
        bits = int(str(value).strip(), 8)
    else:
        raise Problem("%s: mode %r is not an octal mode such as \"0640\"" % (dest, value))
    if not 0 <= bits <= 0o7777:
        raise Problem("%s: mode %r is out of range" % (dest, value))
    return bits


# In check mode an owner or group that an earlier task would have created is not
# an error: the entry is reported as changing to it.
UNKNOWN_ID = -2


def _resolve_id(name, kind, dest, check_mode):
    """The uid (``kind`` user) or gid (``kind`` group) of ``name``; None when no name is given."""
    if not name:
        return None
    try:
        return pwd.getpwnam(name).pw_uid if kind == "user" else grp.getgrnam(name).gr_gid
    except KeyError:
        # A number is an id, with or without an account (a container's user, for example).
        if name.isdigit():
            return int(name)
        if check_mode:
            return UNKNOWN_ID
        raise Problem("%s: there is no %s %s on the host" % (dest, kind, name))


def desired_entries(params, check_mode=False):
    """The entries with their defaults applied and checked: (dest, state, content bytes, uid, gid, mode, validate)."""
    entries = []
    base = params.get("dest_dir")
    if base and not os.path.isabs(base):
        raise Problem("dest_dir %r is not an absolute path" % base)
    for index, raw in enumerate(params["files"]):
        dest = raw["dest"]
        if dest and base and not os.path.isabs(dest):
            dest = os.path.join(base, dest)
        if not dest or not os.path.isabs(dest):
            raise Problem("files[%d]: dest %r is not an absolute path (and no dest_dir is given)" % (index, dest))
        dest = os.path.normpath(dest)
        state = raw["state"]
        if raw.get("src") is not None or raw.get("vars") is not None:
            raise Problem("%s: src and vars are for the action plugin; call the module through kaizen.hybrid.files" % dest)
        content = raw.get("content")
        if state == "file" and content is None:
            raise Problem("%s: a file needs content (or src)" % dest)
        if state != "file" and content is not None:
            raise Problem("%s: content is only for state file, not %s" % (dest, state))
        default_mode = params.get("mode") if state == "file" else params.get("directory_mode")
        mode_value = raw.get("mode") if raw.get("mode") is not None else default_mode
        validate = raw.get("validate") if raw.get("validate") is not None else params.get("validate")
        if state == "file" and validate and "%s" not in validate:
            raise Problem("%s: validate must contain %%s (the path of the file to check): %s" % (dest, validate))
        entries.append({
            "dest": dest,
            "state": state,
            "content": None if content is None else to_bytes(content, errors="surrogate_or_strict"),
            "uid": _resolve_id(raw.get("owner") or params.get("owner"), "user", dest, check_mode),
            "gid": _resolve_id(raw.get("group") or params.get("group"), "group", dest, check_mode),
            "mode": parse_mode(mode_value, dest),
            "validate": validate if state == "file" else None,
            "force": raw.get("force", True) is not False,
            "secret": bool(raw.get("secret")),
        })
    return entries


def _attributes_differ(st, entry):
    return ((entry["mode"] is not None and stat.S_IMODE(st.st_mode) != entry["mode"])
            or (entry["uid"] is not None and st.st_uid != entry["uid"])
            or (entry["gid"] is not None and st.st_gid != entry["gid"]))


def _set_attributes(path, entry):
    uid = -1 if entry["uid"] is None else entry["uid"]
    gid = -1 if entry["gid"] is None else entry["gid"]
    if uid != -1 or gid != -1:
        os.lchown(path, uid, gid)
    if entry["mode"] is not None:
        os.chmod(path, entry["mode"])


def _read(path):
    with open(path, "rb") as handle:
        return handle.read()


def _text_for_diff(data):
    if data is None:
        return ""
    if len(data) > DIFF_LIMIT or b"\x00" in data:
        return "(%d bytes, not shown)\n" % len(data)
    return to_text(data, errors="surrogate_or_replace")


class Writer:
    """Applies the entries; ``run`` is the module's command runner (``module.run_command``)."""

    def __init__(self, run, check_mode=False, want_diff=False):
        self.run = run
        self.check_mode = check_mode
        self.want_diff = want_diff
        self.diffs = []

    def apply(self, entry):
        handler = {"file": self._file, "directory": self._directory, "absent": self._absent}[entry["state"]]
        return handler(entry)

    def _diff(self, dest, before, after):
        if self.want_diff:
            self.diffs.append({"before_header": dest, "after_header": dest, "before": before, "after": after})

    def _directory(self, entry):
        dest = entry["dest"]
        if os.path.lexists(dest) and not os.path.isdir(dest):
            raise Problem("%s: exists and is not a directory" % dest)
        if not os.path.isdir(dest):
            self._diff(dest, "(absent)\n", "(directory)\n")
            if not self.check_mode:
                os.makedirs(dest)
                _set_attributes(dest, entry)
            return True
        if _attributes_differ(os.stat(dest), entry):
            if not self.check_mode:
                _set_attributes(dest, entry)
            return True
        return False

    def _absent(self, entry):
        dest = entry["dest"]
        if not os.path.lexists(dest):
            return False
        is_dir = os.path.isdir(dest) and not os.path.islink(dest)
        if is_dir:
            before = "(directory)\n"
        elif entry.get("secret"):
            before = SECRET_TEXT
        else:
            before = _text_for_diff(_read(dest) if os.path.isfile(dest) else None)
        self._diff(dest, before, "(absent)\n")
        if not self.check_mode:
            if is_dir:
                shutil.rmtree(dest)
            else:
                os.unlink(dest)
        return True

    def _file(self, entry):
        dest = entry["dest"]
        parent = os.path.dirname(dest)
        if os.path.isdir(dest):
            raise Problem("%s: is a directory, not a file" % dest)
        if not os.path.isdir(parent) and not self.check_mode:
            raise Problem("%s: the directory %s does not exist (list it before the file, with state directory)" % (dest, parent))
        if not entry["force"] and os.path.lexists(dest):
            return False
        current = _read(dest) if os.path.isfile(dest) else None
        if current == entry["content"]:
            if _attributes_differ(os.stat(dest), entry):
                if not self.check_mode:
                    _set_attributes(dest, entry)
                return True
            return False
        if entry["secret"]:
            self._diff(dest, "" if current is None else SECRET_TEXT, SECRET_TEXT)
        else:
            self._diff(dest, _text_for_diff(current), _text_for_diff(entry["content"]))
        if self.check_mode:
            return True
        self._replace(dest, parent, entry, current is None)
        return True

    def _replace(self, dest, parent, entry, new):
        if not new:
            # What the entry does not set is kept from the file it replaces.
            st = os.stat(dest)
            entry = dict(entry, uid=st.st_uid if entry["uid"] is None else entry["uid"],
                         gid=st.st_gid if entry["gid"] is None else entry["gid"],
                         mode=stat.S_IMODE(st.st_mode) if entry["mode"] is None else entry["mode"])
        fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(dest), suffix=".kaizen-tmp", dir=parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                # Owner and mode before the text: the new file is never readable by more than it should be.
                _set_attributes(tmp, entry)
                handle.write(entry["content"])
                handle.flush()
                os.fsync(handle.fileno())
            if entry["validate"]:
                rc, out, err = self.run(entry["validate"] % tmp)
                if rc != 0:
                    said = "(its output is not shown: the file is secret)" if entry["secret"] else (err or out).strip()
                    raise Problem("%s: the new file failed its check (%s, rc %d): %s" % (
                        dest, entry["validate"] % tmp, rc, said))
            os.replace(tmp, dest)
        finally:
            if os.path.lexists(tmp):
                os.unlink(tmp)


def purge_targets(patterns, dests):
    """Existing paths matching one of ``patterns`` that are not in ``dests``, sorted."""
    keep = set(dests)
    found = set()
    for pattern in patterns:
        if not os.path.isabs(pattern):
            raise Problem("purge pattern %r is not an absolute path" % pattern)
        found.update(os.path.normpath(path) for path in glob.glob(pattern))
    return sorted(found - keep)


def main():
    entry_options = dict(
        dest=dict(type="str", required=True),
        state=dict(type="str", choices=["file", "directory", "absent"], default="file"),
        src=dict(type="str"),
        vars=dict(type="dict"),
        content=dict(type="str"),
        owner=dict(type="str"),
        group=dict(type="str"),
        mode=dict(type="raw"),
        force=dict(type="bool", default=True),
        validate=dict(type="str"),
        secret=dict(type="bool", default=False),
    )
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(type="list", elements="dict", required=True, options=entry_options),
            dest_dir=dict(type="path"),
            purge=dict(type="list", elements="str", default=[]),
            owner=dict(type="str"),
            group=dict(type="str"),
            mode=dict(type="raw"),
            directory_mode=dict(type="raw"),
            validate=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    writer = Writer(module.run_command, check_mode=module.check_mode, want_diff=module._diff)
    handled, changed_files = [], []
    try:
        entries = desired_entries(module.params, module.check_mode)
        stale = purge_targets(module.params["purge"], [entry["dest"] for entry in entries])
        for entry in entries + [{"dest": path, "state": "absent"} for path in stale]:
            changed = writer.apply(entry)
            handled.append({"dest": entry["dest"], "state": entry["state"], "changed": changed})
            if changed:
                changed_files.append(entry["dest"])
    except (Problem, OSError) as exc:
        module.fail_json(msg=to_text(exc), files=handled, changed_files=changed_files, changed=bool(changed_files))
    result = dict(changed=bool(changed_files), files=handled, changed_files=changed_files)
    if writer.diffs:
        result["diff"] = writer.diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
