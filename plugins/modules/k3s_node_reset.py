#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: k3s_node_reset
short_description: Take what k3s leaves on a node apart without deleting anything through a mount
version_added: 0.1.0
description:
  - >-
    Does on one node what k3s's own C(k3s-killall.sh) and C(k3s-uninstall.sh) do after the k3s service has been
    stopped: kills the containerd shims (and the container processes below them), unmounts everything under the
    k3s mount roots (deepest first), deletes the CNI network namespaces, the flannel/CNI interfaces and the
    KUBE-/CNI-/flannel iptables rules, then removes the k3s files and directories.
  - >-
    Never deletes through a mount. Before anything changes it reads C(/proc/self/mountinfo) and fails, naming the
    mount, if a path to remove has a mount point at or below it that is not under one of the O(unmount) roots; the
    same check runs again just before each removal. Mounts are unmounted normally, then forced, and detached
    (lazy) only as a last resort (O(lazy_unmount)); a detached mount is no longer reachable through the path.
  - Reads, compares, then acts. On a node without k3s leftovers it returns C(changed=false) and changes nothing. In
    check mode it reports what it would kill, unmount, delete and remove, and changes nothing.
  - Stop the k3s unit first (C(ansible.builtin.systemd_service) C(state=stopped)); the module does not manage units.
author:
  - homelab.mediacluster developers (@homelab-mediacluster)
extends_documentation_fragment:
  - homelab.mediacluster.attributes
options:
  unmount:
    description:
      - Mount roots. Every mount point equal to or below one of them is unmounted, deepest first. An entry ending in
        C(*) matches mount points that start with the text before it (C(/run/netns/cni-*)).
    type: list
    elements: str
    default: [/run/k3s, /var/lib/kubelet/pods, /var/lib/kubelet/plugins, /run/netns/cni-*, /var/lib/rancher/k3s]
  remove:
    description:
      - Files and directories to remove once the mounts are gone (symlinks are removed, not followed). Entries
        ending in C(*) are expanded as a glob.
    type: list
    elements: path
    default: [/etc/systemd/system/k3s.service, /etc/systemd/system/k3s.service.env,
              /etc/systemd/system/k3s-agent.service, /etc/systemd/system/k3s-agent.service.env,
              /usr/local/bin/k3s, /etc/rancher/k3s, /run/k3s, /run/flannel, /run/netns/cni-*,
              /var/lib/rancher/k3s, /var/lib/kubelet, /var/lib/cni]
  interfaces:
    description:
      - Network interfaces to delete. Interfaces enslaved to C(cni0) (the pods' veth ends) are deleted as well.
    type: list
    elements: str
    default: [cni0, flannel.1, flannel-v6.1, kube-ipvs0, flannel-wg, flannel-wg-v6]
  kill_shims:
    description:
      - Kill (SIGKILL) every process whose executable or first argument matches O(shim_pattern), with all its
        descendants (the containers' processes).
    type: bool
    default: true
  shim_pattern:
    description: Regular expression for the containerd shims that k3s runs from its data directory.
    type: str
    default: /var/lib/rancher/k3s/data/[^/]+/bin/containerd-shim
  iptables:
    description:
      - Remove the iptables and ip6tables rules and chains whose line in C(iptables-save) contains C(KUBE-), C(CNI-)
        or C(flannel) (any case), through C(iptables-save) and C(iptables-restore). Skipped for a family whose tools
        are not installed.
    type: bool
    default: true
  lazy_unmount:
    description:
      - Detach (C(umount -l)) a mount that neither a normal nor a forced unmount removes. With V(false) the module
        fails naming that mount instead.
    type: bool
    default: true
notes:
  - Runs as root on the node. Linux only.
"""

EXAMPLES = r"""
- name: Stop k3s
  ansible.builtin.systemd_service:
    name: k3s.service
    state: stopped

- name: Take the k3s leftovers apart
  homelab.mediacluster.k3s_node_reset:
"""

RETURN = r"""
killed:
  description: Processes killed (shims and their descendants), as C(PID COMMAND).
  returned: always
  type: list
  elements: str
unmounted:
  description: Mount points unmounted, in order (a stacked mount point appears once per mount).
  returned: always
  type: list
  elements: str
interfaces:
  description: Network interfaces deleted.
  returned: always
  type: list
  elements: str
iptables:
  description: Per family (C(ipv4), C(ipv6)), the rule and chain lines removed.
  returned: always
  type: dict
removed:
  description: Files and directories removed.
  returned: always
  type: list
  elements: str
"""

import glob
import os
import re
import shutil
import signal
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

IPTABLES_PATTERN = re.compile(r'KUBE-|CNI-|flannel', re.IGNORECASE)
_OCTAL = re.compile(r'\\([0-7]{3})')


class ResetError(Exception):
    pass


def parse_mountinfo(text):
    """Mount points in mountinfo order (field 5, octal escapes such as \\040 decoded), with their source."""
    mounts = []
    for line in text.splitlines():
        fields = line.split(' ')
        if len(fields) < 10 or '-' not in fields[6:]:
            continue
        sep = fields.index('-', 6)
        point = _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), fields[4])
        mounts.append({'point': point, 'fstype': fields[sep + 1], 'source': fields[sep + 2]})
    return mounts


def read_mounts():
    with open('/proc/self/mountinfo') as handle:
        return parse_mountinfo(handle.read())


def matches(path, root):
    """True when path is root or below it; a root ending in * is a plain text prefix."""
    if root.endswith('*'):
        return path.startswith(root[:-1])
    root = root.rstrip('/') or '/'
    return path == root or path.startswith(root + '/') or root == '/'


def unmount_order(mounts, roots):
    """The mount points under roots, deepest first (stacked mounts of one point once each, topmost first)."""
    points = [m['point'] for m in mounts if any(matches(m['point'], root) for root in roots)]
    # mountinfo lists parents before children and lower mounts before the ones stacked on them: reverse it, then
    # sort by depth so a child always goes before its parent
    points.reverse()
    return sorted(points, key=lambda p: p.rstrip('/').count('/'), reverse=True)


def blocking_mounts(path, mounts):
    return [m for m in mounts if matches(m['point'], path)]


def filter_rules(text):
    """Split iptables-save output into the lines to keep and the k3s/flannel/CNI lines to drop."""
    kept, dropped = [], []
    for line in text.splitlines():
        (dropped if IPTABLES_PATTERN.search(line) else kept).append(line)
    return '\n'.join(kept) + '\n', dropped


def process_table(proc='/proc'):
    """pid -> (ppid, state, argv0, exe) for every process that can be read."""
    table = {}
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        base = os.path.join(proc, entry)
        try:
            with open(os.path.join(base, 'stat')) as handle:
                stat = handle.read()
            with open(os.path.join(base, 'cmdline'), 'rb') as handle:
                argv0 = handle.read().split(b'\0')[0].decode('utf-8', 'replace')
        except OSError:
            continue
        fields = stat[stat.rfind(')') + 2:].split()
        try:
            exe = os.readlink(os.path.join(base, 'exe'))
        except OSError:
            exe = ''
        table[int(entry)] = (int(fields[1]), fields[0], argv0, exe)
    return table


def shim_trees(table, pattern, protect=()):
    """The shims matching pattern and all their descendants, never a pid in protect (this module, its parents)."""
    regex = re.compile(pattern)
    children = {}
    for pid, (ppid, _state, _argv0, _exe) in table.items():
        children.setdefault(ppid, []).append(pid)
    roots = [pid for pid, (_p, state, argv0, exe) in table.items()
             if state != 'Z' and (regex.search(argv0) or regex.search(exe.replace(' (deleted)', '')))]
    found, stack = [], list(roots)
    while stack:
        pid = stack.pop()
        if pid in found or pid in protect:
            continue
        found.append(pid)
        stack.extend(children.get(pid, []))
    return sorted(found)


def ancestors(table, pid):
    chain = set()
    while pid in table and pid not in chain:
        chain.add(pid)
        pid = table[pid][0]
    return chain


def cni_slaves(sys_net='/sys/class/net'):
    slaves = []
    for name in sorted(os.listdir(sys_net)) if os.path.isdir(sys_net) else []:
        master = os.path.join(sys_net, name, 'master')
        if os.path.islink(master) and os.path.basename(os.readlink(master)) == 'cni0':
            slaves.append(name)
    return slaves


class Reset(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.result = {'changed': False, 'killed': [], 'unmounted': [], 'interfaces': [], 'iptables': {},
                       'removed': []}

    # -- reading --------------------------------------------------------------------------------------------------
    def remove_targets(self):
        targets = []
        for entry in self.params['remove']:
            paths = sorted(glob.glob(entry)) if '*' in entry else [entry]
            targets.extend(p for p in paths if os.path.lexists(p) and p not in targets)
        return targets

    def interfaces_present(self):
        present = set(os.listdir('/sys/class/net')) if os.path.isdir('/sys/class/net') else set()
        wanted = cni_slaves() + [name for name in self.params['interfaces'] if name in present]
        return [name for i, name in enumerate(wanted) if name not in wanted[:i]]

    def iptables_plan(self):
        plan = {}
        if not self.params['iptables']:
            return plan
        for family, tool in (('ipv4', 'iptables'), ('ipv6', 'ip6tables')):
            save = self.module.get_bin_path(tool + '-save')
            restore = self.module.get_bin_path(tool + '-restore')
            if not save or not restore:
                continue
            rc, out, err = self.module.run_command([save])
            if rc != 0:
                raise ResetError('{0} failed ({1}): {2}. Check that the {3} tools work on this node, or run the reset '
                                 'with iptables=false and remove the KUBE-/CNI-/flannel rules yourself.'.format(
                                     save, rc, err.strip(), tool))
            kept, dropped = filter_rules(out)
            if dropped:
                plan[family] = {'restore': restore, 'rules': kept, 'dropped': dropped}
        return plan

    # -- checking -------------------------------------------------------------------------------------------------
    def refuse_blocked(self, targets, mounts, when):
        for path in targets:
            blockers = blocking_mounts(path, mounts)
            if blockers:
                mount = blockers[-1]
                raise ResetError(
                    'refusing to remove {0}: {1} is mounted {2} ({3} from {4}), and removing {0} would delete what '
                    'that mount shows. It is not under the mount roots this reset unmounts ({5}). Find out what '
                    'mounted it (findmnt {1}), unmount it (umount {1}) once its data is safe, then rerun. {6}'.format(
                        path, mount['point'], 'on it' if mount['point'] == path else 'below it', mount['fstype'],
                        mount['source'], ', '.join(self.params['unmount']), when))

    # -- acting ---------------------------------------------------------------------------------------------------
    def kill(self, pids, table):
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            self.result['killed'].append('{0} {1}'.format(pid, table[pid][2] or table[pid][3]))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            alive = [pid for pid in pids if process_table().get(pid, (0, 'Z'))[1] != 'Z']
            if not alive:
                return
            time.sleep(0.2)

    def unmount_one(self, point):
        attempts = [['umount', point], ['umount', '-f', point]]
        if self.params['lazy_unmount']:
            attempts.append(['umount', '-l', point])
        errors = []
        for args in attempts:
            rc, _out, err = self.module.run_command(args)
            if rc == 0:
                return
            errors.append('{0}: {1}'.format(' '.join(args[:-1]), err.strip()))
        raise ResetError('cannot unmount {0} ({1}); nothing below it was removed. Stop what still uses it (fuser -vm '
                         '{0}), unmount it by hand, then rerun.'.format(point, '; '.join(errors)))

    def unmount_all(self):
        roots = self.params['unmount']
        budget = 10 * len(unmount_order(read_mounts(), roots)) + 10
        while True:
            order = unmount_order(read_mounts(), roots)
            if not order:
                return
            budget -= 1
            if budget < 0:
                raise ResetError('mounts under {0} keep coming back ({1}): something on the node still runs pods; '
                                 'stop it, then rerun.'.format(', '.join(roots), ', '.join(order[:5])))
            self.unmount_one(order[0])
            self.result['unmounted'].append(order[0])

    def delete_interfaces(self, names):
        ip = self.module.get_bin_path('ip', required=True)
        for name in names:
            if not os.path.exists(os.path.join('/sys/class/net', name)):
                continue  # the peer of a veth deleted before it
            rc, _out, err = self.module.run_command([ip, 'link', 'delete', name])
            if rc != 0 and os.path.exists(os.path.join('/sys/class/net', name)):
                raise ResetError('cannot delete the network interface {0}: {1}. Delete it with `ip link delete {0}` '
                                 'and rerun.'.format(name, err.strip()))
            self.result['interfaces'].append(name)

    def restore_iptables(self, plan):
        for family, item in sorted(plan.items()):
            rc, _out, err = self.module.run_command([item['restore']], data=item['rules'], binary_data=True)
            if rc != 0:
                raise ResetError('{0} refused the rules without the k3s chains ({1}); the {2} rules are unchanged. '
                                 'Remove the KUBE-/CNI-/flannel rules by hand.'.format(item['restore'], err.strip(),
                                                                                       family))
            self.result['iptables'][family] = item['dropped']

    def remove(self, path):
        self.refuse_blocked([path], read_mounts(), 'The earlier steps of the reset have run; nothing under {0} was '
                            'removed.'.format(path))
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
        self.result['removed'].append(path)

    # -- the run --------------------------------------------------------------------------------------------------
    def run(self):
        mounts = read_mounts()
        roots = self.params['unmount']
        to_unmount = unmount_order(mounts, roots)
        targets = self.remove_targets()
        # mounts the reset will not unmount: a path above one of them must not be removed (checked before any change)
        staying = [m for m in mounts if not any(matches(m['point'], root) for root in roots)]
        self.refuse_blocked(targets, staying, 'Nothing was changed.')

        table = process_table() if self.params['kill_shims'] else {}
        protect = ancestors(table, os.getpid())
        pids = shim_trees(table, self.params['shim_pattern'], protect) if self.params['kill_shims'] else []
        interfaces = self.interfaces_present()
        iptables = self.iptables_plan()

        changed = bool(pids or to_unmount or interfaces or iptables or targets)
        self.result['changed'] = changed
        if self.module._diff:
            before = (['kill {0}'.format(table[p][2] or table[p][3]) for p in pids]
                      + ['mount {0}'.format(p) for p in to_unmount]
                      + ['interface {0}'.format(i) for i in interfaces]
                      + ['{0} {1}'.format(f, line) for f in sorted(iptables) for line in iptables[f]['dropped']]
                      + ['path {0}'.format(p) for p in targets])
            self.result['diff'] = {'before': '\n'.join(before) + ('\n' if before else ''), 'after': ''}
        if self.module.check_mode or not changed:
            self.result.update({'killed': ['{0} {1}'.format(p, table[p][2] or table[p][3]) for p in pids],
                                'unmounted': to_unmount, 'interfaces': interfaces,
                                'iptables': {f: v['dropped'] for f, v in iptables.items()}, 'removed': targets})
            return self.result

        self.kill(pids, table)
        self.unmount_all()
        self.delete_interfaces(interfaces)
        self.restore_iptables(iptables)
        for path in self.remove_targets():
            self.remove(path)
        return self.result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            unmount=dict(type='list', elements='str', default=[
                '/run/k3s', '/var/lib/kubelet/pods', '/var/lib/kubelet/plugins', '/run/netns/cni-*',
                '/var/lib/rancher/k3s']),
            remove=dict(type='list', elements='path', default=[
                '/etc/systemd/system/k3s.service', '/etc/systemd/system/k3s.service.env',
                '/etc/systemd/system/k3s-agent.service', '/etc/systemd/system/k3s-agent.service.env',
                '/usr/local/bin/k3s', '/etc/rancher/k3s', '/run/k3s', '/run/flannel', '/run/netns/cni-*',
                '/var/lib/rancher/k3s', '/var/lib/kubelet', '/var/lib/cni']),
            interfaces=dict(type='list', elements='str', default=[
                'cni0', 'flannel.1', 'flannel-v6.1', 'kube-ipvs0', 'flannel-wg', 'flannel-wg-v6']),
            kill_shims=dict(type='bool', default=True),
            shim_pattern=dict(type='str', default='/var/lib/rancher/k3s/data/[^/]+/bin/containerd-shim'),
            iptables=dict(type='bool', default=True),
            lazy_unmount=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    for entry in module.params['unmount'] + module.params['remove']:
        if not entry.startswith('/') or entry.rstrip('/*') in ('', '/'):
            module.fail_json(msg='k3s_node_reset: {0!r} is not an absolute path below /: give the k3s paths to unmount '
                                 'and remove, never / itself.'.format(entry))
    reset = Reset(module)
    try:
        result = reset.run()
    except (ResetError, OSError) as exc:
        module.fail_json(msg=to_native(exc), **reset.result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
