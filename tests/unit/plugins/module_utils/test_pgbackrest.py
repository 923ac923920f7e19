# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pgBackRest's wiring: the repository host, each host's pgbackrest.conf, the backup role's settings."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest
import yaml

from ansible_collections.kaizen.hybrid.plugins.module_utils import pgbackrest
from ansible_collections.kaizen.hybrid.plugins.module_utils.topology import Topology, TopologyError

ROLES = Path(__file__).resolve().parents[4] / "roles"

SETTINGS = {
    "stanza": "kaizen", "tls_port": 8432, "ca_file": "/pki/ca.crt", "cert_file": "/pki/host.crt", "key_file": "/pki/host.key",
    "repo_path": "/var/lib/pgbackrest", "cipher_pass": "p" * 40, "retention_full_days": 30, "retention_archive": 5,
    "compress_type": "zst", "compress_level": 3, "process_max": 2, "spool_path": "/var/spool/pgbackrest",
    "log_path": "/var/log/pgbackrest", "schedule": {"full": "Sun 01:00", "diff": "Mon..Sat 01:00"}, "archive_push_timeout": 5,
}


def _site(hostvars=None, groups=None):
    groups = groups or {"all": ["mon1", "db1", "db2"], "backup": ["mon1"], "postgres": ["db1", "db2"], "monitoring": ["mon1"]}
    base = {"mon1": {"kaizen_address": "10.0.0.5"}, "db1": {"kaizen_address": "10.0.0.11"}, "db2": {"kaizen_address": "2001:db8::12"}}
    for host, extra in (hostvars or {}).items():
        base[host] = dict(base.get(host, {}), **extra)
    return Topology(groups, base)


def _parsed(text):
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read_string(text)
    return parser


def test_the_repository_host_knows_every_postgresql_host_through_its_tls_server():
    conf = pgbackrest.config(_site({"db2": {"postgresql_port": 6432, "postgresql_data_directory": "/srv/pg", "backup_tls_port": 18432}}),
                             "mon1", SETTINGS)
    glob, stanza = conf["global"], conf["kaizen"]
    assert glob["repo1-path"] == "/var/lib/pgbackrest" and glob["repo1-cipher-type"] == "aes-256-cbc"
    assert glob["repo1-cipher-pass"] == "p" * 40
    assert (glob["repo1-retention-full-type"], glob["repo1-retention-full"]) == ("time", 30)
    assert (glob["repo1-retention-archive-type"], glob["repo1-retention-archive"]) == ("diff", 5)
    assert stanza["pg1-host"] == "db1" and stanza["pg1-host-type"] == "tls" and stanza["pg1-host-port"] == 8432
    assert stanza["pg1-path"] == "/var/lib/postgresql/15/main" and stanza["pg1-port"] == 5432
    assert stanza["pg2-host"] == "db2" and stanza["pg2-path"] == "/srv/pg" and stanza["pg2-port"] == 6432
    assert stanza["pg2-host-port"] == 18432  # each host's own TLS server port
    assert stanza["pg2-host-cert-file"] == "/pki/host.crt" and stanza["pg2-host-ca-file"] == "/pki/ca.crt"
    # The PostgreSQL hosts push WAL to its server: their certificate names, for the stanza only.
    assert glob["tls-server-auth"] == ["db1=kaizen", "db2=kaizen"]
    assert glob["tls-server-address"] == "10.0.0.5" and "archive-async" not in glob


def test_a_postgresql_host_pushes_wal_asynchronously_to_the_repository_host_and_holds_no_passphrase():
    conf = pgbackrest.config(_site({"mon1": {"common_hostname": "backup-1", "backup_tls_port": 18432}}), "db2", SETTINGS)
    glob = conf["global"]
    assert (glob["repo1-host"], glob["repo1-host-type"], glob["repo1-host-port"]) == ("mon1", "tls", 18432)
    assert glob["tls-server-port"] == 8432
    assert glob["archive-async"] == "y" and glob["spool-path"] == "/var/spool/pgbackrest"
    assert glob["archive-timeout"] == 5  # a shutdown cut off from the backup host is not held for minutes
    assert not [option for option in glob if "cipher" in option or option == "repo1-path"]
    assert conf["kaizen"] == {"pg1-path": "/var/lib/postgresql/15/main", "pg1-port": 5432, "pg1-socket-path": "/var/run/postgresql"}
    # The backup host calls this host's server with its certificate, whose CN is its host name.
    assert glob["tls-server-auth"] == ["backup-1=kaizen"] and glob["tls-server-address"] == "2001:db8::12"


def test_one_host_with_everything_needs_no_tls_server():
    topology = _site(groups={"all": ["one"], "backup": ["one"], "postgres": ["one"]}, hostvars={"one": {"kaizen_address": "10.0.0.9"}})
    conf = pgbackrest.config(topology, "one", SETTINGS)
    assert conf["kaizen"] == {"pg1-path": "/var/lib/postgresql/15/main", "pg1-port": 5432, "pg1-socket-path": "/var/run/postgresql"}
    assert not [option for option in conf["global"] if option.startswith("tls-server") or option.startswith("repo1-host")]
    assert conf["global"]["archive-async"] == "y" and conf["global"]["repo1-path"] == "/var/lib/pgbackrest"
    assert "archive-timeout" not in conf["global"]  # the repository is local
    assert not pgbackrest.tls_server_needed(topology, "one")


def test_a_backup_host_that_is_also_a_postgresql_host_reaches_only_the_others_remotely():
    groups = {"all": ["db1", "db2"], "backup": ["db1"], "postgres": ["db1", "db2"]}
    topology = _site(groups=groups)
    stanza = pgbackrest.config(topology, "db1", SETTINGS)["kaizen"]
    assert "pg1-host" not in stanza and stanza["pg2-host"] == "db2"
    assert pgbackrest.tls_server_needed(topology, "db1") and pgbackrest.tls_server_needed(topology, "db2")


def test_who_runs_a_tls_server():
    topology = _site()
    assert [host for host in ("mon1", "db1", "db2") if pgbackrest.tls_server_needed(topology, host)] == ["mon1", "db1", "db2"]
    assert not pgbackrest.tls_server_needed(_site(groups={"all": ["db1"], "postgres": ["db1"]}), "db1")


def test_no_backup_host_two_backup_hosts_and_a_host_outside_are_errors():
    assert pgbackrest.repository_host(_site(groups={"all": ["db1"], "postgres": ["db1"]})) is None
    with pytest.raises(TopologyError, match="group backup has 2 hosts"):
        pgbackrest.repository_host(_site(groups={"all": ["a", "b"], "backup": ["a", "b"]}))
    with pytest.raises(TopologyError, match="no host in group backup"):
        pgbackrest.config(_site(groups={"all": ["db1"], "postgres": ["db1"]}), "db1", SETTINGS)
    topology = _site(groups={"all": ["mon1", "db1", "app1"], "backup": ["mon1"], "postgres": ["db1"], "app": ["app1"]},
                     hostvars={"app1": {"kaizen_address": "10.0.0.30"}})
    with pytest.raises(TopologyError, match="app1 is neither the backup host"):
        pgbackrest.config(topology, "app1", SETTINGS)


def test_the_rendered_file_is_ini_pgbackrest_reads_with_one_line_per_authorized_client():
    text = pgbackrest.render(pgbackrest.config(_site(), "mon1", SETTINGS))
    assert text.startswith("[global]\n") and "\n\n[kaizen]\n" in text
    assert text.count("tls-server-auth=") == 2 and "tls-server-auth=db1=kaizen\n" in text
    parsed = _parsed(text.replace("tls-server-auth=db2=kaizen\n", ""))
    assert parsed["kaizen"]["pg2-host"] == "db2" and parsed["global"]["compress-type"] == "zst"
    assert "compress-level" not in pgbackrest.config(_site(), "mon1", dict(SETTINGS, compress_type="none"))["global"]


def test_good_settings_have_no_problem():
    assert pgbackrest.settings_problems(SETTINGS) == []


@pytest.mark.parametrize("change, expected", [
    ({"stanza": "my stanza"}, "backup_stanza is 'my stanza'"),
    ({"stanza": ""}, "backup_stanza is ''"),
    ({"cipher_pass": "short"}, "backup_cipher_passphrase must be at least 20 characters"),
    ({"cipher_pass": None}, "backup_cipher_passphrase must be at least 20 characters"),
    ({"retention_full_days": 0}, "backup_retention_full_days is 0"),
    ({"retention_archive": "five"}, "backup_retention_archive is 'five'"),
    ({"process_max": True}, "backup_process_max is True"),
    ({"archive_push_timeout": 0}, "backup_archive_push_timeout is 0"),
    ({"tls_port": 70000}, "backup_tls_port is 70000"),
    ({"compress_type": "xz"}, "backup_compress_type is 'xz'; it must be one of zst, lz4, gz, bz2, none"),
    ({"compress_level": 20}, "backup_compress_level is 20"),
    ({"repo_path": "backups"}, "backup_repo_path is 'backups'; it must be an absolute path"),
    ({"schedule": {"weekly": "Sun"}}, "backup_schedule has 'weekly'"),
    ({"schedule": {"full": " "}}, "backup_schedule.full is empty"),
])
def test_each_bad_setting_is_one_sentence(change, expected):
    problems = pgbackrest.settings_problems(dict(SETTINGS, **change))
    assert len(problems) == 1 and problems[0].startswith(expected), problems


S3 = {"s3_bucket": "kaizen-backups", "s3_endpoint": "s3.example.test", "s3_port": 9000, "s3_region": "eu-west-1",
      "s3_key": "AKIAEXAMPLE", "s3_key_secret": "secret" * 4, "s3_path": "/pgbackrest", "s3_uri_style": "path"}


def test_repository_2_in_s3_is_encrypted_and_kept_as_long_and_its_keys_stay_on_the_backup_host():
    settings = dict(SETTINGS, **S3)
    assert pgbackrest.repositories(SETTINGS) == [1] and pgbackrest.repositories(settings) == [1, 2]
    glob = pgbackrest.config(_site(), "mon1", settings)["global"]
    assert (glob["repo2-type"], glob["repo2-s3-bucket"], glob["repo2-s3-endpoint"], glob["repo2-storage-port"]) == (
        "s3", "kaizen-backups", "s3.example.test", 9000)
    assert (glob["repo2-s3-region"], glob["repo2-s3-uri-style"], glob["repo2-path"]) == ("eu-west-1", "path", "/pgbackrest")
    assert glob["repo2-s3-key"] == "AKIAEXAMPLE" and glob["repo2-s3-key-secret"] == "secret" * 4
    assert glob["repo2-storage-verify-tls"] == "y"
    assert (glob["repo2-cipher-type"], glob["repo2-cipher-pass"]) == ("aes-256-cbc", "p" * 40)
    assert (glob["repo2-retention-full"], glob["repo2-retention-archive"]) == (30, 5)
    assert glob["repo1-path"] == "/var/lib/pgbackrest" and "repo2-host" not in glob
    # A PostgreSQL host pushes WAL to both through the backup host's TLS server: no key, no bucket, no passphrase.
    db = pgbackrest.config(_site({"mon1": {"backup_tls_port": 18432}}), "db1", settings)["global"]
    assert (db["repo2-host"], db["repo2-host-type"], db["repo2-host-port"]) == ("mon1", "tls", 18432)
    assert db["repo2-host-cert-file"] == "/pki/host.crt" and db["repo1-host"] == "mon1"
    assert not [option for option in db if "s3" in option or "cipher" in option or option.endswith("-path") and option.startswith("repo")]
    # One host with everything: both repositories local.
    one = _site(groups={"all": ["one"], "backup": ["one"], "postgres": ["one"]}, hostvars={"one": {"kaizen_address": "10.0.0.9"}})
    assert pgbackrest.config(one, "one", settings)["global"]["repo2-type"] == "s3"
    assert pgbackrest.settings_problems(settings) == []
    environment = pgbackrest.s3_environment(settings)
    assert environment["PGBACKREST_REPO2_S3_KEY_SECRET"] == "secret" * 4 and environment["PGBACKREST_REPO2_STORAGE_PORT"] == "9000"
    assert environment["PGBACKREST_REPO2_TYPE"] == "s3" and not [name for name in environment if "CIPHER" in name]


@pytest.mark.parametrize("change, expected", [
    ({"s3_bucket": "Kaizen_Backups"}, "backup_s3_bucket is 'Kaizen_Backups'"),
    ({"s3_key_secret": "", "s3_region": None}, "backup_s3_bucket is set, so repository 2 is in an object store; backup_s3_region, backup_s3_key_secret"),
    ({"s3_uri_style": "virtual"}, "backup_s3_uri_style is 'virtual'"),
    ({"s3_path": "pgbackrest"}, "backup_s3_path is 'pgbackrest'"),
    ({"s3_port": 0}, "backup_s3_port is 0"),
    ({"s3_endpoint": "https://s3.example.test"}, "backup_s3_endpoint is 'https://s3.example.test'; give the host name only"),
    ({"s3_endpoint": "s3.example.test:9000"}, "backup_s3_endpoint is 's3.example.test:9000'; give the host name only"),
])
def test_each_bad_s3_setting_is_one_sentence(change, expected):
    problems = pgbackrest.settings_problems(dict(SETTINGS, **dict(S3, **change)))
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_the_data_directory_defaults_are_the_postgresql_roles():
    defaults = yaml.safe_load((ROLES / "postgresql" / "defaults" / "main.yml").read_text())
    for name, value in pgbackrest.POSTGRESQL_DEFAULTS.items():
        assert defaults[name] == value
    assert defaults["postgresql_data_directory"] == "/var/lib/postgresql/{{ postgresql_version }}/{{ postgresql_cluster_name }}"
    assert pgbackrest.data_directory(_site({"db1": {"postgresql_version": 16}}), "db1") == "/var/lib/postgresql/16/main"


# --- restore targets: a repository with a full backup (finished 1000 s, LSN 0/5000100) and a diff (3000 s, 0/9000000)

def _stanza(*backups, code=0, repo=1):
    return {"name": "kaizen", "status": {"code": code, "message": "ok" if code == 0 else "no valid backups"},
            "backup": [{"label": label, "timestamp": {"start": stop - 10, "stop": stop}, "lsn": {"start": "0/1", "stop": lsn},
                        "database": {"id": 1, "repo-key": repo}, "error": False} for label, stop, lsn in backups]}


STANZA_INFO = _stanza(("20261203-000000F_20261203-000500D", 3000, "0/9000000"), ("20261203-000000F", 1000, "0/5000100"))
UTC_2000 = "1970-01-01 00:33:20+00"  # 2000 s after the epoch


@pytest.mark.parametrize("text, expected", [
    ("1970-01-01 00:33:20+00", 2000), ("1970-01-01T00:33:20Z", 2000), ("1970-01-01 01:33:20+01:00", 2000),
    ("1969-12-31 19:03:20-05:30", 2000), ("1970-01-01 00:33+00", 1980), ("1970-01-01 00:33:20.25+0000", 2000.25),
])
def test_restore_times_need_their_offset(text, expected):
    assert pgbackrest.parse_time(text).timestamp() == expected


@pytest.mark.parametrize("text", ["1970-01-01 00:33:20", "yesterday", "", "1970-13-01 00:00:00+00", "1970-01-01 00:33:20 CET"])
def test_a_time_without_offset_or_not_a_time_is_refused(text):
    with pytest.raises(ValueError):
        pgbackrest.parse_time(text)


def test_a_time_restores_from_the_newest_backup_finished_before_it():
    answer = pgbackrest.restore_target(STANZA_INFO, time="1970-01-01 01:33:20+01:00", now=5000)
    assert answer == {"type": "time", "target": UTC_2000, "set": "20261203-000000F", "repo": 1, "problems": [],
                      "args": ["--type=time", "--target=" + UTC_2000, "--target-action=promote", "--set=20261203-000000F", "--repo=1"]}
    later = pgbackrest.restore_target(STANZA_INFO, time="1970-01-01 00:50:00.5Z", now=5000)
    assert later["set"] == "20261203-000000F_20261203-000500D" and later["target"] == "1970-01-01 00:50:00.500000+00"


def test_an_lsn_restores_from_the_newest_backup_ended_before_it():
    answer = pgbackrest.restore_target(STANZA_INFO, lsn="0/9a000000", now=5000)
    assert answer["type"] == "lsn" and answer["target"] == "0/9A000000" and answer["set"] == "20261203-000000F_20261203-000500D"
    assert pgbackrest.restore_target(STANZA_INFO, lsn="0/5000100")["set"] == "20261203-000000F"


def test_latest_replays_all_archived_wal_from_the_newest_backup():
    answer = pgbackrest.restore_target(STANZA_INFO, latest=True, now=5000)
    assert answer["args"] == ["--type=default", "--repo=1"] and answer["set"] == "20261203-000000F_20261203-000500D" and not answer["problems"]


def test_with_two_repositories_the_set_comes_from_the_first_that_holds_one():
    # Repository 2 (S3) took each backup a little after repository 1; repository 1 is the nearer.
    repo2 = _stanza(("20261203-000010F", 1010, "0/5000200"), ("20261203-000010F_20261203-000510D", 3010, "0/9000100"), repo=2)
    both = dict(STANZA_INFO, backup=STANZA_INFO["backup"] + repo2["backup"])
    answer = pgbackrest.restore_target(both, time="1970-01-01 00:55:00+00", now=5000)
    assert (answer["set"], answer["repo"]) == ("20261203-000000F_20261203-000500D", 1) and answer["args"][-1] == "--repo=1"
    assert pgbackrest.restore_target(both, latest=True, now=5000)["args"] == ["--type=default", "--repo=1"]
    # Repository 2 does not answer (the stanza says "different across repos"): repository 1 alone.
    mixed = dict(both, status={"code": 4, "message": "different across repos"},
                 repo=[{"key": 1, "status": {"code": 0, "message": "ok"}}, {"key": 2, "status": {"code": 99, "message": "other"}}])
    assert pgbackrest.restore_target(mixed, lsn="0/9000100", now=5000)["set"] == "20261203-000000F_20261203-000500D"
    # Only repository 2 reaches back far enough (or repository 1 was lost): from there.
    only = pgbackrest.restore_target(dict(STANZA_INFO, backup=repo2["backup"]), lsn="0/6000000", now=5000)
    assert (only["set"], only["repo"]) == ("20261203-000010F", 2) and "--repo=2" in only["args"]


@pytest.mark.parametrize("stanza, target, fragment", [
    (STANZA_INFO, {}, "none was given"),
    (STANZA_INFO, {"time": UTC_2000, "latest": True}, "a time and the latest point were given"),
    (STANZA_INFO, {"time": "1970-01-01 00:10:00+00"}, "before the oldest backup finished (20261203-000000F, 1970-01-01 00:16:40+00)"),
    (STANZA_INFO, {"time": "1970-01-01 02:00:00+00"}, "in the future (it is 1970-01-01 01:23:20+00 now)"),
    (STANZA_INFO, {"time": "1970-01-01 00:33:20"}, "its UTC offset"),
    (STANZA_INFO, {"lsn": "0/4000000"}, "before the end of the oldest backup (20261203-000000F, LSN 0/5000100)"),
    (STANZA_INFO, {"lsn": "5000100"}, "not an LSN"),
    (_stanza(code=2), {"latest": True}, "no backup to restore from (pgBackRest: no valid backups)"),
    ({"rc": 29, "error": "unable to load info file"}, {"latest": True}, "pgBackRest: unable to load info file"),
    ({}, {"latest": True}, "pgBackRest: no such stanza"),
])
def test_a_target_the_repository_cannot_reach_is_one_sentence_and_no_arguments(stanza, target, fragment):
    answer = pgbackrest.restore_target(stanza, now=5000, **target)
    assert len(answer["problems"]) == 1 and fragment in answer["problems"][0] and answer["args"] == []
