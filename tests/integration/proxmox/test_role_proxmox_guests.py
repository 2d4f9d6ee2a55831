"""The proxmox_guests role with ansible-playbook against fakepve on loopback: check mode writes nothing, the first
run creates an LXC GPU node and a cloned VM, the rerun is changed=0 with zero write requests, bad input fails in
preflight. The "SSH" the role waits for is a TCP listener this test opens on 127.0.0.1."""

import re
import socket

import pytest
import yaml

from tests.conftest import ROOT, VENV_BIN, run_logged, tail
from tests.peers.pve_lab import VM_TEMPLATE_NAME

from .conftest import NODE, ROOT_PASSWORD, TEMPLATE, TOKEN_ID, TOKEN_SECRET, write_requests

PLAYBOOK = ROOT / 'tests' / 'integration' / 'proxmox' / 'playbooks' / 'guests.yml'


@pytest.fixture
def ssh_port():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    sock.listen(16)
    yield sock.getsockname()[1]
    sock.close()


def inventory(tmp_path, pve, port, **guest_overrides):
    w3 = dict(type='lxc', vmid=113, template=TEMPLATE, unprivileged=False, cores=4, memory=8192, swap=0, disk=40,
              net={'net0': 'name=eth0,bridge=vmbr0,ip=10.77.0.13/24,gw=10.77.0.1'},
              features={'nesting': True, 'keyctl': True}, onboot=True, tags=['k3s', 'gpu'],
              devices=[{'path': '/dev/dri/renderD128', 'gid': 104, 'mode': '0660'}])
    w3.update(guest_overrides)
    w1 = dict(type='vm', vmid=112, template=VM_TEMPLATE_NAME, cores=4, memory=8192,
              ipconfig={'ipconfig0': 'ip=10.77.0.12/24,gw=10.77.0.1'}, ciuser='debian', tags=['k3s'])
    inv = {'all': {
        'vars': {'proxmox_api_host': pve.host, 'proxmox_api_port': pve.port, 'proxmox_api_user': 'root@pam',
                 'proxmox_api_password': ROOT_PASSWORD, 'proxmox_api_token_id': TOKEN_ID.split('!')[1],
                 'proxmox_api_token_secret': TOKEN_SECRET, 'proxmox_validate_certs': False, 'proxmox_node': NODE,
                 'proxmox_guests_ssh_public_keys': 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHj+k/3x= test',
                 'proxmox_guests_ssh_timeout': 10},
        'children': {
            'controller': {'hosts': {'localhost': {'ansible_connection': 'local',
                                                   'ansible_python_interpreter': '{{ ansible_playbook_python }}'}}},
            'guests': {'hosts': {
                'k3s-w3': {'ansible_host': '127.0.0.1', 'ansible_port': port, 'proxmox_guest': w3},
                'k3s-w1': {'ansible_host': '127.0.0.1', 'ansible_port': port, 'proxmox_guest': w1}}}}}}
    path = tmp_path / 'hosts.yml'
    path.write_text(yaml.safe_dump(inv))
    return path


def play(name, inv, *extra):
    code, out = run_logged(name, [str(VENV_BIN / 'ansible-playbook'), '-i', str(inv), str(PLAYBOOK), *extra],
                           timeout=600)
    recap = re.search(r'localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', out)
    if recap is None:
        return code, out, None
    return code, out, dict(zip(('ok', 'changed', 'unreachable', 'failed'), map(int, recap.groups()), strict=True))


def writes(pve, start):
    return write_requests(pve.requests[start:])


def test_check_create_rerun(pve, ssh_port, tmp_path):
    inv = inventory(tmp_path, pve, ssh_port)
    start = len(pve.requests)
    code, out, recap = play('proxmox_guests-check', inv, '--check', '--diff')
    assert code == 0, tail(out)
    assert recap['changed'] >= 2 and writes(pve, start) == [] and pve.ct(113) is None and pve.vm(112) is None

    code, out, recap = play('proxmox_guests-create', inv)
    assert code == 0, tail(out)
    ct, vm = pve.ct(113), pve.vm(112)
    assert ct.status == 'running' and ct.config['dev0'] == '/dev/dri/renderD128,gid=104,mode=0660'
    assert vm.status == 'running' and vm.config['ipconfig0'] == 'ip=10.77.0.12/24,gw=10.77.0.1'
    assert 'sshkeys' in vm.config

    start = len(pve.requests)
    code, out, recap = play('proxmox_guests-rerun', inv)
    assert code == 0, tail(out)
    assert recap['changed'] == 0, tail(out)
    assert writes(pve, start) == []


def test_bad_guest_fails_in_preflight(pve, ssh_port, tmp_path):
    inv = inventory(tmp_path, pve, ssh_port, type='container', devices=[{'path': 'dri/card0'}])
    start = len(pve.requests)
    code, out, recap = play('proxmox_guests-bad', inv)
    assert code != 0, tail(out)
    assert "k3s-w3 proxmox_guest: type='container' is not lxc or vm; set type: vm or type: lxc" in out, tail(out)
    assert 'device dri/card0 is not under /dev/; use e.g. /dev/dri/renderD128' in out, tail(out)
    assert pve.requests[start:] == []


def test_token_only_inventory_with_devices_fails_in_preflight(pve, ssh_port, tmp_path):
    inv = inventory(tmp_path, pve, ssh_port)
    data = yaml.safe_load(inv.read_text())
    del data['all']['vars']['proxmox_api_password']
    inv.write_text(yaml.safe_dump(data))
    code, out, recap = play('proxmox_guests-token', inv)
    assert code != 0 and 'only to root@pam with a password' in out, tail(out)
    assert pve.ct(113) is None


def test_k3s_node_in_an_unprivileged_container_fails_in_preflight(pve, ssh_port, tmp_path):
    inv = inventory(tmp_path, pve, ssh_port)
    data = yaml.safe_load(inv.read_text())
    children = data['all']['children']
    del children['guests']['hosts']['k3s-w3']['proxmox_guest']['unprivileged']
    children['k3s_cluster'] = {'children': {'k3s_agents': {'hosts': {'k3s-w3': None}}}}
    inv.write_text(yaml.safe_dump(data))
    start = len(pve.requests)
    code, out, recap = play('proxmox_guests-unprivileged-k3s', inv)
    assert code != 0 and 'does not support KubeletInUserNamespace' in out, tail(out)
    assert writes(pve, start) == [] and pve.ct(113) is None


def test_a_guest_that_never_answers_ssh_is_named(pve, tmp_path):
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        closed = sock.getsockname()[1]  # nothing listens there once the socket is closed
    inv = inventory(tmp_path, pve, closed)
    data = yaml.safe_load(inv.read_text())
    data['all']['vars']['proxmox_guests_ssh_timeout'] = 2
    inv.write_text(yaml.safe_dump(data))
    code, out, recap = play('proxmox_guests-no-ssh', inv)
    flat = ' '.join(out.split())
    assert code != 0 and recap['failed'] == 1, tail(out)
    for guest in ('k3s-w3', 'k3s-w1'):
        assert '{0} (127.0.0.1:{1}): [Errno 111] Connection refused;'.format(guest, closed) in flat, tail(out)
    assert 'no SSH after 2 s' in flat and pve.ct(113).status == 'running', tail(out)
