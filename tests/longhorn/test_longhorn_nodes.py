"""The longhorn role's `nodes` entry point (storage node prerequisites) on this machine over a local connection: its
verdict must match what the machine really has (iscsid, iscsi_tcp, NFSv4 client, multipathd), computed here
independently, with one message naming the node and every missing piece. LXC nodes are refused."""

import os
import pathlib
import subprocess
import sys

import yaml

from .conftest import run_playbook


def _active(unit):
    result = subprocess.run(['systemctl', 'is-active', unit], capture_output=True, text=True, check=False)
    return result.stdout.strip() == 'active'


def _expected_missing():
    missing = []
    if not (_active('iscsid.service') or _active('iscsid.socket')):
        missing.append('iscsid is not active')
    if not os.path.exists('/sys/module/iscsi_tcp'):
        missing.append('the iscsi_tcp kernel module is not loaded')
    helper = os.path.exists('/sbin/mount.nfs4') or os.path.exists('/usr/sbin/mount.nfs4')
    filesystems = pathlib.Path('/proc/filesystems').read_text().split()
    if not helper:
        missing.append('no NFSv4 client: mount.nfs4 is missing')
    elif 'nfs4' not in filesystems and 'nfs' not in filesystems:
        missing.append('the kernel has no NFS client filesystem')
    if _active('multipathd.service'):
        conf = pathlib.Path('/etc/multipath.conf')
        if not conf.exists() or 'blacklist' not in conf.read_text():
            missing.append('multipathd is active without a blacklist')
    return missing


ALL_PIECES = ['iscsid is not active', 'the iscsi_tcp kernel module is not loaded',
              'no NFSv4 client: mount.nfs4 is missing', 'the kernel has no NFS client filesystem',
              'multipathd is active without a blacklist']


def _playbook(directory, host_vars):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / 'inventory.yml').write_text(yaml.safe_dump({'all': {'children': {'storage_nodes': {'hosts': {
        'thishost': dict({'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable},
                         **host_vars)}}}}}))
    path = directory / 'play.yml'
    path.write_text(yaml.safe_dump([{'name': 'Node checks', 'hosts': 'storage_nodes', 'gather_facts': True,
                                     'tasks': [{'name': 'Check', 'ansible.builtin.include_role': {
                                         'name': 'homelab.mediacluster.longhorn', 'tasks_from': 'nodes'}}]}]))
    return path


def test_node_check_matches_the_real_machine(tmp_path):
    expected = _expected_missing()
    code, out = run_playbook('longhorn-nodes-here', _playbook(tmp_path / 'pb', {'node_flavour': 'vm'}))
    flat = ' '.join(out.split())
    if expected:
        assert code != 0, out[-2000:]
        assert 'thishost cannot run Longhorn yet:' in flat
        for piece in ALL_PIECES:
            assert (piece in flat) == (piece in expected), (piece, expected)
    else:
        assert code == 0, out[-2000:]


def test_lxc_node_is_refused(tmp_path):
    code, out = run_playbook('longhorn-nodes-lxc', _playbook(tmp_path / 'pb', {'node_flavour': 'lxc'}))
    assert code != 0
    assert ('thishost is an LXC container: it has no iSCSI and no block devices, so it can neither hold'
            in ' '.join(out.split()))


def test_non_fatal_mode_reports_and_goes_on(tmp_path):
    expected = _expected_missing()
    code, out = run_playbook('longhorn-nodes-nonfatal', _playbook(
        tmp_path / 'pb', {'node_flavour': 'vm', 'longhorn_node_checks_fatal': False}))
    assert code == 0, out[-2000:]
    if expected:
        assert 'continuing because longhorn_node_checks_fatal is false' in ' '.join(out.split())
