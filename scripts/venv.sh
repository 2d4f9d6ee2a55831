#!/usr/bin/env bash
# Create ./.venv with the pinned toolchain (requirements.txt) and make this checkout importable as the
# homelab.mediacluster collection (.collections/ansible_collections/homelab/mediacluster -> repo root).
# Idempotent: a second run with an unchanged requirements.txt does nothing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=.venv
stamp=$venv/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)

command -v python3 >/dev/null || { echo "venv: python3 is missing; install Python 3.11 (apt-get install -y python3 python3-venv)" >&2; exit 1; }
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" || { echo "venv: 'python3 -m venv' failed; install python3-venv (apt-get install -y python3-venv)" >&2; exit 1; }
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  start=$(date +%s)
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r requirements.txt 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  echo "$want" > "$stamp"
  echo "venv: toolchain installed in $(( $(date +%s) - start ))s"
fi
mkdir -p .collections/ansible_collections/homelab
ln -sfn ../../.. .collections/ansible_collections/homelab/mediacluster
