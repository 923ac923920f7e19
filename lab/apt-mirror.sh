#!/usr/bin/env bash
# Print the Debian mirror this machine's apt configuration uses, so nothing in
# the repository names a package registry.  `apt-mirror.sh security` prints the
# security mirror instead (empty when none is configured).
set -euo pipefail
want="${1:-main}"

uris() {
  # deb822 sources: "URIs:" lines, paired with their "Suites:" line.
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk '
      /^[[:space:]]*$/ { if (u != "") print u " " s; u=""; s=""; next }
      /^URIs:/   { u=$2 }
      /^Suites:/ { $1=""; s=$0 }
      END { if (u != "") print u " " s }
    ' "$f"
  done
  # one-line sources
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '$1 == "deb" { i=2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } print $i " " $(i+1) }' "$f"
  done
}

if [ "$want" = security ]; then
  uris | awk '$0 ~ /-security/ { print $1; exit }'
else
  uris | awk '$0 !~ /-security/ && $0 ~ /bookworm|stable/ { print $1; exit }'
fi
