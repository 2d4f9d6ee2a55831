"""The login-user rule of the whole-inventory preflight (plugins/filter/preflight.py, issue 14 item 7)."""

import sys

import pytest

from ..conftest import ROOT

# the same import as the other preflight rule tests (tests/unit/test_pve_preflight_rules.py): the checkout linked
# as a collection on sys.path; installing Ansible's own collection finder here broke the modules imported that way
sys.path.insert(0, str(ROOT / '.collections'))
from ansible_collections.homelab.mediacluster.plugins.filter import preflight  # noqa: E402

GROUPS = {'all': ['localhost', 'pve', 'cp1'], 'controller': ['localhost'], 'proxmox_hosts': ['pve'],
          'k3s_cluster': ['cp1'], 'k3s_servers': ['cp1']}


def problems(hostvars, remote_user=None, groups=None):
    return preflight._check_login_users(groups or GROUPS, hostvars, remote_user)


def test_the_labs_global_root_user_passes():
    every = {'ansible_user': 'root'}
    assert problems({'localhost': dict(every, ansible_connection='local'), 'pve': every, 'cp1': every}) == []


@pytest.mark.parametrize('login', [
    {'ansible_user': 'root'},
    {'ansible_ssh_user': 'root'},  # the older alias
    {'ansible_user': 'ubuntu', 'ansible_become': True},
    {'ansible_user': 'ubuntu', 'ansible_become': 'yes'},  # as a string from an INI inventory
    {'ansible_connection': 'containers.podman.podman'},  # no SSH login at all
    {'ansible_connection': 'local'},
])
def test_usable_logins_pass(login):
    assert problems({'pve': {'ansible_user': 'root'}, 'cp1': login}) == []


def test_configured_remote_user_counts_as_the_login():
    assert problems({'pve': {}, 'cp1': {}}, remote_user='root') == []


def test_a_host_without_a_user_is_reported_with_the_user_its_kind_needs():
    found = problems({'pve': {}, 'cp1': {'proxmox_guest': {'type': 'vm', 'ciuser': 'debian'}}})
    assert len(found) == 2
    assert found[0].startswith('cp1 has no login user') and 'ansible_user: debian' in found[0]
    assert found[1].startswith('pve has no login user') and 'ansible_user: root' in found[1]


def test_empty_user_is_not_a_user():
    assert problems({'pve': {'ansible_user': ''}, 'cp1': {'ansible_user': 'root'}})[0].startswith('pve has no login')


def test_a_pi_without_a_user_is_told_to_use_its_own_user():
    found = problems({'pve': {'ansible_user': 'root'}, 'cp1': {'node_flavour': 'pi'}})
    assert len(found) == 1 and 'Raspberry Pi OS has no root login' in found[0]


@pytest.mark.parametrize('become', [None, False, 'no'])
def test_non_root_without_become_is_reported(become):
    login = {'ansible_user': 'ubuntu'}
    if become is not None:
        login['ansible_become'] = become
    found = problems({'pve': {'ansible_user': 'root'}, 'cp1': login})
    assert found == [found[0]] and found[0].startswith('cp1 logs in as ubuntu with ansible_become false')


def test_the_controller_is_never_checked():
    assert problems({'localhost': {}, 'pve': {'ansible_user': 'root'}, 'cp1': {'ansible_user': 'root'}}) == []
