"""A throwaway node container for the k3s playbook tests: bad inventories point every host at it, so a preflight
that wrongly passed would change only this container (and the tests check it did not). Ansible reaches it over SSH
with pipelining and a shared ControlPersist master (a key made for the module), not the podman connection, which
cannot pipeline; the tests read the node's state with podman exec."""

import hashlib
import json
import shutil
import socket
import subprocess
import time
import uuid

import pytest
import yaml

from ..conftest import ROOT, VENV_BIN, run_logged

IMAGE = 'localhost/mediacluster-node:bookworm'
CONTROL_PATH = 'master'  # one SSH master per test module, next to its key (short: a socket path has ~100 bytes)


def podman(*args, check=True):
    return subprocess.run(['podman', *args], capture_output=True, text=True, check=check)


def wait_for_sshd(ip, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((ip, 22), timeout=2) as conn:
                if conn.recv(64).startswith(b'SSH-'):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError('sshd on the test node {0} did not answer within {1}s'.format(ip, timeout))
        time.sleep(0.2)


def vip_beside(*ips):
    """A VIP in the first node's /24 that no node given holds: .250, or the next one down. The node containers get
    their addresses from podman's default network one after another, so over many runs a node can get .250 itself
    (the VIP the tests took before, which the preflight then rightly refused as a node's IP)."""
    prefix = ips[0].rsplit('.', 1)[0]
    return next(vip for vip in ('{0}.{1}'.format(prefix, last) for last in range(250, 1, -1)) if vip not in ips)


def node_container(tmp_path_factory, cap_add=()):
    """Start a throwaway node container and yield how Ansible reaches it. cap_add is opt-in (e.g. SYS_ADMIN for a
    test that mounts inside the node); the default container gets no extra capability."""
    if shutil.which('podman') is None or podman('image', 'exists', IMAGE, check=False).returncode != 0:
        pytest.skip('needs podman and the node image {0} (make image)'.format(IMAGE))
    name = 'mc-k3s-pytest-' + uuid.uuid4().hex[:8]
    key = tmp_path_factory.mktemp('k3s-node-ssh') / 'id_ed25519'
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', str(key)], check=True)
    caps = [arg for cap in cap_add for arg in ('--cap-add', cap)]
    podman('run', '-d', '--name', name, '--runtime', 'runc', '--ulimit', 'nofile=20000:20000',
           '--ulimit', 'nproc=32768:32768', *caps, IMAGE, '/sbin/init')
    try:
        ip = json.loads(podman('inspect', name).stdout)[0]['NetworkSettings']['IPAddress']
        subprocess.run(['podman', 'exec', '-i', name, 'sh', '-c',
                        'umask 077; mkdir -p /root/.ssh; cat > /root/.ssh/authorized_keys'],
                       input=key.with_suffix('.pub').read_text(), text=True, capture_output=True, check=True)
        wait_for_sshd(ip)
        yield {'name': name, 'ip': ip, 'key': str(key), 'control_path': str(key.parent / CONTROL_PATH)}
    finally:
        # the inventory hosts share one SSH master to this node (ansible.cfg ControlPersist): close it
        subprocess.run(['ssh', '-o', 'ControlPath=' + str(key.parent / CONTROL_PATH), '-O', 'exit', 'root@node'],
                       capture_output=True, check=False)
        podman('rm', '-f', '-t', '0', name, check=False)


@pytest.fixture(scope='module')
def node(tmp_path_factory):
    yield from node_container(tmp_path_factory)


@pytest.fixture(scope='module')
def standin(tmp_path_factory):
    """A stand-in k3s executable on the controller and its real sha256."""
    directory = tmp_path_factory.mktemp('k3s-standin')
    binary = directory / 'k3s'
    binary.write_text('#!/bin/sh\necho "k3s version v1.33.5+k3s1 (stand-in)"\n')
    binary.chmod(0o755)
    return {'path': str(binary), 'sha256': hashlib.sha256(binary.read_bytes()).hexdigest()}


def inventory(tmp_path, node, servers, agents=(), *, gpu=(), all_vars=None, host_vars=None):
    """Write an inventory whose hosts all live in the `node` container."""
    host_vars = host_vars or {}
    hosts = {}
    for i, name in enumerate(list(servers) + list(agents)):
        hosts[name] = dict({'ansible_connection': 'ansible.builtin.ssh', 'ansible_host': node['ip'],
                            'ansible_user': 'root', 'ansible_ssh_private_key_file': node['key'],
                            'ansible_control_path': node['control_path'],
                            'ansible_python_interpreter': '/usr/bin/python3',
                            'k3s_common_node_ip': '10.81.0.{0}'.format(11 + i),
                            'k3s_common_node_cidr': '10.81.0.{0}/24'.format(11 + i)}, **host_vars.get(name, {}))
    data = {'all': {'vars': dict(all_vars or {}), 'children': {'k3s_cluster': {'children': {
        'k3s_servers': {'hosts': {s: hosts[s] for s in servers}},
        'k3s_agents': {'hosts': {a: hosts[a] for a in agents}}}},
        'gpu_nodes': {'hosts': {g: {} for g in gpu}}}}}
    path = tmp_path / 'hosts.yml'
    path.write_text(yaml.safe_dump(data))
    return str(path)


def playbook(name, inv, playbook_file, *args):
    return run_logged(name, [str(VENV_BIN / 'ansible-playbook'), '-i', inv, str(ROOT / 'playbooks' / playbook_file),
                             *args], timeout=600)
