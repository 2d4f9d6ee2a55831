"""Pure helpers of plugins/module_utils/proxmox.py and the comparison rules of proxmox_lxc (no API)."""

import importlib
import sys

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / '.collections'))
PX = importlib.import_module('ansible_collections.homelab.mediacluster.plugins.module_utils.proxmox')
LXC = importlib.import_module('ansible_collections.homelab.mediacluster.plugins.modules.proxmox_lxc')


def test_split_and_join_props():
    assert PX.split_props('/dev/dri/renderD128,gid=992,mode=0660', 'path') == {
        'path': '/dev/dri/renderD128', 'gid': '992', 'mode': '0660'}
    assert PX.join_props({'path': '/dev/dri/renderD128', 'mode': '0660', 'gid': '992'}, first_key='path') == \
        '/dev/dri/renderD128,gid=992,mode=0660'
    assert PX.split_props('') == {} and PX.split_props(None) == {}


@pytest.mark.parametrize('text, size', [('8G', 8 * 1024 ** 3), ('3584M', 3584 * 1024 ** 2), ('512', 512),
                                        ('1.5T', int(1.5 * 1024 ** 4)), ('big', None), (None, None)])
def test_parse_size(text, size):
    assert PX.parse_size(text) == size


def test_tags_and_bools():
    assert PX.normalise_tags(['K3s', 'gpu', 'k3s']) == 'gpu;k3s'
    assert PX.normalise_tags('gpu,k3s') == 'gpu;k3s'
    assert PX.parse_bool('yes') is True and PX.parse_bool('0') is False
    with pytest.raises(ValueError):
        PX.parse_bool('maybe')


@pytest.mark.parametrize('key, want, have, same', [
    ('net0', 'name=eth0,bridge=vmbr0,ip=dhcp', 'name=eth0,bridge=vmbr0,hwaddr=BC:24:11:AA:BB:CC,ip=dhcp,type=veth',
     True),
    ('net0', 'name=eth0,bridge=vmbr1,ip=dhcp', 'name=eth0,bridge=vmbr0,hwaddr=BC:24:11:AA:BB:CC,ip=dhcp,type=veth',
     False),
    ('net0', 'name=eth0,bridge=vmbr0,firewall=true', 'name=eth0,bridge=vmbr0,firewall=1,hwaddr=X,type=veth', True),
    ('features', 'keyctl=1,nesting=1', 'nesting=1,keyctl=1', True),
    ('features', 'nesting=1', 'keyctl=0,nesting=1', True),
    ('features', '', None, True),
    ('dev0', '/dev/dri/renderD128,gid=992,mode=0660', 'path=/dev/dri/renderD128,mode=0660,gid=992', True),
    ('dev0', '/dev/dri/renderD128,gid=993', '/dev/dri/renderD128,gid=992', False),
    ('mp0', 'local-lvm:100,mp=/data', 'local-lvm:vm-113-disk-1,mp=/data,size=100G', True),
    ('mp0', 'local-lvm:100,mp=/data', 'local-lvm:vm-113-disk-1,mp=/srv,size=100G', False),
    ('tags', 'k3s;gpu', 'gpu;k3s', True),
    ('memory', '8192', 8192, True),
    ('onboot', '1', 1, True),
])
def test_lxc_comparison_rules(key, want, have, same):
    assert LXC.Container.same(key, want, have) is same


def test_net_write_keeps_the_mac():
    value = LXC.Container.write_value(None, 'net0', 'name=eth0,bridge=vmbr1,ip=dhcp',
                                      'name=eth0,bridge=vmbr0,hwaddr=BC:24:11:AA:BB:CC,ip=dhcp,type=veth')
    assert PX.split_props(value) == {'name': 'eth0', 'bridge': 'vmbr1', 'hwaddr': 'BC:24:11:AA:BB:CC', 'ip': 'dhcp'}
