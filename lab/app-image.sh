#!/usr/bin/env bash
# Build the Kaizen reference app images (lab/app) and save them into one archive,
# the way an air-gapped site receives its images: the app role copies the archive
# to the app hosts and `docker load`s it. Nothing is pulled from a registry: the
# images build FROM the lab's base image (make image), and Debian packages come
# through this machine's apt cache when it runs.
#
#   lab/app-image.sh        prints the archive's path on stdout (logs go to stderr)
#
# Tags: kaizen-lab/kaizen-ref:1.0.0, :2.0.0 and :3.0.0-broken (a release whose
# /health reports the application unhealthy). Archive:
# ${KAIZEN_APP_ARCHIVE:-/var/tmp/kaizen-lab/kaizen-ref.tar}, with the hash of its
# inputs (Dockerfile, app, this script, base image id) in <archive>.inputs; when
# that matches, nothing is built or saved again.
set -euo pipefail

REPOSITORY="kaizen-lab/kaizen-ref"
BASE_IMAGE="kaizen-lab/debian12-systemd:latest"
ARCHIVE="${KAIZEN_APP_ARCHIVE:-/var/tmp/kaizen-lab/kaizen-ref.tar}"
INPUTS_LABEL="org.kaizen-lab.inputs"
# tag version fault
RELEASES=(
  "1.0.0 1.0.0 -"
  "2.0.0 2.0.0 -"
  "3.0.0-broken 3.0.0 health"
)
log() { printf '[app-image] %s\n' "$*" >&2; }

here="$(cd "$(dirname "$0")" && pwd)"
context="$here/app"

if ! base_id="$(docker image inspect --format '{{.Id}}' "$BASE_IMAGE" 2>/dev/null)"; then
  log "the base image $BASE_IMAGE is missing: build it first with 'make image' (lab/base-image.sh)"
  exit 1
fi

mkdir -p "$(dirname "$ARCHIVE")"
# One build at a time per archive (parallel test runs share it).
exec 9>"$ARCHIVE.lock"
flock 9

inputs="$(
  cd "$here"
  sha256sum app/Dockerfile app/.dockerignore app/kaizen_ref.py app-image.sh
  echo "base $base_id"
  printf '%s\n' "${RELEASES[@]}"
)"
hash="$(sha256sum <<<"$inputs" | cut -c1-32)"

tags=()
for release in "${RELEASES[@]}"; do
  read -r tag _ _ <<<"$release"
  tags+=("$REPOSITORY:$tag")
done

images_current() {
  local tag label
  for tag in "${tags[@]}"; do
    label="$(docker image inspect --format "{{index .Config.Labels \"$INPUTS_LABEL\"}}" "$tag" 2>/dev/null)" || return 1
    [ "$label" = "$hash" ] || return 1
  done
}

archive_current() {
  [ -s "$ARCHIVE" ] && [ -f "$ARCHIVE.inputs" ] && [ "$(cat "$ARCHIVE.inputs")" = "$hash" ]
}

if archive_current; then
  if ! images_current; then
    log "loading the images from $ARCHIVE (same inputs, images missing here)"
    docker load -q -i "$ARCHIVE" >&2
  fi
  if images_current; then
    log "up to date (inputs $hash)"
    printf '%s\n' "$ARCHIVE"
    exit 0
  fi
fi

if images_current; then
  log "images up to date (inputs $hash)"
else
  build_args=()
  proxy="${KAIZEN_LAB_APT_PROXY:-}"
  if [ -z "$proxy" ]; then
    # The apt cache on this machine, as containers on the default bridge reach it.
    gateway="$(docker network inspect bridge --format '{{(index .IPAM.Config 0).Gateway}}' 2>/dev/null || true)"
    if [ -n "$gateway" ] && (exec 3<>"/dev/tcp/$gateway/3142") 2>/dev/null; then
      proxy="http://$gateway:3142"
    fi
  fi
  if [ -n "$proxy" ]; then
    build_args+=(--build-arg "APT_PROXY=$proxy")
    log "apt through $proxy during the build"
  fi
  # The images these tags name now, removed once they are replaced (unless a container uses them).
  old_ids=()
  for tag in "${tags[@]}"; do
    if id="$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null)"; then
      old_ids+=("$id")
    fi
  done
  build_log="$(dirname "$ARCHIVE")/kaizen-ref-build.log"
  : >"$build_log"
  for release in "${RELEASES[@]}"; do
    read -r tag version fault <<<"$release"
    [ "$fault" = "-" ] && fault=""
    log "building $REPOSITORY:$tag (version $version${fault:+, fault $fault})"
    if ! docker build "${build_args[@]}" \
        --build-arg "KAIZEN_APP_VERSION=$version" \
        --build-arg "KAIZEN_APP_FAULT=$fault" \
        --label "$INPUTS_LABEL=$hash" \
        --tag "$REPOSITORY:$tag" \
        "$context" >>"$build_log" 2>&1; then
      tail -n 30 "$build_log" >&2
      log "build of $REPOSITORY:$tag failed (full log: $build_log)"
      exit 1
    fi
  done
  current_ids="$(docker image ls --quiet --no-trunc --filter "reference=$REPOSITORY")"
  for id in "${old_ids[@]}"; do
    if ! grep -Fxq "$id" <<<"$current_ids"; then
      docker image rm "$id" >/dev/null 2>&1 || true
    fi
  done
fi

log "saving ${tags[*]} to $ARCHIVE"
rm -f "$ARCHIVE.inputs"
docker save --output "$ARCHIVE.partial" "${tags[@]}"
chmod 0644 "$ARCHIVE.partial"
mv -f "$ARCHIVE.partial" "$ARCHIVE"
printf '%s\n' "$hash" >"$ARCHIVE.inputs"
log "saved $(du -h "$ARCHIVE" | cut -f1) (inputs $hash)"
printf '%s\n' "$ARCHIVE"
