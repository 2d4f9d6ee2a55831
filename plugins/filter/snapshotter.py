# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The containerd snapshotter k3s should use on a node, from its root filesystem and OpenZFS version."""

DOCUMENTATION = r'''
name: k3s_snapshotter
short_description: The containerd snapshotter for a k3s node (overlayfs, or native on an old ZFS)
version_added: 0.1.0
description:
  - Returns C(overlayfs), k3s's default, unless the root filesystem is ZFS and OpenZFS is older than 2.2 - 2.2.0
    added the whiteout (renameat2 RENAME_WHITEOUT) support overlayfs needs on ZFS; before it, containerd needs the
    C(native) snapshotter there. An unknown ZFS version gives C(native), which works everywhere, only slower.
options:
  _input:
    description:
      - "A dict: C(root_fstype) (the file system type of C(/)), C(zfs_version) (the content of
        C(/sys/module/zfs/version) - in an LXC container, the host's module - or empty when unknown)."
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Pick the snapshotter
  ansible.builtin.set_fact:
    snapshotter: "{{ {'root_fstype': 'zfs', 'zfs_version': '2.2.6-pve1'} | homelab.mediacluster.k3s_snapshotter }}"
'''

RETURN = r'''
_value:
  description: C(overlayfs) or C(native).
  type: str
'''

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
