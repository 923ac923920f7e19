# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of ``kaizen-hybrid``'s commands and how they become run options.

:func:`run_options` adds the options every run command shares (those of
ansible-playbook); :func:`api_options` turns their values into the keyword
options of :func:`kaizen_hybrid.run_playbook` (prompting for the vault and
become passwords, parsing ``-e`` with :func:`parse_extra_vars`);
:func:`checkout_options` adds the ``lab`` commands' options.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any, Callable

import click


def parse_extra_vars(values: tuple[str, ...]) -> dict[str, Any]:
    """``-e`` as ansible-playbook reads it: ``@FILE``, a JSON/YAML mapping, or ``key=value`` pairs
    (several in one argument, quoted values kept whole); later arguments win."""
    import yaml
    from ansible.errors import AnsibleError
    from ansible.parsing.splitter import parse_kv

    merged: dict[str, Any] = {}
    for value in values:
        value = value.strip()
        if value.startswith("@"):
            path = Path(value[1:]).expanduser()
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
            except (OSError, yaml.YAMLError) as exc:
                raise click.BadParameter("cannot read %s: %s" % (path, exc), param_hint="-e") from None
        elif value.startswith(("{", "[")):
            try:
                data = yaml.safe_load(value)
            except yaml.YAMLError as exc:
                raise click.BadParameter("not a YAML/JSON mapping: %s" % exc, param_hint="-e") from None
        else:
            try:
                data = parse_kv(value)
            except AnsibleError as exc:
                raise click.BadParameter("cannot parse %r: %s" % (value, str(exc).splitlines()[0]), param_hint="-e") from None
            # parse_kv keeps words without "=" under _raw_params: ansible-playbook ignores them, we refuse them.
            if not data or "_raw_params" in data:
                raise click.BadParameter("expected KEY=VALUE pairs, @FILE or a JSON/YAML mapping, got %r" % value, param_hint="-e")
        if not isinstance(data, dict):
            raise click.BadParameter("%r does not give a mapping" % value, param_hint="-e")
        merged.update(data)
    return merged


def run_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("-i", "--inventory", required=True, type=click.Path(exists=True, path_type=Path),
                     help="Inventory file or directory."),
        click.option("-e", "--extra-vars", "extra_vars", multiple=True, metavar="KEY=VALUE|@FILE|JSON",
                     help="Extra variables (repeatable); never secrets."),
        click.option("-l", "--limit", help="Limit to a host pattern."),
        click.option("-u", "--user", "remote_user", help="Connect as this user (ansible_user)."),
        click.option("-K", "--ask-become-pass", is_flag=True, help="Prompt for the sudo (become) password."),
        click.option("-t", "--tags", help="Only tasks with these tags (comma separated)."),
        click.option("--skip-tags", help="Skip tasks with these tags (comma separated)."),
        click.option("-C", "--check", is_flag=True, help="Report what would change; change nothing."),
        click.option("-D", "--diff", is_flag=True, help="Show the differences in changed files."),
        click.option("-f", "--forks", type=click.IntRange(1, 1000), help="Parallel hosts."),
        click.option("--vault-password-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="File holding the vault password (or a script printing it)."),
        click.option("--ask-vault-pass", is_flag=True, help="Prompt for the vault password."),
        click.option("--vault-id", "vault_ids", multiple=True, metavar="[LABEL@]FILE",
                     help="A vault identity: its password file or script (repeatable; not 'prompt': use --ask-vault-pass)."),
        click.option("--timeout", type=click.IntRange(1), help="Stop the run after this many seconds."),
        click.option("--artifacts-dir", type=click.Path(file_okay=False, path_type=Path),
                     help="Where run artifacts go (default ~/.local/state/kaizen-hybrid/artifacts)."),
        click.option("--json", "json_mode", is_flag=True, help="Print events as JSON lines (for CI) instead of progress."),
        click.option("-v", "--verbose", "verbosity", count=True, help="Ansible verbosity (repeatable)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def api_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    if kwargs.get("vault_password_file") and kwargs.get("ask_vault_pass"):
        raise click.UsageError("--vault-password-file and --ask-vault-pass exclude each other")
    vault: Any = kwargs.get("vault_password_file")
    if kwargs.get("ask_vault_pass"):
        password = getpass.getpass("Vault password: ")

        def vault() -> str:  # the password stays in memory only
            return password
    secret_vars = {}
    if kwargs.get("ask_become_pass"):
        # Like ansible-playbook -K: one password for every host, never on a command line or in the artifacts.
        secret_vars["ansible_become_password"] = getpass.getpass("BECOME password: ")
    options = {
        "extra_vars": parse_extra_vars(kwargs.get("extra_vars") or ()),
        "secret_vars": secret_vars,
        "remote_user": kwargs.get("remote_user"),
        "vault_ids": list(kwargs.get("vault_ids") or ()),
        "limit": kwargs.get("limit"),
        "tags": kwargs.get("tags"),
        "skip_tags": kwargs.get("skip_tags"),
        "check": bool(kwargs.get("check")),
        "diff": bool(kwargs.get("diff")),
        "forks": kwargs.get("forks"),
        "vault_password": vault,
        "timeout": kwargs.get("timeout"),
        "verbosity": kwargs.get("verbosity") or 0,
    }
    if kwargs.get("artifacts_dir"):
        options["artifacts_dir"] = kwargs["artifacts_dir"]
    return options


def checkout_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--json", "json_mode", is_flag=True, help="Print events as JSON lines instead of progress.")(func)
    return click.option("--checkout", type=click.Path(exists=True, file_okay=False, path_type=Path),
                        help="The repository checkout (default: the one containing the working directory).")(func)
