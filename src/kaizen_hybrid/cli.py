# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``kaizen-hybrid``: the operations of the collection from the command line.

One command per operation of :data:`kaizen_hybrid.operations.OPERATIONS`
(``deploy``, ``preflight``, ``verify``, ``update``, ``scale``, ``switchover``, ``failover``,
``backup``, ``restore``, ``drill``, ``dr``), ``run`` for any playbook, and ``lab up`` / ``lab down``
for the local lab of a checkout. Live progress on a terminal, a summary table at the
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

This module holds the main group, its commands and :func:`main`; the shared
run options are in :mod:`.options`, the progress and summary output in
:mod:`.render`, the exit codes in :mod:`.exitcodes`, the ``lab`` group in
:mod:`.lab`.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from . import __version__
from .collection import locate_collection
from .errors import CollectionNotFound
from .exitcodes import EXIT_CANCELED, EXIT_CODES, EXIT_OK, EXIT_USAGE, exit_code, guarded
from .lab import lab
from .operations import OPERATIONS, Operation, start
from .options import api_options, run_options
from .render import Output, follow
from .runner import run_playbook_async


# -- commands -------------------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
             epilog="Exit codes: " + "; ".join("%d %s" % item for item in EXIT_CODES.items()) + ".")
@click.version_option(__version__, prog_name="kaizen-hybrid")
def cli() -> None:
    """Run the kaizen.hybrid playbooks: deploy, verify, update, scale, switch or fail over PostgreSQL,
    back up, restore, drill, recover from disaster, drive the local lab.

    `kaizen-hybrid operations` lists every operation with its parameters.
    """


def _operation_command(operation: Operation) -> click.Command:
    @run_options
    def command(**kwargs: Any) -> None:
        output = Output(kwargs.pop("json_mode"))
        params = {p.name: kwargs.pop(p.name.replace("-", "_"), None) for p in operation.params}

        def action() -> int:
            options = api_options(kwargs)
            result = follow(
                lambda handler: start(operation, kwargs["inventory"], params=params, event_handler=handler, **options),
                operation.name,
                output,
            )
            return exit_code(result)

        sys.exit(guarded(output, action))

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
        options = api_options(kwargs)
        result = follow(
            lambda handler: run_playbook_async(playbook, kwargs["inventory"], event_handler=handler, **options),
            Path(playbook).name,
            output,
        )
        return exit_code(result)

    sys.exit(guarded(output, action))


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


cli.add_command(lab)


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
