#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: plex_preferences
short_description: Set or unset attributes of Plex Media Server's Preferences.xml
version_added: 0.1.0
description:
  - Plex Media Server keeps its settings as attributes of the single C(<Preferences/>) element of
    C(Library/Application Support/Plex Media Server/Preferences.xml).
  - This module sets and unsets those attributes idempotently, editing only the attributes it is given. Every other
    attribute, their order and quoting, the XML declaration and the file's owner and mode are preserved.
  - Reads, compares, then writes only when a value differs (atomically, through a temporary file in the same
    directory). Check and diff mode are supported.
  - C(PlexOnlineToken) and every preference whose name ends in C(Token) are secrets - masked in diffs and
    results, and their values are no_log (never in the journal or in C(invocation.module_args) at C(-vvv)).
  - Names are checked before anything is read or written - each must be an XML attribute name (no spaces,
    quotes, C(=), C(:) or C(<>)) - and values must be characters XML can carry. An input error never changes the
    file.
  - Plex rewrites Preferences.xml from memory while it runs, so edit the file only while Plex is stopped (the
    C(homelab.mediacluster.plex) role scales Plex to zero first and restarts it only when this module changed
    something).
author:
  - homelab.mediacluster developers (@homelab-mediacluster)
options:
  path:
    description:
      - Path of Preferences.xml.
    type: path
    required: true
  preferences:
    description:
      - Attributes to set, name to value. Booleans become C(1)/C(0) as Plex writes them; numbers become text.
      - Common ones for hardware transcoding and remote access are C(HardwareAcceleratedCodecs),
        C(HardwareAcceleratedEncoders), C(HardwareDevicePath), C(TranscoderTempDirectory), C(customConnections)
        (the URLs Plex advertises; the linuxserver image ignores the C(ADVERTISE_IP) environment variable) and
        C(secureConnections) (0 disabled, 1 preferred, 2 required).
    type: dict
    default: {}
  absent:
    description:
      - Names of attributes to remove, so Plex falls back to its built-in default.
    type: list
    elements: str
    default: []
  create:
    description:
      - Create the file with only the given preferences when it does not exist yet (pre-seeding before Plex's first
        start). When false a missing file is an error, because Plex has not initialised its config yet.
    type: bool
    default: false
extends_documentation_fragment:
  - homelab.mediacluster.attributes
  - ansible.builtin.files
"""

EXAMPLES = r"""
- name: Turn on Intel Quick Sync transcoding and advertise the ingress URL (Plex stopped)
  homelab.mediacluster.plex_preferences:
    path: /var/lib/plex/config/Library/Application Support/Plex Media Server/Preferences.xml
    preferences:
      HardwareAcceleratedCodecs: true
      HardwareAcceleratedEncoders: true
      HardwareDevicePath: /dev/dri/renderD128
      TranscoderTempDirectory: /transcode
      customConnections: https://plex.example.org:443
      secureConnections: 1
  register: plex_prefs

- name: Let Plex pick the GPU itself again
  homelab.mediacluster.plex_preferences:
    path: /var/lib/plex/config/Library/Application Support/Plex Media Server/Preferences.xml
    absent: [HardwareDevicePath]
"""

RETURN = r"""
changes:
  description: The attributes that changed (or would change in check mode); C(before)/C(after) are null when absent.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "HardwareAcceleratedCodecs", "before": null, "after": "1"}]
claimed:
  description: Whether the server is claimed (C(PlexOnlineToken) is set), after the edit.
  returned: always
  type: bool
machine_identifier:
  description: The server's C(MachineIdentifier), when Plex has written one.
  returned: always
  type: str
preferences:
  description: Every attribute after the edit, with C(PlexOnlineToken) and every C(*Token) masked.
  returned: always
  type: dict
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_text

from ansible_collections.homelab.mediacluster.plugins.module_utils.plex_prefs import (
    PlexPreferencesError,
    StartTag,
    is_secret,
    new_document,
    plan,
    redact,
    render_for_diff,
    to_pref_value,
    validate_name,
    validate_value,
)


def secret_values(params):
    """The values of token-like preferences (PlexOnlineToken, any name ending in Token), as given and as written."""
    found = set()
    for name, value in (params.get('preferences') or {}).items():
        # a boolean is no secret, and "1"/"0" in no_log_values would mask every 1 and 0 in the output
        if is_secret(name) and value not in (None, '') and not isinstance(value, bool):
            found.update([to_pref_value(value), to_text(value)])
    return found


class PreferencesModule(AnsibleModule):
    """AnsibleModule whose token-like preference values are no_log from the start.

    preferences is a free-form dict, so no_log cannot be declared per value in the argument spec. AnsibleModule
    writes the invocation to the journal while it is being built (_log_invocation), before main() could add to
    no_log_values; the values are added here, just before that, so the journal line, every result and
    invocation.module_args (shown at -vvv) all carry VALUE_SPECIFIED_IN_NO_LOG_PARAMETER instead."""

    def _log_invocation(self):
        self.no_log_values.update(secret_values(self.params))
        super()._log_invocation()


def read_text(path):
    try:
        with open(to_bytes(path), 'rb') as handle:
            data = handle.read()
    except OSError as err:
        raise PlexPreferencesError('Cannot read {0}: {1}; check the path and that the config volume is mounted.'.format(
            path, err.strerror)) from err
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b'\n') + 1
        raise PlexPreferencesError(
            '{0} line {1} is not UTF-8 text (byte 0x{2:02x}); Plex writes UTF-8, so the file was changed by something '
            'else. Restore it from a backup or fix that line by hand; the file was not changed.'.format(
                path, line, data[err.start])) from err


def write_text(module, path, text):
    """Write through a temporary file in the same directory and atomic_move it over the target (which keeps the
    target's owner, group and mode)."""
    directory = os.path.dirname(path) or '.'
    try:
        fd, tmp = tempfile.mkstemp(prefix='.Preferences.', suffix='.tmp', dir=directory)
        with os.fdopen(fd, 'wb') as handle:
            handle.write(to_bytes(text))
    except OSError as err:
        raise PlexPreferencesError('Cannot write a temporary file in {0}: {1}; the config volume must be writable by '
                                   'the Ansible user.'.format(directory, err.strerror)) from err
    module.atomic_move(tmp, path, unsafe_writes=module.params['unsafe_writes'])


def run(module):
    path = module.params['path']
    wanted = {name: to_pref_value(value) for name, value in module.params['preferences'].items()}
    absent = module.params['absent']
    for name in list(wanted) + list(absent):  # input errors first, before the file is read
        validate_name(name)
    for name, value in wanted.items():
        validate_value(name, value)
    exists = os.path.exists(path)
    if not exists:
        if not module.params['create']:
            raise PlexPreferencesError(
                '{0} does not exist: Plex has not initialised its config there yet. Start Plex once (it writes the '
                'file on first boot), fix path, or set create=true to pre-seed the file.'.format(path))
        if absent and any(name in wanted for name in absent):
            raise PlexPreferencesError('A preference is both set and unset; list it in preferences or absent.')
        before_values = {}
        new_text = new_document(wanted)
        changes = [(name, None, wanted[name]) for name in sorted(wanted)]
    else:
        text = read_text(path)
        before_values = StartTag(text, path).values
        new_text, changes = plan(text, wanted, absent, where=path)
    after_values = StartTag(new_text, path).values if changes else before_values

    result = {
        'changed': bool(changes),
        'changes': [{'name': n, 'before': redact(n, b), 'after': redact(n, a)} for n, b, a in changes],
        'claimed': bool(after_values.get('PlexOnlineToken')),
        'machine_identifier': after_values.get('MachineIdentifier', ''),
        'preferences': {n: redact(n, v) for n, v in after_values.items()},
    }
    if module._diff:
        result['diff'] = {
            'before_header': path if exists else '{0} (absent)'.format(path),
            'after_header': path,
            'before': render_for_diff(before_values),
            'after': render_for_diff(after_values),
        }
    if changes and not module.check_mode:
        write_text(module, path, new_text)
    if exists or not module.check_mode:
        file_args = module.load_file_common_arguments(module.params)
        result['changed'] = module.set_fs_attributes_if_different(file_args, result['changed'])
    return result


def main():
    module = PreferencesModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            preferences=dict(type='dict', default={}),
            absent=dict(type='list', elements='str', default=[]),
            create=dict(type='bool', default=False),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    module.no_log_values.update(secret_values(module.params))  # also when the task itself is no_log
    try:
        result = run(module)
    except PlexPreferencesError as err:
        module.fail_json(msg=str(err))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
