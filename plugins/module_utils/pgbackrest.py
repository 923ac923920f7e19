# -*- coding: utf-8 -*-
# Copyright: (c) 2026, kaizen.hybrid maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pgBackRest on a site: the repository host, the PostgreSQL hosts it backs up, each host's ``pgbackrest.conf``.

* :func:`repository_host` is the host of group ``backup`` (repository 1 lives there).
* :func:`config` is one host's ``pgbackrest.conf`` as sections of options: the repository host knows every
  PostgreSQL host (``pgN-*``, reached through their pgBackRest TLS servers) and holds the repository and its
  cipher passphrase; a PostgreSQL host knows its own cluster and reaches the repository through the repository
  host's TLS server (``repo1-host-type=tls``) to push WAL. No SSH between hosts: each side's TLS server admits
  the other's certificate common name for the stanza only.
  Repository 2, optional, is an S3-compatible object store (``s3_bucket`` set): only the repository host holds
  its address and keys; the PostgreSQL hosts push WAL to it through the repository host's TLS server too
  (``repo2-host``), so no key of the object store leaves the backup host.
* :func:`repositories` lists the repositories a site's settings give (1, and 2 with S3).
* :func:`render` writes the sections as the INI file pgBackRest reads.
* :func:`settings_problems` checks the backup role's settings, one sentence per problem.

pgBackRest checks a TLS server's certificate against the name it connects to by DNS names only (not IP
addresses), so hosts are reached by their inventory names, which role common lists in ``/etc/hosts``.

No Ansible imports: unit-tested directly.
"""

from __future__ import annotations

import datetime
import re
import time as _time
import typing as t

from ansible_collections.kaizen.hybrid.plugins.module_utils.topology import Topology, TopologyError
from ansible_collections.kaizen.hybrid.plugins.module_utils.values import as_int

POSTGRESQL_DEFAULTS = {"postgresql_version": 15, "postgresql_cluster_name": "main"}
"""The postgresql role's defaults a PostgreSQL host's data directory is made of (its ``postgresql_data_directory``
default is ``/var/lib/postgresql/<version>/<cluster>``); tests keep them equal to the role's."""
POSTGRESQL_SOCKET_DIR = "/var/run/postgresql"

BACKUP_TYPES = ("full", "diff", "incr")
COMPRESS_TYPES = ("zst", "lz4", "gz", "bz2", "none")
STANZA = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
MIN_PASSPHRASE = 20
S3_URI_STYLES = ("host", "path")
S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
S3_SETTINGS = ("s3_endpoint", "s3_region", "s3_key", "s3_key_secret")


def repository_host(topology: Topology) -> str | None:
    """The host of group ``backup``, or None when the site has none (no backups)."""
    members = topology.members("backup")
    if len(members) > 1:
        raise TopologyError("group backup has %d hosts (%s); repository 1 lives on one host"
                            % (len(members), ", ".join(members)))
    return members[0] if members else None


def common_name(topology: Topology, host: str) -> str:
    """The CN of ``host``'s certificate (role pki's ``pki_host_common_name``: ``common_hostname``, else the
    inventory name): what its peer's TLS server authorizes."""
    return str(topology.var(host, "pki_host_common_name") or topology.var(host, "common_hostname") or host)


def data_directory(topology: Topology, host: str) -> str:
    """``postgresql_data_directory`` of ``host``, else the postgresql role's default for its version and cluster."""
    explicit = topology.var(host, "postgresql_data_directory")
    if explicit:
        return str(explicit)
    version, cluster = (topology.var(host, name, default) for name, default in POSTGRESQL_DEFAULTS.items())
    return "/var/lib/postgresql/%s/%s" % (version, cluster)


def repositories(settings: t.Mapping[str, t.Any]) -> list[int]:
    """The repositories of a site: 1 (the backup host), and 2 when an S3 bucket is given."""
    return [1, 2] if str(settings.get("s3_bucket") or "") else [1]


def s3_options(settings: t.Mapping[str, t.Any], repo: int = 2) -> dict[str, t.Any]:
    """The options of repository ``repo`` in an S3-compatible object store (no cipher, no retention): what
    ``pgbackrest.conf`` holds for it, and what the role's bucket check gives pgBackRest before the file is written."""
    prefix = "repo%d" % repo
    return {
        "%s-type" % prefix: "s3",
        "%s-path" % prefix: settings["s3_path"],
        "%s-s3-bucket" % prefix: settings["s3_bucket"],
        "%s-s3-endpoint" % prefix: settings["s3_endpoint"],
        "%s-s3-region" % prefix: settings["s3_region"],
        "%s-s3-key" % prefix: settings["s3_key"],
        "%s-s3-key-secret" % prefix: settings["s3_key_secret"],
        "%s-s3-uri-style" % prefix: settings["s3_uri_style"],
        "%s-storage-port" % prefix: int(settings["s3_port"]),
        "%s-storage-verify-tls" % prefix: "y",
    }


def s3_environment(settings: t.Mapping[str, t.Any]) -> dict[str, str]:
    """Repository 2's options as pgBackRest reads them from its environment (``PGBACKREST_REPO2_S3_BUCKET``, ...):
    a command can reach the bucket before any configuration names it, with the keys out of the process list."""
    return {"PGBACKREST_%s" % option.upper().replace("-", "_"): str(value) for option, value in s3_options(settings).items()}


def _tls(prefix: str, settings: t.Mapping[str, t.Any]) -> dict[str, str]:
    return {"%s-ca-file" % prefix: settings["ca_file"], "%s-cert-file" % prefix: settings["cert_file"],
            "%s-key-file" % prefix: settings["key_file"]}


def config(topology: Topology, host: str, settings: t.Mapping[str, t.Any]) -> dict[str, dict[str, t.Any]]:
    """``pgbackrest.conf`` of ``host`` (the repository host, a PostgreSQL host, or both) as ``{section: {option:
    value}}``: ``global`` and the stanza.

    Every host's TLS server port is its own ``backup_tls_port`` (:meth:`Topology.port`). ``settings``: ``stanza``,
    ``ca_file``, ``cert_file``, ``key_file``,
    ``repo_path``, ``cipher_pass``, ``retention_full_days``, ``retention_archive``, ``compress_type``,
    ``compress_level``, ``process_max``, ``spool_path``, ``log_path``, ``archive_push_timeout``; for repository 2
    ``s3_bucket`` (empty: none), ``s3_endpoint``, ``s3_port``, ``s3_region``, ``s3_key``, ``s3_key_secret``,
    ``s3_path``, ``s3_uri_style``. Every repository is encrypted with ``cipher_pass`` and kept as long.
    """
    repository = repository_host(topology)
    if repository is None:
        raise TopologyError("the site has no host in group backup: nothing to configure pgBackRest for")
    postgres = topology.members("postgres")
    is_repository, is_postgres = host == repository, host in postgres
    if not (is_repository or is_postgres):
        raise TopologyError("%s is neither the backup host (%s) nor a PostgreSQL host" % (host, repository))
    stanza = settings["stanza"]
    common = {
        "log-path": settings["log_path"],
        "log-level-console": "warn",
        "log-level-file": "info",
        "compress-type": settings["compress_type"],
        "process-max": int(settings["process_max"]),
    }
    if settings["compress_type"] != "none":
        common["compress-level"] = int(settings["compress_level"])
    glob: dict[str, t.Any] = dict(common)
    section: dict[str, t.Any] = {}
    clients: list[str] = []
    if is_repository:
        glob.update({"repo1-path": settings["repo_path"], "start-fast": "y"})
        for repo in repositories(settings):
            prefix = "repo%d" % repo
            glob.update({
                "%s-cipher-type" % prefix: "aes-256-cbc",
                "%s-cipher-pass" % prefix: settings["cipher_pass"],
                "%s-retention-full-type" % prefix: "time",
                "%s-retention-full" % prefix: int(settings["retention_full_days"]),
                "%s-retention-archive-type" % prefix: "diff",
                "%s-retention-archive" % prefix: int(settings["retention_archive"]),
            })
            if repo == 2:
                glob.update(s3_options(settings, repo))
        for index, member in enumerate(postgres, start=1):
            pg = "pg%d" % index
            section["%s-path" % pg] = data_directory(topology, member)
            section["%s-port" % pg] = topology.port(member, "postgresql_port")
            section["%s-socket-path" % pg] = POSTGRESQL_SOCKET_DIR
            if member != host:
                section.update({"%s-host" % pg: member, "%s-host-type" % pg: "tls",
                                "%s-host-port" % pg: topology.port(member, "backup_tls_port")})
                section.update(_tls("%s-host" % pg, settings))
                clients.append(member)
    else:
        for repo in repositories(settings):
            prefix = "repo%d-host" % repo
            glob.update({prefix: repository, "%s-type" % prefix: "tls", "%s-port" % prefix: topology.port(repository, "backup_tls_port")})
            glob.update(_tls(prefix, settings))
        section.update({"pg1-path": data_directory(topology, host), "pg1-port": topology.port(host, "postgresql_port"),
                        "pg1-socket-path": POSTGRESQL_SOCKET_DIR})
        clients.append(repository)
    if is_postgres:
        # WAL is pushed by a background process that sends several segments at once; PostgreSQL's
        # archive_command returns as soon as its segment is in the repository.
        glob.update({"archive-async": "y", "spool-path": settings["spool_path"]})
    if is_postgres and not is_repository:
        # How long archive_command waits for its segment to reach the repository host: a server that cannot
        # reach it (a network partition) gives up soon, and a shutdown - which waits for the archiver's last
        # tries, three per segment - is not held for minutes (Patroni demotes a cut-off primary by stopping it).
        glob["archive-timeout"] = int(settings["archive_push_timeout"])
    if clients:
        glob.update({"tls-server-address": topology.address(host), "tls-server-port": topology.port(host, "backup_tls_port")})
        glob.update(_tls("tls-server", settings))
        glob["tls-server-auth"] = ["%s=%s" % (common_name(topology, client), stanza) for client in clients]
    return {"global": glob, stanza: section}


def tls_server_needed(topology: Topology, host: str) -> bool:
    """Whether ``host`` runs pgBackRest's TLS server: the repository host when a PostgreSQL host is elsewhere,
    a PostgreSQL host when the repository is elsewhere."""
    repository = repository_host(topology)
    postgres = topology.members("postgres")
    if repository is None:
        return False
    if host == repository:
        return any(member != host for member in postgres)
    return host in postgres


def render(sections: t.Mapping[str, t.Mapping[str, t.Any]]) -> str:
    """The INI text of ``sections`` (``global`` first, options sorted; a list is one line per value)."""
    lines: list[str] = []
    for name in sorted(sections, key=lambda section: (section != "global", section)):
        if lines:
            lines.append("")
        lines.append("[%s]" % name)
        for option, value in sorted(sections[name].items()):
            for item in value if isinstance(value, (list, tuple)) else [value]:
                lines.append("%s=%s" % (option, item))
    return "\n".join(lines) + "\n"


def _positive(settings: t.Mapping[str, t.Any], name: str, variable: str, maximum: int) -> str | None:
    value = as_int(settings.get(name))
    if value is None or not 1 <= value <= maximum:
        return "%s is %r; it must be a whole number from 1 to %d" % (variable, settings.get(name), maximum)
    return None


def settings_problems(settings: t.Mapping[str, t.Any]) -> list[str]:
    """The backup role's settings: a stanza name pgBackRest accepts, a passphrase long enough to encrypt with,
    retention and parallelism that are positive numbers, a known compression and TLS port, absolute paths,
    systemd calendar expressions that are not empty, and a backup type pgBackRest knows."""
    problems = []
    stanza = str(settings.get("stanza") or "")
    if not STANZA.match(stanza):
        problems.append("backup_stanza is %r; it must be 1-63 letters, digits, '-' or '_', starting with a letter or digit"
                        % (settings.get("stanza"),))
    passphrase = str(settings.get("cipher_pass") or "")
    if len(passphrase) < MIN_PASSPHRASE:
        problems.append("backup_cipher_passphrase must be at least %d characters (it encrypts every repository; keep it in the "
                        "vault: without it no backup can be restored)" % MIN_PASSPHRASE)
    for name, variable, maximum in (("retention_full_days", "backup_retention_full_days", 9999999),
                                    ("retention_archive", "backup_retention_archive", 9999999),
                                    ("process_max", "backup_process_max", 999),
                                    ("archive_push_timeout", "backup_archive_push_timeout", 3600),
                                    ("tls_port", "backup_tls_port", 65535)):
        problem = _positive(settings, name, variable, maximum)
        if problem:
            problems.append(problem)
    compress = settings.get("compress_type")
    if compress not in COMPRESS_TYPES:
        problems.append("backup_compress_type is %r; it must be one of %s" % (compress, ", ".join(COMPRESS_TYPES)))
    level = as_int(settings.get("compress_level"))
    if level is None or not 0 <= level <= 19:
        problems.append("backup_compress_level is %r; it must be a whole number from 0 to 19" % (settings.get("compress_level"),))
    for name in ("repo_path", "spool_path", "log_path"):
        if not str(settings.get(name) or "").startswith("/"):
            problems.append("backup_%s is %r; it must be an absolute path" % (name, settings.get(name)))
    if repositories(settings) == [1, 2]:
        problems += _s3_problems(settings)
    for kind, when in sorted((settings.get("schedule") or {}).items()):
        if kind not in BACKUP_TYPES:
            problems.append("backup_schedule has %r; its keys are the backup types %s" % (kind, ", ".join(BACKUP_TYPES)))
        elif not str(when or "").strip():
            problems.append("backup_schedule.%s is empty; give a systemd calendar expression (e.g. 'Sun 01:00'), or leave "
                            "the type out of backup_schedule" % kind)
    return problems


def _s3_problems(settings: t.Mapping[str, t.Any]) -> list[str]:
    problems = []
    bucket = str(settings.get("s3_bucket"))
    if not S3_BUCKET.match(bucket) or ".." in bucket:
        problems.append("backup_s3_bucket is %r; an S3 bucket name is 3-63 lowercase letters, digits, '.' or '-', starting and "
                        "ending with a letter or digit" % bucket)
    missing = ["backup_%s" % name for name in S3_SETTINGS if not str(settings.get(name) or "").strip()]
    if missing:
        problems.append("backup_s3_bucket is set, so repository 2 is in an object store; %s must be set too (the keys from the "
                        "vault)" % ", ".join(missing))
    if settings.get("s3_uri_style") not in S3_URI_STYLES:
        problems.append("backup_s3_uri_style is %r; it must be host (the bucket in the host name, as AWS serves it) or path "
                        "(the bucket in the path, as most self-hosted stores do)" % (settings.get("s3_uri_style"),))
    if not str(settings.get("s3_path") or "").startswith("/"):
        problems.append("backup_s3_path is %r; it must start with / (the repository's prefix in the bucket)" % (settings.get("s3_path"),))
    problem = _positive(settings, "s3_port", "backup_s3_port", 65535)
    if problem:
        problems.append(problem)
    if ":" in str(settings.get("s3_endpoint") or ""):  # a URL ("https://...") or "host:port"
        problems.append("backup_s3_endpoint is %r; give the host name only (pgBackRest speaks HTTPS; the port is backup_s3_port)"
                        % (settings.get("s3_endpoint"),))
    return problems


# --- restore targets ------------------------------------------------------------------------------------------------

RESTORE_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)$")
RESTORE_LSN = re.compile(r"^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$")


def parse_time(text: str) -> datetime.datetime:
    """``YYYY-MM-DD HH:MM[:SS[.ffffff]]`` with ``Z`` or a UTC offset (``+01``, ``-05:30``), in UTC; ValueError when
    it is not that (a time without its offset is refused: the servers and the operator may not share a zone)."""
    match = RESTORE_TIME.match(text.strip())
    if not match:
        raise ValueError("%r is not a time like 2026-12-03 21:00:00+00 (a date, a time and its UTC offset or Z)" % text)
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    if offset == "Z":
        zone = datetime.timezone.utc
    else:
        digits = offset[1:].replace(":", "")
        delta = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
        zone = datetime.timezone(delta if offset[0] == "+" else -delta)
    moment = datetime.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
                               int((fraction or "0").ljust(6, "0")), tzinfo=zone)
    return moment.astimezone(datetime.timezone.utc)


def lsn_value(text: str) -> int:
    high, low = str(text).split("/")
    return (int(high, 16) << 32) + int(low, 16)


def _utc(moment: t.Any) -> str:
    """``moment`` (a datetime, or Unix time) as PostgreSQL reads a time in UTC (microseconds only when there are any)."""
    if not isinstance(moment, datetime.datetime):
        moment = datetime.datetime.fromtimestamp(moment, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S" + (".%f" if moment.microsecond else "") + "+00")


def _repo_key(backup: t.Mapping[str, t.Any]) -> int:
    """The repository ``backup`` (an entry of info's ``backup`` list) is in (1 when info does not say)."""
    return int((backup.get("database") or {}).get("repo-key") or 1)


def _restore_from(backups: list[t.Mapping[str, t.Any]]) -> dict[str, t.Any]:
    """The backup set a restore starts from, and its repository: the newest of ``backups`` (sorted by their end)
    in the first repository that holds one of them."""
    first = min(_repo_key(backup) for backup in backups)
    nearest = [backup for backup in backups if _repo_key(backup) == first][-1]
    return {"set": nearest["label"], "repo": first}


def restore_target(stanza: t.Mapping[str, t.Any], time: t.Any = None, lsn: t.Any = None, latest: bool = False,
                   now: float | None = None) -> dict[str, t.Any]:
    """What ``pgbackrest restore`` is given to bring a cluster to one point, judged against the repository before
    anything is stopped.

    ``stanza`` is the stanza's entry of ``pgbackrest info --output=json``. Exactly one of ``time`` (see
    :func:`parse_time`), ``lsn`` (``X/Y``) or ``latest`` (the end of the archived WAL). The backup set is the newest
    one that finished before the target (a time before the oldest backup finished, or after ``now``, is refused).
    With two repositories the set comes from the first one that holds one (repository 1, on the backup host, is
    the nearer). Returns ``type``, ``target`` (as pgBackRest is given it), ``set`` (a backup label), ``repo`` (its
    repository), ``args`` (restore's options)
    and ``problems`` (one sentence each; nothing may be stopped unless it is empty)."""
    answer: dict[str, t.Any] = {"type": "", "target": "", "set": "", "repo": 0, "args": [], "problems": []}
    problems = answer["problems"]
    chosen = [name for name, value in (("a time", time), ("an LSN", lsn), ("the latest point", latest)) if value]
    if len(chosen) != 1:
        problems.append("give one restore target - a time (--to-time), an LSN (--to-lsn) or --latest; %s" % (
            "none was given" if not chosen else "%s were given" % " and ".join(chosen)))
        return answer
    stanza = stanza if isinstance(stanza, t.Mapping) else {}
    status = stanza.get("status") or {}
    # With several repositories the stanza's status is theirs combined ("different across repos" when one has no
    # backup yet or does not answer): the backups of each repository that answers ok count.
    good = {int(repo.get("key", 0)) for repo in stanza.get("repo") or [] if int((repo.get("status") or {}).get("code", -1)) == 0}
    backups = [backup for backup in stanza.get("backup") or []
               if not backup.get("error") and (_repo_key(backup) in good if stanza.get("repo") else int(status.get("code", -1)) == 0)]
    if not backups:
        problems.append("the repository has no backup to restore from (pgBackRest: %s)" % (
            stanza.get("error") or status.get("message") or "no such stanza"))
        return answer
    backups.sort(key=lambda backup: backup["timestamp"]["stop"])
    now = _time.time() if now is None else float(now)
    if latest:
        answer.update(type="default", target="latest", **_restore_from(backups))
        answer["args"] = ["--type=default", "--repo=%d" % answer["repo"]]
        return answer
    if time:
        try:
            moment = parse_time(str(time))
        except ValueError as exc:
            problems.append("restore time %s" % exc)
            return answer
        when = moment.timestamp()
        eligible = [backup for backup in backups if backup["timestamp"]["stop"] <= when]
        if when > now:
            problems.append("restore time %s is in the future (it is %s now)" % (_utc(moment), _utc(now)))
        elif not eligible:
            problems.append("restore time %s is before the oldest backup finished (%s, %s): the repository cannot go back "
                            "that far" % (_utc(moment), backups[0]["label"], _utc(backups[0]["timestamp"]["stop"])))
        else:
            answer.update(type="time", target=_utc(moment), **_restore_from(eligible))
    else:
        text = str(lsn).strip()
        if not RESTORE_LSN.match(text):
            problems.append("restore LSN %r is not an LSN like 0/3000060" % text)
            return answer
        eligible = [backup for backup in backups if lsn_value(backup["lsn"]["stop"]) <= lsn_value(text)]
        if not eligible:
            problems.append("restore LSN %s is before the end of the oldest backup (%s, LSN %s): the repository cannot go back "
                            "that far" % (text.upper(), backups[0]["label"], backups[0]["lsn"]["stop"]))
        else:
            answer.update(type="lsn", target=text.upper(), **_restore_from(eligible))
    if not problems:
        answer["args"] = ["--type=%s" % answer["type"], "--target=%s" % answer["target"], "--target-action=promote",
                          "--set=%s" % answer["set"], "--repo=%d" % answer["repo"]]
    return answer
