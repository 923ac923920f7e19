#!/usr/bin/env bash
# Put promtool (Debian's prometheus package) and amtool (prometheus-alertmanager)
# into a bin directory, for the tests that check rules, configurations and
# dashboards on the controller. The packages are downloaded and unpacked, not
# installed: installing them would start Prometheus and Alertmanager on this
# machine.
#
#   bash lab/prometheus-tools.sh .venv/bin
set -euo pipefail
bindir="$(realpath -m "${1:?usage: $0 BINDIR}")"
if [ -x "$bindir/promtool" ] && [ -x "$bindir/amtool" ]; then
  exit 0
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/kaizen-prometheus-tools.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"
# An index older than a day may name versions the archive no longer has.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 -print -quit 2>/dev/null)" ]; then
  apt-get update -qq
fi
# _apt downloads into a directory it can write to.
chown _apt "$work" 2>/dev/null || true
apt-get download -qq prometheus prometheus-alertmanager
for deb in ./*.deb; do
  dpkg-deb -x "$deb" root
done
mkdir -p "$bindir"
install -m 0755 root/usr/bin/promtool root/usr/bin/amtool "$bindir/"
echo "[prometheus-tools] $("$bindir/promtool" --version 2>&1 | head -1); $("$bindir/amtool" --version 2>&1 | head -1)" >&2
