# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Is the memory cgroup controller available to the kubelet? Decided from the files the kernel shows.

Same order as k3s (pkg/cgroups): on the unified (v2) hierarchy the controllers offered at the root,
/sys/fs/cgroup/cgroup.controllers, decide; only on v1 and hybrid hierarchies does /proc/cgroups. Kernels 6.11 and
later built without CONFIG_MEMCG_V1 (Raspberry Pi OS 6.12 kernels among them) list no ``memory`` row in
/proc/cgroups at all, even with the v2 memory controller enabled, so /proc/cgroups alone would refuse them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

V2_CONTROLLERS = '/sys/fs/cgroup/cgroup.controllers'
HYBRID_CONTROLLERS = '/sys/fs/cgroup/unified/cgroup.controllers'
PROC_CGROUPS = '/proc/cgroups'


def parse_proc_cgroups(text):
    """/proc/cgroups -> {controller: {'hierarchy': int, 'enabled': bool}} (the header and bad lines skipped)."""
    rows = {}
    for line in (text or '').splitlines():
        fields = line.split()
        if not fields or fields[0].startswith('#') or len(fields) < 4:
            continue
        try:
            rows[fields[0]] = {'hierarchy': int(fields[1]), 'enabled': fields[3] == '1'}
        except ValueError:
            continue
    return rows


def memory_cgroup(v2_controllers=None, proc_cgroups=None, hybrid_controllers=None):
    """Decide from the contents of the three files (None when a file does not exist).

    Returns {'mode': 'v2'|'hybrid'|'v1', 'available': bool, 'source': the file that decided,
    'controllers': what that file offers, 'reason': why memory is missing ('' when available),
    'cmdline_fix': True when the kernel command line can switch memory on (cgroup_enable=memory)}.
    """
    rows = parse_proc_cgroups(proc_cgroups)
    row = rows.get('memory')
    if v2_controllers is not None:
        offered = v2_controllers.split()
        result = {'mode': 'v2', 'source': V2_CONTROLLERS, 'controllers': offered, 'available': 'memory' in offered}
        if result['available']:
            return dict(result, reason='', cmdline_fix=False)
        if row is not None and not row['enabled']:
            return dict(result, cmdline_fix=True, reason=(
                'the kernel disabled the memory controller (cgroup_disable=memory on its command line; the '
                'Raspberry Pi firmware adds it)'))
        return dict(result, cmdline_fix=True, reason=(
            'cgroup v2 offers no memory controller at the root (disabled on the kernel command line, e.g. by the '
            'Raspberry Pi firmware\'s cgroup_disable=memory, or not delegated to this container)'))

    mode = 'hybrid' if hybrid_controllers is not None else 'v1'
    result = {'mode': mode, 'source': PROC_CGROUPS, 'controllers': sorted(n for n, r in rows.items() if r['enabled'])}
    if row is None:
        return dict(result, available=False, cmdline_fix=False, reason=(
            'this kernel has no cgroup v1 memory controller (built without CONFIG_MEMCG_V1, as kernels 6.11+ may '
            'be) but boots with cgroup {0}: boot with the unified cgroup v2 hierarchy (drop '
            'systemd.unified_cgroup_hierarchy=0 from the kernel command line)'.format(mode)))
    if not row['enabled']:
        return dict(result, available=False, cmdline_fix=True, reason=(
            'the kernel disabled the memory controller (cgroup_disable=memory on its command line; the Raspberry '
            'Pi firmware adds it)'))
    if row['hierarchy'] == 0:
        return dict(result, available=False, cmdline_fix=False, reason=(
            'the memory controller is enabled but mounted on no cgroup v1 hierarchy, where a kubelet on cgroup '
            '{0} looks for it'.format(mode)))
    return dict(result, available=True, reason='', cmdline_fix=False)


def _read(path):
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return handle.read()


def read_memory_cgroup():
    """memory_cgroup() from this node's files (a missing file counts as absent). Raises IOError/OSError when one
    exists but cannot be read."""
    return memory_cgroup(v2_controllers=_read(V2_CONTROLLERS), proc_cgroups=_read(PROC_CGROUPS),
                         hybrid_controllers=_read(HYBRID_CONTROLLERS))
