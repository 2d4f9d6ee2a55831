"""The local lab: podman node containers, a fake Proxmox VE API and a Kubernetes API emulator on loopback.

    scripts/lab.py up      [-i inventory/lab]   bring every lab node and peer up (idempotent)
    scripts/lab.py down    [-i inventory/lab]   remove every container, network and process the lab started
    scripts/lab.py status  [-i inventory/lab]

The inventory is the single source of truth: every host in the group `lab_nodes` becomes a container named after
the host, with the host's `ansible_host` as its static address on the podman network `lab_network` (subnet
`lab_subnet`).
`lab_seed_files` (per host, path -> content) are written into the node once, when it is created: the lab's
stand-in for files something outside Ansible owns (e.g. /etc/pve/lxc/<vmid>.conf, which pmxcfs writes on a
real Proxmox host).
`lab_podman_args` (a list, per host) adds podman options; `{lab_dir}` in them is replaced by the
absolute path of the lab's state directory. Runtime state (SSH key, secrets, kubeconfig, logs, pids) lives in
`.lab/` (0700; MEDIACLUSTER_LAB_DIR overrides) and is removed by `down`. Containers and the network carry the label
`mediacluster.lab=<lab_name>`, so several labs (e.g. a test's) never touch each other.

A failed `up` tears down everything it started, so no half-started lab is left behind.
"""

import argparse
import hashlib
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
LAB_DIR = pathlib.Path(os.environ.get('MEDIACLUSTER_LAB_DIR') or ROOT / '.lab').resolve()
LABEL = 'mediacluster.lab'
PYTHON = sys.executable
RUNTIME_ARGS = ['--runtime', 'runc', '--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=32768:32768']


class LabError(Exception):
    """A lab step failed; the message says what and how to fix it."""


def run(cmd, check=True, capture=True, stdin=None):
    result = subprocess.run(cmd, input=stdin, text=True, capture_output=capture, check=False)
    if check and result.returncode != 0:
        raise LabError('`{0}` failed (exit {1}): {2}'.format(
            ' '.join(cmd), result.returncode, (result.stderr or result.stdout or '').strip()[-800:]))
    return result


def log(msg):
    print('lab: ' + msg, flush=True)


# ------------------------------------------------------------------------------------------------ topology

def load_topology(inventory):
    tool = shutil.which('ansible-inventory', path=os.path.dirname(sys.executable)) or shutil.which('ansible-inventory')
    if not tool:
        raise LabError('ansible-inventory is not on PATH; run `make venv` and use the make targets '
                       '(or `source .venv/bin/activate`)')
    data = json.loads(run([tool, '-i', str(inventory), '--list']).stdout)
    hostvars = data.get('_meta', {}).get('hostvars', {})
    names = data.get('lab_nodes', {}).get('hosts', [])
    if not names:
        raise LabError('inventory {0} has no hosts in the group `lab_nodes`; nothing to start'.format(inventory))
    common = hostvars[names[0]]
    topo = {
        'name': common.get('lab_name', 'lab'),
        'network': common.get('lab_network', 'mclab'),
        'subnet': common.get('lab_subnet', '10.77.0.0/24'),
        'image': common.get('lab_image', 'localhost/mediacluster-node:bookworm'),
        'pve_port': int(common.get('lab_pve_port', 8006)),
        'kube_port': int(common.get('lab_kube_port', 16443)),
        'nodes': [],
    }
    seen = {}
    for name in names:
        hv = hostvars[name]
        addr = hv.get('ansible_host')
        if not addr:
            raise LabError('lab host {0} has no ansible_host; give it a static address in {1}'.format(
                name, topo['subnet']))
        if addr in seen:
            raise LabError('lab hosts {0} and {1} share the address {2}; give each its own'.format(
                seen[addr], name, addr))
        seen[addr] = name
        args = [str(a).replace('{lab_dir}', str(LAB_DIR)) for a in hv.get('lab_podman_args', [])]
        topo['nodes'].append({'name': name, 'ip': addr, 'args': args, 'seed': hv.get('lab_seed_files') or {}})
    return topo


# ------------------------------------------------------------------------------------------------ checks

def preflight(topo):
    missing = [tool for tool in ('podman', 'debootstrap') if not shutil.which(tool)]
    if missing:
        raise LabError('{0} missing; run `make host-setup` (apt-get install -y podman runc debootstrap)'.format(
            ' and '.join(missing) + (' is' if len(missing) == 1 else ' are')))
    if not shutil.which('runc'):
        raise LabError('runc is missing; this VM needs it (crun refuses hybrid cgroups): apt-get install -y runc')
    for what, port, pidname in (('fakepve', topo['pve_port'], 'pve'), ('kube emulator', topo['kube_port'], 'kube')):
        if _pid_alive(pidname):
            continue
        if not port_free(port):
            raise LabError('port {0} on 127.0.0.1 (for the {1}) is taken by another process; find it with '
                           "`ss -ltnp 'sport = :{0}'`, stop it, or set lab_{2}_port in the lab inventory".format(
                               port, what, pidname))
    out = run(['podman', 'network', 'ls', '--format', '{{.Name}} {{range .Subnets}}{{.Subnet}} {{end}}']).stdout
    for line in out.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == topo['network'] and topo['subnet'] not in parts[1:]:
            raise LabError('podman network {0} exists with subnet {1}, not {2}; remove it with '
                           '`podman network rm {0}` or change lab_subnet'.format(parts[0], ' '.join(parts[1:]),
                                                                                 topo['subnet']))
        if parts[0] != topo['network'] and topo['subnet'] in parts[1:]:
            raise LabError('podman network {0} already uses {1}; change lab_subnet in the lab inventory'.format(
                parts[0], topo['subnet']))


def port_free(port, host='127.0.0.1'):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def wait_port(host, port, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise LabError('{0} did not answer on {1}:{2} within {3}s'.format(what, host, port, timeout))


# ------------------------------------------------------------------------------------------------ processes

def _pidfile(name):
    return LAB_DIR / (name + '.pid')


def _pid_alive(name):
    try:
        pid = int(_pidfile(name).read_text())
        cmdline = pathlib.Path('/proc/{0}/cmdline'.format(pid)).read_bytes()
    except (OSError, ValueError):
        return None
    return pid if b'tests/peers/' in cmdline else None


def _label(topo):
    return '{0}={1}'.format(LABEL, topo['name'])


def start_process(name, args, port, what):
    if _pid_alive(name):
        log('{0} already running (pid {1})'.format(what, _pid_alive(name)))
        return
    logfile = (LAB_DIR / (name + '.log')).open('w')
    proc = subprocess.Popen([PYTHON] + args, cwd=str(ROOT), stdout=logfile, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    _pidfile(name).write_text(str(proc.pid))
    try:
        wait_port('127.0.0.1', port, 30, what)
    except LabError as exc:
        if proc.poll() is not None:
            raise LabError('{0} exited (code {1}); its log {2}:\n{3}'.format(
                what, proc.returncode, LAB_DIR / (name + '.log'),
                (LAB_DIR / (name + '.log')).read_text()[-1500:])) from exc
        raise
    log('{0} up on 127.0.0.1:{1} (pid {2})'.format(what, port, proc.pid))


def stop_process(name, what):
    pid = _pid_alive(name)
    if pid:
        os.killpg(pid, signal.SIGTERM)
        for _unused in range(50):
            if not pathlib.Path('/proc/{0}'.format(pid)).exists():
                break
            time.sleep(0.1)
        else:
            os.killpg(pid, signal.SIGKILL)
        log('stopped {0} (pid {1})'.format(what, pid))
    _pidfile(name).unlink(missing_ok=True)


# ------------------------------------------------------------------------------------------------ containers

def ensure_ssh_key():
    key = LAB_DIR / 'ssh' / 'id_ed25519'
    if not key.exists():
        key.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'mediacluster-lab', '-f', str(key)])
    return key


def start_node(topo, node, pubkey):
    name = node['name']
    state = run(['podman', 'container', 'inspect', '--format', '{{.State.Status}}', name], check=False)
    if state.returncode == 0 and state.stdout.strip() == 'running':
        log('{0} already running'.format(name))
    else:
        if state.returncode == 0:
            run(['podman', 'rm', '-f', name])
        for flag, value in zip(node['args'], node['args'][1:], strict=False):
            if flag in ('-v', '--volume') and value.startswith(str(LAB_DIR)):
                pathlib.Path(value.split(':')[0]).mkdir(parents=True, exist_ok=True)
        run(['podman', 'run', '-d', '--name', name, '--hostname', name, '--label', _label(topo),
             '--network', topo['network'], '--ip', node['ip'], '--systemd', 'always']
            + RUNTIME_ARGS + node['args'] + [topo['image']])
        for path, content in sorted(node['seed'].items()):
            run(['podman', 'exec', '-i', name, 'sh', '-c', 'mkdir -p "$(dirname "$1")" && cat > "$1"', 'seed', path],
                stdin=content)
    run(['podman', 'exec', '-i', name, 'sh', '-c',
         'umask 077; mkdir -p /root/.ssh; cat > /root/.ssh/authorized_keys'], stdin=pubkey)


STANDIN = '''#!/bin/sh
# homelab.mediacluster lab stand-in: no k3s binary was supplied (MEDIACLUSTER_K3S_BINARY), so the lab installs this
# file in its place and never starts k3s. It answers --version like k3s so tools that read the version work.
case "$1" in --version|-v) echo "k3s version v0.0.0+standin (lab stand-in, not k3s)"; exit 0 ;; esac
echo "lab stand-in: this is not k3s; set MEDIACLUSTER_K3S_BINARY to a real k3s binary" >&2
exit 1
'''


def prepare_k3s_binary():
    """Put the k3s binary the lab installs at .lab/k3s with its sha256 in .lab/k3s.sha256: the real one from
    MEDIACLUSTER_K3S_BINARY, else a stand-in that is never started."""
    target = LAB_DIR / 'k3s'
    real = os.environ.get('MEDIACLUSTER_K3S_BINARY')
    if real:
        shutil.copyfile(real, target)
    else:
        target.write_text(STANDIN)
    target.chmod(0o755)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    (LAB_DIR / 'k3s.sha256').write_text(digest + '\n')
    log('k3s for the lab: {0}'.format(real or 'stand-in (install/configure only; set MEDIACLUSTER_K3S_BINARY)'))


def wait_nodes(topo, timeout=60):
    for node in topo['nodes']:
        wait_port(node['ip'], 22, timeout, 'sshd on ' + node['name'])


# ------------------------------------------------------------------------------------------------ commands

def up(inventory):
    topo = load_topology(inventory)
    preflight(topo)
    started = time.monotonic()
    LAB_DIR.mkdir(mode=0o700, exist_ok=True)
    try:
        run(['bash', str(ROOT / 'scripts' / 'build-node-image.sh')], capture=False)
        if run(['podman', 'network', 'exists', topo['network']], check=False).returncode != 0:
            run(['podman', 'network', 'create', '--label', _label(topo), '--subnet', topo['subnet'], topo['network']])
        pubkey = ensure_ssh_key().with_suffix('.pub').read_text()
        prepare_k3s_binary()
        for node in topo['nodes']:
            start_node(topo, node, pubkey)
        wait_nodes(topo)
        log('{0} node containers up: {1}'.format(len(topo['nodes']), ', '.join(
            '{0}={1}'.format(n['name'], n['ip']) for n in topo['nodes'])))
        start_process('pve', ['tests/peers/pve_lab.py', '--port', str(topo['pve_port']),
                              '--password-file', str(LAB_DIR / 'pve-password'),
                              '--token-file', str(LAB_DIR / 'pve-token')], topo['pve_port'], 'fakepve')
        start_process('kube', ['tests/peers/kube_emulator.py', '--port', str(topo['kube_port']),
                               '--kubeconfig', str(LAB_DIR / 'kubeconfig')], topo['kube_port'], 'kube emulator')
    except BaseException:
        log('up failed; tearing down what it started')
        down(topo, quiet=True)
        raise
    log('up in {0:.0f}s; state in {1}'.format(time.monotonic() - started, LAB_DIR))


def down(topo, quiet=False):
    started = time.monotonic()
    stop_process('pve', 'fakepve')
    stop_process('kube', 'kube emulator')
    if shutil.which('podman'):
        names = run(['podman', 'ps', '-a', '--filter', 'label=' + _label(topo), '--format', '{{.Names}}'],
                    check=False).stdout.split()
        if names:
            # Under load podman can lose a race with a container that exits during the stop ("could not be
            # stopped: container state improper: stopped"); the second pass removes what the first left.
            if run(['podman', 'rm', '-f', '-t', '2'] + names, check=False).returncode != 0:
                time.sleep(1)
                left = run(['podman', 'ps', '-a', '--filter', 'label=' + _label(topo), '--format', '{{.Names}}'],
                           check=False).stdout.split()
                if left:
                    run(['podman', 'rm', '-f', '-t', '0'] + left)
            log('removed containers: ' + ', '.join(names))
        networks = run(['podman', 'network', 'ls', '--filter', 'label=' + _label(topo), '--format', '{{.Name}}'],
                       check=False).stdout.split()
        for net in networks:
            run(['podman', 'network', 'rm', '-f', net], check=False)
            log('removed network ' + net)
    if LAB_DIR.exists():
        shutil.rmtree(LAB_DIR)
    if not quiet:
        log('down in {0:.0f}s'.format(time.monotonic() - started))


def status(inventory):
    topo = load_topology(inventory)
    out = run(['podman', 'ps', '-a', '--filter', 'label=' + _label(topo), '--format', '{{.Names}} {{.Status}}'],
              check=False).stdout.strip()
    print(out or 'no lab containers')
    for name, what, port in (('pve', 'fakepve', topo['pve_port']), ('kube', 'kube emulator', topo['kube_port'])):
        pid = _pid_alive(name)
        print('{0}: {1}'.format(what, 'pid {0} on 127.0.0.1:{1}'.format(pid, port) if pid else 'not running'))
    return 0 if out and all(_pid_alive(n) for n in ('pve', 'kube')) else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('command', choices=('up', 'down', 'status'))
    parser.add_argument('-i', '--inventory', default=str(ROOT / 'inventory' / 'lab'))
    args = parser.parse_args()
    try:
        if args.command == 'up':
            up(args.inventory)
        elif args.command == 'down':
            down(load_topology(args.inventory))
        else:
            return status(args.inventory)
    except LabError as exc:
        print('lab: error: {0}'.format(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == '__main__':
    sys.exit(main())
