"""Which containerd snapshotter k3s gets: overlayfs (k3s's default) everywhere it works, native only on a ZFS root
whose OpenZFS is older than 2.2 (2.2.0 added the whiteout support overlayfs needs on ZFS) or cannot be told."""

import sys

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / '.collections'))
from ansible_collections.homelab.mediacluster.plugins.filter.k3s_snapshotter import k3s_snapshotter  # noqa: E402


@pytest.mark.parametrize('fstype, version, expected', [
    ('ext4', '', 'overlayfs'),
    ('xfs', '2.1.5', 'overlayfs'),
    ('zfs', '2.1.15-pve1', 'native'),
    ('zfs', '0.8.6-1', 'native'),
    ('zfs', '2.2.0', 'overlayfs'),
    ('zfs', '2.2.0-rc4', 'overlayfs'),
    ('zfs', '2.2.6-pve1', 'overlayfs'),
    ('zfs', '2.3.1-pve1\n', 'overlayfs'),
    ('zfs', 'zfs-2.2.3-1', 'overlayfs'),
    ('zfs', '3.0.0', 'overlayfs'),
    ('zfs', '', 'native'),
    ('zfs', None, 'native'),
    ('zfs', 'unknown', 'native'),
])
def test_snapshotter_by_root_filesystem_and_zfs_version(fstype, version, expected):
    assert k3s_snapshotter({'root_fstype': fstype, 'zfs_version': version}) == expected
