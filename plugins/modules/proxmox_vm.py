#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
module: proxmox_vm
short_description: Clone a cloud-init template into a Proxmox VE VM and converge it
version_added: 0.1.0
description:
  - Clones a VM template (full or linked, to a target storage) when the VM does not exist, then converges cores,
    memory, cloud-init settings (C(ipconfigN), C(ciuser), C(sshkeys), DNS), disk size (grow only), onboot, tags and
    description, and the power state. Optionally waits for the QEMU guest agent and returns the guest's addresses.
  - Reads the config, compares, then writes only the keys that differ; the same desired state makes only C(GET)
    calls and reports C(changed=false). Check mode writes nothing; diff mode shows the keys before and after.
  - Every Proxmox task is waited for; a failed task fails the module with its C(TASK ERROR) line.
author:
  - homelab.mediacluster developers (@homelab-mediacluster)
extends_documentation_fragment:
  - homelab.mediacluster.proxmox
  - homelab.mediacluster.proxmox.guest
options:
  name:
    description:
      - Name of the VM; also how an existing VM is found when O(vmid) is not given. Another VM with the same name
        is an error.
    type: str
    required: true
  vmid:
    description:
      - Id of the VM. When unset, the VM named O(name) is used, or the next free id on clone.
      - An id that belongs to a container or to a VM with another name is an error.
    type: int
  node:
    description: Node the VM lives on (the clone target). Required to clone.
    type: str
  clone:
    description: Name or id of the template to clone from. Required to create the VM.
    type: str
  full:
    description: Full clone (independent disks) instead of a linked clone. Linked clones need the template's storage.
    type: bool
    default: true
  storage:
    description: Target storage of a full clone's disks; default is the template's storage.
    type: str
  state:
    description:
      - V(present) clones and converges and leaves the power state alone; V(started)/V(stopped) also set it;
        V(restarted) reboots; V(absent) stops and destroys the VM with its disks.
    type: str
    choices: [present, started, stopped, restarted, absent]
    default: present
  disk:
    description: The disk O(disk_size) applies to.
    type: str
    default: scsi0
  disk_size:
    description: Size of O(disk) in GiB; grown when larger than the disk, shrinking is refused.
    type: int
  ipconfig:
    description: Cloud-init network settings, C(ipconfigN) to PVE string, for example V(ipconfig0) set to C(ip=dhcp).
    type: dict
  ciuser:
    description: Cloud-init user.
    type: str
  cipassword:
    description: Cloud-init password. PVE never shows it back, so it is only set when the VM is cloned.
    type: str
  sshkeys:
    description:
      - Public SSH keys for the cloud-init user, one per line. Sent URL-encoded as PVE requires (spaces, C(+),
        C(=), C(/) and newlines included); compared decoded.
    type: str
  nameserver:
    description: Cloud-init DNS servers.
    type: str
  searchdomain:
    description: Cloud-init DNS search domain.
    type: str
  onboot:
    description: Start the VM when the node boots.
    type: bool
  restart_on_change:
    description:
      - Reboot a running VM that has pending changes (cores, memory, cloud-init) so they apply. Otherwise the module
        reports RV(restart_required=true).
    type: bool
    default: false
  wait_for_agent:
    description: After the VM runs, wait until the QEMU guest agent answers and return its addresses.
    type: bool
    default: false
  agent_timeout:
    description: Seconds to wait for the guest agent.
    type: int
    default: 300
'''

EXAMPLES = r'''
- name: Worker VM from the cloud-init template
  homelab.mediacluster.proxmox_vm:
    api_host: pve.example.lan
    api_token_id: root@pam!ansible
    api_token_secret: "{{ vault_pve_token }}"
    node: pve
    name: k3s-w1
    vmid: 112
    clone: debian-12-cloudinit
    storage: local-lvm
    cores: 4
    memory: 8192
    disk_size: 40
    ipconfig: {ipconfig0: "ip=192.168.1.12/24,gw=192.168.1.1"}
    ciuser: debian
    sshkeys: "{{ lookup('file', '~/.ssh/id_ed25519.pub') }}"
    onboot: true
    tags: [k3s]
    state: started
    wait_for_agent: true
  register: vm

- name: Show its addresses
  ansible.builtin.debug:
    var: vm.ip_addresses
'''

RETURN = r'''
vmid:
  description: Id of the VM.
  returned: when the VM exists or is created
  type: int
node:
  description: Node of the VM.
  returned: when the VM exists or is created
  type: str
status:
  description: Power state after the run.
  returned: always
  type: str
changed_keys:
  description: Config keys written (or that would be in check mode).
  returned: always
  type: list
  elements: str
created:
  description: The VM was cloned by this run (or would be, in check mode).
  returned: when true
  type: bool
restart_required:
  description: A running VM has pending changes that apply at its next start.
  returned: always
  type: bool
ip_addresses:
  description: Non-loopback addresses the guest agent reports.
  returned: when O(wait_for_agent=true) and the VM runs
  type: list
  elements: str
'''

import re
import time

from ansible.module_utils.six.moves.urllib.parse import quote, unquote

from ansible_collections.homelab.mediacluster.plugins.module_utils.proxmox import (
    ProxmoxClient,
    ProxmoxError,
    common_settings,
    converge_power,
    destroy_guest,
    guest_argument_spec,
    guest_module,
    parse_size,
    same_common,
    split_props,
)

INT_KEYS = ('cores', 'memory')
HOTPLUG = ('name', 'description', 'onboot', 'tags', 'protection', 'startup', 'agent')


def normalise_keys(text):
    return [line.strip() for line in str(text or '').splitlines() if line.strip()]


class Vm(object):
    def __init__(self, task):
        self.task = task
        self.p = task.params
        self.check = task.check_mode
        self.name = 'VM {0}'.format(self.p['name'])
        for key in ('cores', 'memory', 'disk_size'):
            if self.p.get(key) is not None and self.p[key] < 1:
                raise ProxmoxError('{0}: {1}={2} must be a positive number. Nothing was changed.'.format(
                    self.name, key, self.p[key]))
        for key in self.p.get('ipconfig') or {}:
            if not re.fullmatch(r'ipconfig\d+', key):
                raise ProxmoxError('{0}: ipconfig key {1!r} is not ipconfigN. Nothing was changed.'.format(
                    self.name, key))
        self.client = ProxmoxClient(self.p)

    def desired(self):
        p = self.p
        out = common_settings(p, INT_KEYS, ('ciuser', 'nameserver', 'searchdomain', 'description'))
        for key, value in (p.get('ipconfig') or {}).items():
            out[key] = value
        if p.get('sshkeys') is not None:
            out['sshkeys'] = quote('\n'.join(normalise_keys(p['sshkeys'])) + '\n', safe='')
        return out

    @staticmethod
    def same(key, want, have):
        if have is None:
            return False
        common = same_common(key, want, have, INT_KEYS)
        if common is not None:
            return common
        if key == 'sshkeys':
            return normalise_keys(unquote(want)) == normalise_keys(unquote(str(have)))
        if re.fullmatch(r'ipconfig\d+', key):
            return split_props(want) == split_props(have)
        return str(want) == str(have)

    def locate(self):
        p = self.p
        guests = self.client.guests()
        named = [g for g in guests if g.get('type') == 'qemu' and g.get('name') == p['name']
                 and not g.get('template')]
        if p.get('vmid') is not None:
            entry = next((g for g in guests if int(g['vmid']) == p['vmid']), None)
            if entry is not None and (entry.get('type') != 'qemu' or entry.get('name') != p['name']):
                raise ProxmoxError('{0}: vmid {1} is already used by {2} {3!r} on node {4}; choose a free vmid. '
                                   'Nothing was changed.'.format(self.name, p['vmid'],
                                                                 'VM' if entry.get('type') == 'qemu' else 'CT',
                                                                 entry.get('name'), entry.get('node')))
            others = [g for g in named if int(g['vmid']) != p['vmid']]
            if others:
                raise ProxmoxError('{0}: name {1!r} is already used by VM {2} on node {3}; use that vmid or another '
                                   'name. Nothing was changed.'.format(self.name, p['name'], others[0]['vmid'],
                                                                       others[0].get('node')))
            return entry, p['vmid'], guests
        if len(named) > 1:
            raise ProxmoxError('{0}: several VMs are named {1!r} ({2}); give vmid. Nothing was changed.'.format(
                self.name, p['name'], ', '.join(str(g['vmid']) for g in named)))
        if named:
            return named[0], int(named[0]['vmid']), guests
        return None, None, guests

    def run(self):
        p = self.p
        entry, vmid, guests = self.locate()
        result = dict(changed=False, changed_keys=[], restart_required=False)
        if p['state'] == 'absent':
            return self.remove(entry, vmid, result)
        if entry is None:
            node, vmid = self.clone(vmid, guests, result)
            if self.check:
                result['status'] = 'running' if p['state'] in ('started', 'restarted') else 'stopped'
                return result
        else:
            node = entry['node']
            if p.get('node') and p['node'] != node:
                raise ProxmoxError('{0}: VM {1} lives on node {2}, not {3}; migrate it or set node to {2}. Nothing '
                                   'was changed.'.format(self.name, vmid, node, p['node']))
            result.update(vmid=vmid, node=node)
        base = '/nodes/{0}/qemu/{1}'.format(node, vmid)
        current = self.client.get(base + '/config')
        digest = current.get('digest')  # sent back with the PUT: PVE refuses it if the config changed since
        pending_items = []
        status = self.client.get(base + '/status/current').get('status')
        if status == 'running':
            pending_items = self.client.get(base + '/pending') or []
            merged = dict(current)
            for item in pending_items:
                if item.get('delete'):
                    merged.pop(item['key'], None)
                elif 'pending' in item:
                    merged[item['key']] = item['pending']
            current = merged
        want = self.desired()
        values, before, after = {}, {}, {}
        for key, value in sorted(want.items()):
            if not self.same(key, value, current.get(key)):
                values[key] = value
                before[key] = current.get(key)
                after[key] = value
        if entry is None and p.get('cipassword'):
            values['cipassword'] = p['cipassword']
        resize = self.plan_resize(current, before, after)
        keys = sorted(k for k in values if k != 'cipassword') + ([p['disk']] if resize else [])
        if keys:
            result['changed'] = True
            result['changed_keys'] = sorted(set(result['changed_keys']) | set(keys))
            diff = result.setdefault('diff', dict(before={}, after={}))
            diff['before'].update(before)
            diff['after'].update(after)
        if not self.check:
            if values:
                self.client.put(base + '/config', **dict(values, **({'digest': digest} if digest else {})))
            if resize:
                upid = self.client.put(base + '/resize', disk=p['disk'], size=resize)
                self.client.wait_task(node, upid, '{0}: growing {1} to {2}'.format(self.name, p['disk'], resize))
        pending = []
        if status == 'running':
            if self.check:
                pending = sorted(set(k for k in values if k not in HOTPLUG)
                                 | set(i['key'] for i in pending_items if 'pending' in i or i.get('delete')))
            else:
                items = self.client.get(base + '/pending') or []
                pending = sorted(i['key'] for i in items if 'pending' in i or i.get('delete'))
        result['pending_keys'] = pending
        status = converge_power(self, 'qemu', node, vmid, status=status, pending=pending, result=result)
        result['status'] = status
        if p['wait_for_agent'] and status == 'running' and not self.check:
            result['ip_addresses'] = self.agent_addresses(node, vmid)
        return result

    def plan_resize(self, current, before, after):
        p = self.p
        if p.get('disk_size') is None:
            return None
        value = current.get(p['disk'])
        if value is None:
            raise ProxmoxError('{0}: the VM has no disk {1}; set disk to one of its disks ({2}). Nothing was changed.'
                               .format(self.name, p['disk'], ', '.join(sorted(
                                   k for k in current if re.fullmatch(r'(scsi|virtio|sata|ide)\d+', k)))))
        have = parse_size(split_props(value, 'volume').get('size'))
        if have is None:
            self.task.warn('{0}: {1} reports no size; not resizing it.'.format(self.name, p['disk']))
            return None
        wanted = p['disk_size'] * 1024 ** 3
        if wanted < have:
            raise ProxmoxError('{0}: disk_size={1} GiB is smaller than {2} ({3:g} GiB); PVE can only grow disks. Set '
                               'disk_size to at least {3:g}. Nothing was changed.'.format(
                                   self.name, p['disk_size'], p['disk'], have / 1024.0 ** 3))
        if wanted == have:
            return None
        before[p['disk'] + '.size'] = split_props(value, 'volume').get('size')
        after[p['disk'] + '.size'] = '{0}G'.format(p['disk_size'])
        return '{0}G'.format(p['disk_size'])

    def clone(self, vmid, guests, result):
        p = self.p
        if not p.get('node') or not p.get('clone'):
            raise ProxmoxError('{0}: the VM does not exist; give node and clone (the cloud-init template) to create '
                               'it. Nothing was changed.'.format(self.name))
        node = p['node']
        self.client.check_node(node, self.name)
        source = str(p['clone'])
        templates = [g for g in guests if g.get('type') == 'qemu' and g.get('template')
                     and (str(g['vmid']) == source or g.get('name') == source)]
        if len(templates) != 1:
            raise ProxmoxError('{0}: clone={1!r} matches {2} templates ({3}); give the name or id of exactly one VM '
                               'template. Nothing was changed.'.format(
                                   self.name, source, len(templates),
                                   ', '.join('{0} ({1})'.format(g.get('name'), g['vmid']) for g in templates) or
                                   'available: ' + ', '.join('{0} ({1})'.format(g.get('name'), g['vmid'])
                                                             for g in guests if g.get('template')) or 'none'))
        template = templates[0]
        if vmid is None:
            vmid = int(self.client.get('/cluster/nextid'))
        params = dict(newid=vmid, name=p['name'], full=1 if p['full'] else 0)
        if p.get('storage') and p['full']:
            params['storage'] = p['storage']
        if template['node'] != node:
            params['target'] = node
        result.update(changed=True, created=True, vmid=vmid, node=node, changed_keys=['clone'],
                      diff=dict(before={}, after=dict(params, clone=template['vmid'])))
        if self.check:
            return node, vmid
        upid = self.client.post('/nodes/{0}/qemu/{1}/clone'.format(template['node'], template['vmid']), **params)
        self.client.wait_task(template['node'], upid, '{0}: cloning template {1} into VM {2}'.format(
            self.name, template['vmid'], vmid))
        return node, vmid

    def agent_addresses(self, node, vmid):
        deadline = time.time() + self.p['agent_timeout']
        path = '/nodes/{0}/qemu/{1}/agent/network-get-interfaces'.format(node, vmid)
        last = None
        while True:
            try:
                data = self.client.get(path)
                break
            except ProxmoxError as exc:
                last = exc
            if time.time() >= deadline:
                raise ProxmoxError('{0}: the QEMU guest agent of VM {1} did not answer within {2}s ({3}); install and '
                                   'start qemu-guest-agent in the image and set agent=1 on the template.'.format(
                                       self.name, vmid, self.p['agent_timeout'], last.msg if last else 'no answer'))
            time.sleep(2)
        addresses = []
        for iface in (data or {}).get('result', []):
            for addr in iface.get('ip-addresses', []):
                ip = addr.get('ip-address')
                if ip and not ip.startswith(('127.', '::1', 'fe80')):
                    addresses.append(ip)
        return addresses

    def remove(self, entry, vmid, result):
        result['status'] = 'absent'
        if entry is None:
            return result
        node = entry['node']
        result.update(changed=True, vmid=vmid, node=node,
                      diff=dict(before={'name': entry.get('name'), 'vmid': vmid, 'node': node}, after={}))
        if not self.check:
            destroy_guest(self, 'qemu', node, vmid, purge=1, **{'destroy-unreferenced-disks': 1})
        return result


def argument_spec():
    spec = guest_argument_spec()
    spec.update(
        name=dict(type='str', required=True),
        clone=dict(type='str'),
        full=dict(type='bool', default=True),
        storage=dict(type='str'),
        disk=dict(type='str', default='scsi0'),
        ipconfig=dict(type='dict'),
        ciuser=dict(type='str'),
        cipassword=dict(type='str', no_log=True),
        sshkeys=dict(type='str', no_log=False),
        wait_for_agent=dict(type='bool', default=False),
        agent_timeout=dict(type='int', default=300),
    )
    return spec


# in the controller's process over the local connection (plugins/action/proxmox_vm.py), as a module elsewhere
BODY = guest_module(argument_spec(), Vm)


def main():
    BODY.main()


if __name__ == '__main__':
    main()
