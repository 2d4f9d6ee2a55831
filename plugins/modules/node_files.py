#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: node_files
short_description: Keep a node's configuration drop-ins (directories and small files) in one call
version_added: 0.1.0
description:
  - One round trip for the drop-in files a node role owns (journald, modules-load.d, sysctl.d, multipath), instead of
    one M(ansible.builtin.file) and one M(ansible.builtin.template) task per file. The caller renders the contents
    (for example with the C(ansible.builtin.template) lookup).
  - Each entry is read and compared first; a file is written (atomically, through a temporary file in its
    directory) only when its contents differ, and its owner, group and mode are set only when they differ. The same
    desired state makes no write at all.
  - It never replaces what it does not own. A file path that is a symbolic link, or a directory where a file is
    asked for (or the other way round), is an error that names the path, and nothing in the call is changed.
  - A symbolic link to a directory counts as that directory, as M(ansible.builtin.file) follows it (a data
    directory that links to a pool's mount point); its owner, group and mode are kept on the directory it points to.
author:
  - homelab.mediacluster developers (@homelab-mediacluster)
extends_documentation_fragment:
  - homelab.mediacluster.attributes
options:
  files:
    description: The directories and files, handled in the order given (a directory before the files in it).
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Absolute path of the directory or file.
        type: path
        required: true
      state:
        description: C(directory) or C(file). A directory is created with its missing parents (as
          M(ansible.builtin.file) does), each with the entry's owner, group and mode.
        type: str
        choices: [directory, file]
        default: file
      content:
        description: The whole text of the file (for O(files[].state=file)).
        type: str
        default: ''
      owner:
        description: Owner (name or uid).
        type: str
        default: root
      group:
        description: Group (name or gid).
        type: str
        default: root
      mode:
        description: Permissions as an octal string, such as C('0644').
        type: str
        required: true
"""

EXAMPLES = r"""
- name: Cap the journal size
  homelab.mediacluster.node_files:
    files:
      - {path: /etc/systemd/journald.conf.d, state: directory, mode: '0755'}
      - path: /etc/systemd/journald.conf.d/mediacluster.conf
        content: "{{ lookup('ansible.builtin.template', 'etc/systemd/journald.conf.d/mediacluster.conf.j2') }}"
        mode: '0644'
  register: journal_files
  notify: Restart journald  # the handler checks journal_files.changed_paths
"""

RETURN = r"""
changed_paths:
  description: The paths that were (in check mode, would be) created or changed, in the order given.
  returned: always
  type: list
  elements: str
  sample: [/etc/systemd/journald.conf.d/mediacluster.conf]
"""

import os
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native


def _lstat(path):
    try:
        return os.lstat(path)
    except OSError:
        return None


def _refusal(entry, found):
    """Why an entry cannot be kept without replacing something the collection does not own, or None."""
    if found is None:
        return None
    if stat.S_ISLNK(found.st_mode):
        if entry['state'] == 'directory' and os.path.isdir(entry['path']):
            return None  # a link to a directory is that directory, as ansible.builtin.file follows it
        return ('{0} is a symbolic link; node_files keeps only real files and directories, so it does not write '
                'through it. Remove the link or point the role somewhere else.'.format(entry['path']))
    wanted_dir = entry['state'] == 'directory'
    if wanted_dir != stat.S_ISDIR(found.st_mode):
        return ('{0} exists but is not a {1}; move it away, then run again.'.format(
            entry['path'], 'directory' if wanted_dir else 'regular file'))
    return None


def _read(path):
    with open(path, 'rb') as handle:
        return handle.read()


def _write(module, path, data):
    handle, temp = tempfile.mkstemp(prefix='.node_files.', dir=os.path.dirname(path))
    try:
        with os.fdopen(handle, 'wb') as out:
            out.write(data)
        module.atomic_move(temp, path, unsafe_writes=False)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def _attributes(entry, path):
    # the SELinux context is left as it is (None per field), as the file and template modules leave it by default
    return dict(path=path, owner=entry['owner'], group=entry['group'], mode=entry['mode'],
                secontext=[None, None, None, None], attributes=None)


def _missing_dirs(path):
    """The directories from the first missing one down to path (mkdir -p order)."""
    missing = []
    while path and not os.path.lexists(path):
        missing.insert(0, path)
        path = os.path.dirname(path)
    return missing


def keep(module, entry, planned_dirs, diffs):
    """Bring one entry to its desired state; return whether it changed (in check mode: would change)."""
    path = entry['path']
    found = _lstat(path)
    changed = False
    if entry['state'] == 'directory':
        if found is None:
            missing = _missing_dirs(path)
            diffs.append(dict(before_header=path, after_header=path, before={'path': path, 'state': 'absent'},
                              after={'path': path, 'state': 'directory'}))
            if module.check_mode:
                planned_dirs.update(missing)
                return True
            # like ansible.builtin.file: missing parents are created too, with the same owner, group and mode
            for directory in missing:
                os.mkdir(directory, int(entry['mode'], 8))
                module.set_fs_attributes_if_different(_attributes(entry, directory), True, expand=False)
            changed = True
    else:
        parent = os.path.dirname(path)
        if found is None and not os.path.isdir(parent) and parent not in planned_dirs:
            if module.check_mode:  # an earlier task (a package) may create it; the real run says if not
                diffs.append(dict(before_header=path, after_header=path, before='', after=entry['content']))
                return True
            module.fail_json(msg='{0}: its directory {1} does not exist; list the directory before it '
                                 '(state=directory) or create it first.'.format(path, parent))
        data = to_bytes(entry['content'], errors='surrogate_or_strict')
        before = _read(path) if found is not None else None
        if before != data:
            diffs.append(dict(before_header=path, after_header=path,
                              before=to_native(before, errors='surrogate_or_replace') if before is not None else '',
                              after=entry['content']))
            if module.check_mode and found is None:
                return True
            if not module.check_mode:
                _write(module, path, data)
            changed = True
    attribute_diff = dict(before={}, after={})
    target = os.path.realpath(path) if found is not None and stat.S_ISLNK(found.st_mode) else path
    changed = module.set_fs_attributes_if_different(_attributes(entry, target), changed, attribute_diff, expand=False)
    if attribute_diff['before'] != attribute_diff['after']:
        diffs.append(dict(before_header=path, after_header=path, before=attribute_diff['before'],
                          after=attribute_diff['after']))
    return changed


def main():
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(type='list', elements='dict', required=True, options=dict(
                path=dict(type='path', required=True),
                state=dict(type='str', choices=['directory', 'file'], default='file'),
                content=dict(type='str', default=''),
                owner=dict(type='str', default='root'),
                group=dict(type='str', default='root'),
                mode=dict(type='str', required=True),
            )),
        ),
        supports_check_mode=True,
    )
    entries = module.params['files']
    for entry in entries:
        if not os.path.isabs(entry['path']):
            module.fail_json(msg='{0}: node_files needs absolute paths.'.format(entry['path']))
        try:
            int(entry['mode'], 8)
        except ValueError:
            module.fail_json(msg="{0}: mode {1!r} is not an octal string such as '0644'.".format(
                entry['path'], entry['mode']))
    # every refusal is found before the first write, so a bad entry changes nothing
    for entry in entries:
        refusal = _refusal(entry, _lstat(entry['path']))
        if refusal:
            module.fail_json(msg=refusal)
    changed_paths, diffs, planned_dirs = [], [], set()
    for entry in entries:
        if keep(module, entry, planned_dirs, diffs):
            changed_paths.append(entry['path'])
    result = dict(changed=bool(changed_paths), changed_paths=changed_paths)
    if module._diff:
        result['diff'] = diffs
    module.exit_json(**result)


if __name__ == '__main__':
    main()
