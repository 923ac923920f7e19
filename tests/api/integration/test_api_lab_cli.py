# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``kaizen-hybrid lab up`` / ``lab down`` on a lab of their own.

A copy of the checkout whose lab inventory holds one host, on a network and
subnet of its own, with the lab state in a temporary directory: the real lab
(``make lab``) and its secrets are never touched. ``--no-deploy`` keeps it
short; the deploy that ``lab up`` runs next is the ``deploy`` command,
exercised elsewhere.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from checkout import ROOT, stage_checkout
from labhosts import docker

from kaizen_hybrid.lab import _lab_summary


def _free_subnet() -> str:
    used = []
    names = docker("network", "ls", "--format", "{{.Name}}").stdout.split()
    for name in names:
        info = json.loads(docker("network", "inspect", name).stdout)[0]
        for config in (info.get("IPAM") or {}).get("Config") or []:
            if config.get("Subnet"):
                used.append(ipaddress.ip_network(config["Subnet"], strict=False))
    for third in range(240, 255):
        candidate = ipaddress.ip_network("172.30.%d.0/24" % third)
        if not any(candidate.overlaps(net) for net in used):
            return str(candidate)
    raise RuntimeError("no free 172.30.240-254.0/24 subnet for the lab test")


def _cli(checkout: Path, env: dict, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kaizen_hybrid", "lab", *args, "--checkout", str(checkout)],
        cwd=checkout.parent, env=env, capture_output=True, text=True, timeout=900, check=False,
    )


def test_lab_up_and_down_on_a_lab_of_its_own(lab, tmp_path, monkeypatch):
    assert lab  # the engine and the base image are there
    run_id = uuid.uuid4().hex[:6]
    host = "apilab%s" % run_id
    network = "kaizen-apitest-lab-%s" % run_id
    subnet = _free_subnet()
    address = str(next(ipaddress.ip_network(subnet).hosts()) + 10)
    checkout = stage_checkout(tmp_path / "checkout")
    (checkout / "inventories" / "lab" / "hosts.yml").write_text(
        "all:\n  children:\n    lab_hosts:\n      children:\n        loadbalancers:\n          hosts:\n            %s:\n"
        "              kaizen_address: %s\n" % (host, address)
    )
    (checkout / "inventories" / "lab" / "group_vars" / "all" / "zz-apitest.yml").write_text(
        "lab_network: %s\nlab_subnet: %s\n" % (network, subnet)
    )
    state = tmp_path / "state"
    state.mkdir()
    (state / "keep").write_text("the lab's state\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(PYTHONPATH=str(ROOT / "src"), KAIZEN_LAB_STATE=str(state), KAIZEN_HYBRID_ARTIFACTS=str(tmp_path / "artifacts"))
    container = "kaizen-lab-%s" % host
    try:
        up = _cli(checkout, env, "up", "--no-deploy")
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        assert "PLAY Create the lab hosts" in up.stdout and "lab up successful in" in up.stdout
        assert "[lab] lab/engine.sh" in up.stdout and "[lab] lab/base-image.sh" in up.stdout
        inspect = json.loads(docker("inspect", container).stdout)[0]
        assert inspect["State"]["Running"]
        assert inspect["NetworkSettings"]["Networks"][network]["IPAddress"] == address
        booted = docker("exec", container, "systemctl", "is-system-running", check=False).stdout.strip()
        assert booted in ("running", "degraded")
        # The operator reaches the host over SSH, its key checked, and may use sudo.
        ssh = subprocess.run(
            ["ssh", "-i", str(state / "ssh" / "id_ed25519"), "-o", "UserKnownHostsFile=%s" % (state / "ssh" / "known_hosts"),
             "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "deploy@%s" % address,
             "sudo", "-n", "id", "-un"],
            capture_output=True, text=True, timeout=60, check=False,
        )
        assert (ssh.returncode, ssh.stdout.strip()) == (0, "root"), ssh.stderr
        # What `lab up` prints after its deploy: lab/summary.yml's description.
        monkeypatch.setenv("KAIZEN_LAB_STATE", str(state))
        monkeypatch.setenv("KAIZEN_HYBRID_ARTIFACTS", str(tmp_path / "artifacts"))
        summary = _lab_summary(checkout)
        assert "The Kaizen lab: 1 hosts on Docker network %s (%s)" % (network, subnet) in summary
        assert container in summary and address in summary

        down = _cli(checkout, env, "down")
        assert down.returncode == 0, down.stdout[-3000:] + down.stderr[-3000:]
        assert "lab down successful in" in down.stdout
        assert docker("inspect", container, check=False).returncode != 0
        assert docker("network", "inspect", network, check=False).returncode != 0
        assert not state.exists()  # lab/down.yml removes the lab's state directory
    finally:
        docker("rm", "-f", "-v", container, check=False)
        docker("network", "rm", network, check=False)
