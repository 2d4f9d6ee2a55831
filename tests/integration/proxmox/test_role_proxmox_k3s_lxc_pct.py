"""The GPU devN of a k3s container set with `pct set` on the PVE host over the play's SSH (proxmox_k3s_lxc_dev_method
ssh, the default), so the inventory holds no root@pam password: Proxmox VE lets only root@pam with a password set
devN through the API, while pct on the host runs as root.

The PVE host is a throwaway node container (tests/k3s/conftest.py's `node`, unique name, removed afterwards) with a
TEST DOUBLE of pct (tests/peers/pct_double.py: checks the arguments against pct's documented syntax, records every
call); fakepve on loopback answers the API calls that remain (the restart, with an API token)."""

import json
import re
import subprocess

import yaml

from tests.conftest import ROOT, VENV_BIN, run_logged, tail
from tests.k3s.conftest import node, podman  # noqa: F401 - node: the throwaway node fixture  # pylint: disable=unused-import

from .conftest import NODE, TEMPLATE, TOKEN_ID, TOKEN_SECRET, write_requests

PLAYBOOK = ROOT / 'tests' / 'integration' / 'proxmox' / 'playbooks' / 'k3s_lxc_host.yml'
DOUBLE = ROOT / 'tests' / 'peers' / 'pct_double.py'
CALLS = '/var/log/pct-double/calls.jsonl'
CONF = 'arch: amd64\ncores: 4\nhostname: k3s-w3\nmemory: 8192\nunprivileged: 0\n\n[snap1]\nhostname: k3s-w3\n'


def sh(box, script):
    return podman('exec', box['name'], 'sh', '-c', script)


def prepare(box):
    """The node as a PVE host: the pct double, a container config, and a render device for pct to stat (the
    node may not mknod, so /dev/dri/renderD128 is a link to the character device /dev/null)."""
    podman('cp', str(DOUBLE), '{0}:/usr/sbin/pct'.format(box['name']))
    sh(box, 'chmod 0755 /usr/sbin/pct && mkdir -p /etc/pve/lxc /dev/dri && rm -f ' + CALLS + ' && '
            'ln -sf /dev/null /dev/dri/renderD128')
    subprocess.run(['podman', 'exec', '-i', box['name'], 'sh', '-c', 'cat > /etc/pve/lxc/113.conf'], input=CONF,
                   text=True, check=True, capture_output=True)


def inventory(tmp_path, pve, box, gid):
    inv = {'all': {
        'vars': {'proxmox_api_host': pve.host, 'proxmox_api_port': pve.port, 'proxmox_api_user': 'root@pam',
                 'proxmox_api_token_id': TOKEN_ID.split('!')[1], 'proxmox_api_token_secret': TOKEN_SECRET,
                 'proxmox_validate_certs': False, 'proxmox_node': NODE},
        'children': {
            'controller': {'hosts': {'localhost': {
                'ansible_connection': 'local', 'ansible_python_interpreter': '{{ ansible_playbook_python }}'}}},
            'proxmox_hosts': {'hosts': {'pve-node': {
                'ansible_connection': 'ansible.builtin.ssh', 'ansible_host': box['ip'], 'ansible_user': 'root',
                'ansible_ssh_private_key_file': box['key'], 'ansible_control_path': box['control_path'],
                'ansible_python_interpreter': '/usr/bin/python3', 'proxmox_k3s_lxc_pve_version': '9.0'}}},
            'k3s_cluster': {'children': {'k3s_agents': {'hosts': {'k3s-w3': {
                'proxmox_guest': {'type': 'lxc', 'vmid': 113, 'node': NODE, 'unprivileged': False},
                'gpu_render_gid': gid}}}}},
            'gpu_nodes': {'hosts': {'k3s-w3': {}}}}}}
    path = tmp_path / 'hosts.yml'
    path.write_text(yaml.safe_dump(inv))
    return path


def play(name, inv, *extra):
    code, out = run_logged(name, [str(VENV_BIN / 'ansible-playbook'), '-i', str(inv), str(PLAYBOOK),
                                  '--skip-tags', 'proxmox_k3s_lxc_kernel', *extra], timeout=600)
    recap = re.search(r'pve-node\s*:\s*ok=(\d+)\s+changed=(\d+)', out)
    return code, out, int(recap.group(2)) if recap else None


def pct_calls(box):
    text = sh(box, 'cat ' + CALLS + ' 2>/dev/null || true').stdout
    return [json.loads(line)['argv'] for line in text.splitlines() if line.strip()]


def api_writes(pve, start):
    return [(r[0], r[1].split('/lxc/')[-1]) for r in write_requests(pve.requests[start:])]


def test_devn_through_pct_over_ssh_without_a_root_password(pve, run_module, node, tmp_path):  # noqa: F811
    made = run_module('proxmox_lxc', token=True, hostname='k3s-w3', vmid=113, node=NODE, ostemplate=TEMPLATE,
                      unprivileged=False, state='started')
    assert made['changed'], made.result
    prepare(node)
    inv = inventory(tmp_path, pve, node, 104)

    start = len(pve.requests)
    code, out, changed = play('k3s_lxc_pct-1', inv)
    assert code == 0, tail(out)
    assert re.search(r'dev0 .*pct set.* over SSH', out), 'the preflight does not say which path applies:\n' + tail(out)
    sets = [argv for argv in pct_calls(node) if argv[0] == 'set']
    assert sets == [['set', '113', '--dev0', '/dev/dri/renderD128,gid=104,mode=0660']], pct_calls(node)
    conf = sh(node, 'cat /etc/pve/lxc/113.conf').stdout
    main = conf.split('[snap1]')[0]
    assert 'dev0: /dev/dri/renderD128,gid=104,mode=0660\n' in main and 'lxc.apparmor.profile: unconfined\n' in main
    assert conf.endswith('[snap1]\nhostname: k3s-w3\n')
    # the API saw no config write (no root password anywhere), only the restart with the token
    assert api_writes(pve, start) == [('POST', '113/status/reboot')], api_writes(pve, start)

    before = len(pct_calls(node))
    start = len(pve.requests)
    code, out, changed = play('k3s_lxc_pct-2', inv)
    assert code == 0 and changed == 0, tail(out)
    assert [argv for argv in pct_calls(node)[before:] if argv[0] == 'set'] == []
    assert api_writes(pve, start) == [] and sh(node, 'cat /etc/pve/lxc/113.conf').stdout == conf

    inv = inventory(tmp_path, pve, node, 105)
    before = len(pct_calls(node))
    start = len(pve.requests)
    code, out, changed = play('k3s_lxc_pct-check', inv, '--check', '--diff')
    assert code == 0 and changed and changed > 0, tail(out)
    assert 'gid=105' in out, tail(out)
    assert [argv for argv in pct_calls(node)[before:] if argv[0] == 'set'] == []
    assert api_writes(pve, start) == [] and sh(node, 'cat /etc/pve/lxc/113.conf').stdout == conf
