#!/usr/bin/env bash
# Install what the Makefile itself needs on a fresh Debian 12 machine (run as
# root): make, Python's venv and git. Everything else (the virtualenv, the
# Docker engine, the base image) the Makefile sets up.
set -euo pipefail
missing=()
command -v make >/dev/null 2>&1 || missing+=(make)
command -v git >/dev/null 2>&1 || missing+=(git)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "[bootstrap] installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
