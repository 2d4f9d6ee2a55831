"""The longhorn role's decisions (plugins/filter/longhorn.py): the labels each node gets, what a node lacks to run
Longhorn (with the fix), and which chart versions may replace the installed one."""

import importlib.util

import pytest

from ...conftest import ROOT

_spec = importlib.util.spec_from_file_location('longhorn_filters', ROOT / 'plugins' / 'filter' / 'longhorn.py')
longhorn = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(longhorn)

COMPONENT = 'mediacluster.homelab/longhorn'
DISK = 'node.longhorn.io/create-default-disk'


def test_node_labels_component_everywhere_disk_on_storage_nodes():
    labels = longhorn.longhorn_node_labels(['cp1', 'w1', 'w2'], ['w1', 'w2', 'w9'], COMPONENT, DISK)
    assert list(labels) == ['cp1', 'w1', 'w2']  # the order of the component nodes
    assert labels['cp1'] == {COMPONENT: 'true'}
    assert labels['w1'] == labels['w2'] == {COMPONENT: 'true', DISK: 'true'}
    assert 'w9' not in labels  # a storage node is labelled only when it is a component node (the role unions them)
    assert longhorn.longhorn_node_labels([], ['w1'], COMPONENT, DISK) == {}
    assert longhorn.longhorn_node_labels(None, None, COMPONENT, DISK) == {}


def units(iscsid='active', socket='inactive', multipathd='inactive'):
    """node_facts' units: {unit: ActiveState} (None: a unit that has no state, such as an empty value)."""
    return {'iscsid.service': iscsid, 'iscsid.socket': socket, 'multipathd.service': multipathd}


def paths(iscsi_tcp=True, sbin=False, usr_sbin=True):
    """node_facts' paths_present (multipath.conf is not a path the role asks about: it reads it as a file)."""
    there = {'/sys/module/iscsi_tcp': iscsi_tcp, '/sbin/mount.nfs4': sbin, '/usr/sbin/mount.nfs4': usr_sbin}
    return [path for path, exists in there.items() if exists]


def problems(units_, paths_, filesystems='', multipath_conf=None):
    """The filter on what node_facts returns for those units, paths and files (no multipath.conf: not in files)."""
    files = {'/proc/filesystems': filesystems}
    if multipath_conf is not None:
        files['/etc/multipath.conf'] = multipath_conf
    return longhorn.longhorn_node_problems({'units': units_, 'paths_present': paths_, 'files': files})


FILESYSTEMS = 'nodev\tsysfs\nnodev\ttmpfs\n\text4\nnodev\tnfs\nnodev\tnfs4\n'
BLACKLIST = 'defaults {\n  user_friendly_names yes\n}\nblacklist {\n  devnode "^sd[a-z0-9]+"\n}\n'


def test_a_ready_node_lacks_nothing():
    assert problems(units(), paths(), FILESYSTEMS, '') == []
    # the socket alone is enough (iscsid is socket-activated on Debian)
    assert problems(units(iscsid='inactive', socket='active'), paths(), FILESYSTEMS) == []
    # only nfs4 or only nfs in the kernel is enough; /sbin/mount.nfs4 is as good as /usr/sbin/mount.nfs4
    assert problems(units(), paths(sbin=True, usr_sbin=False), 'nodev\tnfs4\n') == []
    assert problems(units(), paths(), 'nodev\tnfs\n') == []
    # an active multipathd that blacklists sd devices is fine
    assert problems(units(multipathd='active'), paths(), FILESYSTEMS, BLACKLIST) == []


@pytest.mark.parametrize('name, args, expected', [
    ('iscsid', (units(iscsid='inactive'), paths(), FILESYSTEMS),
     ['iscsid is not active (install open-iscsi and run: systemctl enable --now iscsid)']),
    ('iscsid-unknown', (units(iscsid=None, socket=None), paths(), FILESYSTEMS),
     ['iscsid is not active (install open-iscsi and run: systemctl enable --now iscsid)']),
    ('iscsi_tcp', (units(), paths(iscsi_tcp=False), FILESYSTEMS),
     ['the iscsi_tcp kernel module is not loaded (modprobe iscsi_tcp; list it in /etc/modules-load.d/)']),
    ('mount.nfs4', (units(), paths(usr_sbin=False), ''),  # no helper: the kernel filesystems are not judged
     ['no NFSv4 client: mount.nfs4 is missing (install nfs-common); RWX volumes and NFS backups need it']),
    ('kernel-nfs', (units(), paths(), 'nodev\tsysfs\nnodev\tnfsd\n'),  # nfsd is the server, not the client
     ['the kernel has no NFS client filesystem (modprobe nfs; /proc/filesystems lists no nfs4)']),
    ('multipathd-no-conf', (units(multipathd='active'), paths(), FILESYSTEMS, ''),
     ['multipathd is active without a blacklist for sd devices, so it would claim Longhorn volumes (add blacklist '
      '{ devnode "^sd[a-z0-9]+" } to /etc/multipath.conf and restart multipathd, or disable it)']),
    ('multipathd-other-blacklist', (units(multipathd='active'), paths(), FILESYSTEMS,
                                    'blacklist {\n  devnode "^nvme"\n}\n'),
     ['multipathd is active without a blacklist for sd devices, so it would claim Longhorn volumes (add blacklist '
      '{ devnode "^sd[a-z0-9]+" } to /etc/multipath.conf and restart multipathd, or disable it)']),
])
def test_each_missing_piece_is_named_with_its_fix(name, args, expected):
    assert problems(*args) == expected, name


def test_every_missing_piece_at_once_in_order():
    found = problems(units(iscsid='failed', multipathd='active'), paths(iscsi_tcp=False, usr_sbin=False), '', '')
    assert [p.split(' (')[0] for p in found] == [
        'iscsid is not active', 'the iscsi_tcp kernel module is not loaded', 'no NFSv4 client: mount.nfs4 is missing',
        'multipathd is active without a blacklist for sd devices, so it would claim Longhorn volumes']


def chart(version):
    return [{'apiVersion': 'helm.cattle.io/v1', 'kind': 'HelmChart', 'spec': {'version': version}}]


@pytest.mark.parametrize('installed, wanted, supported', [
    ([], '1.12.1', True),  # not installed: any version
    (chart('1.12.1'), '1.12.1', True),  # the same
    (chart('1.12.1'), '1.12.3', True),  # a patch release
    (chart('1.12.1'), '1.13.0', True),  # the next minor
    (chart('v1.12.1'), '1.13.2', True),  # a leading v is ignored
    (chart('1.12.1'), 'v1.13.0', True),
    (chart('1.12.1'), '1.14.0', False),  # a minor skipped
    (chart('1.12.1'), '1.11.3', False),  # a downgrade
    (chart('1.12.3'), '1.12.1', False),  # a patch downgrade
    (chart('1.12.1'), '2.0.0', False),  # a major jump
    (chart('1.12'), '1.13', True),  # missing patch parts read as 0
])
def test_upgrade_path(installed, wanted, supported):
    verdict = longhorn.longhorn_upgrade_check(installed, wanted)
    assert verdict['supported'] is supported, verdict
    assert verdict['installed'] == (installed[0]['spec']['version'].lstrip('v') if installed else '')


def test_upgrade_messages_say_what_happens_and_what_to_do():
    fresh = longhorn.longhorn_upgrade_check([], '1.12.1')
    assert fresh['message'] == 'Longhorn is not installed yet: installing 1.12.1'
    assert longhorn.longhorn_upgrade_check(chart('1.12.1'), '1.13.0')['message'] == \
        'Longhorn 1.12.1 -> 1.13.0 is a supported path'
    skip = longhorn.longhorn_upgrade_check(chart('v1.12.1'), '1.14.0')['message']
    assert skip.startswith('Longhorn 1.12.1 is installed and longhorn_chart_version=1.14.0. Longhorn supports '
                           'upgrades from the previous minor version only and no downgrades')
    assert 'set longhorn_chart_version to the latest 1.13.x, run, wait for every volume\'s engine' in skip
    assert skip.endswith('or keep 1.12.1. See docs/longhorn.md, "Upgrades".')
    # a HelmChart without a version (or an empty read) counts as not installed
    assert longhorn.longhorn_upgrade_check([{'spec': {}}], '1.12.1')['installed'] == ''


def test_every_filter_is_registered_and_documented():
    filters = longhorn.FilterModule().filters()
    assert sorted(filters) == ['longhorn_node_labels', 'longhorn_node_problems', 'longhorn_upgrade_check']
    for name in filters:
        assert (ROOT / 'plugins' / 'filter' / (name + '.yml')).exists(), name
