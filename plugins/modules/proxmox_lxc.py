#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: proxmox_lxc
short_description: Create, converge, start, stop or remove a Proxmox VE container
version_added: 0.1.0
description:
  - Reads the container's config, compares it with the options given, then writes only the keys that differ
    (one C(PUT .../config) call). The same desired state makes only C(GET) calls and reports C(changed=false).
  - Check mode writes nothing and reports what would change; diff mode shows the managed keys before and after.
  - Supports device passthrough (C(devN), for C(/dev/dri/renderD128) and friends), feature flags, mount points,
    growing the root disk, and applying changes that need a restart only when O(restart_on_change=true).
  - Every Proxmox task (create, resize, start, reboot, destroy) is waited for; a failed task fails the module with
    its C(TASK ERROR) line.
  - Raw C(lxc.*) keys cannot be set through the API; use M(homelab.mediacluster.lxc_raw_config) on the PVE host.
author:
  - homelab.mediacluster developers (@homelab-mediacluster)
extends_documentation_fragment:
  - homelab.mediacluster.proxmox
  - homelab.mediacluster.proxmox.guest
  - homelab.mediacluster.proxmox.devices
options:
  hostname:
    description:
      - Host name of the container; also how an existing container is found when O(vmid) is not given.
      - A different container with the same host name is an error (duplicate host name).
    type: str
    required: true
  vmid:
    description:
      - Id of the container. When unset, the container named O(hostname) is used, or the next free id on create.
      - An id that belongs to a VM, or to a container with another host name, is an error (it is never taken over).
    type: int
  node:
    description:
      - Node the container lives on. Required to create one; an existing container on another node is an error.
    type: str
  state:
    description:
      - V(present) creates and converges the config and leaves the power state alone; V(started) and V(stopped)
        also set the power state; V(restarted) reboots a running container (or starts a stopped one);
        V(absent) stops and destroys the container and its volumes.
    type: str
    choices: [present, started, stopped, restarted, absent]
    default: present
  ostemplate:
    description:
      - CT template volume to create from, e.g. C(local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst).
      - Create-time only; ignored for an existing container.
    type: str
  storage:
    description: Storage of the root disk on create.
    type: str
    default: local-lvm
  disk_size:
    description:
      - Root disk size in GiB. On an existing container the disk is grown to this size; shrinking is refused.
    type: int
  swap:
    description: Swap in MiB.
    type: int
  net:
    description:
      - Network interfaces, C(netN) key to PVE property string, for example V(net0) set to
        C(name=eth0,bridge=vmbr0,ip=dhcp).
      - The MAC address (C(hwaddr)) PVE generated is kept unless given; interfaces not listed are left alone.
    type: dict
  nameserver:
    description: DNS servers, space separated.
    type: str
  searchdomain:
    description: DNS search domain.
    type: str
  ssh_public_keys:
    description: Public SSH keys for root, one per line. Create-time only.
    type: str
  password:
    description: Root password inside the container. Create-time only.
    type: str
  unprivileged:
    description:
      - Create an unprivileged container (the default on create). Create-time only; a different value on an
        existing container is an error, because PVE cannot convert a container (back it up and restore it instead).
      - Leave unset to not check it on an existing container.
    type: bool
  features:
    description:
      - Feature flags, for example V(nesting=true), V(keyctl=true), V(mount=nfs;cifs). The whole set is managed.
      - Any feature flag on a privileged container, and anything but C(nesting) on an unprivileged one, needs
        root@pam password login.
    type: dict
  devices:
    description:
      - Device passthrough entries, written as C(dev0), C(dev1)... in list order. Entries beyond the list are removed.
        Leave unset to not manage devices. Needs root@pam password login (PVE 8.1 or later).
  mount_points:
    description:
      - Mount points, C(mpN) key to PVE property string, for example V(mp0) set to C(local-lvm:100,mp=/var/lib/data)
        (a new 100 GiB volume) or V(mp1) set to C(/srv/media,mp=/media,ro=1) (a bind mount, root@pam only).
      - Existing mount points are compared on their options; they are never removed by this module.
    type: dict
  onboot:
    description: Start the container when the node boots.
    type: bool
  startup:
    description: Startup order string, e.g. C(order=2,up=30).
    type: str
  restart_on_change:
    description:
      - When a running container has pending changes that only apply at its next start (memory is hot, but
        devices, features and mount points are not), reboot it. Otherwise the module reports
        RV(restart_required=true) and leaves it running.
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: GPU k3s node as a privileged container
  homelab.mediacluster.proxmox_lxc:
    api_host: pve.example.lan
    api_user: root@pam
    api_password: "{{ vault_pve_root_password }}"
    node: pve
    vmid: 113
    hostname: k3s-w3
    ostemplate: local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst
    unprivileged: false
    cores: 4
    memory: 8192
    swap: 0
    disk_size: 40
    net:
      net0: name=eth0,bridge=vmbr0,ip=192.168.1.13/24,gw=192.168.1.1
    features: {nesting: true, keyctl: true}
    devices:
      - {path: /dev/dri/renderD128, gid: 992, mode: "0660"}
    onboot: true
    tags: [k3s, gpu]
    restart_on_change: true
    state: started

- name: Same play with the connection in module_defaults
  module_defaults:
    group/homelab.mediacluster.proxmox:
      api_host: pve.example.lan
      api_token_id: root@pam!ansible
      api_token_secret: "{{ vault_pve_token }}"
  block:
    - name: Small unprivileged helper container
      homelab.mediacluster.proxmox_lxc:
        node: pve
        hostname: dns1
        ostemplate: local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst
        memory: 512
        net: {net0: "name=eth0,bridge=vmbr0,ip=dhcp"}
'''

RETURN = r'''
vmid:
  description: Id of the container.
  returned: unless the container is absent and no vmid was given
  type: int
node:
  description: Node of the container.
  returned: when the container exists or is created
  type: str
status:
  description: Power state after the run (C(running), C(stopped), C(absent)).
  returned: always
  type: str
changed_keys:
  description: Config keys written (or that would be written in check mode).
  returned: always
  type: list
  elements: str
created:
  description: The container was created by this run (or would be, in check mode).
  returned: when true
  type: bool
restart_required:
  description: The running container has pending changes that apply at its next start.
  returned: always
  type: bool
pending_keys:
  description: Keys PVE holds as pending until the next start.
  returned: always
  type: list
  elements: str
config:
  description: The container config after the run (C(GET .../config)); not returned in check mode.
  returned: when the container exists and not in check mode
  type: dict
'''

import re

from ansible_collections.homelab.mediacluster.plugins.module_utils.proxmox import (
    ProxmoxClient,
    ProxmoxError,
    common_settings,
    converge_power,
    destroy_guest,
    guest_argument_spec,
    guest_module,
    join_props,
    normalise_props,
    parse_bool,
    parse_size,
    same_common,
    split_props,
)

DEV_PATH = re.compile(r'^/dev/[A-Za-z0-9][A-Za-z0-9._+:/-]*$')
NEW_VOLUME = re.compile(r'^[^:/\s]+:\d+(\.\d+)?$')
NET_BOOLS = ('firewall', 'link_down', 'host-managed')
FEATURE_BOOLS = ('nesting', 'keyctl', 'fuse', 'mknod', 'force_rw_sys')
DEV_BOOLS = ('deny-write',)
MP_BOOLS = ('ro', 'backup', 'replicate', 'shared', 'acl', 'quota')
# What a running container takes at once (PVE's hotplug list); anything else waits for the next start.
HOTPLUG = ('description', 'onboot', 'startup', 'protection', 'hostname', 'hookscript', 'cores', 'tags',
           'memory', 'swap', 'cpulimit', 'cpuunits', 'nameserver', 'searchdomain')
INT_KEYS = ('cores', 'memory', 'swap')


class Container(object):
    def __init__(self, task):
        self.task = task
        self.p = task.params
        self.check = task.check_mode
        self.name = 'CT {0}'.format(self.p['hostname'])
        self.validate()
        self.client = ProxmoxClient(self.p)

    # --------------------------------------------------------------- inputs

    def validate(self):
        p = self.p
        for key in ('cores', 'memory', 'swap', 'disk_size'):
            if p.get(key) is not None and p[key] < (0 if key == 'swap' else 1):
                raise ProxmoxError('{0}: {1}={2} is not a valid size; use a positive number. Nothing was changed.'
                                   .format(self.name, key, p[key]))
        for key, prefix in (('net', 'net'), ('mount_points', 'mp')):
            for name in (p.get(key) or {}):
                if not re.fullmatch(prefix + r'\d+', str(name)):
                    raise ProxmoxError('{0}: {1} key {2!r} is not {3}N (e.g. {3}0). Nothing was changed.'.format(
                        self.name, key, name, prefix))
        for index, dev in enumerate(p.get('devices') or []):
            path = str(dev.get('path') or '')
            if not DEV_PATH.match(path) or '/../' in path + '/' or ',' in path:
                raise ProxmoxError(
                    '{0}: devices[{1}].path={2!r} is not a device path; use an absolute path under /dev/ such as '
                    '/dev/dri/renderD128 (no commas, no ..). Nothing was changed.'.format(self.name, index, path))
            if dev.get('mode') is not None and not re.fullmatch(r'0[0-7]{3}', str(dev['mode'])):
                raise ProxmoxError('{0}: devices[{1}].mode={2!r} must be four octal digits such as "0660" (quote it in '
                                   'YAML). Nothing was changed.'.format(self.name, index, dev['mode']))
            for key in ('gid', 'uid'):
                if dev.get(key) is not None and dev[key] < 0:
                    raise ProxmoxError('{0}: devices[{1}].{2} must be >= 0. Nothing was changed.'.format(
                        self.name, index, key))

    # --------------------------------------------------------------- desired

    def desired(self):
        """{key: value string} of every key the options manage (rootfs size is handled apart)."""
        p = self.p
        out = {'hostname': p['hostname']}
        out.update(common_settings(p, INT_KEYS, ('nameserver', 'searchdomain', 'startup', 'description')))
        for key, value in (p.get('net') or {}).items():
            out[key] = value
        for key, value in (p.get('mount_points') or {}).items():
            out[key] = value
        if p.get('features') is not None:
            feats = {}
            for key, value in p['features'].items():
                if isinstance(value, bool) or key in FEATURE_BOOLS:
                    if parse_bool(value):
                        feats[key] = '1'
                elif value not in (None, ''):
                    feats[key] = str(value)
            out['features'] = join_props(feats)
        if p.get('devices') is not None:
            for index, dev in enumerate(p['devices']):
                props = {'path': dev['path']}
                for key in ('gid', 'uid', 'mode'):
                    if dev.get(key) is not None:
                        props[key] = str(dev[key])
                if dev.get('deny_write') is not None:
                    props['deny-write'] = '1' if dev['deny_write'] else '0'
                out['dev{0}'.format(index)] = join_props(props, first_key='path')
        return out

    @staticmethod
    def same(key, want, have):
        """True if the current value have already satisfies want for key."""
        if have is None:
            return want is None or (key == 'features' and want == '')
        common = same_common(key, want, have, INT_KEYS)
        if common is not None:
            return common
        if key == 'startup':
            return split_props(want) == split_props(have)
        if key == 'features':
            w = dict((k, v) for k, v in normalise_props(split_props(want), FEATURE_BOOLS).items() if v != '0')
            h = dict((k, v) for k, v in normalise_props(split_props(have), FEATURE_BOOLS).items() if v != '0')
            return w == h
        if re.fullmatch(r'net\d+', key):
            w = normalise_props(split_props(want), NET_BOOLS)
            h = normalise_props(split_props(have), NET_BOOLS)
            h.pop('type', None)
            w.pop('type', None)
            if 'hwaddr' not in w:
                h.pop('hwaddr', None)
            else:
                w['hwaddr'] = w['hwaddr'].upper()
                h['hwaddr'] = h.get('hwaddr', '').upper()
            return w == h
        if re.fullmatch(r'dev\d+', key):
            return (normalise_props(split_props(want, 'path'), DEV_BOOLS)
                    == normalise_props(split_props(have, 'path'), DEV_BOOLS))
        if re.fullmatch(r'mp\d+', key):
            w = normalise_props(split_props(want, 'volume'), MP_BOOLS)
            h = normalise_props(split_props(have, 'volume'), MP_BOOLS)
            if NEW_VOLUME.match(w.get('volume', '')):
                # storage:size was allocated as storage:vm-ID-disk-N; compare the storage and the options.
                if w['volume'].split(':')[0] != h.get('volume', '').split(':')[0]:
                    return False
                w.pop('volume')
                h.pop('volume', None)
                h.pop('size', None)
            return w == h
        return str(want) == str(have)

    def write_value(self, key, want, have):
        """The value to send: netN keeps the MAC PVE generated."""
        if re.fullmatch(r'net\d+', key) and have:
            w = split_props(want)
            h = split_props(have)
            if 'hwaddr' not in w and 'hwaddr' in h:
                w['hwaddr'] = h['hwaddr']
                order = ['name', 'bridge', 'hwaddr']
                return join_props(w, order=order)
        return want

    # ------------------------------------------------------------- root check

    def check_root(self, keys, values, current, unprivileged):
        """Fail before any write if a key in keys needs root@pam password login; names every such key."""
        reasons = []
        for key in sorted(keys):
            if re.fullmatch(r'dev\d+', key):
                reasons.append('device passthrough ({0}: {1})'.format(key, values.get(key, 'delete')))
            elif re.fullmatch(r'mp\d+', key) and key in values:
                volume = split_props(values[key], 'volume').get('volume', '')
                if volume.startswith('/'):
                    reasons.append('a bind or device mount point ({0}: {1})'.format(key, volume))
            elif key == 'features':
                before = split_props((current or {}).get('features', ''))
                after = split_props(values.get('features', ''))
                flipped = set(k for k in set(before) | set(after)
                              if normalise_props({k: before.get(k, '0')}, FEATURE_BOOLS)
                              != normalise_props({k: after.get(k, '0')}, FEATURE_BOOLS))
                if not unprivileged and flipped:
                    reasons.append('changing feature flags ({0}) of a privileged container'.format(
                        ', '.join(sorted(flipped))))
                elif flipped - {'nesting'}:
                    reasons.append('changing feature flags other than nesting ({0})'.format(
                        ', '.join(sorted(flipped - {'nesting'}))))
        if reasons:
            self.client.require_root('; '.join(reasons), self.name)

    # ------------------------------------------------------------------ run

    def locate(self):
        """(resource entry or None, vmid) after the duplicate/conflict checks."""
        p = self.p
        guests = self.client.guests()
        named = [g for g in guests if g.get('type') == 'lxc' and g.get('name') == p['hostname']]
        if p.get('vmid') is not None:
            entry = next((g for g in guests if int(g['vmid']) == p['vmid']), None)
            if entry is not None and entry.get('type') != 'lxc':
                raise ProxmoxError('{0}: vmid {1} is already used by VM {2!r} on node {3}; choose a free vmid. Nothing '
                                   'was changed.'.format(self.name, p['vmid'], entry.get('name'), entry.get('node')))
            if entry is not None and entry.get('name') != p['hostname']:
                raise ProxmoxError('{0}: vmid {1} is already used by container {2!r} on node {3}; choose a free vmid '
                                   '(or set hostname to {2!r} to manage that container). Nothing was changed.'.format(
                                       self.name, p['vmid'], entry.get('name'), entry.get('node')))
            others = [g for g in named if int(g['vmid']) != p['vmid']]
            if others:
                raise ProxmoxError('{0}: host name {1!r} is already used by container {2} on node {3}; host names must '
                                   'be unique. Use that vmid or another host name. Nothing was changed.'.format(
                                       self.name, p['hostname'], others[0]['vmid'], others[0].get('node')))
            return entry, p['vmid']
        if len(named) > 1:
            raise ProxmoxError('{0}: host name {1!r} is used by several containers ({2}); give vmid to pick one. '
                               'Nothing was changed.'.format(self.name, p['hostname'],
                                                             ', '.join(str(g['vmid']) for g in named)))
        if named:
            return named[0], int(named[0]['vmid'])
        return None, None

    def run(self):
        p = self.p
        entry, vmid = self.locate()
        result = dict(changed=False, changed_keys=[], restart_required=False, pending_keys=[])
        if p['state'] == 'absent':
            return self.remove(entry, vmid, result)
        if entry is None:
            return self.create(vmid, result)
        node = entry['node']
        if p.get('node') and p['node'] != node:
            raise ProxmoxError('{0}: container {1} lives on node {2}, not {3}; migrate it first or set node to {2}. '
                               'Nothing was changed.'.format(self.name, vmid, node, p['node']))
        base = '/nodes/{0}/lxc/{1}'.format(node, vmid)
        result.update(vmid=vmid, node=node)
        current = self.client.get(base + '/config')
        unprivileged = bool(parse_bool(current.get('unprivileged', 0)))
        if p['unprivileged'] is not None and unprivileged != p['unprivileged']:
            raise ProxmoxError(
                '{0}: container {1} is {2} and unprivileged={3} was asked; PVE cannot change this on an existing '
                'container. Set unprivileged: {4} in the inventory, or back the container up and restore it with '
                'the other setting. Nothing was changed.'.format(
                    self.name, vmid, 'unprivileged' if unprivileged else 'privileged', p['unprivileged'],
                    str(unprivileged).lower()))
        want = self.desired()
        values, before, after = {}, {}, {}
        for key, value in sorted(want.items()):
            if not self.same(key, value, current.get(key)):
                values[key] = self.write_value(key, value, current.get(key))
                before[key] = current.get(key)
                after[key] = values[key]
        deletes = []
        if p.get('devices') is not None:
            for key in sorted(k for k in current if re.fullmatch(r'dev\d+', k) and k not in want):
                deletes.append(key)
                before[key] = current[key]
                after[key] = None
        resize = None
        if p.get('disk_size') is not None:
            have = parse_size(split_props(current.get('rootfs', ''), 'volume').get('size')) or 0
            wanted = p['disk_size'] * 1024 ** 3
            if wanted < have:
                raise ProxmoxError('{0}: disk_size={1} GiB is smaller than the root disk ({2:g} GiB); PVE can only '
                                   'grow disks. Set disk_size to at least {2:g}. Nothing was changed.'.format(
                                       self.name, p['disk_size'], have / 1024.0 ** 3))
            if wanted > have:
                resize = '{0}G'.format(p['disk_size'])
                before['rootfs.size'] = split_props(current.get('rootfs', ''), 'volume').get('size')
                after['rootfs.size'] = resize
        self.check_root(list(values) + deletes, values, current, unprivileged)
        changed_keys = sorted(list(values) + deletes + (['rootfs'] if resize else []))
        result['changed_keys'] = changed_keys
        if changed_keys:
            result['changed'] = True
            result['diff'] = dict(before=before, after=after, before_header=base + '/config',
                                  after_header=base + '/config')
        status = self.client.get(base + '/status/current').get('status')
        running = status == 'running'
        if not self.check:
            if values or deletes:
                params = dict(values)
                if deletes:
                    params['delete'] = ','.join(deletes)
                params['digest'] = current.get('digest')
                if not params['digest']:
                    params.pop('digest')
                self.client.put(base + '/config', **params)
            if resize:
                upid = self.client.put(base + '/resize', disk='rootfs', size=resize)
                self.client.wait_task(node, upid, '{0}: growing rootfs to {1}'.format(self.name, resize))
        pending = []
        if running:
            if self.check:
                pending = sorted(k for k in list(values) + deletes if k not in HOTPLUG)
            if not self.check or not pending:
                items = self.client.get(base + '/pending') or []
                pending = sorted(set(pending) | set(i['key'] for i in items if 'pending' in i or i.get('delete')))
        result['pending_keys'] = pending
        status = converge_power(self, 'lxc', node, vmid, status=status, pending=pending, result=result)
        result['status'] = status
        if not self.check:
            wrote = values or deletes or resize or result.get('power_action')
            result['config'] = self.client.get(base + '/config') if wrote else current
        return result

    def create(self, vmid, result):
        p = self.p
        if not p.get('node'):
            raise ProxmoxError('{0}: the container does not exist and node is not set; give node (the PVE node to '
                               'create it on). Nothing was changed.'.format(self.name))
        if not p.get('ostemplate'):
            raise ProxmoxError('{0}: the container does not exist and ostemplate is not set; give a CT template such '
                               'as local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst. Nothing was changed.'.format(
                                   self.name))
        node = p['node']
        self.client.check_node(node, self.name)
        if vmid is None:
            vmid = int(self.client.get('/cluster/nextid'))
        want = self.desired()
        unprivileged = p['unprivileged'] is not False
        self.check_root(list(want), want, {}, unprivileged)
        params = dict(want)
        params.update(vmid=vmid, ostemplate=p['ostemplate'], unprivileged=1 if unprivileged else 0,
                      rootfs='{0}:{1}'.format(p['storage'], p.get('disk_size') or 8))
        if p.get('ssh_public_keys'):
            params['ssh-public-keys'] = p['ssh_public_keys']
        if p.get('password'):
            params['password'] = p['password']
        after = dict((k, v) for k, v in params.items() if k not in ('password',))
        result.update(changed=True, created=True, vmid=vmid, node=node, changed_keys=sorted(want) + ['rootfs'],
                      diff=dict(before={}, after=after, before_header='(absent)',
                                after_header='/nodes/{0}/lxc/{1}/config'.format(node, vmid)))
        if self.check:
            result['status'] = 'running' if p['state'] in ('started', 'restarted') else 'stopped'
            return result
        upid = self.client.post('/nodes/{0}/lxc'.format(node), **params)
        self.client.wait_task(node, upid, '{0}: creating container {1}'.format(self.name, vmid))
        status = 'stopped'
        if p['state'] in ('started', 'restarted'):
            upid = self.client.post('/nodes/{0}/lxc/{1}/status/start'.format(node, vmid))
            self.client.wait_task(node, upid, '{0}: starting container {1}'.format(self.name, vmid))
            status = 'running'
        result['status'] = status
        result['config'] = self.client.get('/nodes/{0}/lxc/{1}/config'.format(node, vmid))
        return result

    def remove(self, entry, vmid, result):
        result['status'] = 'absent'
        if entry is None:
            if vmid is not None:
                result['vmid'] = vmid
            return result
        node = entry['node']
        result.update(changed=True, vmid=vmid, node=node,
                      diff=dict(before={'hostname': entry.get('name'), 'vmid': vmid, 'node': node}, after={}))
        if not self.check:
            destroy_guest(self, 'lxc', node, vmid, purge=1)
        return result


def argument_spec():
    spec = guest_argument_spec()
    spec.update(
        hostname=dict(type='str', required=True),
        ostemplate=dict(type='str'),
        storage=dict(type='str', default='local-lvm'),
        swap=dict(type='int'),
        net=dict(type='dict'),
        ssh_public_keys=dict(type='str', no_log=False),
        password=dict(type='str', no_log=True),
        unprivileged=dict(type='bool'),
        features=dict(type='dict'),
        devices=dict(type='list', elements='dict', options=dict(
            path=dict(type='str', required=True),
            gid=dict(type='int'),
            uid=dict(type='int'),
            mode=dict(type='str'),
            deny_write=dict(type='bool'),
        )),
        mount_points=dict(type='dict'),
        startup=dict(type='str'),
    )
    return spec


# in the controller's process over the local connection (plugins/action/proxmox_lxc.py), as a module elsewhere
BODY = guest_module(argument_spec(), Container)


def main():
    BODY.main()


if __name__ == '__main__':
    main()
