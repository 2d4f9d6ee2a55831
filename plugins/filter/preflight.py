# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whole-inventory checks for playbooks/00_preflight.yml: every problem at once, before anything changes."""

DOCUMENTATION = r'''
name: inventory_problems
short_description: Every problem of a homelab.mediacluster inventory, as fix-it messages
version_added: 0.1.0
description:
  - Checks the whole inventory at once, without contacting any host, and returns a list of messages (empty when
    the inventory is fine). Used by C(playbooks/00_preflight.yml).
  - Checks the required groups, that every address is unique and inside O(_input.network), that each host's role
    variables satisfy the role's C(meta/argument_specs.yml), that GPU, storage and NAS declarations agree, and the
    k3s cluster rules of the C(homelab.mediacluster.k3s_cluster_errors) filter, and that every host reached over
    SSH has a login user (and C(ansible_become) when that user is not root).
  - The same plugin file also provides C(k3s_lxc_privilege_problems) (k3s nodes in unprivileged LXC containers,
    also called by the roles proxmox_guests and proxmox_k3s_lxc) and C(k3s_lxc_feature_warnings) (keyctl/nesting
    on a privileged k3s container).
options:
  _input:
    description:
      - "A dict: C(groups) (the play's C(groups)), C(hostvars) (host -> its variables), C(network) (CIDR every
        node address must be in), C(vip), C(roles) (role name -> list of hosts it runs on), C(remote_user)
        (Ansible's configured remote user, if any)."
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: List every problem of the inventory
  ansible.builtin.debug:
    msg: "{{ {'groups': groups, 'hostvars': hostvars, 'network': '192.168.1.0/24', 'vip': '192.168.1.100',
              'roles': {'common': groups.k3s_cluster}} | homelab.mediacluster.inventory_problems }}"
'''

RETURN = r'''
_value:
  description: Fix-it messages, one per problem; empty when the inventory is fine.
  type: list
  elements: str
'''

import ipaddress
import os
import re

import yaml
from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.homelab.mediacluster.plugins.filter.k3s import k3s_cluster_errors

ROLES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'roles')
REQUIRED_GROUPS = ('controller', 'k3s_servers')
SPEC_KEYS = ('type', 'elements', 'choices', 'required', 'default', 'options', 'no_log', 'aliases')


def _role_spec(role):
    path = os.path.join(ROLES_DIR, role, 'meta', 'argument_specs.yml')
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        specs = yaml.safe_load(handle) or {}
    options = specs.get('argument_specs', {}).get('main', {}).get('options') or {}
    return {name: _clean(opt) for name, opt in options.items()}


def _clean(option):
    """An argument_specs.yml option as ArgumentSpecValidator takes it (no descriptions; nested options kept)."""
    out = {k: v for k, v in option.items() if k in SPEC_KEYS}
    if 'options' in out and out['options']:
        out['options'] = {name: _clean(sub) for name, sub in out['options'].items()}
    out.pop('default', None)  # defaults live in defaults/main.yml; the spec only checks what the inventory gives
    return out


def _address(host, hostvars):
    return str(hostvars.get(host, {}).get('ansible_host') or host)


def _check_groups(groups):
    problems = []
    for group in REQUIRED_GROUPS:
        if not groups.get(group):
            problems.append('group `{0}` is missing or empty: add it to the inventory (see inventory/example/hosts.yml)'
                            .format(group))
    return problems


def _check_addresses(groups, hostvars, network):
    problems = []
    try:
        net = ipaddress.ip_network(network, strict=False) if network else None
    except ValueError:
        return ['network `{0}` is not a CIDR such as 192.168.1.0/24: fix `mediacluster_network`'.format(network)], {}
    seen = {}
    hosts = sorted(set(h for g, members in groups.items() if g not in ('all', 'ungrouped', 'controller')
                       for h in members))
    for host in hosts:
        addr = _address(host, hostvars)
        if host in groups.get('controller', []):
            continue
        try:
            ip = ipaddress.ip_address(addr)
        except ValueError:
            continue  # a DNS name: nothing to compare
        if ip in seen and not {seen[ip], host} <= set(groups.get('k3s_cluster', [])):  # k3s pairs: k3s rules
            problems.append('hosts {0} and {1} share the address {2}: give each host its own ansible_host'.format(
                seen[ip], host, ip))
        else:
            seen[ip] = host
        if net and ip not in net and host in groups.get('k3s_cluster', []):
            problems.append('{0} ({1}) is outside the cluster network {2}: fix its ansible_host or '
                            '`mediacluster_network`'.format(host, ip, net))
    return problems, seen


def _role_defaults(role):
    path = os.path.join(ROLES_DIR, role, 'defaults', 'main.yml')
    if not os.path.exists(path):
        return {}
    with open(path) as handle:
        return yaml.safe_load(handle) or {}


def _check_k3s(groups, hostvars, vip, network):
    """The k3s rules (odd server count, VIP, node names, GPU label/taint, architecture when known) from the k3s
    filter, fed with what the inventory says instead of what the nodes report: nothing is contacted here."""
    defaults = _role_defaults('k3s_common')
    try:
        prefix = ipaddress.ip_network(network, strict=False).prefixlen if network else None
    except ValueError:
        prefix = None  # reported by the address checks

    def var(host, name, fallback=None):
        value = hostvars.get(host, {}).get(name, defaults.get(name, fallback))
        return fallback if isinstance(value, str) and '{{' in value else value

    def node(host):
        ip = var(host, 'k3s_common_node_ip') or _address(host, hostvars)
        gpu = host in groups.get(var(host, 'k3s_common_gpu_group', 'gpu_nodes'), [])
        labels = dict(var(host, 'k3s_common_node_labels') or {})
        taints = list(var(host, 'k3s_common_node_taints') or [])
        if gpu:
            labels.update(var(host, 'k3s_common_gpu_labels') or {})
            if var(host, 'k3s_common_gpu_taint'):
                taints.append(var(host, 'k3s_common_gpu_taint'))
        return {'name': host, 'node_name': var(host, 'k3s_common_node_name') or host.split('.')[0], 'ip': ip,
                'cidr': var(host, 'k3s_common_node_cidr') or ('{0}/{1}'.format(ip, prefix) if prefix else ''),
                'arch': var(host, 'k3s_common_arch') or None, 'gpu': gpu, 'labels': labels, 'taints': taints}

    servers = groups.get('k3s_servers', [])
    return k3s_cluster_errors({'server_names': servers, 'vip': vip, 'servers': [node(h) for h in servers],
                               'agents': [node(h) for h in groups.get('k3s_agents', [])]})


def _check_specs(roles, hostvars):
    problems = []
    for role, hosts in sorted((roles or {}).items()):
        spec = _role_spec(role)
        if spec is None:
            problems.append('role {0} is not part of homelab.mediacluster (no meta/argument_specs.yml)'.format(role))
            continue
        validator = ArgumentSpecValidator(spec)
        reported = set()
        for host in hosts or []:
            given = {k: v for k, v in hostvars.get(host, {}).items() if k in spec}
            result = validator.validate(given)
            for err in result.error_messages:
                msg = 'role {0} on {1}: {2}'.format(role, host, err)
                key = (role, err)
                if key not in reported:  # a group_vars mistake is reported once, not once per host
                    reported.add(key)
                    problems.append(msg)
    return problems


def _check_consistency(groups, hostvars):
    problems = []
    cluster = set(groups.get('k3s_cluster', []))
    for group in ('gpu_nodes', 'storage_nodes'):
        for host in groups.get(group, []):
            if host not in cluster:
                problems.append('{0} is in `{1}` but not in k3s_cluster: add it to k3s_servers or k3s_agents, or '
                                'remove it from {1}'.format(host, group))
    for host in groups.get('storage_nodes', []):
        flavour = hostvars.get(host, {}).get('node_flavour') or \
            (hostvars.get(host, {}).get('proxmox_guest') or {}).get('type')
        if flavour == 'lxc':
            problems.append('{0} is an LXC container in `storage_nodes`: Longhorn needs iSCSI and block devices, '
                            'which a container cannot have; remove it from storage_nodes'.format(host))
    for host in groups.get('gpu_nodes', []):
        guest = hostvars.get(host, {}).get('proxmox_guest') or {}
        if guest.get('type') == 'lxc' and guest.get('unprivileged') is True:
            problems.append('{0} is a GPU node in an unprivileged LXC: k3s and /dev/dri passthrough need a '
                            'privileged container; set proxmox_guest.unprivileged: false'.format(host))
    for host in cluster:
        guest = hostvars.get(host, {}).get('proxmox_guest')
        if guest and not groups.get('proxmox_hosts') and not hostvars.get(host, {}).get('proxmox_api_host'):
            problems.append('{0} has a proxmox_guest but no Proxmox API is configured: set proxmox_api_host and '
                            'credentials (group_vars/all/proxmox.yml)'.format(host))
            break
    return problems


FALSE_WORDS = ('0', 'false', 'no', 'off')


def k3s_lxc_privilege_problems(data):
    """Fix-it messages for k3s nodes whose Proxmox container is, or would be created, unprivileged.

    data: groups (k3s_cluster is read), hostvars (host -> vars with proxmox_guest), optionally defaults (the
    proxmox_guests_defaults the guests are created with; otherwise each host's own) and configs (host -> the text of
    its /etc/pve/lxc/<vmid>.conf, read on the PVE host; what it says wins over the inventory). proxmox_guests
    creates a container unprivileged unless proxmox_guest.unprivileged is false, and kubelet cannot run in one: it
    needs /dev/kmsg and writes under /proc/sys, which a user namespace denies. The roles call this filter too."""
    groups = data.get('groups') or {}
    hostvars = data.get('hostvars') or {}
    configs = data.get('configs') or {}
    problems = []
    for host in sorted(set(groups.get('k3s_cluster') or [])):
        own = hostvars.get(host) or {}
        defaults = data.get('defaults', own.get('proxmox_guests_defaults')) or {}
        guest = dict(defaults, **(own.get('proxmox_guest') or {}))
        if host in configs:
            current = re.split(r'(?m)^\[', configs[host] or '', maxsplit=1)[0]
            found = re.search(r'(?m)^unprivileged:\s*(\S+)', current)
            guest = dict(guest, type='lxc', unprivileged=found.group(1) if found else '0')
        if guest.get('type') != 'lxc':
            continue
        value = guest.get('unprivileged')
        if value is not None and str(value).strip().lower() in FALSE_WORDS:
            continue
        how = 'not set, so proxmox_guests creates it unprivileged' if value is None else 'unprivileged: {0}{1}'.format(
            value, ' in its config on the PVE host' if host in configs else '')
        problems.append('{0} is a k3s node in an unprivileged LXC (CT {1}, {2}): kubelet there dies on /dev/kmsg and '
                        'on writes under /proc/sys, and the collection does not support KubeletInUserNamespace; set '
                        'unprivileged: false for that CT in its proxmox_guest (Proxmox VE cannot change it on an '
                        'existing CT: recreate it)'.format(host, guest.get('vmid', '?'), how))
    return problems


def k3s_lxc_feature_warnings(data):
    """Warnings for feature flags that do nothing on a privileged k3s container (same data as
    k3s_lxc_privilege_problems): keyctl is for unprivileged containers, nesting is dropped once lxc.apparmor.profile
    is set (proxmox_k3s_lxc sets it), and any flag on a privileged CT needs root@pam password login."""
    groups = data.get('groups') or {}
    hostvars = data.get('hostvars') or {}
    warnings = []
    for host in sorted(set(groups.get('k3s_cluster') or [])):
        own = hostvars.get(host) or {}
        guest = dict(data.get('defaults', own.get('proxmox_guests_defaults')) or {}, **(own.get('proxmox_guest') or {}))
        if guest.get('type') != 'lxc' or str(guest.get('unprivileged')).strip().lower() not in FALSE_WORDS:
            continue
        features = guest.get('features') or {}
        if not isinstance(features, dict):
            features = dict(part.partition('=')[::2] for part in str(features).split(',') if part)
        useless = sorted(k for k, v in features.items()
                         if k in ('keyctl', 'nesting') and str(v).strip().lower() not in FALSE_WORDS + ('', 'none'))
        if useless:
            warnings.append('{0} (CT {1}) sets features {2} on a privileged container: they do nothing there (keyctl '
                            'is for unprivileged CTs, nesting is dropped once lxc.apparmor.profile is set) and only '
                            'make Proxmox VE require root@pam password login for the container; drop them from its '
                            'proxmox_guest'.format(host, guest.get('vmid', '?'), ', '.join(useless)))
    return warnings


# Connections that log in to a host as a user (a local or container connection needs none).
_LOGIN_CONNECTIONS = (None, '', 'ssh', 'ansible.builtin.ssh', 'smart', 'paramiko', 'paramiko_ssh',
                      'ansible.builtin.paramiko_ssh')


def _truthy(value):
    return str(value).strip().lower() in ('1', 'true', 'yes', 'on', 'y', 't')


def _check_login_users(groups, hostvars, remote_user=None):
    """Every host reached over SSH needs a user that machine knows, and root or `become` for the roles.

    The user comes from ansible_user, its alias ansible_ssh_user, or Ansible's configured remote_user (ansible.cfg
    `remote_user`, ANSIBLE_REMOTE_USER; the lab sets `ansible_user: root` for all). Without any of them Ansible
    logs in as whoever runs the controller, which a Proxmox host, a CT, a cloud-init VM or a Pi does not know."""
    problems = []
    controller = set(groups.get('controller', []))
    hosts = sorted(set(h for g, members in groups.items() if g not in ('all', 'ungrouped') for h in members))
    for host in hosts:
        hv = hostvars.get(host, {})
        if host in controller or hv.get('ansible_connection') not in _LOGIN_CONNECTIONS:
            continue
        user = hv.get('ansible_user') or hv.get('ansible_ssh_user') or remote_user
        guest = hv.get('proxmox_guest') or {}
        if not user:
            hint = ('the cloud-init user of its template, ansible_user: {0}'.format(guest['ciuser'])
                    if guest.get('type') == 'vm' and guest.get('ciuser') else
                    'ansible_user: root (Proxmox puts the SSH key in root\'s authorized_keys)'
                    if guest.get('type') == 'lxc' or host in groups.get('proxmox_hosts', []) else
                    'the user created on the Pi (Raspberry Pi OS has no root login) with ansible_become: true'
                    if hv.get('node_flavour') == 'pi' else
                    'the user its SSH key is authorised for, with ansible_become: true unless it is root')
            problems.append('{0} has no login user: Ansible would log in as the user running the controller. Set '
                            '{1} (hosts.yml or host_vars/{0}; see inventory/example)'.format(host, hint))
        elif str(user) != 'root' and not _truthy(hv.get('ansible_become', False)):
            problems.append('{0} logs in as {1} with ansible_become false: the roles change system files and '
                            'some plays (Proxmox, NAS, Longhorn node prep) do not switch to root themselves. Set '
                            'ansible_become: true for {0} (sudo), or log in as root'.format(host, user))
    return problems


def inventory_problems(data):
    if not isinstance(data, dict):
        raise AnsibleFilterError('inventory_problems expects a dict with groups, hostvars, network, vip and roles')
    groups = {k: list(v) for k, v in (data.get('groups') or {}).items()}
    hostvars = {h: dict(v) for h, v in (data.get('hostvars') or {}).items()}
    network = data.get('network')
    problems = _check_groups(groups)
    address_problems, seen = _check_addresses(groups, hostvars, network)
    problems += address_problems
    problems += _check_k3s(groups, hostvars, data.get('vip'), network)
    try:
        vip = ipaddress.ip_address(str(data.get('vip')))
    except ValueError:
        vip = None
    if vip in seen and seen[vip] not in groups.get('k3s_cluster', []):
        problems.append('the VIP {0} is the address of {1}: pick an address no machine uses'.format(vip, seen[vip]))
    problems += _check_specs(data.get('roles'), hostvars)
    problems += _check_consistency(groups, hostvars)
    problems += k3s_lxc_privilege_problems({'groups': groups, 'hostvars': hostvars})
    problems += _check_login_users(groups, hostvars, data.get('remote_user'))
    return problems


class FilterModule(object):
    def filters(self):
        return {'inventory_problems': inventory_problems,
                'k3s_lxc_privilege_problems': k3s_lxc_privilege_problems,
                'k3s_lxc_feature_warnings': k3s_lxc_feature_warnings}
