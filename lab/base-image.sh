#!/usr/bin/env bash
# Build the lab's systemd base image (Debian 12) with debootstrap, once per
# machine. Nothing is pulled from a container registry: the root filesystem
# comes from the Debian mirror this machine's own apt configuration names.
#
#   lab/base-image.sh [IMAGE]        default IMAGE: kaizen-lab/debian12-systemd:latest
set -euo pipefail

IMAGE="${1:-${KAIZEN_LAB_IMAGE:-kaizen-lab/debian12-systemd:latest}}"
SUITE=bookworm
log() { printf '[base-image] %s\n' "$*" >&2; }

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  log "$IMAGE already present"
  exit 0
fi

here="$(cd "$(dirname "$0")" && pwd)"
MIRROR="${KAIZEN_LAB_MIRROR:-$("$here/apt-mirror.sh")}"
log "building $IMAGE from $MIRROR ($SUITE)"

rootfs="$(mktemp -d /var/tmp/kaizen-rootfs.XXXXXX)"
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase \
  --include=systemd,systemd-sysv,dbus,python3,python3-apt,sudo,ca-certificates,iproute2,procps \
  "$SUITE" "$rootfs" "$MIRROR" >/var/tmp/kaizen-debootstrap.log 2>&1 || {
    tail -n 30 /var/tmp/kaizen-debootstrap.log >&2
    exit 1
  }

# Hosts inside the lab use the same Debian sources as a real bookworm host.
cat >"$rootfs/etc/apt/sources.list" <<SOURCES
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
SOURCES
security="$("$here/apt-mirror.sh" security || true)"
if [ -n "$security" ]; then
  echo "deb $security $SUITE-security main" >>"$rootfs/etc/apt/sources.list"
fi
# systemd in a container: no getty, no udev settle, no first-boot prompts.
rm -f "$rootfs"/etc/systemd/system/getty.target.wants/* \
      "$rootfs"/etc/systemd/system/multi-user.target.wants/getty.target
: >"$rootfs/etc/machine-id"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

tar -C "$rootfs" -c . | docker import \
  -c 'CMD ["/lib/systemd/systemd"]' \
  -c 'ENV container=docker' \
  - "$IMAGE" >/dev/null
log "built $IMAGE"
