# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The operations the collection's playbooks offer, one function each.

An operation is a playbook of the collection plus the parameters it takes
(mapped to extra variables). :data:`OPERATIONS` is the registry the CLI
builds its commands from:

==============  ===================================  ==================================================================
operation       playbook                             what it does
==============  ===================================  ==================================================================
``deploy``      ``kaizen.hybrid.site``               preflight, then every tier in order
``preflight``   ``kaizen.hybrid.preflight``          validates the topology; changes nothing
``verify``      ``kaizen.hybrid.verify``             checks the running tiers; changes nothing
``switchover``  ``kaizen.hybrid.pg_switchover``      planned change of PostgreSQL primary
``failover``    ``kaizen.hybrid.pg_failover``        promotes a replica when the primary is lost
``update``      ``kaizen.hybrid.rolling_update``     zero-downtime rolling update of the app
``scale``       ``kaizen.hybrid.scale``              app hosts join or leave the running site
``backup``      ``kaizen.hybrid.backup``             a pgBackRest backup now
``drill``       ``kaizen.hybrid.restore_drill``      restores the newest backup into a scratch instance and compares it
``restore``     ``kaizen.hybrid.restore``            the PostgreSQL cluster back to a point in time
``dr``          ``kaizen.hybrid.disaster_recovery``  the PostgreSQL tier rebuilt from the repository
==============  ===================================  ==================================================================

Adding one is one :class:`Operation` in :data:`OPERATIONS` and a two-line
function here; the CLI command follows from the registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .collection import FQCN, Collection
from .errors import ValidationError
from .result import RunResult
from .runner import RunHandle, run_playbook, run_playbook_async


@dataclass(frozen=True)
class OperationParam:
    """A parameter of an operation, passed to its playbook as extra variable ``variable``."""

    name: str
    variable: str
    help: str
    required: bool = False
    type: type = str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Operation:
    """A playbook of the collection offered as an operation."""

    name: str
    playbook: str
    summary: str
    params: tuple[OperationParam, ...] = ()
    changes_hosts: bool = True

    @property
    def playbook_fqcn(self) -> str:
        return "%s.%s" % (FQCN, self.playbook)

    def extra_vars(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """The extra variables for ``params`` (by parameter name); raises ValidationError."""
        given = dict(params or {})
        problems = []
        out: dict[str, Any] = {}
        known = {p.name: p for p in self.params}
        for name in sorted(set(given) - set(known)):
            problems.append("%s takes no parameter %r (it takes: %s)" % (self.name, name, ", ".join(known) or "none"))
        for param in self.params:
            value = given.get(param.name)
            if value is None:
                if param.required:
                    problems.append("%s needs the parameter %r (%s)" % (self.name, param.name, param.help))
                continue
            if not isinstance(value, param.type) or isinstance(value, bool) and param.type is not bool:
                problems.append("%s: parameter %r must be %s" % (self.name, param.name, param.type.__name__))
                continue
            if param.choices and value not in param.choices:
                problems.append("%s: parameter %r is %r; it must be one of %s" % (self.name, param.name, value, ", ".join(param.choices)))
                continue
            out[param.variable] = value
        if problems:
            raise ValidationError(problems)
        return out


OPERATIONS: dict[str, Operation] = {}


def _register(operation: Operation) -> Operation:
    OPERATIONS[operation.name] = operation
    return operation


DEPLOY = _register(
    Operation(
        "deploy",
        "site",
        "Converge every host: the topology preflight, then each tier in site order.",
    )
)
PREFLIGHT = _register(
    Operation(
        "preflight",
        "preflight",
        "Validate the topology the inventory describes; changes nothing, touches no host.",
        changes_hosts=False,
    )
)


VERIFY = _register(
    Operation(
        "verify",
        "verify",
        "Check the running deployment tier by tier (PostgreSQL primary, replicas and lag; Redis master, "
        "replicas and Sentinels; every app instance; /health over HTTPS through each load balancer); fails "
        "naming what is wrong. Changes nothing.",
        changes_hosts=False,
    )
)
SWITCHOVER = _register(
    Operation(
        "switchover",
        "pg_switchover",
        "Planned change of PostgreSQL primary: refuses a lagging target, then hands over with no lost commit "
        "and rewinds the old primary into a replica.",
        params=(
            OperationParam("to", "pg_switchover_target", "The replica to promote (may be left out with one replica)."),
            OperationParam("max_lag_bytes", "pg_switchover_max_lag_bytes",
                           "Largest replay lag of the target accepted (default 16 MiB).", type=int),
        ),
    )
)
FAILOVER = _register(
    Operation(
        "failover",
        "pg_failover",
        "The PostgreSQL primary is lost: promote the replica with the most WAL, re-point the others, fence the "
        "old primary; run again when it is back to rejoin it.",
        params=(
            OperationParam("to", "pg_failover_target", "The replica to promote (default: the one with the most WAL)."),
            OperationParam("force", "pg_failover_force",
                           "Fail over although the primary answers (it is broken): it is fenced.", type=bool),
        ),
    )
)


UPDATE = _register(
    Operation(
        "update",
        "rolling_update",
        "Zero-downtime rolling update of the app: host by host out of the load balancers, new image, health "
        "gate, back in; a host that fails the gate is rolled back and the rollout stops, naming it.",
        params=(
            OperationParam("image", "kaizen_update_image", "The image to roll out (default: the inventory's app_image)."),
            OperationParam("batch", "kaizen_rolling_batch", "App hosts updated at a time (default 1).", type=int),
        ),
    )
)


SCALE = _register(
    Operation(
        "scale",
        "scale",
        "App hosts join or leave the running site, as the inventory now says: a new host is converged and joins the "
        "load balancers once healthy; a leaving one (out of group app, still in the inventory) is drained, then stopped. "
        "PostgreSQL's pg_hba and Prometheus's targets follow; nothing else is touched.",
        params=(
            OperationParam("add", "kaizen_scale_add", "App hosts joining (comma-separated; already in group app)."),
            OperationParam("remove", "kaizen_scale_remove",
                           "App hosts leaving (comma-separated; out of group app, still in the inventory)."),
        ),
    )
)


BACKUP = _register(
    Operation(
        "backup",
        "backup",
        "A pgBackRest backup now, on the backup host, through the unit the timers start (one lock with the scheduled "
        "runs, logged to the journal, the freshness metrics written after it); reports the newest backup.",
        params=(
            OperationParam("type", "backup_type", "full, diff (since the newest full) or incr (since the newest backup; "
                           "the default).", choices=("full", "diff", "incr")),
        ),
    )
)


DRILL = _register(
    Operation(
        "drill",
        "restore_drill",
        "A restore drill: the newest backup restored into a scratch instance on the backup host up to a restore point "
        "the primary notes, every table's row count compared with the primary's, the restore time reported, the scratch "
        "instance removed. Production is not touched; safe to run on a schedule.",
        params=(
            OperationParam("repo", "backup_drill_repo", "The repository to restore from: 1 on the backup host (the default) "
                           "or 2 in the object store.", type=int),
        ),
    )
)


RESTORE = _register(
    Operation(
        "restore",
        "restore",
        "The PostgreSQL cluster back to a time (with its UTC offset), an LSN, or the end of the archived WAL: judged "
        "against the repository before anything stops; the primary restored by pgBackRest and promoted, the replicas "
        "cloned from it again. A cluster whose primary runs is restored only with --yes, after saying what would be lost.",
        params=(
            OperationParam("to_time", "backup_restore_time", "The time to restore to, e.g. '2026-12-03 21:00:00+00'."),
            OperationParam("to_lsn", "backup_restore_lsn", "The WAL location to restore to, e.g. 0/3000060."),
            OperationParam("latest", "backup_restore_latest", "Restore to the end of the archived WAL.", type=bool),
            OperationParam("yes", "backup_restore_confirm",
                           "Restore although the primary runs: every commit after the target is lost.", type=bool),
        ),
    )
)


DR = _register(
    Operation(
        "dr",
        "disaster_recovery",
        "Disaster recovery: every PostgreSQL host lost its data. The tier is rebuilt from the repository to the end of "
        "the archived WAL (the restore's checks first), the replicas cloned again; ends when /health answers healthy "
        "through the load balancers and the site verifies. A primary that still runs is overwritten only with --yes.",
        params=(
            OperationParam("yes", "backup_restore_confirm",
                           "Rebuild although a primary runs: its commits after the archive's end are lost.", type=bool),
        ),
    )
)


def _operation(operation: Operation | str) -> Operation:
    if isinstance(operation, Operation):
        return operation
    try:
        return OPERATIONS[operation]
    except KeyError:
        raise ValidationError("operation: %r is not one of %s" % (operation, ", ".join(sorted(OPERATIONS)))) from None


def _options(operation: Operation, params: Mapping[str, Any] | None, options: dict[str, Any]) -> dict[str, Any]:
    extra = operation.extra_vars(params)
    if extra:
        given = options.get("extra_vars")
        if given is not None and not isinstance(given, Mapping):
            raise ValidationError("extra_vars: expected a mapping")
        clash = sorted(set(extra) & set(given or {}))
        if clash:
            raise ValidationError("extra_vars: %s set both as a parameter and as an extra variable" % ", ".join(clash))
        options = dict(options, extra_vars={**(given or {}), **extra})
    return options


def start(
    operation: Operation | str,
    inventory: Any,
    *,
    params: Mapping[str, Any] | None = None,
    collection: Collection | None = None,
    **options: Any,
) -> RunHandle:
    """Start an operation in a thread; returns a cancellable :class:`RunHandle`."""
    op = _operation(operation)
    return run_playbook_async(
        op.playbook_fqcn, inventory, collection=collection, operation=op.name, **_options(op, params, options)
    )


def run_operation(
    operation: Operation | str,
    inventory: Any,
    *,
    params: Mapping[str, Any] | None = None,
    collection: Collection | None = None,
    **options: Any,
) -> RunResult:
    """Run an operation to the end (options as for :func:`kaizen_hybrid.run_playbook`)."""
    op = _operation(operation)
    return run_playbook(op.playbook_fqcn, inventory, collection=collection, operation=op.name, **_options(op, params, options))


def deploy(inventory: Any, **options: Any) -> RunResult:
    """Converge every host of ``inventory`` (``kaizen.hybrid.site``)."""
    return run_operation(DEPLOY, inventory, **options)


def deploy_async(inventory: Any, **options: Any) -> RunHandle:
    """:func:`deploy` in a thread; returns a cancellable :class:`RunHandle`."""
    return start(DEPLOY, inventory, **options)


def preflight(inventory: Any, **options: Any) -> RunResult:
    """Validate the topology of ``inventory`` (``kaizen.hybrid.preflight``); changes nothing."""
    return run_operation(PREFLIGHT, inventory, **options)


def preflight_async(inventory: Any, **options: Any) -> RunHandle:
    """:func:`preflight` in a thread; returns a cancellable :class:`RunHandle`."""
    return start(PREFLIGHT, inventory, **options)


def verify(inventory: Any, **options: Any) -> RunResult:
    """Check the running deployment tier by tier (``kaizen.hybrid.verify``); changes nothing."""
    return run_operation(VERIFY, inventory, **options)


def verify_async(inventory: Any, **options: Any) -> RunHandle:
    """:func:`verify` in a thread; returns a cancellable :class:`RunHandle`."""
    return start(VERIFY, inventory, **options)


def switchover(inventory: Any, to: str | None = None, max_lag_bytes: int | None = None, **options: Any) -> RunResult:
    """Make the replica ``to`` the PostgreSQL primary (``kaizen.hybrid.pg_switchover``)."""
    return run_operation(SWITCHOVER, inventory, params={"to": to, "max_lag_bytes": max_lag_bytes}, **options)


def switchover_async(inventory: Any, to: str | None = None, max_lag_bytes: int | None = None, **options: Any) -> RunHandle:
    """:func:`switchover` in a thread; returns a cancellable :class:`RunHandle`."""
    return start(SWITCHOVER, inventory, params={"to": to, "max_lag_bytes": max_lag_bytes}, **options)


def failover(inventory: Any, to: str | None = None, force: bool | None = None, **options: Any) -> RunResult:
    """Promote a replica after the PostgreSQL primary is lost (``kaizen.hybrid.pg_failover``)."""
    return run_operation(FAILOVER, inventory, params={"to": to, "force": force}, **options)


def failover_async(inventory: Any, to: str | None = None, force: bool | None = None, **options: Any) -> RunHandle:
    """:func:`failover` in a thread; returns a cancellable :class:`RunHandle`."""
    return start(FAILOVER, inventory, params={"to": to, "force": force}, **options)


def update(inventory: Any, image: str | None = None, batch: int | None = None, **options: Any) -> RunResult:
    """Roll ``image`` through the app hosts (``kaizen.hybrid.rolling_update``)."""
    return run_operation(UPDATE, inventory, params={"image": image, "batch": batch}, **options)


def update_async(inventory: Any, image: str | None = None, batch: int | None = None, **options: Any) -> RunHandle:
    """:func:`update` in a thread; returns a cancellable :class:`RunHandle`."""
    return start(UPDATE, inventory, params={"image": image, "batch": batch}, **options)


def scale(inventory: Any, add: str | None = None, remove: str | None = None, **options: Any) -> RunResult:
    """App hosts join (``add``) or leave (``remove``) the running site (``kaizen.hybrid.scale``); comma-separated names."""
    return run_operation(SCALE, inventory, params={"add": add, "remove": remove}, **options)


def scale_async(inventory: Any, add: str | None = None, remove: str | None = None, **options: Any) -> RunHandle:
    """:func:`scale` in a thread; returns a cancellable :class:`RunHandle`."""
    return start(SCALE, inventory, params={"add": add, "remove": remove}, **options)


__all__ = [
    "OPERATIONS",
    "Operation",
    "OperationParam",
    "backup",
    "backup_async",
    "drill",
    "drill_async",
    "deploy",
    "deploy_async",
    "dr",
    "dr_async",
    "failover",
    "failover_async",
    "preflight",
    "preflight_async",
    "restore",
    "restore_async",
    "run_operation",
    "scale",
    "scale_async",
    "start",
    "switchover",
    "switchover_async",
    "update",
    "update_async",
    "verify",
    "verify_async",
]


def backup(inventory: Any, type: str | None = None, **options: Any) -> RunResult:
    """A pgBackRest backup now (playbook kaizen.hybrid.backup); ``type``: full, diff or incr (default)."""
    return run_operation(BACKUP, inventory, params={"type": type}, **options)


def backup_async(inventory: Any, type: str | None = None, **options: Any) -> RunHandle:
    """:func:`backup`, in the background."""
    return start(BACKUP, inventory, params={"type": type}, **options)


def drill(inventory: Any, **options: Any) -> RunResult:
    """A restore drill (playbook kaizen.hybrid.restore_drill): the newest backup restored and compared, production untouched."""
    return run_operation(DRILL, inventory, **options)


def drill_async(inventory: Any, **options: Any) -> RunHandle:
    """:func:`drill`, in the background."""
    return start(DRILL, inventory, **options)


def restore(inventory: Any, to_time: str | None = None, to_lsn: str | None = None, latest: bool | None = None,
            yes: bool | None = None, **options: Any) -> RunResult:
    """The PostgreSQL cluster back to ``to_time``, ``to_lsn`` or the ``latest`` archived WAL (playbook
    kaizen.hybrid.restore); ``yes`` to restore although the primary runs."""
    return run_operation(RESTORE, inventory, params={"to_time": to_time, "to_lsn": to_lsn, "latest": latest, "yes": yes},
                         **options)


def restore_async(inventory: Any, to_time: str | None = None, to_lsn: str | None = None, latest: bool | None = None,
                  yes: bool | None = None, **options: Any) -> RunHandle:
    """:func:`restore`, in the background."""
    return start(RESTORE, inventory, params={"to_time": to_time, "to_lsn": to_lsn, "latest": latest, "yes": yes}, **options)


def dr(inventory: Any, yes: bool | None = None, **options: Any) -> RunResult:
    """Disaster recovery (playbook kaizen.hybrid.disaster_recovery): the PostgreSQL tier rebuilt from the repository;
    ``yes`` to overwrite a primary that still runs."""
    return run_operation(DR, inventory, params={"yes": yes}, **options)


def dr_async(inventory: Any, yes: bool | None = None, **options: Any) -> RunHandle:
    """:func:`dr`, in the background."""
    return start(DR, inventory, params={"yes": yes}, **options)
