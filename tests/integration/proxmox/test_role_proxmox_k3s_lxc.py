"""The role proxmox_k3s_lxc (the PVE host side of the LXC setup) with ansible-playbook: raw keys in a real config
file (a temp dir standing in for /etc/pve/lxc), the GPU as dev0 through fakepve (PVE 9, proxmox_k3s_lxc_dev_method=api,
root@pam password: the role's own connection for that call, without the inventory's token), and a restart of the
container only when something changed. The kernel step (modules-load.d, sysctl.d, modprobe) is skipped here because
it would change this machine's /etc (one test runs it in --check --diff); the molecule scenario covers those
files."""

import re

import yaml

from tests.conftest import ROOT, VENV_BIN, run_logged, tail

from .conftest import NODE, ROOT_PASSWORD, TEMPLATE, TOKEN_ID, TOKEN_SECRET, write_requests

PLAYBOOK = ROOT / 'tests' / 'integration' / 'proxmox' / 'playbooks' / 'k3s_lxc_host.yml'
CONF = 'arch: amd64\ncores: 4\nhostname: k3s-w3\nmemory: 8192\n\n[snap1]\nhostname: k3s-w3\n'


def inventory(tmp_path, pve, gid, **guest):
    inv = {'all': {
        'vars': {'proxmox_api_host': pve.host, 'proxmox_api_port': pve.port, 'proxmox_api_user': 'root@pam',
                 'proxmox_api_password': ROOT_PASSWORD, 'proxmox_api_token_id': TOKEN_ID.split('!')[1],
                 'proxmox_api_token_secret': TOKEN_SECRET, 'proxmox_validate_certs': False, 'proxmox_node': NODE,
                 'ansible_python_interpreter': '{{ ansible_playbook_python }}'},
        'children': {
            'controller': {'hosts': {'localhost': {'ansible_connection': 'local'}}},
            'proxmox_hosts': {'hosts': {'pve-local': {
                'ansible_connection': 'local', 'proxmox_k3s_lxc_pve_version': '9.0',
                'proxmox_k3s_lxc_dev_method': 'api',  # the API path; test_role_proxmox_k3s_lxc_pct.py covers ssh
                'proxmox_k3s_lxc_config_dir': str(tmp_path / 'lxc')}}},
            'k3s_cluster': {'children': {'k3s_agents': {'hosts': {'k3s-w3': {
                'proxmox_guest': dict({'type': 'lxc', 'vmid': 113, 'node': NODE, 'unprivileged': False}, **guest),
                'gpu_render_gid': gid}}}}},
            'gpu_nodes': {'hosts': {'k3s-w3': {}}}}}}
    path = tmp_path / 'hosts.yml'
    path.write_text(yaml.safe_dump(inv))
    return path


def play(name, inv):
    code, out = run_logged(name, [str(VENV_BIN / 'ansible-playbook'), '-i', str(inv), str(PLAYBOOK),
                                  '--skip-tags', 'proxmox_k3s_lxc_kernel'], timeout=600)
    recap = re.search(r'pve-local\s*:\s*ok=(\d+)\s+changed=(\d+)', out)
    return code, out, int(recap.group(2)) if recap else None


def writes(pve, start):
    return [(r[0], r[1].split('/lxc/')[-1]) for r in write_requests(pve.requests[start:])]


def test_host_side_raw_keys_devn_and_restart_only_on_change(pve, run_module, tmp_path):
    made = run_module('proxmox_lxc', hostname='k3s-w3', vmid=113, node=NODE, ostemplate=TEMPLATE,
                      unprivileged=False, state='started')
    assert made['changed'], made.result
    (tmp_path / 'lxc').mkdir()
    conf = tmp_path / 'lxc' / '113.conf'
    conf.write_text(CONF)
    inv = inventory(tmp_path, pve, 104)

    start = len(pve.requests)
    code, out, changed = play('k3s_lxc_host-1', inv)
    assert code == 0, tail(out)
    main = conf.read_text().split('[snap1]')[0]
    assert 'lxc.apparmor.profile: unconfined\n' in main and 'lxc.cgroup2.devices.allow: a\n' in main
    assert 'lxc.cap.drop:\n' in main and 'lxc.mount.auto: proc:rw sys:rw\n' in main
    assert 'c 226' not in main, 'PVE 9 passes the GPU as devN, not raw cgroup rules'
    assert conf.read_text().endswith('[snap1]\nhostname: k3s-w3\n')
    ct = pve.ct(113)
    assert ct.config['dev0'] == '/dev/dri/renderD128,gid=104,mode=0660' and ct.pending == {}
    assert writes(pve, start) == [('PUT', '113/config'), ('POST', '113/status/reboot')], writes(pve, start)

    start = len(pve.requests)
    text = conf.read_text()
    code, out, changed = play('k3s_lxc_host-2', inv)
    assert code == 0 and changed == 0, tail(out)
    assert writes(pve, start) == [] and conf.read_text() == text

    inv = inventory(tmp_path, pve, 105)
    start = len(pve.requests)
    code, out, changed = play('k3s_lxc_host-3', inv)
    assert code == 0, tail(out)
    assert writes(pve, start) == [('PUT', '113/config'), ('POST', '113/status/reboot')]
    assert 'gid=105' in pve.ct(113).config['dev0'] and conf.read_text() == text


def test_missing_config_file_fails_in_preflight(pve, tmp_path):
    (tmp_path / 'lxc').mkdir()
    inv = inventory(tmp_path, pve, 104)
    start = len(pve.requests)
    code, out, changed = play('k3s_lxc_host-missing', inv)
    assert code != 0 and 'does not exist on pve-local' in out and 'proxmox_guests' in out, tail(out)
    assert pve.requests[start:] == []


def test_unprivileged_k3s_container_fails_in_preflight(pve, tmp_path):
    """proxmox_guests creates unprivileged containers unless told otherwise; kubelet cannot run in one."""
    (tmp_path / 'lxc').mkdir()
    conf = tmp_path / 'lxc' / '113.conf'
    conf.write_text(CONF)
    inv = inventory(tmp_path, pve, 104)
    data = yaml.safe_load(inv.read_text())
    del data['all']['children']['k3s_cluster']['children']['k3s_agents']['hosts']['k3s-w3']['proxmox_guest'][
        'unprivileged']
    inv.write_text(yaml.safe_dump(data))
    start = len(pve.requests)
    code, out, changed = play('k3s_lxc_host-unprivileged', inv)
    assert code != 0, tail(out)
    assert 'does not support KubeletInUserNamespace' in out and 'unprivileged: false' in out, tail(out)
    assert conf.read_text() == CONF and writes(pve, start) == []


def test_hypervisor_gets_global_tunables_and_no_per_namespace_sysctls(pve, tmp_path):
    """The kernel step on the PVE host in --check --diff (nothing on this machine changes): net.ipv4.ip_forward and
    net.bridge.bridge-nf-call-* are per network namespace, so setting them on the host never reaches the CT but
    makes the hypervisor route between its bridges; the host-global tunables kubelet writes from a privileged CT
    are set deliberately, in a sysctl.d file that says why."""
    (tmp_path / 'lxc').mkdir()
    (tmp_path / 'lxc' / '113.conf').write_text(CONF)
    inv = inventory(tmp_path, pve, 104)
    code, out = run_logged('k3s_lxc_host-kernel', [
        str(VENV_BIN / 'ansible-playbook'), '-i', str(inv), str(PLAYBOOK), '--check', '--diff',
        '--tags', 'proxmox_k3s_lxc_preflight,proxmox_k3s_lxc_kernel', '-e', 'proxmox_k3s_lxc_apply_kernel=false'],
        timeout=600)
    assert code == 0, tail(out)
    assert 'ip_forward' not in out and 'bridge-nf-call' not in out, tail(out)
    sysctl = re.search(r'\+\+\+ after: \S*/90-mediacluster-k3s\.conf(?:\.j2)?\n(.*?)\n\n', out, re.S)
    assert sysctl, 'no sysctl.d file rendered for the host:\n' + tail(out)
    added = [line[1:] for line in sysctl.group(1).splitlines() if line.startswith('+')]
    settings = dict(re.match(r'^\s*([a-z_.]+)\s*=\s*(\S+)\s*$', line).groups() for line in added
                    if line.strip() and not line.lstrip().startswith('#'))
    assert settings == {'vm.overcommit_memory': '1', 'vm.panic_on_oom': '0', 'kernel.panic': '10',
                        'kernel.panic_on_oops': '1', 'kernel.keys.root_maxkeys': '1000000',
                        'kernel.keys.root_maxbytes': '25000000'}, added
    comments = ' '.join(line for line in added if line.lstrip().startswith('#'))
    assert 'kubelet' in comments and 'reboot' in comments, added
    modules = re.search(r'\+\+\+ after: \S*/mediacluster-k3s\.conf(?:\.j2)?\n(.*?)\n\n', out, re.S)
    assert modules and {'+overlay', '+br_netfilter'} <= set(modules.group(1).splitlines()), tail(out)


def test_container_that_is_unprivileged_on_the_host_fails_in_preflight(pve, tmp_path):
    """The inventory says privileged, the config on the PVE host says otherwise: the host's word counts."""
    (tmp_path / 'lxc').mkdir()
    conf = tmp_path / 'lxc' / '113.conf'
    text = CONF.replace('memory: 8192\n', 'memory: 8192\nunprivileged: 1\n')
    conf.write_text(text)
    inv = inventory(tmp_path, pve, 104)
    start = len(pve.requests)
    code, out, changed = play('k3s_lxc_host-unprivileged-on-host', inv)
    assert code != 0 and 'does not support KubeletInUserNamespace' in out, tail(out)
    assert conf.read_text() == text and writes(pve, start) == []
