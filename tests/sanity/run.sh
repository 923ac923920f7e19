#!/usr/bin/env bash
# Run `ansible-test sanity` on the collection. ansible-test needs the
# collection under a path ending in ansible_collections/kaizen/hybrid, so the
# files git tracks (or would track) are staged there, and the tests run
# against the already-installed virtualenv (no downloads).
set -euo pipefail
top="$(cd "$(dirname "$0")/../.." && pwd)"
stage_root="$(mktemp -d "${TMPDIR:-/tmp}/kaizen-hybrid-sanity.XXXXXX")"
trap 'rm -rf "$stage_root"' EXIT
stage="$stage_root/ansible_collections/kaizen/hybrid"
mkdir -p "$stage"
cd "$top"
git ls-files -z --cached --others --exclude-standard \
  | grep -zv '^collections/' \
  | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
  | tar --null -T - -cf - | tar -C "$stage" -xf -
# ansible-test bootstraps pip in its sanity venvs with a script it downloads
# from a host we cannot reach; give it our offline equivalent instead.
pip_version="$(python3 - <<'PY'
import pathlib, re, ansible_test
src = pathlib.Path(ansible_test.__file__).parent / '_internal' / 'python_requirements.py'
print(re.search(r"pip='([0-9.]+)'", src.read_text()).group(1))
PY
)"
mkdir -p "$HOME/.ansible/test/cache"
cp "$top/tests/sanity/get_pip.py" "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"

cd "$stage"
pyver="$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
echo "ansible-test sanity, ansible-core $(python3 -c 'from ansible.release import __version__; print(__version__)'), Python $pyver"
ansible-test sanity --python "$pyver" --color no "$@"
