# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converge speed against the apt floor, on the lab topology, in one run (``make bench``).

1. New lab hosts (lab/down.yml, lab/up.yml), reached over SSH as the operator.
2. ``site.yml`` converges them (timed), then runs again (timed; it must change nothing).
3. The packages the converge installed, host by host: what dpkg lists there and not on a fresh host of the base image.
4. The apt floor: fresh hosts of the same image and profile, each installing exactly those packages in one apt call,
   all hosts at once, through the same package cache (timed).
5. ``.results/bench.json``: the times, the tasks that ran per host, the ratios and the goals (converge at most twice the
   floor, the re-run at most a quarter of the converge and changing nothing); both playbook outputs beside it
   (``bench-converge.log``, ``bench-reconverge.log``).

``--mitogen`` runs steps 2 with Mitogen's ``mitogen_linear`` strategy (installed from the package index into the
virtualenv; it wants a literal ``ansible_host``, so the converge uses a copy of the lab inventory with one).
Everything is bounded in time; only the lab's own hosts are addressed.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAB = ROOT / "inventories" / "lab"
IMAGE = "kaizen-lab/debian12-systemd:latest"
FLOOR_NETWORK, FLOOR_SUBNET = "kaizen-bench", "172.30.214.0/24"
MITOGEN = "mitogen==0.3.54"
GOALS = {"converge_to_apt_floor": 2.0, "reconverge_to_converge": 0.25}
RECAP = re.compile(r"(?m)^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)")
DOCKER_HOST_CAPS = ["--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE", "--security-opt", "seccomp=unconfined",
                    "--security-opt", "apparmor=unconfined", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw"]
SYSTEMD_CAPS = ["--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN", "--security-opt", "seccomp=unconfined",
                "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro"]


def log(message: str) -> None:
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), message), flush=True)


def run(argv: list[str], timeout: int, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, env=env, cwd=ROOT)
    if check and result.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(argv[:3]), result.returncode, (result.stdout + result.stderr)[-2000:]))
    return result


def playbook(inventory: Path, path: str, env: dict | None = None, timeout: int = 3600) -> tuple[float, subprocess.CompletedProcess]:
    started = time.monotonic()
    result = run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), path], timeout, env)
    return time.monotonic() - started, result


def tasks_per_host(stdout: str) -> dict[str, dict[str, int]]:
    """Tasks that ran (ok + failed) and changed, per host, from the PLAY RECAP."""
    return {host: {"ran": int(ok) + int(failed), "changed": int(changed), "skipped": int(skipped)}
            for host, ok, changed, _unreachable, failed, skipped in RECAP.findall(stdout) if host != "localhost"}


def lab_hosts() -> dict[str, dict]:
    """The lab's hosts: address and profile, from the lab inventory (ansible-inventory)."""
    data = json.loads(run([str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(LAB), "--list"], 120).stdout)
    hostvars = data["_meta"]["hostvars"]
    return {host: {"address": values["kaizen_address"], "profile": values.get("lab_profile", "systemd")}
            for host, values in hostvars.items() if "kaizen_address" in values}


def installed_packages(docker_argv: list[str], timeout: int) -> set[str]:
    """The installed packages dpkg lists in a container: ``docker exec NAME`` or ``docker run --rm IMAGE``."""
    out = run(docker_argv + ["dpkg-query", "-W", "-f=${db:Status-Abbrev} ${binary:Package}\\n"], timeout).stdout
    return {line.split()[1] for line in out.splitlines() if line.startswith("ii ")}


def apt_proxy() -> str:
    gateway = run(["docker", "network", "inspect", FLOOR_NETWORK, "--format", "{{(index .IPAM.Config 0).Gateway}}"], 60).stdout.strip()
    return "http://%s:3142" % gateway


def floor(hosts: dict[str, dict], wanted: dict[str, list[str]]) -> float:
    """Fresh hosts install exactly ``wanted``, one apt call each, all at once; the wall time of the slowest."""
    run(["docker", "network", "rm", FLOOR_NETWORK], 60, check=False)
    run(["docker", "network", "create", "--subnet", FLOOR_SUBNET, FLOOR_NETWORK], 60)
    names = {host: "kaizen-bench-%s" % host for host in hosts}
    try:
        for host, name in names.items():
            run(["docker", "rm", "-f", "-v", name], 60, check=False)
            caps = DOCKER_HOST_CAPS if hosts[host]["profile"] == "docker-host" else SYSTEMD_CAPS
            run(["docker", "run", "-d", "--name", name, "--hostname", host, "--network", FLOOR_NETWORK, "--tmpfs", "/run",
                 "--tmpfs", "/run/lock", "--tmpfs", "/tmp", *caps, IMAGE, "/lib/systemd/systemd"], 120)
        for name in names.values():
            for _attempt in range(60):
                state = run(["docker", "exec", name, "systemctl", "is-system-running"], 30, check=False).stdout.strip()
                if state in ("running", "degraded"):
                    break
                time.sleep(1)
        proxy = apt_proxy()
        options = "-o Acquire::http::Proxy=%s -o Acquire::http::Timeout=30 -o Acquire::Retries=3" % proxy

        def install(host: str) -> float:
            script = "apt-get %s -qq update && DEBIAN_FRONTEND=noninteractive apt-get %s -qq -y --no-install-recommends install %s" % (
                options, options, " ".join(sorted(wanted[host])))
            started = time.monotonic()
            run(["docker", "exec", names[host], "sh", "-c", script], 1800)
            return time.monotonic() - started

        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(names)) as pool:
            per_host = dict(zip(names, pool.map(install, names)))
        total = time.monotonic() - started
        log("apt floor: %.1f s (%s)" % (total, ", ".join("%s %.0f s" % item for item in per_host.items())))
        return total
    finally:
        for name in names.values():
            run(["docker", "rm", "-f", "-v", name], 120, check=False)
        run(["docker", "network", "rm", FLOOR_NETWORK], 60, check=False)


def mitogen_env(inventory_copy: Path) -> dict:
    """Mitogen in the virtualenv, its strategy on, and a lab inventory with literal ansible_host values."""
    pip = Path(sys.executable).parent / "pip"
    if run([str(pip), "show", "mitogen"], 120, check=False).returncode != 0:
        run([str(pip), "install", "-q", MITOGEN], 900)
    location = run([sys.executable, "-c", "import ansible_mitogen, os; print(os.path.dirname(ansible_mitogen.__file__))"], 60).stdout.strip()
    shutil.copytree(LAB, inventory_copy)
    host_vars = inventory_copy / "host_vars"
    host_vars.mkdir(exist_ok=True)
    for host, values in lab_hosts().items():
        (host_vars / ("%s.yml" % host)).write_text("ansible_host: %s\n" % values["address"])
    return dict(os.environ, ANSIBLE_STRATEGY_PLUGINS=os.path.join(location, "plugins", "strategy"), ANSIBLE_STRATEGY="mitogen_linear")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=str(ROOT / ".results" / "bench.json"))
    parser.add_argument("--mitogen", action="store_true", help="converge with Mitogen's mitogen_linear strategy")
    args = parser.parse_args()
    env = dict(os.environ)
    inventory = LAB
    workdir = Path(tempfile.mkdtemp(prefix="kaizen-bench."))
    try:
        if args.mitogen:
            inventory = workdir / "lab"
            env = mitogen_env(inventory)
        log("new lab hosts")
        playbook(LAB, "lab/down.yml")
        up_seconds = playbook(LAB, "lab/up.yml")[0]
        log("converge (site.yml)%s" % (" with Mitogen" if args.mitogen else ""))
        converge_seconds, first = playbook(inventory, "site.yml", env)
        log("converged in %.1f s; again" % converge_seconds)
        reconverge_seconds, second = playbook(inventory, "site.yml", env)
        log("re-run in %.1f s" % reconverge_seconds)
        hosts = lab_hosts()
        base = installed_packages(["docker", "run", "--rm", IMAGE], 300)
        installed = {host: sorted(installed_packages(["docker", "exec", "kaizen-lab-%s" % host], 120) - base) for host in hosts}
        floor_seconds = floor(hosts, installed)
        first_tasks, second_tasks = tasks_per_host(first.stdout), tasks_per_host(second.stdout)
        ratios = {"converge_to_apt_floor": round(converge_seconds / floor_seconds, 2),
                  "reconverge_to_converge": round(reconverge_seconds / converge_seconds, 2)}
        results = {
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "command": "make bench" + (" MITOGEN=1" if args.mitogen else ""),
            "strategy": "mitogen_linear (%s)" % MITOGEN if args.mitogen else "linear (stock Ansible)",
            "hosts": len(hosts), "lab_up_seconds": round(up_seconds, 1),
            "converge_seconds": round(converge_seconds, 1), "reconverge_seconds": round(reconverge_seconds, 1),
            "apt_floor_seconds": round(floor_seconds, 1),
            "reconverge_changed": sum(item["changed"] for item in second_tasks.values()),
            "tasks_per_host": {host: {"converge": first_tasks.get(host, {}).get("ran"), "reconverge": second_tasks.get(host, {}).get("ran")}
                               for host in sorted(hosts)},
            "packages_per_host": {host: len(names) for host, names in installed.items()},
            "ratios": ratios,
            "goals": {name: {"value": ratios[name], "limit": limit, "met": ratios[name] <= limit} for name, limit in GOALS.items()},
        }
        # The re-run must also change nothing (the site's idempotence on the lab's topology).
        results["goals"]["reconverge_changed"] = {"value": results["reconverge_changed"], "limit": 0, "met": results["reconverge_changed"] == 0}
        Path(args.results).parent.mkdir(parents=True, exist_ok=True)
        for name, result in (("converge", first), ("reconverge", second)):
            Path(args.results).with_name("bench-%s.log" % name).write_text(result.stdout)
        Path(args.results).write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
        log("results in %s:\n%s" % (args.results, json.dumps(results, indent=2, sort_keys=True)))
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
