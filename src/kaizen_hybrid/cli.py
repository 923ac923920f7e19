# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``kaizen-hybrid``: the operations of the collection from the command line.

One command per operation of :data:`kaizen_hybrid.operations.OPERATIONS`
(``deploy``, ``preflight``, ``verify``, ``switchover``, ``failover``, ``update``; later
operations appear with their playbooks), ``run`` for any playbook, and ``lab up`` / ``lab down`` for the
local lab of a checkout. Live progress on a terminal, a summary table at the
end; ``--json`` prints the events as JSON lines instead.

Exit codes (see :data:`EXIT_CODES`): a run that ran exits with ansible-playbook's
own status, so scripts that wrap both read them alike; the command's own codes
do not collide with it::

    0    the run succeeded
    1    the run failed with an error of Ansible's (1 also when its status is unknown)
    2    a task failed on a host (ansible-playbook's code)
    4    a host was unreachable, or Ansible could not parse the playbook or inventory
         (ansible-playbook's code)
    64   invalid usage or inputs; nothing was started
    69   environment: the collection or the checkout was not found, the lab's
         engine or base image could not be made
    124  the run hit --timeout
    130  cancelled (Ctrl-C)
"""

from __future__ import annotations

import getpass
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Mapping

import click
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from . import __version__
from .collection import Collection, find_checkout, locate_collection
from .errors import CollectionNotFound, KaizenHybridError, LabError, NotACheckout, ValidationError
from .events import (
    Event,
    PlaybookStats,
    PlayStarted,
    RunStatusChanged,
    TaskChanged,
    TaskFailed,
    TaskOk,
    TaskSkipped,
    TaskStarted,
    TaskUnreachable,
)
from .operations import OPERATIONS, Operation, start
from .result import RunResult
from .runner import RunHandle, run_playbook_async

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 64  # sysexits EX_USAGE
EXIT_ENVIRONMENT = 69  # sysexits EX_UNAVAILABLE
EXIT_TIMEOUT = 124
EXIT_CANCELED = 130
EXIT_CODES = {
    EXIT_OK: "the run succeeded",
    EXIT_FAILED: "the run failed with an error of Ansible's (also when ansible-playbook's status is unknown)",
    2: "a task failed on a host (ansible-playbook's code)",
    4: "a host was unreachable, or Ansible could not parse the playbook or inventory (ansible-playbook's code)",
    EXIT_USAGE: "invalid usage or inputs; nothing was started",
    EXIT_ENVIRONMENT: "environment: collection or checkout not found, lab engine or image could not be made",
    EXIT_TIMEOUT: "the run hit --timeout",
    EXIT_CANCELED: "cancelled (Ctrl-C)",
}
_OWN_CODES = frozenset((EXIT_USAGE, EXIT_ENVIRONMENT, EXIT_TIMEOUT, EXIT_CANCELED))
# After Ctrl-C, how long to wait for ansible-playbook to stop (seconds).
CANCEL_WAIT = 30.0
# Bounds of the lab's shell steps (seconds).
ENGINE_TIMEOUT = 600
IMAGE_TIMEOUT = 1800


def _exit_code(result: RunResult) -> int:
    """0, 124 or 130 by the run's status; a failed run exits with ansible-playbook's status (1 when unknown)."""
    by_status = {"successful": EXIT_OK, "canceled": EXIT_CANCELED, "timeout": EXIT_TIMEOUT}
    if result.status in by_status:
        return by_status[result.status]
    rc = result.rc
    if isinstance(rc, int) and 0 < rc < 256 and rc not in _OWN_CODES:
        return rc
    return EXIT_FAILED


class Output:
    """Where a command reports: rich on a terminal, plain lines otherwise, or JSON lines."""

    def __init__(self, json_mode: bool) -> None:
        self.json_mode = json_mode
        self.out = Console(highlight=False, soft_wrap=False)
        if not self.out.is_terminal and "COLUMNS" not in os.environ:
            # Logs and CI: wide enough that the tables do not wrap every cell.
            self.out = Console(highlight=False, soft_wrap=False, width=140)
        self.err = Console(stderr=True, highlight=False)
        self._lock = threading.Lock()

    def json_line(self, data: Mapping[str, Any]) -> None:
        with self._lock:
            sys.stdout.write(json.dumps(data, default=str) + "\n")
            sys.stdout.flush()

    def problem(self, message: str, problems: list[str] | None = None, kind: str = "error") -> None:
        if self.json_mode:
            self.json_line({"kind": kind, "message": message, "problems": problems or [message]})
            return
        self.err.print(Text("error: ", style="bold red") + Text(message))

    def note(self, message: str) -> None:
        (self.err if self.json_mode else self.out).print(message, markup=False)


class ProgressView:
    """Follows the events of one run: current play and task, hosts done, counters."""

    def __init__(self, title: str, output: Output) -> None:
        self.title = title
        self.output = output
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.play = ""
        self.task = ""
        self.task_uuid = ""
        self.task_hosts: set[str] = set()
        self.task_done: set[str] = set()
        self.hosts: set[str] = set()
        self.counts = {"ok": 0, "changed": 0, "failed": 0, "unreachable": 0, "skipped": 0}
        self.changed_hosts: set[str] = set()
        self.failed_hosts: set[str] = set()
        self.status = "starting"
        self.live = output.out.is_terminal and not output.json_mode

    def __call__(self, event: Event) -> None:
        if self.output.json_mode:
            self.output.json_line(event.to_dict())
            return
        lines: list[Text] = []
        with self.lock:
            if isinstance(event, RunStatusChanged):
                self.status = event.status
            elif isinstance(event, PlayStarted):
                self.play = event.play
                self.task = ""
                lines.append(Text("PLAY ", style="bold") + Text(event.play))
            elif isinstance(event, TaskStarted):
                if event.task_uuid != self.task_uuid:
                    self.task_uuid = event.task_uuid
                    self.task = event.task
                    self.task_hosts = set()
                    self.task_done = set()
                    if not self.live:
                        lines.append(Text("  TASK ", style="bold") + Text(event.task))
                self.task_hosts.add(event.host)
                self.hosts.add(event.host)
            elif isinstance(event, (TaskOk, TaskChanged, TaskSkipped, TaskFailed, TaskUnreachable)):
                self.task_done.add(event.host)
                self.hosts.add(event.host)
                if isinstance(event, TaskChanged):
                    self.counts["changed"] += 1
                    self.changed_hosts.add(event.host)
                elif isinstance(event, TaskOk):
                    self.counts["ok"] += 1
                elif isinstance(event, TaskSkipped):
                    self.counts["skipped"] += 1
                elif isinstance(event, TaskFailed) and not event.ignored:
                    self.counts["failed"] += 1
                    self.failed_hosts.add(event.host)
                    lines.append(Text("  failed: ", style="bold red") + Text("%s: %s: %s" % (event.host, event.task, _first_line(event.message))))
                elif isinstance(event, TaskUnreachable):
                    self.counts["unreachable"] += 1
                    self.failed_hosts.add(event.host)
                    lines.append(Text("  unreachable: ", style="bold red") + Text("%s: %s" % (event.host, _first_line(event.message))))
            elif isinstance(event, PlaybookStats):
                self.hosts.update(event.hosts)
        for line in lines:
            self.output.out.print(line)

    def render(self) -> Table:
        with self.lock:
            grid = Table.grid(padding=(0, 1))
            grid.add_column(style="bold", no_wrap=True)
            grid.add_column(overflow="ellipsis", no_wrap=True)
            elapsed = time.monotonic() - self.started
            grid.add_row(self.title, "%s, %ds" % (self.status, elapsed))
            grid.add_row("play", self.play or "-")
            grid.add_row("task", self.task or "-")
            grid.add_row("hosts", "%d/%d done with this task, %d seen" % (len(self.task_done), len(self.task_hosts), len(self.hosts)))
            counts = Text()
            counts.append("ok %d  " % self.counts["ok"], style="green")
            counts.append("changed %d on %d hosts  " % (self.counts["changed"], len(self.changed_hosts)), style="yellow")
            counts.append("failed %d  " % self.counts["failed"], style="red" if self.counts["failed"] else "")
            counts.append("unreachable %d  " % self.counts["unreachable"], style="red" if self.counts["unreachable"] else "")
            counts.append("skipped %d" % self.counts["skipped"], style="cyan")
            grid.add_row("tasks", counts)
            return grid


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] + (" ..." if len(lines) > 1 else "") if lines else ""


def summary_table(result: RunResult, title: str = "") -> Group:
    stats = Table(title="Recap", title_justify="left", show_edge=False)
    stats.add_column("host")
    for column in ("ok", "changed", "failed", "unreachable", "skipped", "rescued", "ignored"):
        stats.add_column(column, justify="right")
    for host, s in sorted(result.stats.items()):
        style = "red" if not s.succeeded else ("yellow" if s.changed else "green")
        stats.add_row(
            Text(host, style=style), str(s.ok), str(s.changed), str(s.failed), str(s.unreachable),
            str(s.skipped), str(s.rescued), str(s.ignored),
        )
    parts: list[Any] = [stats] if result.stats else []
    if not result.stats_complete and result.stats:
        parts.append(Text("(no play recap: counts tallied from the events seen before the run stopped)", style="dim"))
    if result.failures:
        failures = Table(title="Failures", title_justify="left", show_edge=False)
        failures.add_column("host", style="red")
        failures.add_column("task")
        failures.add_column("message", overflow="fold")
        for failure in result.failures:
            failures.add_row(failure.host, failure.task, ("unreachable: " if failure.unreachable else "") + failure.message)
        parts.append(failures)
    for error in result.errors:
        parts.append(Text("ansible: ", style="bold red") + Text(error))
    style = {"successful": "bold green", "canceled": "bold yellow"}.get(result.status, "bold red")
    label = title or result.operation or Path(result.playbook).name
    line = Text("%s %s in %.1fs" % (label, result.status, result.duration), style=style)
    line.append(
        " - %d hosts, %d %s%s" % (
            len(result.stats),
            len(result.changed_hosts),
            "would change" if result.check else "changed",
            " (check mode: nothing was changed)" if result.check else "",
        ),
        style="default",
    )
    parts.append(line)
    if result.artifact_dir is not None:
        parts.append(Text("artifacts: %s" % result.artifact_dir, style="dim"))
    return Group(*parts)


def follow(start_run: Callable[[Callable[[Event], None]], RunHandle], title: str, output: Output) -> RunResult:
    """Start a run with a progress view, wait for it, cancel cleanly on Ctrl-C."""
    view = ProgressView(title, output)
    handle = start_run(view)
    live = Live(get_renderable=view.render, console=output.out, refresh_per_second=4, transient=True) if view.live else None
    if live is not None:
        live.start()
    try:
        result = _wait(handle, output)
    finally:
        if live is not None:
            live.stop()
    if output.json_mode:
        output.json_line({"kind": "result", **result.to_dict()})
    else:
        output.out.print(summary_table(result, title))
    return result


def _wait(handle: RunHandle, output: Output) -> RunResult:
    try:
        while True:
            result = handle.wait(0.25)
            if result is not None:
                return result
    except KeyboardInterrupt:
        output.err.print("cancelling the run (Ctrl-C again to stop waiting) ...")
        handle.cancel()
        try:
            result = handle.wait(CANCEL_WAIT)
        except KeyboardInterrupt:
            result = None
        if result is None:
            output.err.print("the run did not stop within %ds; it is cancelled at exit" % CANCEL_WAIT)
            raise SystemExit(EXIT_CANCELED) from None
        return result


# -- options shared by every run command ----------------------------------------------------------


def _parse_extra_vars(values: tuple[str, ...]) -> dict[str, Any]:
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


def _api_options(kwargs: dict[str, Any]) -> dict[str, Any]:
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
        "extra_vars": _parse_extra_vars(kwargs.get("extra_vars") or ()),
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


def _guarded(output: Output, action: Callable[[], int]) -> int:
    try:
        return action()
    except ValidationError as exc:
        output.problem(str(exc), exc.problems, kind="invalid_input")
        return EXIT_USAGE
    except (CollectionNotFound, NotACheckout, LabError) as exc:
        output.problem(str(exc))
        return EXIT_ENVIRONMENT
    except KaizenHybridError as exc:
        output.problem(str(exc))
        return EXIT_FAILED


# -- commands -------------------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
             epilog="Exit codes: " + "; ".join("%d %s" % item for item in EXIT_CODES.items()) + ".")
@click.version_option(__version__, prog_name="kaizen-hybrid")
def cli() -> None:
    """Run the kaizen.hybrid playbooks: deploy, verify, switch or fail over PostgreSQL, drive the local lab.

    Operations still to come (backup, restore) appear here as their playbooks
    are added to the collection.
    """


def _operation_command(operation: Operation) -> click.Command:
    @run_options
    def command(**kwargs: Any) -> None:
        output = Output(kwargs.pop("json_mode"))
        params = {p.name: kwargs.pop(p.name.replace("-", "_"), None) for p in operation.params}

        def action() -> int:
            options = _api_options(kwargs)
            result = follow(
                lambda handler: start(operation, kwargs["inventory"], params=params, event_handler=handler, **options),
                operation.name,
                output,
            )
            return _exit_code(result)

        sys.exit(_guarded(output, action))

    for param in reversed(operation.params):
        flag = "--" + param.name.replace("_", "-")
        if param.type is bool:
            command = click.option(flag, param.name, is_flag=True, default=None, help=param.help)(command)
        else:
            kind = click.Choice(param.choices) if param.choices else param.type
            command = click.option(flag, param.name, required=param.required, type=kind, help=param.help)(command)
    return click.command(operation.name, help="%s\n\nRuns %s." % (operation.summary, operation.playbook_fqcn))(command)


for _operation in OPERATIONS.values():
    cli.add_command(_operation_command(_operation))


@cli.command("run")
@click.argument("playbook")
@run_options
def run_command(playbook: str, **kwargs: Any) -> None:
    """Run any playbook (a path, or a name like kaizen.hybrid.site) with progress and a summary."""
    output = Output(kwargs.pop("json_mode"))

    def action() -> int:
        options = _api_options(kwargs)
        result = follow(
            lambda handler: run_playbook_async(playbook, kwargs["inventory"], event_handler=handler, **options),
            Path(playbook).name,
            output,
        )
        return _exit_code(result)

    sys.exit(_guarded(output, action))


@cli.command("operations")
def operations_command() -> None:
    """List the operations and the playbooks they run."""
    table = Table(show_edge=False)
    table.add_column("command")
    table.add_column("playbook")
    table.add_column("what it does")
    for operation in OPERATIONS.values():
        table.add_row(operation.name, operation.playbook_fqcn, operation.summary)
    Console().print(table)
    try:
        collection = locate_collection()
        Console().print("collection: %s (%s)" % (collection.root, "installed" if collection.installed else "checkout"), markup=False)
    except CollectionNotFound as exc:
        Console(stderr=True).print("collection: not found (%s)" % exc, markup=False)


@cli.group("lab")
def lab() -> None:
    """The local lab of a checkout: systemd containers shaped like inventories/prod."""


def _checkout_option(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--json", "json_mode", is_flag=True, help="Print events as JSON lines instead of progress.")(func)
    return click.option("--checkout", type=click.Path(exists=True, file_okay=False, path_type=Path),
                        help="The repository checkout (default: the one containing the working directory).")(func)


def _shell_step(checkout: Path, script: str, timeout: int, output: Output) -> None:
    output.note("[lab] %s" % script)
    try:
        completed = subprocess.run(["bash", str(checkout / script)], cwd=checkout, timeout=timeout,
                                   stdout=sys.stderr, stderr=sys.stderr, check=False)
    except subprocess.TimeoutExpired:
        raise LabError("%s did not finish within %ds" % (script, timeout)) from None
    if completed.returncode != 0:
        raise LabError("%s failed with exit status %d" % (script, completed.returncode))


def _lab_run(checkout: Path, playbook: str, title: str, output: Output, operation: str | None = None) -> RunResult:
    collection = Collection.from_checkout(checkout)
    inventory = checkout / "inventories" / "lab"
    env = {} if "ANSIBLE_CONFIG" in os.environ else {"ANSIBLE_CONFIG": str(checkout / "ansible.cfg")}
    if operation:
        return follow(lambda h: start(operation, inventory, collection=collection, event_handler=h, env=env), title, output)
    return follow(
        lambda h: run_playbook_async(checkout / playbook, inventory, collection=collection, event_handler=h, env=env),
        title,
        output,
    )


@lab.command("up")
@_checkout_option
@click.option("--no-deploy", is_flag=True, help="Only create the hosts; do not run site.yml on them.")
def lab_up(checkout: Path | None, json_mode: bool, no_deploy: bool) -> None:
    """Create the lab hosts (lab/up.yml), then deploy site.yml onto them."""
    output = Output(json_mode)

    def action() -> int:
        root = find_checkout(checkout)
        _shell_step(root, "lab/engine.sh", ENGINE_TIMEOUT, output)
        _shell_step(root, "lab/base-image.sh", IMAGE_TIMEOUT, output)
        result = _lab_run(root, "lab/up.yml", "lab up", output)
        if not result.ok or no_deploy:
            return _exit_code(result)
        # The reference app the lab's app hosts load (make app-image).
        _shell_step(root, "lab/app-image.sh", IMAGE_TIMEOUT, output)
        result = _lab_run(root, "", "deploy", output, operation="deploy")
        if result.ok and not json_mode:
            summary = _lab_summary(root)
            if summary:
                output.out.print(summary, markup=False, highlight=False)
        return _exit_code(result)

    sys.exit(_guarded(output, action))


def _lab_summary(checkout: Path) -> str:
    messages: list[str] = []

    def collect(event: Event) -> None:
        if isinstance(event, TaskOk) and isinstance(event.result.get("msg"), str):
            messages.append(event.result["msg"])

    env = {} if "ANSIBLE_CONFIG" in os.environ else {"ANSIBLE_CONFIG": str(checkout / "ansible.cfg")}
    result = run_playbook_async(checkout / "lab" / "summary.yml", checkout / "inventories" / "lab",
                                collection=Collection.from_checkout(checkout), event_handler=collect, env=env).wait()
    return "\n".join(messages) if result is not None and result.ok else ""


@lab.command("down")
@_checkout_option
def lab_down(checkout: Path | None, json_mode: bool) -> None:
    """Remove the lab: containers, their volumes, the network and its state (lab/down.yml)."""
    output = Output(json_mode)

    def action() -> int:
        root = find_checkout(checkout)
        _shell_step(root, "lab/engine.sh", ENGINE_TIMEOUT, output)
        return _exit_code(_lab_run(root, "lab/down.yml", "lab down", output))

    sys.exit(_guarded(output, action))


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``kaizen-hybrid`` script (exit codes: :data:`EXIT_CODES`)."""
    # A process started in the background by a shell without job control
    # inherits SIGINT as ignored, and Python then never raises
    # KeyboardInterrupt: Ctrl-C (or a supervisor's SIGINT) must cancel a run.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        cli.main(args=argv, prog_name="kaizen-hybrid", standalone_mode=False)
    except click.exceptions.Abort:
        # Ctrl-C outside a run (at a prompt): nothing was started.
        Console(stderr=True).print("aborted")
        sys.exit(EXIT_CANCELED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE if isinstance(exc, click.UsageError) else exc.exit_code)
    sys.exit(EXIT_OK)


if __name__ == "__main__":
    main()
