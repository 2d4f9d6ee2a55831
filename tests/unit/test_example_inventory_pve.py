"""inventory/example stays in step with the Proxmox rules: its k3s containers are privileged and carry no feature
flags that do nothing there (keyctl, nesting) but force the root@pam password path. Reads the YAML only."""

import yaml

from tests.conftest import ROOT

EXAMPLE = ROOT / 'inventory' / 'example'


def _hosts(node, out):
    for name, values in ((node or {}).get('hosts') or {}).items():
        out.setdefault(name, {}).update(values or {})
    for child in ((node or {}).get('children') or {}).values():
        _hosts(child, out)
    return out


def _k3s_guests():
    data = yaml.safe_load((EXAMPLE / 'hosts.yml').read_text())
    k3s = _hosts(data['all']['children']['k3s_cluster'], {})
    guests = {}
    for host in k3s:
        for path in sorted((EXAMPLE / 'host_vars' / host).glob('*.yml')) if (EXAMPLE / 'host_vars' / host).is_dir() \
                else []:
            values = yaml.safe_load(path.read_text()) or {}
            if 'proxmox_guest' in values:
                guests[host] = values['proxmox_guest']
    return guests


def test_example_k3s_containers_are_privileged_without_useless_feature_flags():
    lxc = {host: guest for host, guest in _k3s_guests().items() if guest.get('type') == 'lxc'}
    assert lxc, 'the example has no k3s container; this test would check nothing'
    for host, guest in lxc.items():
        assert guest.get('unprivileged') is False, host
        features = guest.get('features') or {}
        assert not {k for k, v in features.items() if v and k in ('keyctl', 'nesting')}, \
            '{0}: features {1} do nothing on a privileged CT and force the root@pam password path'.format(
                host, features)


def test_example_needs_no_root_password_for_its_containers():
    """Without feature flags and with devN set through pct (proxmox_k3s_lxc_dev_method ssh), nothing in the example
    needs root@pam password login: no proxmox_guest asks for devices, bind mounts or features."""
    for host, guest in _k3s_guests().items():
        assert not guest.get('devices') and not guest.get('features'), host
        assert not [v for v in (guest.get('mount_points') or {}).values() if str(v).startswith('/')], host
