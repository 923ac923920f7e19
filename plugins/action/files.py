# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of kaizen.hybrid.files: renders each entry's ``src`` template
(with the ``ansible.builtin.template`` lookup, so it is found and rendered as
the template module would) into ``content``, then runs the module once."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.plugins.loader import lookup_loader

_ARGS = frozenset(("files", "dest_dir", "purge", "owner", "group", "mode", "directory_mode", "validate"))


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _VALID_ARGS = _ARGS

    def _render(self, lookup, src, task_vars, template_vars):
        try:
            rendered = lookup.run([src], variables=task_vars, template_vars=template_vars or {})[0]
        except Exception as exc:  # the lookup raises AnsibleError subclasses and template errors alike
            raise AnsibleActionFail("files: the template %s could not be rendered: %s" % (src, exc)) from exc
        return "" if rendered is None else str(rendered)

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        files = args.get("files")
        if not isinstance(files, list):
            raise AnsibleActionFail("files: 'files' must be a list of entries, each a mapping with dest")
        lookup = lookup_loader.get("ansible.builtin.template", loader=self._loader, templar=self._templar)
        entries = []
        for index, entry in enumerate(files):
            if not isinstance(entry, Mapping):
                raise AnsibleActionFail("files: files[%d] is not a mapping (dest, state, src or content, ...)" % index)
            entry = dict(entry)
            src = entry.pop("src", None)
            template_vars = entry.pop("vars", None)
            if template_vars is not None and not isinstance(template_vars, Mapping):
                raise AnsibleActionFail("files: the vars of %s must be a mapping" % entry.get("dest"))
            if src is not None:
                if entry.get("content") is not None:
                    raise AnsibleActionFail("files: %s has both src and content; give one" % entry.get("dest"))
                entry["content"] = self._render(lookup, src, task_vars, template_vars)
            entries.append(entry)
        args["files"] = entries
        module_result = self._execute_module(module_name="kaizen.hybrid.files", module_args=args, task_vars=task_vars)
        # The module's invocation would carry every file's text (secrets among them) into the task result.
        module_result.pop("invocation", None)
        result.update(module_result)
        return result
