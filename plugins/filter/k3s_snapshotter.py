# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The containerd snapshotter k3s should use on a node, from its root filesystem and OpenZFS version."""

import re

OVERLAY_ON_ZFS = (2, 2)


def zfs_version(text):
    """(major, minor) of an OpenZFS version string such as 2.2.6-pve1 or zfs-2.1.15-1; None when there is none."""
    match = re.search(r'(\d+)\.(\d+)', str(text or ''))
    return (int(match.group(1)), int(match.group(2))) if match else None


def k3s_snapshotter(data):
    if str((data or {}).get('root_fstype') or '') != 'zfs':
        return 'overlayfs'
    version = zfs_version((data or {}).get('zfs_version'))
    return 'overlayfs' if version is not None and version >= OVERLAY_ON_ZFS else 'native'


class FilterModule(object):
    def filters(self):
        return {'k3s_snapshotter': k3s_snapshotter}
