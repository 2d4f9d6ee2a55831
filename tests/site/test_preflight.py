"""playbooks/00_preflight.yml: the example inventory passes; a copy with many different mistakes fails with every
mistake listed in one run, having contacted no host and changed nothing."""

import re
import shutil

import pytest
import yaml

from ..conftest import ROOT, VENV_BIN, run_logged, tail

PLAYBOOK = str(ROOT / 'playbooks' / '00_preflight.yml')


def _preflight(name, inventory):
    return run_logged(name, [str(VENV_BIN / 'ansible-playbook'), '-i', str(inventory), PLAYBOOK,
                             '-e', 'mediacluster_preflight_probes=false'])


def _recap_hosts(output):
    return re.findall(r'^(\S+)\s+: ok=\d+\s+changed=(\d+)', output, re.M)


def test_example_inventory_passes():
    code, output = _preflight('preflight-example', ROOT / 'inventory' / 'example')
    assert code == 0, tail(output)
    assert 'The inventory passed every check.' in output
    assert 'k3s servers (etcd, serial joins through the VIP 192.168.1.100): k3s-cp1, k3s-cp2, k3s-cp3' in output
    assert _recap_hosts(output) == [('localhost', '0')]


def _edit(path, change):
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data))


# (what is broken, a piece of the message that must name it)
MISTAKES = [
    ('4 servers', '4 servers (k3s-cp1, k3s-cp2, k3s-cp3, k3s-cp4): etcd needs an odd number'),
    ('VIP is a node address', 'k3s_common_vip=192.168.1.12 is the IP of k3s-w1'),
    ('two nodes share an address', 'k3s-cp2 and k3s-w2 share the IP 192.168.1.21'),
    ('node outside the network', 'k3s-cp3 (10.0.0.30) is outside the cluster network 192.168.1.0/24'),
    ('GPU node in an unprivileged LXC', 'k3s-w3 is a GPU node in an unprivileged LXC'),
    ('LXC in storage_nodes', 'k3s-w3 is an LXC container in `storage_nodes`'),
    ('GPU node outside the cluster', 'pve is in `gpu_nodes` but not in k3s_cluster'),
    ('bad choice', 'role longhorn on localhost: value of longhorn_ui_expose must be one of'),
    ('bad type', 'role media_stack on localhost: argument \'media_stack_puid\' is of type'),
    ('unsupported k3s', 'k3s_common_version=v1.20.4+k3s1 is not a supported k3s release'),
    ('GPU taint removed', 'k3s-w3 is in the GPU group but has no gpu=…:NoSchedule taint'),
    ('duplicate node names', "duplicate node name 'k3s-w2' for k3s-w1 and k3s-w2"),
]


def test_broken_inventory_lists_every_mistake_at_once(tmp_path):
    inv = tmp_path / 'inventory'
    shutil.copytree(ROOT / 'inventory' / 'example', inv)

    def hosts(data):
        k3s = data['all']['children']['k3s_cluster']['children']
        k3s['k3s_servers']['hosts']['k3s-cp4'] = {'ansible_host': '192.168.1.31'}
        k3s['k3s_servers']['hosts']['k3s-cp3']['ansible_host'] = '10.0.0.30'
        k3s['k3s_agents']['hosts']['k3s-w2']['ansible_host'] = '192.168.1.21'
        data['all']['children']['storage_nodes']['hosts']['k3s-w3'] = None
        data['all']['children']['gpu_nodes']['hosts']['pve'] = None
        k3s['k3s_agents']['hosts']['k3s-w1']['k3s_common_node_name'] = 'k3s-w2'
    _edit(inv / 'hosts.yml', hosts)

    def cluster(data):
        data['k3s_common_vip'] = '192.168.1.12'
        data['k3s_common_version'] = 'v1.20.4+k3s1'
        data['k3s_common_gpu_taint'] = ''
    _edit(inv / 'group_vars' / 'all' / 'cluster.yml', cluster)

    def apps(data):
        data['longhorn_ui_expose'] = 'sometimes'
        data['media_stack_puid'] = 'media'
    _edit(inv / 'group_vars' / 'all' / 'apps.yml', apps)
    _edit(inv / 'host_vars' / 'k3s-w3' / 'proxmox_guest.yml',
          lambda d: d['proxmox_guest'].update(unprivileged=True))

    code, output = _preflight('preflight-broken', inv)
    assert code != 0, 'the broken inventory passed the preflight:\n' + tail(output)
    missing = [what for what, text in MISTAKES if text not in output]
    assert not missing, 'not reported: {0}\n{1}'.format(missing, tail(output, 40))
    count = int(re.search(r'The inventory has (\d+) problem\(s\)', output).group(1))
    assert count >= len(MISTAKES)
    assert _recap_hosts(output) == [('localhost', '0')], 'the preflight touched a host or changed something'


@pytest.mark.parametrize('playbook', sorted(p.name for p in (ROOT / 'playbooks').glob('*.yml')))
def test_every_playbook_parses(playbook):
    code, output = run_logged('syntax-' + playbook, [str(VENV_BIN / 'ansible-playbook'), '--syntax-check', '-i',
                                                     str(ROOT / 'inventory' / 'example'),
                                                     str(ROOT / 'playbooks' / playbook)])
    assert code == 0, tail(output)


def test_feature_flags_on_a_privileged_k3s_container_are_warned(tmp_path):
    inv = tmp_path / 'inventory'
    shutil.copytree(ROOT / 'inventory' / 'example', inv)
    _edit(inv / 'host_vars' / 'k3s-w3' / 'proxmox_guest.yml',
          lambda d: d['proxmox_guest'].update(features={'nesting': True, 'keyctl': True}))
    code, output = _preflight('preflight-features', inv)
    assert code == 0, tail(output)
    assert re.search(r'k3s-w3 .*keyctl, nesting.*root@pam', output), tail(output)


def test_plan_says_how_the_gpu_container_gets_its_device(tmp_path):
    code, output = _preflight('preflight-devn-ssh', ROOT / 'inventory' / 'example')
    assert code == 0 and re.search(r'GPU devN for k3s-w3: pct set on the PVE host over SSH.*no root@pam password',
                                   output), tail(output)
    inv = tmp_path / 'inventory'
    shutil.copytree(ROOT / 'inventory' / 'example', inv)
    _edit(inv / 'group_vars' / 'all' / 'proxmox.yml', lambda d: d.update(proxmox_k3s_lxc_dev_method='api'))
    code, output = _preflight('preflight-devn-api', inv)
    assert re.search(r'GPU devN for k3s-w3: the Proxmox API as root@pam with a password', output), tail(output)
