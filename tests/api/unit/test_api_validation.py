# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inputs are checked before anything runs, every problem at once, secrets never echoed."""

from __future__ import annotations

from pathlib import Path

import pytest

import kaizen_hybrid
from kaizen_hybrid.collection import locate_collection
from kaizen_hybrid.errors import ValidationError
from kaizen_hybrid.operations import OPERATIONS, Operation, OperationParam
from kaizen_hybrid.validation import build_request, check_role_variables, default_artifacts_dir

ROOT = Path(__file__).resolve().parents[3]
GOOD = ROOT / "tests" / "integration" / "fixtures" / "preflight" / "good"
INVENTORY = {"all": {"hosts": {"h1": {"kaizen_address": "192.0.2.10"}}, "children": {"app": {"hosts": {"h1": None}}}}}


@pytest.fixture(scope="module")
def collection():
    return locate_collection()


def _problems(collection, playbook="kaizen.hybrid.site", inventory=None, **options) -> list[str]:
    with pytest.raises(ValidationError) as info:
        build_request(playbook, INVENTORY if inventory is None else inventory, collection=collection, **options)
    return info.value.problems


def test_the_checkout_is_found_with_its_roles(collection):
    assert collection.checkout == ROOT
    assert collection.search_path == ROOT / "collections"
    assert {"site", "preflight", "baseline"} <= set(collection.playbooks())
    assert {"common", "pki"} <= set(collection.role_specs())
    assert collection.version == kaizen_hybrid.__version__


def test_package_version_follows_galaxy_yml(collection):
    import yaml

    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))
    assert kaizen_hybrid.__version__ == str(galaxy["version"])


def test_a_good_request_is_normalised(collection, tmp_path):
    request = build_request(
        "kaizen.hybrid.site",
        GOOD,
        collection=collection,
        extra_vars={"common_timezone": "Europe/Paris", "common_packages_extra": ["htop"], "unrelated": 1},
        limit=["app", "lb1"],
        tags="common, pki",
        skip_tags=["pki_trust"],
        check=True,
        forks=5,
        artifacts_dir=tmp_path / "a",
        operation="deploy",
    )
    assert request.inventory_path == GOOD.resolve() and request.inventory_path.is_absolute()
    assert request.limit == "app,lb1"
    assert request.tags == ("common", "pki") and request.skip_tags == ("pki_trust",)
    assert request.artifacts_dir == (tmp_path / "a").resolve()
    assert request.check and not request.diff and request.forks == 5


def test_every_problem_is_reported_at_once(collection):
    problems = _problems(
        collection,
        playbook="kaizen.hybrid.no_such_playbook",
        inventory="/no/such/inventory",
        extra_vars={"bad name": 1, "hostvars": {}},
        limit="",
        tags=["ok", "has space"],
        check="yes",
        forks=0,
        verbosity=9,
        timeout=-1,
        event_handler="print",
        keep_artifacts=-1,
        env={"A": 1},
    )
    text = "\n".join(problems)
    for expected in (
        "playbook: kaizen.hybrid has no playbook 'no_such_playbook' (it has: ",
        "inventory: /no/such/inventory does not exist",
        "extra_vars: 'bad name' is not a valid variable name",
        "extra_vars: hostvars is set by Ansible itself",
        "limit: empty entry",
        "tags: 'has space' contains white space",
        "check: expected True or False",
        "forks: 0 is outside 1..1000",
        "verbosity: 9 is outside 0..6",
        "timeout: expected a positive number",
        "event_handler: expected a callable",
        "keep_artifacts: -1 is outside",
        "env: expected a mapping of strings to strings",
    ):
        assert expected in text, expected
    assert len(problems) == 13


def test_role_variables_follow_the_argument_specs(collection):
    problems = _problems(
        collection,
        extra_vars={
            "common_timezon": "UTC",  # typo
            "common_hosts_manage": "maybe",  # not a bool
            "common_apt_cache_valid_time": "soon",  # not an int
            "common_packages": "curl,vim",  # a comma list is a list: fine
            "common_sysctl_apply": "{{ not in_container }}",  # a template: left to Ansible
            "pki_ca_valid_days": 3650,
        },
    )
    assert len(problems) == 3, problems
    assert problems[0] == (
        "common_timezon (role kaizen.hybrid.common): the role has no variable of that name; did you mean common_timezone?"
    )
    assert any(p.startswith("common_hosts_manage (role kaizen.hybrid.common): ") and "bool" in p for p in problems)
    assert any(p.startswith("common_apt_cache_valid_time (role kaizen.hybrid.common): ") and "int" in p for p in problems)


def test_a_variable_of_a_day2_entry_point_is_a_variable_of_its_role(collection):
    # playbooks/backup.yml passes backup_type to the role's entry point backup (kaizen-hybrid backup --type).
    assert check_role_variables({"backup_type": "full"}, collection) == []
    problems = check_role_variables({"backup_typ": "full", "backup_type": "weekly"}, collection)
    assert problems[0] == "backup_typ (role kaizen.hybrid.backup): the role has no variable of that name; did you mean backup_type?"
    assert len(problems) == 2 and problems[1].startswith("backup_type (role kaizen.hybrid.backup): "), problems


def test_variables_of_no_role_are_not_checked(collection):
    assert check_role_variables({"grafana_admin_user": "x", "kaizen_site_name": "x", "commonly": 1}, collection) == []


def test_secret_values_are_never_echoed(collection, tmp_path):
    secret = "hunter2-do-not-print-me"
    problems = _problems(
        collection,
        secret_vars={"pki_ca_valid_days": secret, "pki_ca_passphrase": "abc", "x": object()},
        extra_vars={"pki_ca_passphrase": "clash"},
        vault_password=secret,  # a password passed where a file path belongs
    )
    text = "\n".join(problems)
    assert secret not in text
    assert "pki_ca_passphrase is given both in extra_vars and in secret_vars" in text
    assert "pki_ca_valid_days (role kaizen.hybrid.pki): the value does not match the role's argument spec (type int)" in text
    assert "secret_vars['x']: the value is not serialisable as JSON" in text
    assert "vault_password: not a readable file" in text


def test_vault_password_sources(collection, tmp_path):
    password_file = tmp_path / "vault-pass"
    password_file.write_text("pw\n")
    request = build_request("kaizen.hybrid.site", INVENTORY, collection=collection, vault_password=password_file)
    assert request.vault_password_file == password_file.resolve() and request.vault_password_source is None

    def source():
        return "pw"

    request = build_request("kaizen.hybrid.site", INVENTORY, collection=collection, vault_password=source)
    assert request.vault_password_source is source and request.vault_password_file is None
    assert "pw" not in repr(request)
    assert "vault_password: expected a file path or a callable" in _problems(collection, vault_password=42)[0]


def test_vault_ids_and_remote_user(collection, tmp_path):
    password_file = tmp_path / "vault-pass"
    password_file.write_text("pw\n")
    request = build_request("kaizen.hybrid.site", INVENTORY, collection=collection, remote_user="deploy",
                            vault_ids=["prod@%s" % password_file, str(password_file)])
    assert request.vault_ids == ("prod@%s" % password_file.resolve(), str(password_file.resolve()))
    assert request.remote_user == "deploy"
    assert build_request("kaizen.hybrid.site", INVENTORY, collection=collection, vault_ids="a@%s" % password_file).vault_ids == (
        "a@%s" % password_file.resolve(),)
    problems = _problems(collection, vault_ids=["prod@prompt", "kaizen_run@%s" % password_file, "x@/nonexistent/pw"],
                         remote_user="two words")
    assert len(problems) == 4, problems
    assert "'prod@prompt' prompts on a terminal the run does not have" in problems[0]
    assert "the label 'kaizen_run' is the one the run encrypts secret_vars under" in problems[1]
    assert "'/nonexistent/pw' is not a readable file" in problems[2]
    assert "remote_user: expected a user name" in problems[3]
    assert "vault_ids: expected a string or a list of strings" in _problems(collection, vault_ids=42)[0]
    assert "remote_user: expected a user name" in _problems(collection, remote_user="-oProxyCommand=x")[0]


@pytest.mark.parametrize(
    "inventory, expected",
    [
        ({}, "inventory: the mapping is empty"),
        ({"all": []}, "inventory.all: a group must be a mapping"),
        ({"all": {"hostz": {}}}, "inventory.all: unknown keys hostz"),
        ({"all": {"hosts": ["h1"]}}, "inventory.all.hosts: must map host names"),
        ({"all": {"hosts": {"h1": "x"}}}, "inventory.all.hosts.h1: host variables must be a mapping"),
        ({"all": {"children": {"app": {"vars": []}}}}, "inventory.all.children.app.vars: must be a mapping"),
        ({"bad group": {}}, "inventory: 'bad group' is not a valid group name"),
        ({"all": {"vars": {"x": {1, 2}}}}, "inventory: not serialisable as JSON"),
        (42, "inventory: expected a path (file or directory) or a mapping"),
    ],
)
def test_inventory_mappings_are_checked(collection, inventory, expected):
    assert any(p.startswith(expected) for p in _problems(collection, inventory=inventory)), expected


def test_playbook_paths_and_names(collection, tmp_path):
    playbook = tmp_path / "play.yml"
    playbook.write_text("---\n")
    assert build_request(str(playbook), INVENTORY, collection=collection).playbook == str(playbook.resolve())
    # Other collections' playbooks are left to ansible-playbook.
    assert build_request("other.collection.play", INVENTORY, collection=collection).playbook == "other.collection.play"
    assert "is neither a file path nor a collection playbook name" in _problems(collection, playbook="site")[0]
    assert "is not a file" in _problems(collection, playbook=tmp_path / "missing.yml")[0]


def test_default_artifacts_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("KAIZEN_HYBRID_ARTIFACTS", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_artifacts_dir() == tmp_path / "kaizen-hybrid" / "artifacts"
    monkeypatch.setenv("KAIZEN_HYBRID_ARTIFACTS", str(tmp_path / "here"))
    assert default_artifacts_dir() == tmp_path / "here"


def test_operations_registry():
    assert {"deploy", "preflight", "verify", "switchover", "failover", "update", "scale", "backup", "drill", "restore", "dr"} == set(OPERATIONS)
    assert OPERATIONS["deploy"].playbook_fqcn == "kaizen.hybrid.site"
    assert OPERATIONS["switchover"].playbook_fqcn == "kaizen.hybrid.pg_switchover"
    assert not OPERATIONS["preflight"].changes_hosts and not OPERATIONS["verify"].changes_hosts
    assert OPERATIONS["switchover"].extra_vars({"to": "pg2", "max_lag_bytes": 0}) == {"pg_switchover_target": "pg2", "pg_switchover_max_lag_bytes": 0}
    assert OPERATIONS["failover"].extra_vars({"to": None, "force": True}) == {"pg_failover_force": True}
    assert OPERATIONS["update"].extra_vars({"image": "kaizen:2", "batch": 2}) == {"kaizen_update_image": "kaizen:2", "kaizen_rolling_batch": 2}
    assert OPERATIONS["scale"].playbook_fqcn == "kaizen.hybrid.scale"
    assert OPERATIONS["scale"].extra_vars({"add": "app-3,app-4"}) == {"kaizen_scale_add": "app-3,app-4"}
    assert OPERATIONS["scale"].extra_vars({"remove": "app-2"}) == {"kaizen_scale_remove": "app-2"}
    with pytest.raises(ValidationError, match="parameter 'force' must be bool"):
        OPERATIONS["failover"].extra_vars({"force": "yes"})
    assert OPERATIONS["backup"].playbook_fqcn == "kaizen.hybrid.backup"
    assert OPERATIONS["backup"].extra_vars({"type": "full"}) == {"backup_type": "full"}
    assert OPERATIONS["backup"].extra_vars({}) == {}
    with pytest.raises(ValidationError, match="parameter 'type' is 'weekly'; it must be one of full, diff, incr"):
        OPERATIONS["backup"].extra_vars({"type": "weekly"})


def test_operation_parameters_become_extra_vars():
    update = Operation(
        "update",
        "rolling_update",
        "Roll a new image.",
        params=(OperationParam("image", "app_image_tag", "Image tag.", required=True), OperationParam("batch", "app_batch", "Hosts at a time.", type=int)),
    )
    assert update.extra_vars({"image": "1.4.2", "batch": 2}) == {"app_image_tag": "1.4.2", "app_batch": 2}
    with pytest.raises(ValidationError) as info:
        update.extra_vars({"batch": True, "imgae": "x"})
    assert info.value.problems == [
        "update takes no parameter 'imgae' (it takes: image, batch)",
        "update needs the parameter 'image' (Image tag.)",
        "update: parameter 'batch' must be int",
    ]


def test_unknown_operation_is_refused():
    with pytest.raises(ValidationError,
                       match="operation: 'rebuild' is not one of backup, deploy, dr, drill, failover, preflight, restore, scale, switchover, "
                             "update, verify"):
        kaizen_hybrid.start("rebuild", INVENTORY)


def test_public_names_resolve():
    for name in kaizen_hybrid.__all__:
        assert getattr(kaizen_hybrid, name) is not None
    with pytest.raises(AttributeError):
        getattr(kaizen_hybrid, "nope")
