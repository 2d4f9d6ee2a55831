"""homelab.mediacluster.node_facts: the one read the common and node_prep roles decide from (issue 18: one round
trip per node instead of a task per fact). The parsers on what dpkg-query, /proc/self/mountinfo and /proc/swaps
print, then the module on this machine (a Debian system with dpkg) against what dpkg-query and the files say."""

import grp
import hashlib
import importlib
import os
import pwd
import subprocess

import pytest

from ..module_runner import MODULES, run_module

node_facts = importlib.import_module(MODULES + 'node_facts')  # after module_runner put the collection on the path

DPKG = ('curl\tinstall ok installed\t7.88.1-10+deb12u8\n'
        'open-iscsi\tdeinstall ok config-files\t2.1.8-1\n'
        'jq\tinstall ok half-configured\t1.6-2.1\n'
        'tzdata\tinstall ok installed\t2025b-0+deb12u1\n')


def test_only_fully_installed_packages_count():
    installed = node_facts.parse_dpkg_query(DPKG)
    assert installed == {'curl': '7.88.1-10+deb12u8', 'tzdata': '2025b-0+deb12u1'}
    found, missing = node_facts.package_state(['curl', 'open-iscsi', 'jq', 'nfs-common', 'tzdata'], installed)
    assert found == {'curl': '7.88.1-10+deb12u8', 'tzdata': '2025b-0+deb12u1'}
    assert missing == ['open-iscsi', 'jq', 'nfs-common']  # removed, half-configured, unknown: apt must act


def test_a_pinned_version_counts_only_when_it_matches():
    installed = node_facts.parse_dpkg_query(DPKG)
    assert node_facts.package_state(['curl=7.88*'], installed) == ({'curl': '7.88.1-10+deb12u8'}, [])
    assert node_facts.package_state(['curl=8.*'], installed) == ({}, ['curl=8.*'])


MOUNTINFO = (
    '22 1 0:21 / / rw,relatime shared:1 - overlay overlay rw\n'
    '23 22 0:22 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n'
    '24 23 0:22 /sys /proc/sys ro,nosuid,nodev,noexec,relatime - proc proc rw\n'
    '25 23 0:23 / /proc/sysrq-trigger ro,relatime - proc proc rw\n'
    '26 22 0:24 / /mnt/with\\040space rw,relatime - tmpfs tmpfs rw\n'
)


def test_proc_sys_read_only_is_read_from_the_mount_that_holds_it():
    assert node_facts.mount_options(MOUNTINFO, '/proc/sys')[0] == 'ro'  # a container: /proc/sys bound read-only
    assert node_facts.mount_options(MOUNTINFO, '/proc/sys/net/ipv4')[0] == 'ro'
    assert node_facts.mount_options(MOUNTINFO, '/proc/self')[0] == 'rw'  # /proc/sysrq-trigger is not above it
    assert node_facts.mount_options(MOUNTINFO, '/mnt/with space/x')[0] == 'rw'
    vm = '\n'.join(line for line in MOUNTINFO.splitlines() if '/proc/sys ' not in line)
    assert node_facts.mount_options(vm, '/proc/sys')[0] == 'rw'  # a VM: /proc/sys is part of /proc


def test_active_swaps_skip_the_header():
    swaps = ('Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n'
             '/var/swap                               file\t\t102396\t\t0\t\t-2\n')
    assert node_facts.active_swaps(swaps) == ['/var/swap']
    assert node_facts.active_swaps('Filename\tType\tSize\tUsed\tPriority\n') == []


def _dpkg(names):
    proc = subprocess.run(['dpkg-query', '-W', '-f', '${Package}\t${Status}\n', '--'] + names,
                          capture_output=True, text=True, check=False)
    return {line.split('\t')[0] for line in proc.stdout.splitlines() if line.endswith('\tinstall ok installed')}


@pytest.mark.skipif(not os.path.exists('/var/lib/dpkg/status'), reason='needs a Debian-family machine (dpkg)')
def test_the_module_reads_this_machine_and_changes_nothing(tmp_path):
    present = tmp_path / 'zone'
    present.write_text('')
    (tmp_path / 'localtime').symlink_to('../usr/share/zoneinfo/Etc/UTC')
    args = {'links': [str(tmp_path / 'localtime'), str(present), str(tmp_path / 'absent')],
            'packages': ['dpkg', 'bash', 'mediacluster-no-such-package'], 'cgroups': True,
            'paths': [str(present), str(tmp_path / 'absent')],
            'files': ['/proc/filesystems', str(tmp_path / 'absent')]}
    for check in (False, True):
        result = run_module(node_facts, args, check=check)
        assert result['changed'] is False and 'failed' not in result, result
        assert set(result['packages']) == _dpkg(['dpkg', 'bash']) == {'dpkg', 'bash'}
        assert result['packages_missing'] == ['mediacluster-no-such-package']
        assert result['paths_present'] == [str(present)]
        with open('/proc/filesystems') as handle:
            assert result['files'] == {'/proc/filesystems': handle.read()}  # an absent file is left out
        # only a symbolic link has a target, given as the link holds it
        assert result['links'] == {str(tmp_path / 'localtime'): '../usr/share/zoneinfo/Etc/UTC'}
        assert set(result['cgroups']) >= {'mode', 'available', 'source', 'reason', 'cmdline_fix'}
        with open('/proc/swaps') as handle:
            assert len(result['swaps']) == len(handle.read().splitlines()) - 1
        assert isinstance(result['procsys_read_only'], bool)


def test_without_dpkg_the_error_says_which_systems_are_supported(monkeypatch):
    monkeypatch.setattr(node_facts.AnsibleModule, 'get_bin_path', lambda self, name, *a, **k: None)
    result = run_module(node_facts, {'packages': ['curl']})
    assert result['failed'] is True
    assert 'dpkg-query is not on this node' in result['msg'] and 'Debian-family' in result['msg']


def test_unit_states_follow_the_order_asked():
    shown = 'ActiveState=active\n\nActiveState=inactive\n\nActiveState=\n'
    units = ['iscsid.service', 'iscsid.socket', 'multipathd.service', 'extra.service']
    assert node_facts.parse_systemctl_show(shown, units) == {
        'iscsid.service': 'active', 'iscsid.socket': 'inactive', 'multipathd.service': 'unknown',
        'extra.service': 'unknown'}
    assert node_facts.parse_systemctl_show('', ['a.service']) == {'a.service': 'unknown'}


def test_unit_file_states_come_from_the_same_show():
    shown = ('ActiveState=active\nUnitFileState=enabled\n\n'
             'UnitFileState=disabled\nActiveState=inactive\n\nActiveState=\n')
    units = ['mediacluster-rshared.service', 'iscsid.socket', 'gone.service']
    assert node_facts.parse_systemctl_show(shown, units, 'UnitFileState') == {
        'mediacluster-rshared.service': 'enabled', 'iscsid.socket': 'disabled', 'gone.service': 'unknown'}
    assert node_facts.parse_systemctl_show(shown, units) == {
        'mediacluster-rshared.service': 'active', 'iscsid.socket': 'inactive', 'gone.service': 'unknown'}


def test_owners_of_the_paths_that_exist(tmp_path):
    present = tmp_path / 'renderD128'
    present.write_text('')
    stat = os.stat(present)
    result = run_module(node_facts, {'owners': [str(present), str(tmp_path / 'absent')]})
    assert result['owners'] == {str(present): {'uid': stat.st_uid, 'gid': stat.st_gid}}
    assert set(result['unit_files']) == set(result['units']) == set()


def test_checksums_of_the_regular_files_that_exist(tmp_path):
    """What the k3s preflight reads of an installed airgap binary: the binary's copy is decided from it (issue 18:
    one read per node instead of a stat per play)."""
    binary = tmp_path / 'k3s'
    binary.write_bytes(b'#!/bin/sh\necho k3s\n')
    binary.chmod(0o750)
    link = tmp_path / 'k3s-link'
    link.symlink_to(binary)
    paths = [str(binary), str(link), str(tmp_path), str(tmp_path / 'absent')]
    result = run_module(node_facts, {'checksums': paths})
    info = os.stat(binary)
    want = {'sha256': hashlib.sha256(binary.read_bytes()).hexdigest(), 'mode': '0750',
            'owner': pwd.getpwuid(info.st_uid).pw_name, 'group': grp.getgrgid(info.st_gid).gr_name}
    # a link counts as the file it points to; a directory and a missing path are left out
    assert result['checksums'] == {str(binary): want, str(link): want}
    assert result['changed'] is False
