"""Benchmark (not a test): the Kubernetes delivery of the whole stack (Longhorn, media stack with every optional app,
Plex) for an inventory, in export mode and in apply mode against the kmock API emulator.

Figures (wall seconds of one ansible-playbook run of 50_longhorn.yml + 60_media.yml + 70_plex.yml each; <figure>_cpu
is the CPU time, user + system, of that run's whole process tree, which a busy machine stretches far less):
  export_first   render + validate + check + write the kustomize trees into an empty folder
  export_rerun   the same again over the written trees (nothing to write)
  apply_first    render + validate + check + compare + apply against an empty emulator
  apply_rerun    the no-op compare: the same again, nothing differs, nothing is written

Everything runs inside `unshare --net` with only loopback up (inventory/example names LAN addresses).

    .venv/bin/python bench/delivery_bench.py [-i inventory/example] [--rounds 3] [--only export]
    .venv/bin/python bench/delivery_bench.py --compare main --rounds 3    # old (main) and new alternately
"""

import argparse
import json
import os
import pathlib
import resource
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'bench'))

import compare  # noqa: E402
import yaml  # noqa: E402

from tests.delivery.conftest import RunningEmulator  # noqa: E402
from tests.unit.semantics import render  # noqa: E402

WORK = ROOT / '.bench'
PLAYBOOKS = ('50_longhorn.yml', '60_media.yml', '70_plex.yml')


def env_for(root):
    env = dict(os.environ)
    env.update({'PATH': '{0}:{1}'.format(ROOT / '.venv' / 'bin', env.get('PATH', '')),
                'ANSIBLE_CONFIG': str(root / 'ansible.cfg'), 'ANSIBLE_HOME': str(root / '.ansible'),
                'ANSIBLE_CACHE_PLUGIN': 'memory', 'ANSIBLE_NOCOLOR': '1'})
    return env


def playbook_run(root, tmp, inventory, variables, label):
    playbook = tmp / 'stack.yml'
    playbook.write_text(yaml.safe_dump([{'import_playbook': str(root / 'playbooks' / p)} for p in PLAYBOOKS]))
    extra = tmp / 'extra-{0}.json'.format(variables['k8s_delivery_mode'])
    extra.write_text(json.dumps(variables))
    started, cpu = time.monotonic(), _children_cpu()
    proc = subprocess.run([str(ROOT / '.venv' / 'bin' / 'ansible-playbook'), '-i', str(root / inventory),
                           str(playbook), '-e', '@' + str(extra), '--skip-tags', 'longhorn_nodes'],
                          cwd=root, env=env_for(root), capture_output=True, text=True, check=False)
    wall, cpu = time.monotonic() - started, _children_cpu() - cpu
    log = WORK / 'delivery-{0}.log'.format(label)
    log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise compare.CompareError('{0} failed (rc={1}); see {2}'.format(label, proc.returncode, log))
    return wall, cpu


def measure(figures, name, *args):
    figures[name], figures[name + '_cpu'] = playbook_run(*args)


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(root, inventory, only, label):
    """{figure: seconds} for one checkout."""
    figures = {}
    with tempfile.TemporaryDirectory(prefix='delivery-bench.') as name:
        tmp = pathlib.Path(name)
        if only in (None, 'export'):
            variables = render.extra_vars(tmp, mode='export')
            measure(figures, 'export_first', root, tmp, inventory, variables, label + '-export-1')
            measure(figures, 'export_rerun', root, tmp, inventory, variables, label + '-export-2')
        if only in (None, 'apply'):
            kubeconfig = tmp / 'kubeconfig'
            variables = render.extra_vars(tmp, mode='apply', k8s_kubeconfig=str(kubeconfig), **render.EMULATOR_VARS)
            variables.pop('k8s_delivery_kubernetes_version')
            emulator = RunningEmulator(kubeconfig).start()
            try:
                measure(figures, 'apply_first', root, tmp, inventory, variables, label + '-apply-1')
                before = len(emulator.writes())
                measure(figures, 'apply_rerun', root, tmp, inventory, variables, label + '-apply-2')
                if len(emulator.writes()) != before:
                    raise compare.CompareError('{0}: the apply rerun wrote to the emulator; it must be a no-op'
                                               .format(label))
            finally:
                emulator.stop()
    return figures


def in_netns():
    """True when only loopback is up here (the bench re-executes itself under unshare --net otherwise)."""
    lines = pathlib.Path('/proc/self/net/dev').read_text().splitlines()[2:]  # per network namespace, unlike /sys
    return [line.split(':', 1)[0].strip() for line in lines] == ['lo']


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('-i', '--inventory', default='inventory/example', help='relative to the checkout')
    parser.add_argument('--rounds', type=int, default=1)
    parser.add_argument('--only', choices=['export', 'apply'])
    parser.add_argument('--compare', metavar='GIT_REF', help='run that ref and this checkout alternately')
    parser.add_argument('--json', metavar='FILE', help='also write the raw figures there')
    args = parser.parse_args()
    if not in_netns():
        # the same command line again, inside a network namespace with only loopback up
        os.execvp('unshare', ['unshare', '--net', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh',  # noqa: S606
                              sys.executable, *sys.argv])
    WORK.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    try:
        if args.compare:
            old_root, commit = compare.checkout(ROOT, args.compare)
            roots = {'old': old_root, 'new': ROOT}
            results = compare.alternate(lambda side, n: run_once(roots[side], args.inventory, args.only,
                                                                 '{0}-{1}'.format(side, n)), args.rounds)
            summary = compare.summarise(results)
            print(compare.table(summary, '{0} ({1})'.format(args.compare, commit[:10]), 'this checkout'))
            report = {'compare': args.compare, 'commit': commit, 'summary': summary}
        else:
            runs = [run_once(ROOT, args.inventory, args.only, 'run-{0}'.format(n)) for n in range(args.rounds)]
            report = {'runs': runs}
            for figure in runs[0]:
                print('{0}: {1}'.format(figure, ', '.join('{0:.1f} s'.format(r[figure]) for r in runs)))
    except compare.CompareError as exc:
        sys.exit(str(exc))
    report.update({'load_before': load, 'load_after': os.getloadavg()[0], 'inventory': args.inventory})
    print('load average (1 min) before/after: {0:.1f} / {1:.1f}'.format(load, report['load_after']))
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(report, indent=2) + '\n')


if __name__ == '__main__':
    main()
