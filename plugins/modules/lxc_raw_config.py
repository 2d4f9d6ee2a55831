#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: lxc_raw_config
short_description: Set raw lxc.* keys in a Proxmox VE container config file
version_added: 0.1.0
description:
  - Runs on the Proxmox VE host and edits C(/etc/pve/lxc/<vmid>.conf), because raw C(lxc.*) keys (AppArmor profile,
    cgroup device rules, mount entries, capabilities) cannot be set through the PVE API.
  - Only the current config is touched, the part before the first C([snapshot]) section; snapshot sections,
    comments, other keys and their order are kept.
  - Multi-valued keys (O(multi_keys), such as C(lxc.cgroup2.devices.allow) and C(lxc.mount.entry)) are sets; each
    listed value is present once, other values are kept unless O(exclusive=true). Every other key holds one value;
    duplicates of it are collapsed into one line.
  - A container reads these keys only when it starts, so RV(restart_required) is true whenever the file changed.
  - A write happens under Proxmox VE's own config lock, C(flock) on C(/run/lock/lxc/pve-config-<vmid>.lock), the
    lock C(pct), the API and C(vzdump) take, so the edit cannot race them; the file is read again once the lock is
    held. A run that changes nothing takes no lock.
author:
  - homelab.mediacluster developers (@homelab-mediacluster)
attributes:
  check_mode:
    support: full
    description: The file is not written; the result says what would change.
  diff_mode:
    support: full
    description: The file's text before and after.
options:
  vmid:
    description: Id of the container.
    type: int
    required: true
  path:
    description: The config file; defaults to C(/etc/pve/lxc/<vmid>.conf). The file must already exist.
    type: path
  entries:
    description:
      - Keys to set (O(state=present)) or remove (O(state=absent)). Each key must start with C(lxc.).
      - For a multi-valued key give a list of values; for any other key one string (an empty string writes the key
        with an empty value, as C(lxc.cap.drop:) needs).
      - With O(state=absent) a key mapped to null (or an empty list) removes every line of that key; otherwise only
        the listed values.
    type: dict
    required: true
  state:
    description: Whether the entries must be present or absent.
    type: str
    choices: [present, absent]
    default: present
  exclusive:
    description: For multi-valued keys in O(entries), remove values that are not listed.
    type: bool
    default: false
  lock_timeout:
    description:
      - Seconds to wait for the container's config lock before failing. Proxmox VE itself waits 10 seconds.
    type: int
    default: 10
  lock_dir:
    description: Directory of Proxmox VE's container config locks.
    type: path
    default: /run/lock/lxc
  multi_keys:
    description: Keys whose lines are a set of values rather than one value.
    type: list
    elements: str
    default: [lxc.cgroup2.devices.allow, lxc.cgroup2.devices.deny, lxc.cgroup.devices.allow,
              lxc.cgroup.devices.deny, lxc.mount.entry, lxc.environment, lxc.hook.pre-start, lxc.hook.mount,
              lxc.hook.start, lxc.hook.stop, lxc.hook.post-stop]
'''

EXAMPLES = r'''
- name: Raw keys k3s needs in a privileged container
  homelab.mediacluster.lxc_raw_config:
    vmid: 113
    entries:
      lxc.apparmor.profile: unconfined
      lxc.cgroup2.devices.allow: [a]
      lxc.cap.drop: ""
      lxc.mount.auto: "proc:rw sys:rw"
      lxc.mount.entry: ["/dev/kmsg dev/kmsg none defaults,bind,create=file"]
  register: raw

- name: GPU on PVE before 8.1 (no devN) - DRM char devices and a bind mount of /dev/dri
  homelab.mediacluster.lxc_raw_config:
    vmid: 113
    entries:
      lxc.cgroup2.devices.allow: ["c 226:* rwm"]
      lxc.mount.entry: ["/dev/dri dev/dri none bind,optional,create=dir"]

- name: Drop an old rule
  homelab.mediacluster.lxc_raw_config:
    vmid: 113
    state: absent
    entries:
      lxc.cgroup2.devices.allow: ["c 10:200 rwm"]
'''

RETURN = r'''
path:
  description: The file that was checked.
  returned: always
  type: str
restart_required:
  description: The file changed; the container applies raw keys only at its next start.
  returned: always
  type: bool
added:
  description: Lines added, as C(key) colon C(value).
  returned: always
  type: list
  elements: str
removed:
  description: Lines removed, as C(key) colon C(value).
  returned: always
  type: list
  elements: str
'''

import errno
import fcntl
import os
import re
import tempfile
import time
from contextlib import contextmanager

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

LINE = re.compile(r'^\s*(lxc\.[A-Za-z0-9_.\-]+)\s*[:=]\s?(.*?)\s*$')
SECTION = re.compile(r'^\s*\[[^\]]+\]\s*$')


class RawConfigError(Exception):
    pass


def split_main(lines):
    """Index of the first [section] line, or len(lines)."""
    for index, line in enumerate(lines):
        if SECTION.match(line):
            return index
    return len(lines)


def want_values(key, value, multi):
    if multi:
        if value is None:
            return []
        if isinstance(value, (list, tuple)):
            return [str(v).strip() for v in value]
        return [str(value).strip()]
    if isinstance(value, (list, tuple)):
        if len(value) > 1:
            raise RawConfigError('{0} holds one value, got {1}; give a single string, or add the key to multi_keys '
                                 'if LXC accepts it several times. Nothing was changed.'.format(key, list(value)))
        value = value[0] if value else None
    return None if value is None else str(value).strip()


def converge(text, entries, state, exclusive, multi_keys):
    """(new text, added lines, removed lines)."""
    lines = text.splitlines()
    end = split_main(lines)
    main, rest = lines[:end], lines[end:]
    added, removed = [], []
    for key in entries:
        if not key.startswith('lxc.') or not re.fullmatch(r'lxc\.[A-Za-z0-9_.\-]+', key):
            raise RawConfigError('{0!r} is not a raw lxc.* key; set PVE options (cores, features, devN...) with '
                                 'proxmox_lxc instead. Nothing was changed.'.format(key))
    for key, value in entries.items():
        multi = key in multi_keys
        wanted = want_values(key, value, multi)
        found = [(i, m.group(2)) for i, m in ((i, LINE.match(line)) for i, line in enumerate(main))
                 if m and m.group(1) == key]
        drop = set()
        if state == 'absent':
            for index, have in found:
                if not wanted or (multi and have in wanted) or (not multi and have == wanted):
                    drop.add(index)
        elif multi:
            seen = set()
            for index, have in found:
                if have in seen or (exclusive and have not in wanted):
                    drop.add(index)
                seen.add(have)
            missing = [v for v in wanted if v not in seen]
            main = insert(main, key, missing)
            added += ['{0}: {1}'.format(key, v) for v in missing]
        else:
            keep = next((i for i, have in reversed(found) if have == wanted), None)
            drop = set(i for i, _unused in found if i != keep)
            if keep is None:
                main = insert(main, key, [wanted])
                added.append('{0}: {1}'.format(key, wanted))
        removed += ['{0}: {1}'.format(key, LINE.match(main[i]).group(2)) for i in sorted(drop)]
        main = [line for i, line in enumerate(main) if i not in drop]
    out = main + rest
    new = '\n'.join(out) + ('\n' if out else '')
    return new, added, removed


def insert(main, key, values):
    """main with key: value lines added after its last non-blank line (before the blank line before snapshots)."""
    if not values:
        return main
    at = len(main)
    while at > 0 and not main[at - 1].strip():
        at -= 1
    new = ['{0}: {1}'.format(key, v).rstrip() if v else '{0}:'.format(key) for v in values]
    return main[:at] + new + main[at:]


def write(path, text):
    """Replace the file through a temporary file in the same directory (pmxcfs supports rename, not chmod)."""
    directory = os.path.dirname(path) or '.'
    fd, tmp = tempfile.mkstemp(prefix='.{0}.'.format(os.path.basename(path)), suffix='.tmp', dir=directory)
    try:
        with os.fdopen(fd, 'w') as handle:
            handle.write(text)
        os.rename(tmp, path)
    except Exception:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@contextmanager
def config_lock(lock_dir, vmid, timeout):
    """Hold pve-container's config lock (flock LOCK_EX on <lock_dir>/pve-config-<vmid>.lock), waiting up to
    timeout seconds for whoever holds it."""
    if not os.path.isdir(lock_dir):
        os.makedirs(lock_dir, 0o755)
    path = os.path.join(lock_dir, 'pve-config-{0}.lock'.format(vmid))
    handle = open(path, 'a')
    try:
        deadline = time.monotonic() + max(timeout, 0)
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except (IOError, OSError) as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
            if time.monotonic() >= deadline:
                raise RawConfigError(
                    'could not take the config lock {0} within {1}s: another process is changing this container - '
                    'a backup (vzdump; its task shows in the node\'s task log), a running pct command, or a write '
                    'through the API or web UI. See who holds it with `fuser -v {0}`, let it finish and rerun, or '
                    'raise lock_timeout. Nothing was changed.'.format(path, timeout))
            time.sleep(0.1)
        yield path
    finally:
        handle.close()


def run(module):
    p = module.params
    path = p['path'] or '/etc/pve/lxc/{0}.conf'.format(p['vmid'])
    if not os.path.isfile(path):
        raise RawConfigError('container {0} has no config file {1} on this host; run this on the PVE node that holds '
                             'the container (or create it first with proxmox_lxc). Nothing was changed.'.format(
                                 p['vmid'], path))
    with open(path) as handle:
        text = handle.read()
    new, added, removed = converge(text, p['entries'], p['state'], p['exclusive'], set(p['multi_keys']))
    if new != text and not module.check_mode:
        with config_lock(p['lock_dir'], p['vmid'], p['lock_timeout']):
            # read again under the lock: what pct or the API wrote while we waited is kept
            with open(path) as handle:
                text = handle.read()
            new, added, removed = converge(text, p['entries'], p['state'], p['exclusive'], set(p['multi_keys']))
            if new != text:
                write(path, new)
    changed = new != text
    result = dict(changed=changed, path=path, restart_required=changed, added=added, removed=removed)
    if changed:
        result['diff'] = dict(before=text, after=new, before_header=path, after_header=path)
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            vmid=dict(type='int', required=True),
            path=dict(type='path'),
            entries=dict(type='dict', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            exclusive=dict(type='bool', default=False),
            lock_timeout=dict(type='int', default=10),
            lock_dir=dict(type='path', default='/run/lock/lxc'),
            # names of lxc.* config keys, not key material: no_log=False answers sanity's no-log-needed guess
            multi_keys=dict(type='list', elements='str', no_log=False, default=[
                'lxc.cgroup2.devices.allow', 'lxc.cgroup2.devices.deny', 'lxc.cgroup.devices.allow',
                'lxc.cgroup.devices.deny', 'lxc.mount.entry', 'lxc.environment', 'lxc.hook.pre-start',
                'lxc.hook.mount', 'lxc.hook.start', 'lxc.hook.stop', 'lxc.hook.post-stop']),
        ),
        supports_check_mode=True,
    )
    try:
        result = run(module)
    except (RawConfigError, IOError, OSError) as exc:
        module.fail_json(msg='CT {0}: {1}'.format(module.params['vmid'], to_native(exc)))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
