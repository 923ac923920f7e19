#!/usr/bin/env bash
# Make sure a Docker engine runs on this machine: install Debian's docker.io
# (and debootstrap, used to build the lab's base image) when missing, then
# start dockerd when `docker info` fails. Also runs apt-cacher-ng on port
# 3142, the package cache lab hosts use as their apt proxy, so each .deb is
# downloaded once per machine rather than once per host and test run.
# Safe to run again and again.
set -euo pipefail

log() { printf '[engine] %s\n' "$*" >&2; }

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need_pkgs+=(debootstrap)

command -v openssl >/dev/null 2>&1 || need_pkgs+=(openssl)
# The app scenario's load tool (throughput through the load balancer and direct).
command -v wrk >/dev/null 2>&1 || need_pkgs+=(wrk)
[ -x /usr/sbin/apt-cacher-ng ] || need_pkgs+=(apt-cacher-ng)
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  log "installing ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

start_apt_cache() {
  # The cache forwards Debian requests to this machine's own mirror.
  here="$(cd "$(dirname "$0")" && pwd)"
  "$here/apt-mirror.sh" | sed 's#/*$#/#' >/etc/apt-cacher-ng/backends_debian
  # An upstream that stops sending fails the download within NetworkTimeout
  # instead of holding every client that shares it (two hosts asking for the
  # same InRelease at once were both handed a truncated copy and waited with
  # no connection open); the hosts' apt then retries (roles/common). Not
  # DontCache: a remapped repository passed through uncached is asked of its
  # alias (secdeb) and answers 400. An index file fetched in the last
  # FreshIndexMaxAge seconds is served without asking upstream again: the
  # lab's hosts and scenarios refresh at nearly the same moments, and two
  # clients that make the cache fetch the same InRelease at once can leave one
  # of them waiting ("Failure to move file ... File exists" in apt-cacher.err).
  local conf=/etc/apt-cacher-ng/zz_kaizen.conf
  local want
  want=$'# kaizen lab/engine.sh\nNetworkTimeout: 30\nFreshIndexMaxAge: 300\n'
  if [ "$(cat "$conf" 2>/dev/null)"$'\n' != "$want" ]; then
    printf '%s' "$want" >"$conf"
    # A running cache reads its settings at start only.
    pkill -u apt-cacher-ng -x apt-cacher-ng && sleep 1 || true
  fi
  if (exec 3<>/dev/tcp/127.0.0.1/3142) 2>/dev/null; then
    return 0
  fi
  log "starting apt-cacher-ng (log: /var/log/apt-cacher-ng/)"
  install -d -o apt-cacher-ng -g apt-cacher-ng /run/apt-cacher-ng /var/cache/apt-cacher-ng /var/log/apt-cacher-ng
  # The package's own start (as root, at install time) can leave root-owned
  # files behind that the unprivileged daemon then cannot open.
  chown -R apt-cacher-ng:apt-cacher-ng /var/cache/apt-cacher-ng /var/log/apt-cacher-ng
  rm -f /run/apt-cacher-ng/socket
  setsid runuser -u apt-cacher-ng -- /usr/sbin/apt-cacher-ng -c /etc/apt-cacher-ng ForeGround=1 \
    >>/var/log/apt-cacher-ng/console.log 2>&1 </dev/null &
  for _ in $(seq 1 20); do
    (exec 3<>/dev/tcp/127.0.0.1/3142) 2>/dev/null && return 0
    sleep 0.5
  done
  log "apt-cacher-ng did not start; see /var/log/apt-cacher-ng/"
  return 1
}
start_apt_cache

if docker info >/dev/null 2>&1; then
  exit 0
fi

log "starting dockerd (log: /var/log/dockerd.log)"
setsid dockerd >/var/log/dockerd.log 2>&1 < /dev/null &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    log "dockerd is up"
    exit 0
  fi
  sleep 1
done
log "dockerd did not come up within 60 s; last lines of /var/log/dockerd.log:"
tail -n 20 /var/log/dockerd.log >&2 || true
exit 1
