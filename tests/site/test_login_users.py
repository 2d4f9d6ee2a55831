"""How Ansible logs in to each machine of an inventory (issue 14 item 7).

The example inventory must say, per kind of machine, which user Ansible logs in as and whether it becomes root:
root on the Proxmox host and on a CT (PVE puts the SSH key in root's authorized_keys), the cloud-init `ciuser` on a
VM made from the template, the Pi's own user, each with `ansible_become` when it is not root. Without it Ansible
logs in as whoever runs the controller, which none of these machines knows. The whole-inventory preflight
(playbooks/00_preflight.yml) reports a host without a usable login user, while the lab's global `ansible_user: root`
still passes. Nothing here contacts a host (probes off; Ansible only reads the inventory)."""

import shutil

import yaml

from ..conftest import ROOT, VENV_BIN, run_logged, tail

EXAMPLE = ROOT / 'inventory' / 'example'
PLAYBOOK = str(ROOT / 'playbooks' / '00_preflight.yml')


def _example_hosts():
    """Every host of the example with its variables resolved as a play would see them."""
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar
    from ansible.vars.manager import VariableManager

    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[str(EXAMPLE)])
    manager = VariableManager(loader=loader, inventory=inventory)
    hosts = {}
    for host in inventory.get_hosts():
        variables = manager.get_vars(host=host)
        templar = Templar(loader=loader, variables=variables)
        keys = ('ansible_connection', 'ansible_user', 'ansible_ssh_user', 'ansible_become', 'node_flavour',
                'proxmox_guest')
        hosts[host.name] = {k: templar.template(variables[k]) for k in keys if k in variables}
        hosts[host.name]['groups'] = [g.name for g in host.get_groups()]
    return hosts


def test_every_example_host_reached_over_ssh_has_its_login_user_and_become():
    hosts = _example_hosts()
    checked = []
    for name, host in sorted(hosts.items()):
        if host.get('ansible_connection') in ('local', 'ansible.builtin.local'):
            continue
        user = host.get('ansible_user') or host.get('ansible_ssh_user')
        assert user, '{0}: no ansible_user in inventory/example, so Ansible would log in as the controller\'s ' \
                     'user'.format(name)
        guest = host.get('proxmox_guest') or {}
        if guest.get('type') == 'vm' and guest.get('ciuser'):
            assert user == guest['ciuser'], '{0}: a cloud-init VM logs in as its ciuser {1}, not {2}'.format(
                name, guest['ciuser'], user)
        if guest.get('type') == 'lxc' or 'proxmox_hosts' in host['groups']:
            assert user == 'root', '{0}: PVE authorises the key for root only, not {1}'.format(name, user)
        if host.get('node_flavour') == 'pi':
            assert user != 'root', '{0}: Raspberry Pi OS has no root SSH login; use the Pi\'s own user'.format(name)
        if user != 'root':
            assert host.get('ansible_become') is True, '{0} logs in as {1}: it needs ansible_become: true'.format(
                name, user)
        checked.append(name)
    assert set(checked) >= {'pve', 'k3s-cp1', 'k3s-cp2', 'k3s-cp3', 'k3s-w1', 'k3s-w2', 'k3s-w3'}


def _edit(path, change):
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data))


def test_preflight_reports_hosts_without_a_usable_login(tmp_path):
    inv = tmp_path / 'inventory'
    shutil.copytree(EXAMPLE, inv)

    def hosts(data):
        k3s = data['all']['children']['k3s_cluster']['children']
        k3s['k3s_servers']['hosts']['k3s-cp3'].pop('ansible_user', None)  # the Pi without its user
        k3s['k3s_agents']['hosts']['k3s-w2'].update(ansible_user='ubuntu', ansible_become=False)
    _edit(inv / 'hosts.yml', hosts)
    code, output = run_logged('preflight-login-users', [str(VENV_BIN / 'ansible-playbook'), '-i', str(inv), PLAYBOOK,
                                                        '-e', 'mediacluster_preflight_probes=false'])
    assert code != 0, tail(output)
    assert 'k3s-cp3 has no login user' in output, tail(output)
    assert 'k3s-w2 logs in as ubuntu with ansible_become false' in output, tail(output)
    # only these two: every other host of the example has its user
    for host in ('pve', 'k3s-cp1', 'k3s-cp2', 'k3s-w1', 'k3s-w3'):
        assert '{0} has no login user'.format(host) not in output, tail(output)
