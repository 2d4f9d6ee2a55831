#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: pct_set
short_description: Set root-only container options (devN, bind mounts, features) with pct on the Proxmox VE host
version_added: 0.1.0
description:
  - Runs on the Proxmox VE host, as root, and sets container options that the API allows only to C(root@pam) logged
    in with a password - device passthrough (C(devN)), bind mount points (C(mpN)), feature flags of a privileged
    container, hook scripts. Run there with C(pct), they need no stored root password and no API token.
  - Reads the config with C(pct config <vmid>) (pending values included), compares, and calls
    C(pct set <vmid> --<key> <value> ...) once with only the keys that differ. The same desired state makes no
    C(pct set) call and reports C(changed=false).
  - Values are passed as C(pct) arguments (argv, no shell); they hold device paths and ids, never secrets.
  - Check mode runs only C(pct config); diff mode shows the managed keys before and after.
author:
  - homelab.mediacluster developers (@homelab-mediacluster)
extends_documentation_fragment:
  - homelab.mediacluster.proxmox.devices
attributes:
  check_mode:
    support: full
    description: Only C(pct config) runs; the result says what would change.
  diff_mode:
    support: full
    description: Before and after values of every managed key.
options:
  vmid:
    description: Id of the container; it must live on this host.
    type: int
    required: true
  devices:
    description:
      - Device passthrough entries, written as C(dev0), C(dev1)... in list order (the order
        M(homelab.mediacluster.proxmox_lxc) uses). C(devN) keys beyond the list are deleted. Leave unset to not
        manage devices.
      - C(pct set <vmid> --dev<N> <path>[,deny-write=<1|0>][,gid=<gid>][,mode=<mode>][,uid=<uid>]).
  options:
    description:
      - Other root-only keys, as PVE property strings - C(mpN) (bind mounts such as C(/srv/media,mp=/media)),
        C(features) (such as C(nesting=1)), C(hookscript). The whole value of each key given is managed.
    type: dict
    default: {}
  pct:
    description: The pct executable.
    type: path
    default: pct
'''

EXAMPLES = r'''
- name: Pass the render node to CT 113 without a root password (runs on the PVE host over SSH)
  homelab.mediacluster.pct_set:
    vmid: 113
    devices:
      - path: /dev/dri/renderD128
        gid: 104
        mode: "0660"
  register: gpu
'''

RETURN = r'''
changed_keys:
  description: The keys set or deleted (empty when nothing changed).
  returned: always
  type: list
  elements: str
restart_required:
  description: Something changed; device and mount changes of a running container wait for its next start.
  returned: always
  type: bool
command:
  description: The pct set argv that was run (or would run in check mode); empty when nothing changed.
  returned: always
  type: list
  elements: str
'''

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.homelab.mediacluster.plugins.module_utils.proxmox import (
    ProxmoxError,
    join_props,
    parse_bool,
    run_module,
    split_props,
)

DEV_KEY = re.compile(r'^dev\d+$')
OPTION_KEY = re.compile(r'^(mp\d+|features|hookscript)$')
CONFIG_LINE = re.compile(r'^([a-z][a-z_\-]*\d*):\s?(.*?)\s*$')


def parse_config(text):
    """{key: value} of `pct config` output (lxc.* raw keys and anything else unparsable are skipped)."""
    out = {}
    for line in text.splitlines():
        match = CONFIG_LINE.match(line)
        if match:
            out[match.group(1)] = match.group(2)
    return out


def normal_dev(value):
    """A devN value as a comparable dict: path, ids as numbers, deny-write only when set."""
    props = split_props(value, default_key='path')
    for key in ('gid', 'uid'):
        if props.get(key) is not None:
            try:
                props[key] = str(int(props[key]))
            except ValueError:
                pass
    if 'deny-write' in props:
        if parse_bool(props['deny-write']):
            props['deny-write'] = '1'
        else:
            del props['deny-write']
    return props


def dev_value(vmid, index, dev):
    path = str(dev.get('path') or '')
    if not path.startswith('/dev/') or re.search(r'/\.\.?(/|$)', path) or ',' in path or '=' in path:
        raise ProxmoxError('CT {0}: devices[{1}].path={2!r} is not a device path; give an absolute path under /dev/ '
                           'such as /dev/dri/renderD128 (no commas, no . or ..). Nothing was changed.'.format(
                               vmid, index, path))
    props = {'path': path}
    if dev.get('mode') is not None:
        if not re.fullmatch(r'0[0-7]{3}', str(dev['mode'])):
            raise ProxmoxError('CT {0}: devices[{1}].mode={2!r} must be four octal digits such as "0660" (quote it '
                               'in YAML). Nothing was changed.'.format(vmid, index, dev['mode']))
        props['mode'] = str(dev['mode'])
    for key in ('gid', 'uid'):
        if dev.get(key) is not None:
            if dev[key] < 0:
                raise ProxmoxError('CT {0}: devices[{1}].{2} must be >= 0. Nothing was changed.'.format(
                    vmid, index, key))
            props[key] = str(dev[key])
    if dev.get('deny_write'):
        props['deny-write'] = '1'
    return join_props(props, first_key='path')


def same(key, want, have):
    if have is None:
        return False
    if DEV_KEY.match(key):
        return normal_dev(want) == normal_dev(have)
    if key == 'features':
        return normal_features(want) == normal_features(have)
    return str(want).strip() == str(have).strip()


def normal_features(value):
    out = {}
    for key, val in split_props(value).items():
        try:
            out[key] = '1' if parse_bool(val) else None
        except ValueError:
            out[key] = val
    return dict((k, v) for k, v in out.items() if v is not None)


class Pct(object):
    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.vmid = self.p['vmid']
        self.pct = module.get_bin_path(self.p['pct'], opt_dirs=['/usr/sbin', '/sbin']) or (
            self.p['pct'] if '/' in self.p['pct'] else None)
        if not self.pct:
            raise ProxmoxError('CT {0}: {1} not found; run this task on the Proxmox VE host that holds the container '
                               '(the proxmox_hosts group), or use the API path. Nothing was changed.'.format(
                                   self.vmid, self.p['pct']))

    def config(self):
        argv = [self.pct, 'config', str(self.vmid)]
        rc, out, err = self.module.run_command(argv)
        if rc != 0:
            raise ProxmoxError('CT {0}: `{1}` failed ({2}): {3}; check the container lives on this Proxmox VE node. '
                               'Nothing was changed.'.format(self.vmid, ' '.join(argv[1:]), rc,
                                                             (err or out).strip()))
        return parse_config(out)

    def desired(self):
        want = {}
        for key, value in (self.p.get('options') or {}).items():
            if not OPTION_KEY.match(str(key)):
                raise ProxmoxError('CT {0}: option {1!r} is not a root-only key this module sets (devN through '
                                   'devices; mpN, features, hookscript through options); set other keys with '
                                   'proxmox_lxc. Nothing was changed.'.format(self.vmid, key))
            if isinstance(value, dict):
                want[key] = join_props(dict((k, ('1' if v else '0') if isinstance(v, bool) else str(v))
                                            for k, v in value.items()))
            else:
                want[key] = str(value)
        for index, dev in enumerate(self.p.get('devices') or []):
            want['dev{0}'.format(index)] = dev_value(self.vmid, index, dev)
        return want

    def run(self):
        want = self.desired()
        current = self.config()
        args, before, after, keys, deletes = [], {}, {}, [], []
        for key in sorted(want):
            if not same(key, want[key], current.get(key)):
                args += ['--' + key, want[key]]
                keys.append(key)
                before[key], after[key] = current.get(key), want[key]
        if self.p.get('devices') is not None:
            extra = sorted((k for k in current if DEV_KEY.match(k) and k not in want), key=lambda k: int(k[3:]))
            for key in extra:
                deletes.append(key)
                keys.append(key)
                before[key], after[key] = current[key], None
        if deletes:
            args += ['--delete', ','.join(deletes)]
        command = [self.pct, 'set', str(self.vmid)] + args if args else []
        result = dict(changed=bool(args), changed_keys=keys, restart_required=bool(args), command=command)
        if args:
            result['diff'] = dict(before=before, after=after)
            if not self.module.check_mode:
                rc, out, err = self.module.run_command(command)
                if rc != 0:
                    raise ProxmoxError('CT {0}: `pct set {0} {1}` failed ({2}): {3}'.format(
                        self.vmid, ' '.join(args), rc, (err or out).strip()))
        return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            vmid=dict(type='int', required=True),
            devices=dict(type='list', elements='dict', options=dict(
                path=dict(type='str', required=True),
                gid=dict(type='int'),
                uid=dict(type='int'),
                mode=dict(type='str'),
                deny_write=dict(type='bool'),
            )),
            options=dict(type='dict', default={}),
            pct=dict(type='path', default='pct'),
        ),
        supports_check_mode=True,
    )
    run_module(module, lambda m: Pct(m).run())


if __name__ == '__main__':
    main()
