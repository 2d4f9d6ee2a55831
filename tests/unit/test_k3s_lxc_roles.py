"""The two LXC roles (issue 20: proxmox_k3s_lxc was applied to the PVE hosts and inside the containers and branched on
which one it was): k3s_lxc_node inside the containers, proxmox_k3s_lxc on the PVE hosts. They agree on which hosts
are LXC k3s nodes through one filter, share the GPU settings through proxmox_k3s_lxc's variables, and each does one
side only."""

import pathlib
import re
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / '.collections'))
from ansible_collections.homelab.mediacluster.plugins.filter.k3s_lxc import k3s_lxc_containers_on, k3s_lxc_nodes  # noqa: E402

HOSTS = [
    {'inventory_hostname': 'cp1', 'proxmox_guest': {'type': 'vm', 'vmid': 111, 'node': 'pve'}},
    {'inventory_hostname': 'w3', 'proxmox_guest': {'type': 'lxc', 'vmid': 113, 'node': 'pve'}},
    {'inventory_hostname': 'w4', 'proxmox_guest': {'type': 'lxc', 'vmid': 114}},
    {'inventory_hostname': 'w5', 'proxmox_guest': {'type': 'lxc', 'vmid': 115, 'node': 'pve2'}},
    {'inventory_hostname': 'pi', 'node_flavour': 'pi'},
    {'inventory_hostname': 'ct', 'node_flavour': 'lxc'},
    {'inventory_hostname': 'both', 'node_flavour': 'lxc', 'proxmox_guest': {'type': 'lxc', 'vmid': 116}},
]


def _load(*parts):
    return yaml.safe_load((ROOT.joinpath(*parts)).read_text()) or {}


def test_lxc_nodes_are_proxmox_lxc_guests_then_lxc_flavoured_hosts_each_once():
    assert k3s_lxc_nodes(HOSTS) == ['w3', 'w4', 'w5', 'both', 'ct']
    assert k3s_lxc_nodes([]) == [] and k3s_lxc_nodes(None) == []
    assert k3s_lxc_nodes([{'inventory_hostname': 'odd', 'proxmox_guest': 'lxc'}]) == []


@pytest.mark.parametrize('node, default, expected', [
    ('pve', 'pve', ['cp1', 'w3', 'w4', 'both']),   # the default node also holds the guests that name none
    ('pve', '', ['cp1', 'w3']),
    ('pve2', 'pve', ['w5']),
    ('pve3', 'pve', []),
])
def test_containers_on_a_node(node, default, expected):
    assert k3s_lxc_containers_on(HOSTS, node, default) == expected


def test_each_role_does_one_side():
    """No host-or-container branching is left: the container role never touches the PVE config or API, the host
    role never writes inside a container."""
    node = '\n'.join(p.read_text() for p in sorted((ROOT / 'roles' / 'k3s_lxc_node').rglob('*.yml')))
    host = '\n'.join(p.read_text() for p in sorted((ROOT / 'roles' / 'proxmox_k3s_lxc').rglob('*.yml')))
    for text in (node, host):
        assert '_is_host' not in text and '_is_ct' not in text
    assert 'proxmox_lxc' not in node.replace('proxmox_k3s_lxc', '') and 'lxc_raw_config' not in node
    assert 'mediacluster-rshared' not in host and 'tmpfiles' not in host and 'gpu_render_gid:' not in host


def test_shared_settings_fall_back_to_the_host_role_defaults():
    """k3s_lxc_node reads the GPU device from proxmox_k3s_lxc's variable; when the inventory leaves it unset, the
    fallback must be that role's default (the host side passes that device)."""
    defaults = _load('roles', 'proxmox_k3s_lxc', 'defaults', 'main.yml')
    text = (ROOT / 'roles' / 'k3s_lxc_node' / 'vars' / 'main.yml').read_text()
    fallbacks = dict(re.findall(r"(proxmox_k3s_lxc_\w+) \| default\(('[^']*'|\[\])", text))
    assert fallbacks == {'proxmox_k3s_lxc_nodes': '[]', 'proxmox_k3s_lxc_gpu_nodes': '[]',
                         'proxmox_k3s_lxc_gpu_device': "'/dev/dri/renderD128'"}, fallbacks
    for name, value in fallbacks.items():
        assert yaml.safe_load(value.strip("'") if value != '[]' else value) == defaults[name], name


def test_deprecated_names_map_to_the_new_variables():
    """The two variables the container side took over keep their old names as aliases: each maps to a variable of
    k3s_lxc_node, is no longer a variable of proxmox_k3s_lxc, and is read in the role's vars."""
    role_vars = _load('roles', 'k3s_lxc_node', 'vars', 'main.yml')
    new_defaults = _load('roles', 'k3s_lxc_node', 'defaults', 'main.yml')
    old_defaults = _load('roles', 'proxmox_k3s_lxc', 'defaults', 'main.yml')
    aliases = role_vars['_k3s_lxc_node_deprecated']
    assert set(aliases.values()) == set(new_defaults)
    assert not set(aliases) & set(old_defaults)
    text = (ROOT / 'roles' / 'k3s_lxc_node' / 'vars' / 'main.yml').read_text()
    for old, new in aliases.items():
        assert re.search(r'{0} if {0} is defined else {1}'.format(old, new), text), old


@pytest.mark.parametrize('role', ['proxmox_guests', 'proxmox_k3s_lxc'])
def test_proxmox_connection_is_set_once(role):
    """The Proxmox API connection is the role's vars dict, set for the action group once in tasks/main.yml: no task
    repeats api_host/api_user/token keys (handlers pass the keys of the same dict)."""
    main = _load('roles', role, 'tasks', 'main.yml')
    assert len(main) == 1 and main[0]['module_defaults'] == {
        'group/homelab.mediacluster.proxmox': '{{{{ _{0}_connection }}}}'.format(role)}
    for path in (ROOT / 'roles' / role / 'tasks').glob('*.yml'):
        assert not re.search(r'(?m)^\s+api_(host|user|port|password|token_id|token_secret):', path.read_text()), path
    connection = _load('roles', role, 'vars', 'main.yml')['_{0}_connection'.format(role)]
    assert {'api_host', 'api_user', 'api_password', 'api_token_id', 'api_token_secret'} <= set(connection)
    for path in (ROOT / 'roles' / role / 'handlers').glob('*.yml'):
        for key in re.findall(r'(?m)^\s+(api_\w+|validate_certs): "\{\{ (.*?) \}\}"', path.read_text()):
            assert key[1] == '_{0}_connection.{1}'.format(role, key[0]), (path, key)
