#!/usr/bin/env bash
# Print the path of a pinned uv, installed from PyPI into .cache/uv-venv on first use (scripts/venv.sh and the test
# tool venvs install through it). Exits non-zero, with pip's message on stderr, when uv cannot be installed; the
# callers then install with pip.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pin='uv==0.13.9'
where=$root/.cache/uv-venv
if [ "$(cat "$where/.pin" 2>/dev/null)" != "$pin" ] || [ ! -x "$where/bin/uv" ]; then
  rm -rf "$where"
  python3 -m venv "$where" >&2
  "$where/bin/pip" install --quiet --disable-pip-version-check "$pin" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2) >&2
  echo "$pin" > "$where/.pin"
fi
echo "$where/bin/uv"
