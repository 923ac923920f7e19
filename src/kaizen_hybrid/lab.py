# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``kaizen-hybrid lab up`` / ``lab down``: the local lab of a checkout.

The :func:`lab` command group (registered on the main group by
:mod:`kaizen_hybrid.cli`): ``up`` makes the lab's engine and base image
(``lab/engine.sh``, ``lab/base-image.sh``), creates the hosts (``lab/up.yml``),
then builds the reference app image and deploys site.yml onto them; ``down``
removes the lab (``lab/down.yml``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click

from .collection import Collection, find_checkout
from .errors import LabError
from .events import Event, TaskOk
from .exitcodes import exit_code, guarded
from .operations import start
from .options import checkout_options
from .render import Output, follow
from .result import RunResult
from .runner import run_playbook_async

# Bounds of the lab's shell steps (seconds).
ENGINE_TIMEOUT = 600
IMAGE_TIMEOUT = 1800


@click.group("lab")
def lab() -> None:
    """The local lab of a checkout: systemd containers shaped like inventories/prod."""


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
@checkout_options
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
            return exit_code(result)
        # The reference app the lab's app hosts load (make app-image).
        _shell_step(root, "lab/app-image.sh", IMAGE_TIMEOUT, output)
        result = _lab_run(root, "", "deploy", output, operation="deploy")
        if result.ok and not json_mode:
            summary = _lab_summary(root)
            if summary:
                output.out.print(summary, markup=False, highlight=False)
        return exit_code(result)

    sys.exit(guarded(output, action))


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
@checkout_options
def lab_down(checkout: Path | None, json_mode: bool) -> None:
    """Remove the lab: containers, their volumes, the network and its state (lab/down.yml)."""
    output = Output(json_mode)

    def action() -> int:
        root = find_checkout(checkout)
        _shell_step(root, "lab/engine.sh", ENGINE_TIMEOUT, output)
        return exit_code(_lab_run(root, "lab/down.yml", "lab down", output))

    sys.exit(guarded(output, action))
