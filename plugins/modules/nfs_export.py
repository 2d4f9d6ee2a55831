#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: nfs_export
short_description: Manage one NFS export in an exports file without touching the lines it does not own
version_added: 0.1.0
description:
  - >-
    Writes one export (a path and its clients, each with its own options) into an exports(5) file, marked by a
    comment C(# homelab.mediacluster nfs_export: NAME) on the line before it. Only that marked entry is ever
    changed; every other line of the file (comments, continuation lines, other exports) is kept byte for byte -
    line endings (CRLF or LF), a missing final newline and bytes that are not UTF-8 included. Adding an export and
    removing it again gives back the original file exactly.
  - >-
    Validates the path, the client syntax and every option before anything is written: unknown options,
    conflicting pairs (C(root_squash)/C(no_root_squash), C(all_squash)/C(no_root_squash), C(rw)/C(ro), ...),
    C(fsid) values already used by another export, and a path already exported by a line the module does not own.
    Option values are checked against their grammar (C(mp)/C(mountpoint) an absolute path, C(refer)/C(replicas)
    C(path@host[+host][:...]), C(xprtsec) C(none)/C(tls)/C(mtls), C(fsid) a number, C(root) or a UUID); hosts and
    values with white space, control characters, quotes, C(#), commas or parentheses are refused.
  - Parse errors in O(dest) or in a file read for conflicts name the file and the line.
  - Reads, compares, then acts. When the file already holds the wanted entry the module returns C(changed=false)
    and writes nothing. When it changes the file it runs C(exportfs -ra); if exportfs rejects the new file, the
    previous file is restored and the task fails with exportfs' message.
author:
  - homelab.mediacluster developers (@homelab-mediacluster)
extends_documentation_fragment:
  - homelab.mediacluster.attributes
options:
  name:
    description:
      - Name of the export. It identifies the entry the module owns (the marker comment) and names the default
        O(dest) file.
    type: str
    required: true
  path:
    description:
      - Absolute directory to export. Paths with spaces are written in double quotes; a double quote, a backslash,
        C(#) and tabs are written as the octal escapes exportfs reads (C(\042), C(\134), C(\043), C(\011)).
        Control characters are refused.
      - Required with O(state=present).
    type: str
  clients:
    description:
      - Hosts allowed to mount the export, each with its own options. At least one with O(state=present).
    type: list
    elements: dict
    default: []
    suboptions:
      host:
        description:
          - A host name (wildcards C(*) and C(?) allowed), an IPv4/IPv6 address or network (C(192.168.1.0/24),
            C(fd00::/64)) or a C(@netgroup). A bare C(*) (every host) needs O(allow_world=true).
        type: str
        required: true
      options:
        description:
          - Export options from exports(5), such as C(rw), C(sync), C(no_subtree_check), C(all_squash),
            C(anonuid=1000), C(fsid=0).
        type: list
        elements: str
        default: []
  dest:
    description:
      - The exports file to write. Defaults to C(/etc/exports.d/NAME.exports). May be C(/etc/exports); the lines
        there that the module does not own are kept as they are.
    type: path
  allowed_root:
    description:
      - When set, O(path) must be this directory or below it. Protects against exporting C(/) or C(/etc) by a
        typo in an inventory.
    type: path
  allow_world:
    description:
      - Allow the client C(*) (every host on every network). Off by default; export to the cluster's subnet.
    type: bool
    default: false
  state:
    description:
      - C(present) writes the export, C(absent) removes the entry the module owns (and the O(dest) file when
        nothing else is left in it and it is not C(/etc/exports)).
    type: str
    choices: [present, absent]
    default: present
  reload:
    description:
      - Run C(exportfs -ra) after the file changed, so the kernel server serves the new table. Set to false on
        hosts without nfs-utils (the ganesha backend has its own configuration).
    type: bool
    default: true
  exports_dir:
    description:
      - Directory of drop-in exports files, read to find conflicting exports and fsid clashes.
    type: path
    default: /etc/exports.d
notes:
  - The main file C(/etc/exports) and every C(*.exports) file in O(exports_dir) are read for conflicts; only
    O(dest) is ever written.
seealso:
  - name: exports(5)
    description: The exports file format and the export options.
    link: https://man7.org/linux/man-pages/man5/exports.5.html
"""

EXAMPLES = r"""
- name: Export the media tree to the cluster subnet, squashed to the media user
  homelab.mediacluster.nfs_export:
    name: data
    path: /srv/nas/data
    allowed_root: /srv/nas
    clients:
      - host: 192.168.1.0/24
        options: [rw, sync, no_subtree_check, all_squash, anonuid=1000, anongid=1000]

- name: Export the Longhorn backup target (Longhorn writes as root)
  homelab.mediacluster.nfs_export:
    name: longhorn-backup
    path: /srv/nas/longhorn-backup
    clients:
      - host: 192.168.1.0/24
        options: [rw, sync, no_subtree_check, no_root_squash]

- name: Add an export to /etc/exports next to the lines written by hand
  homelab.mediacluster.nfs_export:
    name: scratch
    path: /srv/scratch space
    dest: /etc/exports
    clients:
      - host: fd00:10::/64
        options: [rw, sync, no_subtree_check]

- name: Remove an export the module wrote earlier
  homelab.mediacluster.nfs_export:
    name: scratch
    dest: /etc/exports
    state: absent
"""

RETURN = r"""
dest:
  description: The exports file the module manages the entry in.
  returned: always
  type: str
  sample: /etc/exports.d/data.exports
line:
  description: The export line as written (empty with O(state=absent)).
  returned: always
  type: str
  sample: /srv/nas/data 192.168.1.0/24(rw,sync,no_subtree_check,all_squash,anonuid=1000,anongid=1000)
export:
  description: The export as validated (path and clients with their options).
  returned: always
  type: dict
  sample: {"path": "/srv/nas/data", "clients": [{"host": "192.168.1.0/24", "options": ["rw", "sync"]}]}
reloaded:
  description: Whether C(exportfs -ra) ran.
  returned: always
  type: bool
  sample: true
"""

import os
import re
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.homelab.mediacluster.plugins.module_utils import nfs_exports
from ansible_collections.homelab.mediacluster.plugins.module_utils.nfs_exports import ExportsError

MAIN_EXPORTS = '/etc/exports'


def argument_spec():
    return dict(
        name=dict(type='str', required=True),
        path=dict(type='str'),
        clients=dict(type='list', elements='dict', default=[], options=dict(
            host=dict(type='str', required=True),
            options=dict(type='list', elements='str', default=[]),
        )),
        dest=dict(type='path'),
        allowed_root=dict(type='path'),
        allow_world=dict(type='bool', default=False),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        reload=dict(type='bool', default=True),
        exports_dir=dict(type='path', default='/etc/exports.d'),
    )


def _for_diff(data):
    """File bytes as diff text: CR kept visible as \\r before the LF it precedes, non-UTF-8 bytes as \\xNN."""
    return nfs_exports.printable(nfs_exports.decode(data)).replace('\r\n', '\\r\n')


class NfsExport(object):
    """Read the file, compute the wanted text, write and reload only when it differs."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.name = self.params['name']
        self.dest = self.params['dest'] or os.path.join(self.params['exports_dir'], self.name + '.exports')

    def desired(self):
        """Validate everything the user gave; nothing has been read or written yet."""
        if not re.match(r'^[A-Za-z0-9][A-Za-z0-9._-]*$', self.name):
            raise ExportsError('nfs_export name {0!r}: use letters, digits, ".", "_" and "-" only (it names a '
                               'file and a marker comment)'.format(self.name))
        if self.params['state'] == 'absent':
            return None, []
        label = 'export {0}'.format(self.name)
        if not self.params['path']:
            raise ExportsError('{0}: path is required with state=present'.format(label))
        path = nfs_exports.validate_path(self.params['path'], self.params['allowed_root'], label)
        clients = nfs_exports.normalise_clients(self.params['clients'], self.params['allow_world'], label)
        return path, clients

    def read(self, filename):
        """The file's exact bytes (None when missing): line endings and bytes that are not UTF-8 stay as they are."""
        try:
            return nfs_exports.read_file(filename)
        except ExportsError as exc:
            raise ExportsError('export {0}: {1}'.format(self.name, exc)) from None

    def write(self, text):
        directory = os.path.dirname(self.dest)
        if not os.path.isdir(directory):
            raise ExportsError('export {0}: directory {1} does not exist; install nfs-kernel-server (it creates '
                               '{1}) or choose another dest'.format(self.name, directory))
        fd, tmp = tempfile.mkstemp(dir=directory, prefix='.nfs_export.')
        with os.fdopen(fd, 'wb') as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        self.module.atomic_move(tmp, self.dest)

    def remove(self):
        os.unlink(self.dest)

    def reload(self):
        exportfs = self.module.get_bin_path('exportfs')
        if exportfs is None:
            raise ExportsError('export {0}: exportfs not found; install nfs-kernel-server, or set reload=false when '
                               'another server (nfs-ganesha) serves the exports'.format(self.name))
        return self.module.run_command([exportfs, '-ra'])

    def run(self):
        path, clients = self.desired()
        before = self.read(self.dest)
        current = before or b''
        state = self.params['state']
        if state == 'present':
            files = nfs_exports.exports_files(MAIN_EXPORTS, self.params['exports_dir'])
            files[self.dest] = current
            nfs_exports.check_foreign_conflicts(self.name, path, clients, files)
            try:
                after = nfs_exports.apply(current, self.name, path, clients, 'present', where=self.dest)
            except ExportsError as exc:
                raise ExportsError('export {0}: cannot parse {1}'.format(self.name, exc)) from None
            line = nfs_exports.render_entry(path, clients, '')
        else:
            try:
                after = nfs_exports.apply(current, self.name, None, None, 'absent', where=self.dest)
            except ExportsError as exc:
                raise ExportsError('export {0}: cannot parse {1}'.format(self.name, exc)) from None
            line = ''
        self.warn_stop(after)
        remove_file = (state == 'absent' and before is not None and not after.strip()
                       and self.dest != MAIN_EXPORTS)
        changed = after != current or remove_file
        if before is None and state == 'absent':
            changed = False
        result = dict(
            changed=changed, dest=self.dest, line=line, reloaded=False,
            export=dict(path=path, clients=[dict(host=h, options=o) for h, o in clients]),
        )
        if self.module._diff:
            # the diff shows every byte change: a CR or a byte that is not UTF-8 appears as an escape
            result['diff'] = dict(before=_for_diff(current), after='' if remove_file else _for_diff(after),
                                  before_header=self.dest, after_header=self.dest)
        if not changed or self.module.check_mode:
            return result
        if remove_file:
            self.remove()
        else:
            self.write(after)
        if self.params['reload']:
            rc, out, err = self.reload()
            if rc != 0:
                self.restore(before)
                raise ExportsError('export {0}: exportfs -ra rejected the new {1} (rc={2}): {3}; the previous file '
                                   'was restored. Fix the options or the path and rerun'.format(
                                       self.name, self.dest, rc, (err or out).strip()))
            result['reloaded'] = True
        return result

    def warn_stop(self, data):
        """exportfs silently stops reading a file at a line starting with CR, VT or FF (a blank CRLF line)."""
        items = nfs_exports.parse(data, self.dest)
        number, _index = nfs_exports.first_stop(items)
        if number is None:
            return
        ignored = [nfs_exports.printable(item.path) for item in items
                   if isinstance(item, nfs_exports.Entry) and item.ignored]
        self.module.warn(
            '{0} line {1}: exportfs stops reading the file at this line (it starts with a carriage return, vertical '
            'tab or form feed - a blank line of a CRLF file is one), so the exports after it are ignored ({2}). '
            'Export {3} was put before that line; remove that character from the line to have the others '
            'served.'.format(self.dest, number, ', '.join(ignored) or 'none', self.name))

    def restore(self, before):
        if before is None:
            if os.path.exists(self.dest):
                self.remove()
        else:
            self.write(before)
        self.reload()


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        required_if=[('state', 'present', ('path',))],
        supports_check_mode=True,
    )
    try:
        result = NfsExport(module).run()
    except ExportsError as exc:
        module.fail_json(msg=to_native(exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
