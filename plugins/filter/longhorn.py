# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The longhorn role's decisions in Python: which labels each node gets, what a storage node lacks, and whether the
chart version may replace the installed one. Pure functions, no cluster access; unit-tested in
tests/unit/verify/test_longhorn_filters.py. Each filter's documentation is plugins/filter/<filter name>.yml."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.module_utils.compat.version import LooseVersion

ISCSID_UNITS = ('iscsid.service', 'iscsid.socket')
MULTIPATHD = 'multipathd.service'
ISCSI_TCP_MODULE = '/sys/module/iscsi_tcp'
MOUNT_NFS4 = ('/sbin/mount.nfs4', '/usr/sbin/mount.nfs4')
PROC_FILESYSTEMS = '/proc/filesystems'
MULTIPATH_CONF = '/etc/multipath.conf'
# multipathd leaves Longhorn's iSCSI disks (sdX) alone when multipath.conf blacklists them
SD_BLACKLIST = re.compile(r'blacklist\s*\{[^}]*devnode\s+"\^sd')
NFS_FILESYSTEM = re.compile(r'\bnfs4?\b')


def longhorn_node_labels(component_nodes, storage_nodes, component_label, disk_label):
    """{node: labels}: the component label on every node that runs Longhorn's components, the disk label too on the
    storage nodes (in the order of component_nodes)."""
    storage = set(storage_nodes or [])
    out = {}
    for node in component_nodes or []:
        labels = {component_label: 'true'}
        if node in storage:
            labels[disk_label] = 'true'
        out[node] = labels
    return out


def longhorn_node_problems(node):
    """What a node lacks to run Longhorn, one sentence (with the fix) per missing piece; [] when nothing is missing.

    node: what homelab.mediacluster.node_facts read on it - units (ActiveState of iscsid.service, iscsid.socket and
    multipathd.service), paths_present (of the iscsi_tcp module directory and the mount.nfs4 helpers) and files
    (/proc/filesystems, and /etc/multipath.conf when it exists)."""
    node = node or {}
    active = dict((unit, state or 'unknown') for unit, state in (node.get('units') or {}).items())
    exists = set(node.get('paths_present') or [])
    files = node.get('files') or {}
    problems = []
    if 'active' not in [active.get(unit) for unit in ISCSID_UNITS]:
        problems.append('iscsid is not active (install open-iscsi and run: systemctl enable --now iscsid)')
    if ISCSI_TCP_MODULE not in exists:
        problems.append('the iscsi_tcp kernel module is not loaded (modprobe iscsi_tcp; list it in '
                        '/etc/modules-load.d/)')
    if not exists.intersection(MOUNT_NFS4):
        problems.append('no NFSv4 client: mount.nfs4 is missing (install nfs-common); RWX volumes and NFS backups '
                        'need it')
    elif not NFS_FILESYSTEM.search(files.get(PROC_FILESYSTEMS) or ''):
        problems.append('the kernel has no NFS client filesystem (modprobe nfs; /proc/filesystems lists no nfs4)')
    if active.get(MULTIPATHD) == 'active' and not SD_BLACKLIST.search(files.get(MULTIPATH_CONF) or ''):
        problems.append('multipathd is active without a blacklist for sd devices, so it would claim Longhorn volumes '
                        '(add blacklist { devnode "^sd[a-z0-9]+" } to /etc/multipath.conf and restart multipathd, '
                        'or disable it)')
    return problems


def _major_minor(version):
    """[major, minor] of a version string, missing or non-numeric parts as 0 (as Jinja's int filter reads them)."""
    parts = (str(version).split('.') + ['0', '0'])[:2]
    out = []
    for part in parts:
        try:
            out.append(int(part))
        except ValueError:
            try:
                out.append(int(float(part)))
            except ValueError:
                out.append(0)
    return out


def longhorn_upgrade_check(installed_charts, wanted):
    """Whether chart version `wanted` may replace the Longhorn HelmChart found in the cluster (the k8s_info
    resources: [] when none). Longhorn upgrades from the previous minor version only and never downgrades.

    Returns {installed, supported, message}: installed is the installed version without a leading v ('' when
    none); message says what happens, or, when not supported, what to do."""
    charts = list(installed_charts or [])
    spec = (charts[0] if charts else {}).get('spec') or {}
    installed = re.sub(r'^v', '', str(spec.get('version') or ''))
    wanted = str(wanted)
    if not installed:
        return {'installed': '', 'supported': True,
                'message': 'Longhorn is not installed yet: installing ' + wanted}
    target = re.sub(r'^v', '', wanted)
    have, want = _major_minor(installed), _major_minor(target)
    supported = (LooseVersion(target) >= LooseVersion(installed)
                 and want[0] == have[0] and want[1] - have[1] <= 1)
    if supported:
        message = 'Longhorn {0} -> {1} is a supported path'.format(installed, wanted)
    else:
        message = ('Longhorn {0} is installed and longhorn_chart_version={1}. Longhorn supports upgrades from the '
                   'previous minor version only and no downgrades: upgrade one minor version at a time (set '
                   'longhorn_chart_version to the latest {2}.{3}.x, run, wait for every volume\'s engine to be '
                   'upgraded, then the next minor), or keep {0}. See docs/longhorn.md, "Upgrades".'
                   .format(installed, wanted, have[0], have[1] + 1))
    return {'installed': installed, 'supported': supported, 'message': message}


class FilterModule(object):
    def filters(self):
        return {
            'longhorn_node_labels': longhorn_node_labels,
            'longhorn_node_problems': longhorn_node_problems,
            'longhorn_upgrade_check': longhorn_upgrade_check,
        }
