# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The firewall seen from the network: every lab host, and a stranger on the same network, tries every port
any lab host listens on for others; what gets through must be exactly what the scenario's hand-written matrix
allows (molecule_firewall_expected), no more, no less. A rule set that cuts SSH undoes itself, and a rule added
by hand is taken out by the next converge."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import typing as t

from labtest.runs import changed_per_host

ANYONE = "anyone"
STRANGER = "stranger"
# A port no service of the lab uses: the drift test opens it by hand.
DRIFT_PORT = 9999

# Run inside a host: connect to every (address, port) at once; "open" (accepted), "reset" (the packet got
# through and nothing listens) or "dropped" (no answer within the timeout: the firewall).
PROBE = r"""
import concurrent.futures, json, socket, sys

def probe(target):
    host, port = target
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(float(sys.argv[2]))
        try:
            sock.connect((host, port))
            return "open"
        except ConnectionRefusedError:
            return "reset"
        except OSError:
            return "dropped"

targets = [tuple(item) for item in json.loads(sys.argv[1])]
with concurrent.futures.ThreadPoolExecutor(max(1, min(64, len(targets)))) as pool:
    print(json.dumps(list(pool.map(probe, targets))))
"""


def listening(ss_output: str) -> set[int]:
    """The TCP ports a host listens on for other hosts (loopback-only sockets left out), from ``ss -Htln``."""
    ports = set()
    for line in ss_output.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        address, port = fields[3].rpartition(":")[::2]
        if not port.isdigit():
            continue
        address = address.strip("[]").split("%")[0]
        if address.startswith("127.") or address == "::1":
            continue
        ports.add(int(port))
    return ports


def allowed_sources(expected: t.Mapping[str, t.Any], host: str, port: int, sources: t.Sequence[str]) -> set[str]:
    """Who the matrix lets reach ``port`` of ``host``: ``anyone`` (every source), a list of hosts, or nobody."""
    allowed = (expected.get(host) or {}).get(str(port))
    if allowed == ANYONE:
        return set(sources)
    return set(allowed or ())


def differences(expected: t.Mapping[str, t.Any], outcomes: t.Mapping[tuple[str, str, int], str], sources: t.Sequence[str]) -> list[str]:
    """Every (source, host, port) whose outcome is not what the matrix says: reached (open or reset) when it
    allows the source, dropped when it does not."""
    wrong = []
    for (source, host, port), outcome in sorted(outcomes.items()):
        should = source in allowed_sources(expected, host, port, sources)
        if should != (outcome in ("open", "reset")):
            wrong.append("%s -> %s:%d %s (%s)" % (source, host, port, outcome, "should get through" if should else "should be dropped"))
    return wrong


class FirewallTests:
    def __init__(self, settings: t.Mapping[str, t.Any], report: t.Any, runner: t.Any, lab: t.Any) -> None:
        self.settings = settings
        self.report = report
        self.runner = runner
        self.lab = lab
        self.addresses: dict[str, str] = dict(settings["addresses"])
        self.hosts = list(settings["hosts"])

    def _probe(self, argv_prefix: list[str], targets: list[tuple[str, int]], timeout: float = 2.0) -> list[str]:
        result = self.lab.docker(*argv_prefix, "python3", "-c", PROBE, json.dumps(targets), str(timeout), check=False, timeout=120)
        if result.returncode != 0:
            raise RuntimeError("the probe failed (exit %d): %s" % (result.returncode, result.stderr[-300:]))
        return json.loads(result.stdout)

    def matrix(self) -> None:
        """Figures: the ports probed per host, the pairs that got through and that were dropped, and every pair
        that differs from the matrix (the check)."""
        expected = self.settings["expected"]
        units = {host: self.lab.exec(host, "systemctl", "is-enabled", "kaizen-firewall.service").stdout.strip() + "/" +
                 self.lab.exec(host, "systemctl", "is-active", "kaizen-firewall.service").stdout.strip() for host in self.hosts}
        self.report.check(set(units.values()) == {"enabled/active"}, "kaizen-firewall.service is enabled and active on every host (%s)" % units)
        ports = {}
        for host in self.hosts:
            found = listening(self.lab.exec(host, "ss", "-Htln").stdout)
            ports[host] = sorted(found | {int(port) for port in (expected.get(host) or {})})
        self.report.figure("firewall_ports_probed", ports)
        sources = self.hosts + [STRANGER]
        outcomes: dict[tuple[str, str, int], str] = {}
        started = time.monotonic()
        for source in sources:
            targets = [(host, port) for host in self.hosts if host != source for port in ports[host]]
            addressed = [(self.addresses[host], port) for host, port in targets]
            if source == STRANGER:
                prefix = ["run", "--rm", "--network", self.settings["network"], "--ip", self.settings["stranger"], "--entrypoint", "",
                          self.settings["image"]]
            else:
                prefix = ["exec", self.lab.container(source)]
            for (host, port), outcome in zip(targets, self._probe(prefix, addressed)):
                outcomes[(source, host, port)] = outcome
        self.report.figure("firewall_probe_seconds", round(time.monotonic() - started, 1))
        through = sorted("%s -> %s:%d" % key for key, outcome in outcomes.items() if outcome != "dropped")
        self.report.figure("firewall_pairs_through", len(through))
        self.report.figure("firewall_pairs_dropped", len(outcomes) - len(through))
        self.report.figure("firewall_matrix_through", through)
        wrong = differences(expected, outcomes, sources)
        self.report.figure("firewall_pairs_wrong", wrong)
        self.report.check(bool(outcomes) and not wrong, "the firewall lets exactly the matrix through: %d pairs probed, %d through, %d differ %s" % (
            len(outcomes), len(through), len(wrong), wrong[:10]))

    def rollback(self) -> None:
        """A rule set that drops SSH (and nothing else, so that the host's services go on), loaded by the role's
        loader with a short timer and never confirmed, is undone by the host itself: sshd stops answering the
        operator, then answers again, with the confirmed rules back in place.
        Figure: the seconds from loading it until sshd answered again."""
        host = self.settings["rollback_host"]
        address, seconds = self.addresses[host], 8
        script = ("set -e; dir=/etc/kaizen/firewall; cp $dir/candidate.nft /root/candidate.keep; "
                  "printf 'table inet kaizen\\ndelete table inet kaizen\\ntable inet kaizen {\\n chain input {\\n"
                  "  type filter hook input priority filter; policy accept;\\n  tcp dport 22 drop\\n }\\n}\\n' > $dir/candidate.nft; "
                  "/usr/local/sbin/kaizen-firewall apply %d; cp /root/candidate.keep $dir/candidate.nft" % seconds)
        before = self.lab.exec(host, "/usr/local/sbin/kaizen-firewall", "status").returncode
        loaded = self.lab.exec(host, "sh", "-c", script)
        started = time.monotonic()
        if not self.report.check(before == 0 and loaded.returncode == 0, "a rule set that drops SSH is loaded on %s (status before %d, exit %d %s)" % (
                host, before, loaded.returncode, loaded.stderr[-200:])):
            return
        # From the lab machine, the operator's workstation (kaizen_admin_cidrs).
        self.report.check(not answers(address, 22), "while it is loaded, sshd on %s does not answer the operator" % host)
        back = self.lab.wait_for("sshd on %s to answer again" % host, lambda: answers(address, 22), seconds + 20)
        self.report.figure("firewall_rollback_seconds", round(time.monotonic() - started, 1))
        status = self.lab.exec(host, "/usr/local/sbin/kaizen-firewall", "status").returncode
        self.report.check(back and status == 0, "the host put the confirmed rule set back by itself after %d s (status %d)" % (seconds, status))

    def drift(self) -> None:
        """A rule added by hand to the live table (a port opened to anyone) is seen by ``kaizen-firewall status``
        and taken out again by ``playbooks/firewall.yml`` alone, which changes nothing on the other hosts and
        nothing at all when run again. Figure: the seconds of the run that put the rules back."""
        host = self.settings["rollback_host"]
        port = DRIFT_PORT
        added = self.lab.exec(host, "nft", "add", "rule", "inet", "kaizen", "input", "tcp", "dport", str(port), "accept")
        listener = self.lab.exec(host, "systemd-run", "--unit", "kaizen-drift-listener", "python3", "-m", "http.server", "--bind",
                                 self.addresses[host], str(port))
        try:
            opened = self.lab.wait_for("the hand-opened port %d on %s" % (port, host), lambda: answers(self.addresses[host], port), 10, 0.5)
            drifted = self.lab.exec(host, "/usr/local/sbin/kaizen-firewall", "status").returncode
            if not self.report.check(added.returncode == 0 and listener.returncode == 0 and opened and drifted != 0,
                                     "a port opened by hand on %s answers and the status sees the drift (nft exit %d, listener exit %d, "
                                     "answers %s, status %d)" % (host, added.returncode, listener.returncode, opened, drifted)):
                return
            run = self.runner.playbook("playbooks/firewall.yml")
            self.report.figure("firewall_drift_seconds", round(run.elapsed, 1))
            changed = changed_per_host(run.stdout)
            status = self.lab.exec(host, "/usr/local/sbin/kaizen-firewall", "status").returncode
            self.report.check(run.returncode == 0 and status == 0 and not answers(self.addresses[host], port),
                              "playbooks/firewall.yml put the rules back on %s: the port is dropped again (rc %d, status %d)" % (
                                  host, run.returncode, status))
            self.report.check(changed.get(host, 0) > 0 and not any(count for name, count in changed.items() if name != host),
                              "only %s changed (changed per host: %s)" % (host, changed))
            again = self.runner.playbook("playbooks/firewall.yml")
            changed = changed_per_host(again.stdout)
            self.report.check(again.returncode == 0 and changed and not any(changed.values()),
                              "a second run changes nothing (rc %d, changed per host: %s)" % (again.returncode, changed))
        finally:
            self.lab.exec(host, "systemctl", "stop", "kaizen-drift-listener")

    def _ssh(self, user: str, host: str, *options: str) -> subprocess.CompletedProcess:
        argv = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "ControlPath=none", "-o", "IdentitiesOnly=yes",
                "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=%s" % self.settings["known_hosts"],
                "-i", self.settings["ssh_key"], *options, "%s@%s" % (user, self.addresses[host]), "true"]
        return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30)

    def ssh(self) -> None:
        """The SSH server of every host as an operator and an auditor see it: ssh-audit finds no failure and no warning;
        the operator logs in with the key; root, a password and an account outside the operator group with the
        same key are refused. Figures: ssh-audit's findings per host."""
        audit = os.path.join(os.path.dirname(sys.executable), "ssh-audit")
        findings = {}
        for host in self.hosts:
            run = subprocess.run([audit, "-n", "--skip-rate-test", self.addresses[host]], capture_output=True, text=True, check=False,
                                 timeout=60)
            findings[host] = [line.strip() for line in run.stdout.splitlines() if "[fail]" in line or "[warn]" in line]
            self.report.check(run.returncode == 0 and not findings[host], "ssh-audit finds no failure and no warning on %s (exit %d) %s" % (
                host, run.returncode, findings[host][:5]))
        self.report.figure("ssh_audit_findings", findings)
        host, user = self.hosts[0], self.settings["ssh_user"]
        operator = self._ssh(user, host)
        self.report.check(operator.returncode == 0, "%s logs in to %s with the key (exit %d %s)" % (user, host, operator.returncode, operator.stderr[-200:]))
        root = self._ssh("root", host)
        self.report.check(root.returncode == 255 and "Permission denied" in root.stderr, "root is refused (exit %d %s)" % (
            root.returncode, root.stderr[-200:]))
        password = self._ssh(user, host, "-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password,keyboard-interactive")
        self.report.check(password.returncode == 255 and "Permission denied (publickey)" in password.stderr,
                          "no password or keyboard-interactive login is offered (exit %d %s)" % (password.returncode, password.stderr[-200:]))
        outsider = "kaizen-outsider"
        made = self.lab.exec(host, "sh", "-c", "useradd -m %s && mkdir -p ~%s/.ssh && cp ~%s/.ssh/authorized_keys ~%s/.ssh/ && chown -R %s: ~%s/.ssh" % (
            outsider, outsider, user, outsider, outsider, outsider))
        try:
            refused = self._ssh(outsider, host)
            self.report.check(made.returncode == 0 and refused.returncode == 255 and "Permission denied" in refused.stderr,
                              "an account outside the operator group is refused with the operator's key (made: exit %d; exit %d %s)" % (
                                  made.returncode, refused.returncode, refused.stderr[-200:]))
        finally:
            self.lab.exec(host, "userdel", "-r", outsider)


def answers(address: str, port: int, timeout: float = 1.0) -> bool:
    """Whether a TCP connection from here to ``address``:``port`` gets an answer (accepted or reset)."""
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
