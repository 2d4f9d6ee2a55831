#!/usr/bin/env bash
# Create ./.venv with the pinned toolchain (requirements.txt) and make this checkout importable as the
# homelab.mediacluster collection (.collections/ansible_collections/homelab/mediacluster -> repo root).
# Idempotent: a second run with an unchanged requirements.txt does nothing.
#
# The install goes through uv (pinned in scripts/uv.sh, installed from PyPI into .cache/uv-venv): it resolves the
# same versions as pip and installs them in parallel from its cache, bytecode compiled as pip does (measured on the
# 2-core machine with uv's cache warm: 57 s with pip, 19-22 s with uv, of which the compiling is about 15 s). .venv
# is seeded with pip, so `.venv/bin/pip install ...` keeps working. When uv cannot be installed, pip does the install
# as before.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=.venv
stamp=$venv/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)

command -v python3 >/dev/null || { echo "venv: python3 is missing; install Python 3.11 (apt-get install -y python3 python3-venv)" >&2; exit 1; }
[ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && [ -x "$venv/bin/python" ] && uptodate=1 || uptodate=0
if [ "$uptodate" = 0 ]; then
  start=$(date +%s)
  uv=$(bash scripts/uv.sh) || { echo 'venv: uv could not be installed (above); installing with pip' >&2; uv=''; }
  if [ -n "$uv" ]; then
    [ -x "$venv/bin/python" ] || "$uv" venv --quiet --seed --python "$(python3 -c 'import sys; print(sys.executable)')" "$venv"
    "$uv" pip install --quiet --python "$venv/bin/python" --compile-bytecode -r requirements.txt
    how=uv
  else
    if [ ! -x "$venv/bin/python" ]; then
      python3 -m venv "$venv" || { echo "venv: 'python3 -m venv' failed; install python3-venv (apt-get install -y python3-venv)" >&2; exit 1; }
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r requirements.txt 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
    how=pip
  fi
  echo "$want" > "$stamp"
  echo "venv: toolchain installed in $(( $(date +%s) - start ))s ($how)"
fi
mkdir -p .collections/ansible_collections/homelab
ln -sfn ../../.. .collections/ansible_collections/homelab/mediacluster
