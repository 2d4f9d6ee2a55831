#!/usr/bin/env bash
# Benchmark (not a test): the no-op rerun of playbooks/20_nodes.yml, old code and this checkout alternately on one
# converged lab (the 6 k3s nodes of inventory/lab), each run with its own empty fact cache.
#   bench/nodes_compare.sh <git-ref> [rounds]
# NODES_LIMIT (optional) limits the reruns to some nodes, e.g. NODES_LIMIT=lab-cp1,lab-cp2,lab-cp3,lab-w1,lab-w2 for
# the 5-node figure of issue 18 (the first run always prepares all of them).
# The old side is a detached worktree of the ref (bench/compare.py makes it; bench/site_bench.py --compare leaves
# one under /tmp/mediacluster-bench-refs). Both sides use this checkout's lab inventory (hosts, keys) with their own
# ansible.cfg, playbooks and roles. The lab must be down; the script brings it up and down again.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ref=${1:?usage: bench/nodes_compare.sh <git-ref> [rounds]}
rounds=${2:-3}
export PATH="$root/.venv/bin:$PATH"
cd "$root"
old=$(python3 -c "import sys; sys.path.insert(0, 'bench'); import compare; print(compare.checkout('.', '$ref')[0])")
logs="$root/.bench/nodes-compare"
mkdir -p "$logs"
python3 scripts/lab.py up -i inventory/lab > "$logs/lab-up.log" 2>&1

run() {  # root label playbook [ansible-playbook args]
  local side=$1 label=$2 playbook=$3 cache t0 t1 rc=0
  shift 3
  cache=$(mktemp -d)
  t0=$(date +%s.%N)
  ANSIBLE_CONFIG="$side/ansible.cfg" ANSIBLE_HOME="$side/.ansible" ANSIBLE_CACHE_PLUGIN_CONNECTION="$cache" \
    ansible-playbook -i "$root/inventory/lab" "$side/playbooks/$playbook" "$@" > "$logs/$label.log" 2>&1 || rc=$?
  t1=$(date +%s.%N)
  printf '%-14s %-16s rc=%s %6.1f s  load %s  %s\n' "$label" "$playbook" "$rc" "$(echo "$t1 - $t0" | bc)" \
    "$(cut -d' ' -f1 /proc/loadavg)" "$(grep -oE 'changed=[0-9]+' "$logs/$label.log" | sort -u | tr '\n' ' ')"
  rm -rf "$cache"
}

run "$root" proxmox 10_proxmox.yml
run "$root" first 20_nodes.yml
limit=()
if [ -n "${NODES_LIMIT:-}" ]; then limit=(--limit "$NODES_LIMIT"); fi
for r in $(seq 1 "$rounds"); do
  if [ $((r % 2)) = 1 ]; then
    run "$old" "old-rerun-$r" 20_nodes.yml "${limit[@]}"; run "$root" "new-rerun-$r" 20_nodes.yml "${limit[@]}"
  else
    run "$root" "new-rerun-$r" 20_nodes.yml "${limit[@]}"; run "$old" "old-rerun-$r" 20_nodes.yml "${limit[@]}"
  fi
done
python3 scripts/lab.py down -i inventory/lab > "$logs/lab-down.log" 2>&1
