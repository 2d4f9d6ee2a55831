"""The Proxmox rules of the whole-inventory preflight (plugins/filter/preflight.py), fed with small inventories:
a k3s node in an unprivileged (or unspecified, hence unprivileged) LXC is refused."""

import sys

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / '.collections'))
from ansible_collections.homelab.mediacluster.plugins.filter import preflight  # noqa: E402


def _inventory(guest, *, defaults=None, group='k3s_agents'):
    hostvars = {'cp1': {'ansible_host': '10.0.0.11'},
                'w3': {'ansible_host': '10.0.0.13', 'proxmox_guest': guest}}
    if defaults is not None:
        for host in hostvars.values():
            host['proxmox_guests_defaults'] = defaults
    groups = {'all': ['cp1', 'w3', 'pve'], 'controller': ['localhost'], 'k3s_servers': ['cp1'],
              'k3s_agents': [], 'k3s_cluster': ['cp1', 'w3'], 'proxmox_hosts': ['pve']}
    groups[group] = groups.get(group, []) + ['w3']
    return {'groups': groups, 'hostvars': hostvars, 'network': '10.0.0.0/24', 'vip': '10.0.0.100', 'roles': {}}


def _privilege_problems(data):
    return [p for p in preflight.inventory_problems(data) if 'KubeletInUserNamespace' in p]


@pytest.mark.parametrize('guest', [
    {'type': 'lxc', 'vmid': 113, 'node': 'pve'},                        # proxmox_guests' default: unprivileged
    {'type': 'lxc', 'vmid': 113, 'node': 'pve', 'unprivileged': True},
    {'type': 'lxc', 'vmid': 113, 'node': 'pve', 'unprivileged': 'yes'},
], ids=['unset', 'true', 'yes'])
def test_k3s_node_in_an_unprivileged_lxc_is_refused(guest):
    problems = _privilege_problems(_inventory(guest))
    assert len(problems) == 1, preflight.inventory_problems(_inventory(guest))
    assert problems[0].startswith('w3 ')
    assert 'unprivileged: false' in problems[0] and '113' in problems[0]
    assert 'does not support KubeletInUserNamespace' in problems[0]


def test_unprivileged_from_proxmox_guests_defaults_counts():
    data = _inventory({'type': 'lxc', 'vmid': 113}, defaults={'unprivileged': True, 'node': 'pve'})
    assert len(_privilege_problems(data)) == 1


@pytest.mark.parametrize('guest', [
    {'type': 'lxc', 'vmid': 113, 'unprivileged': False},
    {'type': 'lxc', 'vmid': 113, 'unprivileged': 'no'},
    {'type': 'vm', 'vmid': 111},
], ids=['privileged', 'privileged-no', 'vm'])
def test_privileged_lxc_and_vms_pass(guest):
    assert _privilege_problems(_inventory(guest)) == []


def test_unprivileged_lxc_outside_k3s_is_not_this_rules_business():
    data = _inventory({'type': 'lxc', 'vmid': 113})
    data['groups']['k3s_cluster'] = ['cp1']
    data['groups']['k3s_agents'] = []
    data['groups']['other'] = ['w3']
    assert _privilege_problems(data) == []


# ------------------------------------------------------------------ item 10: feature flags on a privileged k3s CT
# keyctl only matters in an unprivileged CT, and nesting is dropped once lxc.apparmor.profile is set (as
# proxmox_k3s_lxc does); on a privileged CT the flags change nothing except forcing the root@pam password path.

@pytest.mark.parametrize('features, flagged', [
    ({'nesting': True, 'keyctl': True}, 'keyctl, nesting'),
    ({'nesting': 1}, 'nesting'),
    ('keyctl=1', 'keyctl'),
])
def test_feature_flags_on_a_privileged_k3s_ct_are_warned(features, flagged):
    data = _inventory({'type': 'lxc', 'vmid': 113, 'unprivileged': False, 'features': features})
    warnings = preflight.k3s_lxc_feature_warnings(data)
    assert len(warnings) == 1 and warnings[0].startswith('w3 '), warnings
    assert flagged in warnings[0] and 'root@pam' in warnings[0] and 'drop' in warnings[0], warnings


@pytest.mark.parametrize('guest', [
    {'type': 'lxc', 'vmid': 113, 'unprivileged': False},
    {'type': 'lxc', 'vmid': 113, 'unprivileged': False, 'features': {'nesting': False, 'mount': 'nfs'}},
    {'type': 'vm', 'vmid': 111, 'features': {'nesting': True}},
], ids=['no-features', 'flags-off', 'vm'])
def test_no_warning_without_useless_flags(guest):
    assert preflight.k3s_lxc_feature_warnings(_inventory(guest)) == []


def test_existing_unprivileged_container_is_refused_whatever_the_inventory_says():
    """The PVE host side reads the real config: a CT created unprivileged stays so (PVE cannot change it)."""
    data = _inventory({'type': 'lxc', 'vmid': 113, 'unprivileged': False})
    data['configs'] = {'w3': 'arch: amd64\nunprivileged: 1\n\n[snap]\nunprivileged: 0\n'}
    problems = preflight.k3s_lxc_privilege_problems(data)
    assert len(problems) == 1 and 'KubeletInUserNamespace' in problems[0] and 'recreate' in problems[0], problems
    data['configs'] = {'w3': 'arch: amd64\nunprivileged: 0\n\n[snap]\nunprivileged: 1\n'}
    assert preflight.k3s_lxc_privilege_problems(data) == []
