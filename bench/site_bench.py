"""Benchmark (not a test): playbooks/site.yml on the local lab at 3, 6 and 12 k3s nodes.

For each size the script writes a lab inventory derived from inventory/lab (same group_vars, the seed's roles for
the nodes it keeps, extra VM workers cloned on fakepve for the 12-node lab), brings that lab up, runs site.yml
twice (first converge, then the no-op rerun) and tears the lab down again. It records, per run: wall time, the time
of each numbered playbook (from the ansible.posix.json callback's play durations), and the tasks reported changed
per host. A rerun with any changed task is reported as a failure (exit code 1).

Results: bench/site-results.json (raw), docs/benchmark.md (table, machine, date) and
docs/images/site-benchmark.png (rerun and first-converge time against node count).

    make venv && .venv/bin/pip install -r bench/requirements.txt
    .venv/bin/python bench/site_bench.py [--sizes 3 6 12] [--replace-lab]
    .venv/bin/python bench/site_bench.py --compare main [--rounds 2] [--sizes 6]

--compare <git-ref> runs the old code (a detached worktree of the ref outside this checkout, bench/compare.py) and this
checkout alternately on the same lab: for each size and round, a fresh lab, first converge and no-op rerun with one
side, lab down, then the same with the other side (old first in even rounds, new first in odd ones). It reports both
medians and the ratio new/old (bench/site-compare.json, a section of docs/benchmark.md, and the plot with old and
new lines). Each side runs with its own playbooks, roles and inventory/lab variables; the lab itself (scripts/lab.py)
is this checkout's.

The lab uses fixed addresses (10.77.0.0/24, ports 8006/16443): the script refuses to run while a lab is up unless
--replace-lab is given, and never runs at the same time as `make test`.
"""

import argparse
import configparser
import copy
import datetime
import json
import os
import pathlib
import platform
import shutil
import subprocess
import sys
import threading
import time

import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import compare  # noqa: E402

try:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
except ImportError:  # checked in main(), before an hour of work rather than after
    plt = None

ROOT = pathlib.Path(__file__).resolve().parent.parent
WORK = ROOT / '.bench'  # inventories sit two levels below ROOT, so the lab's lab_dir (../../.lab) is ROOT/.lab
RESULTS = ROOT / 'bench' / 'site-results.json'
COMPARE_RESULTS = ROOT / 'bench' / 'site-compare.json'
DOC = ROOT / 'docs' / 'benchmark.md'
PLOT = ROOT / 'docs' / 'images' / 'site-benchmark.png'
LAB_INVENTORY = ROOT / 'inventory' / 'lab'

# k3s nodes per size; lab-pve (Proxmox host) and lab-nas (NFS server) are in every lab on top of these.
# 3: one server and two agents (a VM and the GPU LXC) - the smallest layout the collection supports with Plex.
# 6: the lab as shipped (seed 001: three servers with the Pi quorum node, two VM workers, the GPU LXC).
# 12: the 6-node lab plus six more VM workers cloned on the Proxmox host, four of them Longhorn storage nodes.
EXTRA_WORKERS = [('lab-w{0}'.format(n), 10 + n + 30, 110 + n) for n in range(4, 10)]  # name, last octet, vmid
TOPOLOGIES = {
    3: {'servers': ['lab-cp1'], 'agents': ['lab-w1', 'lab-w3'], 'storage': ['lab-cp1', 'lab-w1']},
    6: {'servers': ['lab-cp1', 'lab-cp2', 'lab-cp3'], 'agents': ['lab-w1', 'lab-w2', 'lab-w3'],
        'storage': ['lab-w1', 'lab-w2']},
    12: {'servers': ['lab-cp1', 'lab-cp2', 'lab-cp3'],
         'agents': ['lab-w1', 'lab-w2', 'lab-w3'] + [w[0] for w in EXTRA_WORKERS],
         'storage': ['lab-w1', 'lab-w2', 'lab-w4', 'lab-w5']},
}
WORKER_VM = '''---
# Benchmark worker {name}: a VM cloned from the cloud-init template like lab-w1; {name} (a podman node on
# 10.77.0.{octet}) is what answers SSH.
proxmox_guest:
  type: vm
  node: pve
  vmid: {vmid}
  template: debian-12-cloudinit
  storage: local-lvm
  cores: 4
  memory: 8192
  ipconfig:
    ipconfig0: ip=10.77.0.{octet}/24,gw=10.77.0.1
  ciuser: debian
  onboot: true
  tags: [k3s]
'''


class BenchError(Exception):
    pass


def callbacks(root):
    """The side's own enabled callbacks with ansible.posix.json in place of profile_tasks, which prints into stdout."""
    config = configparser.ConfigParser()
    config.read(root / 'ansible.cfg')
    enabled = [name.strip() for name in config.get('defaults', 'callbacks_enabled', fallback='').split(',')]
    return ','.join(['ansible.posix.json']
                    + [name for name in enabled if name and name != 'ansible.posix.profile_tasks'])


def tool_env(facts_dir, root=ROOT):
    env = dict(os.environ)
    env.update({
        'PATH': '{0}:{1}'.format(ROOT / '.venv' / 'bin', env.get('PATH', '')),
        'ANSIBLE_CONFIG': str(root / 'ansible.cfg'),
        'ANSIBLE_HOME': str(root / '.ansible'),
        'ANSIBLE_STDOUT_CALLBACK': 'ansible.posix.json',
        'ANSIBLE_CALLBACKS_ENABLED': callbacks(root),
        'ANSIBLE_CACHE_PLUGIN_CONNECTION': str(facts_dir),  # a fresh fact cache per lab size
        'ANSIBLE_NOCOLOR': '1',
    })
    return env


def lab(command, inventory):
    cmd = [str(ROOT / '.venv' / 'bin' / 'python'), str(ROOT / 'scripts' / 'lab.py'), command, '-i', str(inventory)]
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=tool_env(WORK / 'facts'), check=False)
    if proc.returncode != 0:
        raise BenchError('scripts/lab.py {0} -i {1} failed:\n{2}{3}'.format(command, inventory, proc.stdout[-2000:],
                                                                            proc.stderr[-2000:]))
    return time.monotonic() - started


def lab_is_up():
    proc = subprocess.run(['podman', 'ps', '--filter', 'label=mediacluster.lab', '--format', '{{.Names}}'],
                          capture_output=True, text=True, check=False)
    return proc.stdout.split()


def write_inventory(size, root=ROOT, inv_name=None):
    """root's inventory/lab with the k3s nodes of TOPOLOGIES[size], as WORK/<name> (default lab-<size>): always two
    levels below this checkout, so that every side's lab_dir is this checkout's .lab. group_vars and the kept
    host_vars are symlinks."""
    topo = TOPOLOGIES[size]
    lab_inventory = pathlib.Path(root) / 'inventory' / 'lab'
    inv = WORK / (inv_name or 'lab-{0}'.format(size))
    if inv.exists():
        shutil.rmtree(inv)
    (inv / 'host_vars').mkdir(parents=True)
    (inv / 'group_vars').symlink_to(lab_inventory / 'group_vars')
    base = yaml.safe_load((lab_inventory / 'hosts.yml').read_text())
    children = base['all']['children']
    lab_hosts = children['lab_nodes']['hosts']
    k3s_nodes = topo['servers'] + topo['agents']
    extra = {name: (octet, vmid) for name, octet, vmid in EXTRA_WORKERS}
    kept = {}
    for name in ['lab-pve'] + k3s_nodes + ['lab-nas']:
        if name in lab_hosts:
            kept[name] = lab_hosts[name]
        else:
            octet, vmid = extra[name]
            kept[name] = {'ansible_host': '10.77.0.{0}'.format(octet)}
            (inv / 'host_vars' / name).mkdir()
            (inv / 'host_vars' / name / 'proxmox_guest.yml').write_text(
                WORKER_VM.format(name=name, octet=octet, vmid=vmid))
    children['lab_nodes']['hosts'] = kept
    servers = children['k3s_cluster']['children']['k3s_servers']['hosts']
    agents = children['k3s_cluster']['children']['k3s_agents']['hosts']
    children['k3s_cluster']['children']['k3s_servers']['hosts'] = {n: copy.deepcopy(servers.get(n)) for n in
                                                                   topo['servers']}
    children['k3s_cluster']['children']['k3s_agents']['hosts'] = {n: copy.deepcopy(agents.get(n)) for n in
                                                                  topo['agents']}
    children['storage_nodes']['hosts'] = {n: None for n in topo['storage']}
    for host_dir in (lab_inventory / 'host_vars').iterdir():
        if host_dir.name in kept:
            (inv / 'host_vars' / host_dir.name).symlink_to(host_dir)
    (inv / 'hosts.yml').write_text('---\n# Generated by bench/site_bench.py: the lab with {0} k3s nodes.\n{1}'.format(
        size, yaml.safe_dump(base, sort_keys=False)))
    return inv


def playbook_of(play_path):
    return pathlib.Path(play_path.rsplit(':', 1)[0]).name if play_path else '?'


def parse_time(stamp):
    return datetime.datetime.fromisoformat(stamp.replace('Z', '+00:00'))


class LoadSampler(threading.Thread):
    """The 1-minute load average every 5 s while a run lasts: the machine is shared, and a figure measured under
    someone else's load must say so."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples = []
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(5):
            self.samples.append(os.getloadavg()[0])

    def summary(self):
        self.done.set()
        self.join()
        samples = self.samples or [os.getloadavg()[0]]
        return {'mean': round(sum(samples) / len(samples), 1), 'max': round(max(samples), 1)}


def run_site(inventory, label, root=ROOT):
    facts = WORK / 'facts-{0}'.format(inventory.name)
    sampler = LoadSampler()
    sampler.start()
    started = time.monotonic()
    playbook = pathlib.Path(root) / 'playbooks' / 'site.yml'
    proc = subprocess.run(['ansible-playbook', '-i', str(inventory), str(playbook)], cwd=root, capture_output=True,
                          text=True, env=tool_env(facts, root), check=False)
    wall = time.monotonic() - started
    load = sampler.summary()
    (WORK / '{0}-{1}.json'.format(inventory.name, label)).write_text(proc.stdout)
    (WORK / '{0}-{1}.stderr'.format(inventory.name, label)).write_text(proc.stderr)
    try:
        result = json.loads(proc.stdout)
    except ValueError as exc:
        raise BenchError('{0} run of site.yml on {1} printed no JSON (rc={2}); stderr:\n{3}'.format(
            label, inventory.name, proc.returncode, proc.stderr[-3000:])) from exc
    per_playbook = {}
    for play in result.get('plays', []):
        duration = play['play']['duration']
        if 'end' not in duration:  # a play whose hosts were all skipped ran no task
            continue
        seconds = (parse_time(duration['end']) - parse_time(duration['start'])).total_seconds()
        name = playbook_of(play['play'].get('path', ''))
        per_playbook[name] = per_playbook.get(name, 0.0) + seconds
    stats = result.get('stats', {})
    changed = {host: s.get('changed', 0) for host, s in stats.items() if s.get('changed', 0)}
    failed = {host: s.get('failures', 0) + s.get('unreachable', 0) for host, s in stats.items()
              if s.get('failures', 0) + s.get('unreachable', 0)}
    if proc.returncode != 0 or failed:
        raise BenchError('{0} run of site.yml on {1} failed (rc={2}, failed hosts {3}); see {4}'.format(
            label, inventory.name, proc.returncode, failed, WORK / '{0}-{1}.json'.format(inventory.name, label)))
    return {'wall_s': round(wall, 1), 'rc': proc.returncode, 'hosts': len(stats), 'load': load,
            'changed_total': sum(changed.values()), 'changed_by_host': changed,
            'playbooks_s': {k: round(v, 1) for k, v in sorted(per_playbook.items())}}


def machine():
    cpu = next((line.split(':', 1)[1].strip() for line in pathlib.Path('/proc/cpuinfo').read_text().splitlines()
                if line.startswith('model name')), platform.processor())
    mem_kb = int(next(line.split()[1] for line in pathlib.Path('/proc/meminfo').read_text().splitlines()
                      if line.startswith('MemTotal')))
    ansible = subprocess.run([str(ROOT / '.venv' / 'bin' / 'ansible'), '--version'], capture_output=True, text=True,
                             check=False).stdout.splitlines()[0]
    podman = subprocess.run(['podman', '--version'], capture_output=True, text=True, check=False).stdout.strip()
    osr = dict(line.split('=', 1) for line in pathlib.Path('/etc/os-release').read_text().splitlines() if '=' in line)
    return {'cpu': cpu, 'cores': os.cpu_count(), 'memory_gib': round(mem_kb / 1048576, 1),
            'os': osr.get('PRETTY_NAME', '').strip('"'), 'kernel': platform.release(), 'ansible': ansible,
            'podman': podman, 'python': platform.python_version()}


def bench(sizes):
    report = {'date': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'),
              'commit': subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT, capture_output=True,
                                       text=True, check=False).stdout.strip(),
              'machine': machine(), 'runs': []}
    for size in sizes:
        inv = write_inventory(size)
        shutil.rmtree(WORK / 'facts-{0}'.format(inv.name), ignore_errors=True)
        print('== {0} k3s nodes: lab up'.format(size), flush=True)
        entry = {'k3s_nodes': size, 'lab_hosts': len(TOPOLOGIES[size]['servers'] + TOPOLOGIES[size]['agents']) + 2,
                 'load_before': os.getloadavg()[0]}
        try:
            entry['lab_up_s'] = round(lab('up', inv), 1)
            for label in ('first', 'rerun'):
                print('== {0} k3s nodes: site.yml {1}'.format(size, label), flush=True)
                entry[label] = run_site(inv, label)
                print('   {0[wall_s]} s, changed={0[changed_total]}'.format(entry[label]), flush=True)
        finally:
            entry['load_after'] = os.getloadavg()[0]
            lab('down', inv)
        report['runs'].append(entry)
    return report


def compare_side_run(size, inventories, roots):
    """The run function for compare.alternate at one size: a fresh lab, first converge and rerun with one side."""
    def run(side, n):
        print('== {0} k3s nodes, round {1}, {2}: lab up'.format(size, n, side), flush=True)
        try:
            lab('up', inventories['new'])
            # a fresh lab is a fresh controller: no facts from this side's earlier round or an earlier compare
            shutil.rmtree(WORK / 'facts-{0}'.format(inventories[side].name), ignore_errors=True)
            figures = {}
            for label in ('first', 'rerun'):
                result = run_site(inventories[side], '{0}-{1}-{2}'.format(label, side, n), roots[side])
                if label == 'rerun' and result['changed_total']:
                    raise BenchError('{0} side: the no-op rerun at {1} nodes changed {2}'.format(
                        side, size, result['changed_by_host']))
                figures[label] = result['wall_s']
                figures[label + '_load'] = result['load']['mean']
                print('   {0}: {1} s (load {2})'.format(label, result['wall_s'], result['load']['mean']), flush=True)
            return figures
        finally:
            lab('down', inventories['new'])
    return run


def bench_compare(sizes, ref, rounds):
    old_root, commit = compare.checkout(ROOT, ref)
    roots = {'old': old_root, 'new': ROOT}
    report = {'date': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'),
              'commit': subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT, capture_output=True,
                                       text=True, check=False).stdout.strip(),
              'compare': ref, 'compare_commit': commit[:10], 'rounds': rounds, 'machine': machine(), 'runs': []}
    for size in sizes:
        inventories = {'new': write_inventory(size), 'old': write_inventory(size, old_root,
                                                                            'lab-{0}-old'.format(size))}
        results = compare.alternate(compare_side_run(size, inventories, roots), rounds)
        report['runs'].append({'k3s_nodes': size, 'summary': compare.summarise(results), 'raw': results})
    return report


def write_compare_plot(report):
    runs = report['runs']
    nodes = [r['k3s_nodes'] for r in runs]
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=110)
    for side, style in (('old', '--'), ('new', '-')):
        label = report['compare'] if side == 'old' else 'this change'
        ax.plot(nodes, [r['summary']['first'][side] for r in runs], 'o' + style, label='first converge, ' + label)
        ax.plot(nodes, [r['summary']['rerun'][side] for r in runs], 's' + style, label='no-op rerun, ' + label)
    ax.set_xlabel('k3s nodes (+ Proxmox host and NAS)')
    ax.set_ylabel('site.yml wall time (s, median)')
    ax.set_xticks(nodes)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title('site.yml on the lab, old against new, {0}'.format(report['date']), fontsize=9)
    fig.tight_layout()
    PLOT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(PLOT)


def compare_section(report):
    """The Markdown section of docs/benchmark.md for a --compare report."""
    lines = ['## Old against new', '',
             'Generated by `bench/site_bench.py --compare {0}` on {1}: `{0}` ({2}) and `{3}` alternately on the same '
             'lab, {4} round(s) per size, each run on a fresh lab (first converge, then the no-op rerun). Medians; '
             'new/old below 1 means faster. The load is the mean 1-minute load average while each run lasted.'
             .format(report['compare'], report['date'], report['compare_commit'], report['commit'], report['rounds']),
             '']
    for run in report['runs']:
        summary = {k: v for k, v in run['summary'].items() if not k.endswith('_load')}
        lines += ['### {0} k3s nodes'.format(run['k3s_nodes']), '',
                  compare.table(summary, report['compare'], report['commit']), '']
        loads = run['summary']
        lines += ['Load (old / new, medians): first {0} / {1}, rerun {2} / {3}.'.format(
            loads['first_load']['old'], loads['first_load']['new'], loads['rerun_load']['old'],
            loads['rerun_load']['new']), '']
    return '\n'.join(lines)


def write_compare_doc(report):
    """Replace (or append) the old-against-new section of docs/benchmark.md, keep the rest."""
    text = DOC.read_text() if DOC.exists() else '# Benchmark: site.yml on the lab\n'
    head = text.split('\n## Old against new\n', 1)[0].rstrip('\n')
    DOC.write_text(head + '\n\n' + compare_section(report))


def write_plot(report):
    runs = report['runs']
    nodes = [r['k3s_nodes'] for r in runs]
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=110)
    ax.plot(nodes, [r['first']['wall_s'] for r in runs], 'o--', label='first converge')
    ax.plot(nodes, [r['rerun']['wall_s'] for r in runs], 'o-', label='no-op rerun (changed=0)')
    ax.set_xlabel('k3s nodes (+ Proxmox host and NAS)')
    ax.set_ylabel('site.yml wall time (s)')
    ax.set_xticks(nodes)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title('site.yml on the lab, {0}'.format(report['date']), fontsize=9)
    fig.tight_layout()
    PLOT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(PLOT)


def write_doc(report):
    m = report['machine']
    runs = report['runs']
    books = sorted({b for r in runs for key in ('first', 'rerun') for b in r[key]['playbooks_s']})
    lines = [
        '# Benchmark: site.yml on the lab',
        '',
        'Generated by `bench/site_bench.py` on {0} at commit `{1}`; rerun it after changes that touch many hosts.'
        .format(report['date'], report['commit']),
        '',
        'Machine: {cpu}, {cores} cores, {memory_gib} GiB, {os} (kernel {kernel}), {podman}, {ansible}, Python '
        '{python}. Every lab node is a podman container on this machine reached over SSH; Proxmox is fakepve and '
        'the Kubernetes API is the kmock emulator (no pods run), so the times are Ansible\'s own cost: facts, '
        'checks, templates and API round trips, not k3s start-up or image pulls.'.format(**m),
        '',
        'The machine has 2 cores: a load above 2 means the run waited for CPU, and the table gives the load while '
        'each run lasted so that a slow figure can be told from a busy machine.',
        '',
        '![site.yml wall time against node count](images/site-benchmark.png)',
        '',
        '| k3s nodes | lab hosts | lab up | first converge | no-op rerun | changed on rerun '
        '| load during first / rerun (mean, max) |',
        '|---:|---:|---:|---:|---:|---:|---|',
    ]
    for r in runs:
        lines.append('| {0} | {1} | {2} s | {3} s | {4} s | {5} | {6[mean]} ({6[max]}) / {7[mean]} ({7[max]}) |'.format(
            r['k3s_nodes'], r['lab_hosts'], r['lab_up_s'], r['first']['wall_s'], r['rerun']['wall_s'],
            r['rerun']['changed_total'], r['first']['load'], r['rerun']['load']))
    lines += ['', 'Per playbook (seconds, first converge / rerun):', '',
              '| playbook | ' + ' | '.join('{0} nodes'.format(r['k3s_nodes']) for r in runs) + ' |',
              '|---|' + '---:|' * len(runs)]
    for book in books:
        cells = ['{0} / {1}'.format(r['first']['playbooks_s'].get(book, '-'), r['rerun']['playbooks_s'].get(book, '-'))
                 for r in runs]
        lines.append('| {0} | {1} |'.format(book, ' | '.join(cells)))
    lines += ['', 'Topologies (all with lab-pve and lab-nas):', '']
    for size in [r['k3s_nodes'] for r in runs]:
        t = TOPOLOGIES[size]
        lines.append('- {0} nodes: servers {1}; agents {2}; storage nodes {3}.'.format(
            size, ', '.join(t['servers']), ', '.join(t['agents']), ', '.join(t['storage'])))
    lines += ['', 'Raw figures: `bench/site-results.json`.', '']
    DOC.write_text('\n'.join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=sorted(TOPOLOGIES), choices=sorted(TOPOLOGIES))
    parser.add_argument('--replace-lab', action='store_true', help='tear down a running lab first')
    parser.add_argument('--compare', metavar='GIT_REF', help='run that ref and this checkout alternately')
    parser.add_argument('--rounds', type=int, default=2, help='rounds per size with --compare (default 2)')
    args = parser.parse_args()
    if plt is None:
        sys.exit('matplotlib is missing: .venv/bin/pip install -r bench/requirements.txt')
    running = lab_is_up()
    if running and not args.replace_lab:
        sys.exit('a lab is up ({0}); the benchmark needs its addresses. Run `make lab-down` first or pass '
                 '--replace-lab.'.format(', '.join(running)))
    WORK.mkdir(parents=True, exist_ok=True)
    if running:
        lab('down', LAB_INVENTORY)
    if args.compare:
        try:
            report = bench_compare(args.sizes, args.compare, args.rounds)
        except (BenchError, compare.CompareError) as exc:
            sys.exit(str(exc))
        COMPARE_RESULTS.write_text(json.dumps(report, indent=2) + '\n')
        write_compare_plot(report)
        write_compare_doc(report)
        for run in report['runs']:
            print('{0} k3s nodes:\n{1}'.format(run['k3s_nodes'], compare.table(
                {k: v for k, v in run['summary'].items() if not k.endswith('_load')}, args.compare, 'new')))
        print('wrote {0}, {1}, {2}'.format(COMPARE_RESULTS.relative_to(ROOT), DOC.relative_to(ROOT),
                                           PLOT.relative_to(ROOT)))
        return
    try:
        report = bench(args.sizes)
    except BenchError as exc:
        sys.exit(str(exc))
    out = RESULTS
    out.write_text(json.dumps(report, indent=2) + '\n')
    write_plot(report)
    write_doc(report)
    print('wrote {0}, {1}, {2}'.format(out.relative_to(ROOT), DOC.relative_to(ROOT), PLOT.relative_to(ROOT)))
    bad = [r['k3s_nodes'] for r in report['runs'] if r['rerun']['changed_total']]
    if bad:
        sys.exit('the no-op rerun changed tasks at {0} nodes: see changed_by_host in {1}'.format(bad, out))


if __name__ == '__main__':
    main()
