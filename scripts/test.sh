#!/usr/bin/env bash
# The whole test suite, from a clean clone on Debian 12: system packages, the pinned venv, the node image,
# then one pytest run that covers lint, build, unit/integration tests, the lab, and every molecule scenario.
#   scripts/test.sh              everything
#   scripts/test.sh lint         only the linters       scripts/test.sh pytest   everything but molecule and lab
#   scripts/test.sh -k nas       any pytest selection
# pytest runs on MEDIACLUSTER_TEST_WORKERS pytest-xdist workers (default 2, one per core of the CI machine; three
# took 5 % off tests/media_stack + tests/plex but nothing off the whole suite, 1267 s against 1255 s, each test
# stretched by 40 %; 0 runs in one process). tests/conftest.py keeps on one worker the tests that share the lab or an
# expensive fixture.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
t0=$(date +%s)
bash scripts/host-setup.sh
bash scripts/venv.sh
export PATH="$root/.venv/bin:$PATH" ANSIBLE_CONFIG="$root/ansible.cfg" ANSIBLE_HOME="$root/.ansible"
case "${1:-all}" in
  lint)   shift; set -- -m lint "$@" ;;
  pytest) shift; set -- -m "not molecule and not lab" "$@" ;;
  all)    [ $# -gt 0 ] && shift; bash scripts/build-node-image.sh ;;
  *)      bash scripts/build-node-image.sh ;;
esac
echo "test: setup took $(( $(date +%s) - t0 ))s"
workers=${MEDIACLUSTER_TEST_WORKERS:-2}
parallel=()
[ "$workers" -gt 0 ] 2>/dev/null && parallel=(-n "$workers" --dist loadgroup --no-loadscope-reorder)
set +e
pytest "${parallel[@]}" "$@"
rc=$?
set -e
echo "test: total $(( $(date +%s) - t0 ))s"
exit $rc
