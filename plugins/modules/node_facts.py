#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: node_facts
short_description: Read in one call what the node roles decide from
version_added: 0.1.0
description:
  - One round trip instead of one task per fact. The C(common) and C(node_prep) roles decide from it what to
    install, which board this is, whether C(/proc/sys) can be written, whether swap is on and whether the kubelet
    will find the memory cgroup controller.
  - Package state comes from C(dpkg-query), the way C(apt) sees it. A package counts as installed only in the state
    C(install ok installed); a half-installed or removed-but-configured package is missing, so C(apt) repairs it.
  - Read-only. It never fails because something is missing; the caller decides.
author:
  - homelab.mediacluster developers (@homelab-mediacluster)
extends_documentation_fragment:
  - homelab.mediacluster.attributes.read_only
options:
  packages:
    description:
      - Debian package names to look up. A name may carry a version, C(name=version) (C(*) as a wildcard, as
        C(apt) takes it); it is then installed only in a matching version.
    type: list
    elements: str
    default: []
  paths:
    description: Paths whose existence is reported in RV(paths_present) (for example a time zone file).
    type: list
    elements: path
    default: []
  units:
    description: systemd units whose C(ActiveState) is reported in RV(units) and C(UnitFileState) in RV(unit_files)
      (one C(systemctl show) for all).
    type: list
    elements: str
    default: []
  owners:
    description: Paths whose owner and group IDs are reported in RV(owners) (for example a device node's group).
    type: list
    elements: path
    default: []
  files:
    description: Small text files (up to 1 MiB) whose contents are returned in RV(files), such as
      C(/proc/filesystems). A file that does not exist or cannot be read is left out.
    type: list
    elements: path
    default: []
  links:
    description: Paths whose symbolic link target is reported in RV(links) (for example C(/etc/localtime)).
    type: list
    elements: path
    default: []
  checksums:
    description: Regular files whose sha256, mode, owner and group are reported in RV(checksums) (for example an
      installed binary that must be a pinned release).
    type: list
    elements: path
    default: []
  cgroups:
    description: Also decide whether the memory cgroup controller is available (the same answer as
      M(homelab.mediacluster.cgroup_info)).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Read what this node has
  homelab.mediacluster.node_facts:
    packages: [curl, open-iscsi]
    paths: [/usr/share/zoneinfo/Europe/Berlin]
    cgroups: true
  register: node

- name: Install what is missing, and only then touch apt
  ansible.builtin.apt:
    name: [curl, open-iscsi]
    update_cache: true
  when: node.packages_missing | length > 0
"""

RETURN = r"""
packages:
  description: The installed versions of the packages asked for that are installed.
  returned: always
  type: dict
  sample: {curl: 7.88.1-10+deb12u8}
packages_missing:
  description: The packages asked for that are not installed (or not in the version asked for), in the order given.
  returned: always
  type: list
  elements: str
paths_present:
  description: The paths asked for that exist.
  returned: always
  type: list
  elements: str
model:
  description: The device-tree model (C(/proc/device-tree/model)), empty on machines without one.
  returned: always
  type: str
  sample: Raspberry Pi 5 Model B Rev 1.0
procsys_read_only:
  description: Whether C(/proc/sys) is mounted read-only here (as in most containers).
  returned: always
  type: bool
swaps:
  description: The active swap devices and files (C(/proc/swaps)).
  returned: always
  type: list
  elements: str
units:
  description: The C(ActiveState) of each unit asked for (C(unknown) without systemd).
  returned: always
  type: dict
  sample: {iscsid.service: active, multipathd.service: inactive}
unit_files:
  description: The C(UnitFileState) of each unit asked for (C(enabled), C(disabled), C(static); C(unknown) without
    systemd or for a unit systemd does not know).
  returned: always
  type: dict
  sample: {iscsid.service: enabled, multipathd.service: disabled}
owners:
  description: The owner (C(uid)) and group (C(gid)) IDs of each path asked for in O(owners) that exists.
  returned: always
  type: dict
  sample: {/dev/dri/renderD128: {uid: 0, gid: 104}}
files:
  description: The contents of the files asked for that could be read.
  returned: always
  type: dict
links:
  description: The target of each path asked for in O(links) that is a symbolic link, as the link holds it
    (possibly relative).
  returned: always
  type: dict
  sample: {/etc/localtime: /usr/share/zoneinfo/Europe/Berlin}
checksums:
  description: For each path asked for in O(checksums) that is a regular file (a link is followed), its C(sha256),
    C(mode) (octal, as C(0755)), C(owner) and C(group) (names; the ID as text when it has no name).
  returned: always
  type: dict
  sample: {/usr/local/bin/k3s: {sha256: 3c5c4b0e..., mode: '0755', owner: root, group: root}}
cgroups:
  description: The memory cgroup decision, with the keys M(homelab.mediacluster.cgroup_info) returns.
  returned: when O(cgroups=true)
  type: dict
"""

import fnmatch
import grp
import hashlib
import os
import pwd
import stat as stat_mode

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.homelab.mediacluster.plugins.module_utils.cgroups import read_memory_cgroup

INSTALLED = 'install ok installed'


def _read_text(path, limit=-1):
    """The text of a file (up to limit bytes), or None when it does not exist or cannot be read."""
    try:
        with open(path, 'rb') as handle:
            return handle.read(limit).decode('utf-8', 'replace')
    except (IOError, OSError):
        return None


def parse_dpkg_query(text):
    """`dpkg-query -W -f '${Package}\\t${Status}\\t${Version}\\n'` output -> {package: version} of installed ones."""
    installed = {}
    for line in text.splitlines():
        fields = line.split('\t')
        if len(fields) == 3 and fields[1] == INSTALLED:
            installed[fields[0]] = fields[2]
    return installed


def package_state(wanted, installed):
    """(versions of the wanted packages that are installed, wanted entries that are missing) for names such as
    ``curl`` or ``curl=7.88*``."""
    found, missing = {}, []
    for entry in wanted:
        name, _sep, version = entry.partition('=')
        have = installed.get(name)
        if have is None or (version and not fnmatch.fnmatchcase(have, version)):
            missing.append(entry)
        else:
            found[name] = have
    return found, missing


def _unescape(field):
    # /proc/self/mountinfo escapes space, tab, newline and backslash as octal
    return field.replace('\\040', ' ').replace('\\011', '\t').replace('\\012', '\n').replace('\\134', '\\')


def mount_options(mountinfo, target):
    """The per-mount options of the mount that holds target (the longest mount point above it), from the text of
    /proc/self/mountinfo; [] when none is found."""
    best, options = '', []
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) < 6:
            continue
        point = _unescape(fields[4])
        inside = target == point or target.startswith(point.rstrip('/') + '/')
        if inside and len(point) >= len(best):  # the later of two mounts on one point is the visible one
            best, options = point, fields[5].split(',')
    return options


def active_swaps(text):
    """The Filename column of /proc/swaps (header skipped)."""
    return [line.split()[0] for line in text.splitlines()[1:] if line.strip()]


def parse_systemctl_show(text, units, prop='ActiveState'):
    """{unit: the value of prop} from `systemctl show -p <prop>... <units>` (one block per unit, in the order
    asked); unknown when systemctl gave none."""
    blocks = text.strip().split('\n\n') if text.strip() else []
    states = {}
    for index, block in enumerate(blocks[:len(units)]):
        unit = units[index]
        for line in block.splitlines():
            key, _sep, value = line.partition('=')
            if key == prop:
                states[unit] = value or 'unknown'
    return dict((unit, states.get(unit, 'unknown')) for unit in units)


def read_units(module, units):
    """({unit: ActiveState}, {unit: UnitFileState}) in one systemctl call."""
    if not units:
        return {}, {}
    systemctl = module.get_bin_path('systemctl')
    if not systemctl:
        unknown = dict((unit, 'unknown') for unit in units)
        return unknown, dict(unknown)
    rc, out, _err = module.run_command([systemctl, 'show', '-p', 'ActiveState', '-p', 'UnitFileState', '--'] + units)
    out = out if rc == 0 else ''
    return parse_systemctl_show(out, units), parse_systemctl_show(out, units, 'UnitFileState')


def read_owners(paths):
    """{path: {'uid': n, 'gid': n}} of the paths that exist."""
    owners = {}
    for path in paths:
        try:
            stat = os.stat(path)
        except (IOError, OSError):
            continue
        owners[path] = {'uid': stat.st_uid, 'gid': stat.st_gid}
    return owners


def read_files(paths):
    """{path: text} of the files that could be read, each up to 1 MiB."""
    texts = dict((path, _read_text(path, 1 << 20)) for path in paths)
    return dict((path, text) for path, text in texts.items() if text is not None)


def read_links(paths):
    """{path: target} of the paths that are symbolic links."""
    links = {}
    for path in paths:
        try:
            links[path] = os.readlink(path)
        except (IOError, OSError):
            pass
    return links


def _name(lookup, ident):
    try:
        return lookup(ident)[0]
    except KeyError:
        return str(ident)


def read_checksums(paths):
    """{path: {'sha256', 'mode', 'owner', 'group'}} of the paths that are regular files and can be read."""
    found = {}
    for path in paths:
        digest = hashlib.sha256()
        try:
            with open(path, 'rb') as handle:
                info = os.fstat(handle.fileno())
                if not stat_mode.S_ISREG(info.st_mode):
                    continue
                for block in iter(lambda: handle.read(1 << 20), b''):
                    digest.update(block)
        except (IOError, OSError):
            continue
        found[path] = {'sha256': digest.hexdigest(), 'mode': '%04o' % stat_mode.S_IMODE(info.st_mode),
                       'owner': _name(pwd.getpwuid, info.st_uid), 'group': _name(grp.getgrgid, info.st_gid)}
    return found


def read_packages(module, wanted):
    if not wanted:
        return {}, []
    dpkg_query = module.get_bin_path('dpkg-query')
    if not dpkg_query:
        module.fail_json(msg='node_facts: dpkg-query is not on this node, so its packages cannot be read; the node '
                             'roles support Debian-family systems (Debian, Ubuntu, Raspberry Pi OS).')
    names = sorted(set(entry.partition('=')[0] for entry in wanted))
    # rc 1 only says that some name is unknown to dpkg: those are missing, the others are still listed
    rc, out, err = module.run_command([dpkg_query, '-W', '-f', '${Package}\t${Status}\t${Version}\n', '--'] + names)
    if rc not in (0, 1):
        module.fail_json(msg='node_facts: dpkg-query failed (rc={0}): {1}; is the dpkg database intact '
                             '(dpkg --audit)?'.format(rc, err.strip()))
    return package_state(wanted, parse_dpkg_query(out))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            packages=dict(type='list', elements='str', default=[]),
            paths=dict(type='list', elements='path', default=[]),
            units=dict(type='list', elements='str', default=[]),
            owners=dict(type='list', elements='path', default=[]),
            files=dict(type='list', elements='path', default=[]),
            links=dict(type='list', elements='path', default=[]),
            checksums=dict(type='list', elements='path', default=[]),
            cgroups=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    found, missing = read_packages(module, module.params['packages'])
    active, unit_files = read_units(module, module.params['units'])
    result = dict(
        changed=False,
        packages=found,
        packages_missing=missing,
        paths_present=[path for path in module.params['paths'] if os.path.exists(path)],
        model=(_read_text('/proc/device-tree/model') or '').rstrip('\x00\n'),
        procsys_read_only='ro' in mount_options(_read_text('/proc/self/mountinfo') or '', '/proc/sys'),
        swaps=active_swaps(_read_text('/proc/swaps') or ''),
        units=active,
        unit_files=unit_files,
        owners=read_owners(module.params['owners']),
        files=read_files(module.params['files']),
        links=read_links(module.params['links']),
        checksums=read_checksums(module.params['checksums']),
    )
    if module.params['cgroups']:
        try:
            result['cgroups'] = read_memory_cgroup()
        except (IOError, OSError) as exc:
            module.fail_json(msg='node_facts: cannot read the cgroup files ({0}): {1}; is /sys/fs/cgroup or /proc '
                                 'mounted?'.format(exc.filename, exc.strerror))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
