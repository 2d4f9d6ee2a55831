# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whole-inventory checks for playbooks/00_preflight.yml: every problem at once, before anything changes."""

import functools
import ipaddress
import os
import re
from collections.abc import Mapping

import yaml
from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

try:  # ansible-core >= 2.19: undefined values reach the filter as markers, to be reported instead of raised
    from ansible.template import accept_args_markers, accept_lazy_markers
except ImportError:  # pragma: no cover - older ansible-core raises, which _resolve catches
    def accept_args_markers(plugin):
        return plugin

    def accept_lazy_markers(plugin):
        return plugin

from ansible_collections.homelab.mediacluster.plugins.filter.k3s import k3s_cluster_errors
from ansible_collections.homelab.mediacluster.plugins.module_utils import preflight_rules as rules

ROLES_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'roles')
# roles other roles include with their own arguments (the inventory gives only the shared settings)
CALLED_ROLES = ('k8s_delivery',)
REQUIRED_GROUPS = ('controller', 'k3s_servers')
SPEC_KEYS = ('type', 'elements', 'choices', 'required', 'default', 'options', 'no_log', 'aliases')


@functools.lru_cache(maxsize=None)
def _role_file(role, *parts):
    """A role's YAML file (meta/argument_specs.yml, defaults/main.yml) parsed once per process with libyaml's parser
    where PyYAML has it, or None when the role has no such file. Shared by every caller: read it, never change it."""
    path = os.path.join(ROLES_DIR, role, *parts)
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        # CSafeLoader or SafeLoader: the safe constructors either way; libyaml's parser is 10x faster (0.11 s to
        # 0.01 s for every role's specs)
        return yaml.load(handle, Loader=getattr(yaml, 'CSafeLoader', yaml.SafeLoader)) or {}  # noqa: S506


def _entry_points(role):
    """{entry point: its spec} of a role's meta/argument_specs.yml, or None when it has none."""
    specs = _role_file(role, 'meta', 'argument_specs.yml')
    return None if specs is None else (specs.get('argument_specs') or {})


@functools.lru_cache(maxsize=None)
def _role_spec(role):
    entry_points = _entry_points(role)
    if entry_points is None:
        return None
    options = (entry_points.get('main') or {}).get('options') or {}
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
    return _role_file(role, 'defaults', 'main.yml') or {}


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
        literal = rules.parse_ip(ip) is not None
        # a DNS name's subnet is known only from the node's facts: the role's own preflight checks the VIP there
        cidr = var(host, 'k3s_common_node_cidr') or ('{0}/{1}'.format(ip, prefix) if prefix and literal else
                                                     ('{0}/32'.format(vip) if rules.parse_ip(vip) else ''))
        return {'name': host, 'node_name': var(host, 'k3s_common_node_name') or host.split('.')[0], 'ip': ip,
                'cidr': cidr,
                'arch': var(host, 'k3s_common_arch') or None, 'gpu': gpu, 'labels': labels, 'taints': taints}

    servers = groups.get('k3s_servers', [])
    return k3s_cluster_errors({'server_names': servers, 'vip': vip, 'servers': [node(h) for h in servers],
                               'agents': [node(h) for h in groups.get('k3s_agents', [])]})


def _check_specs(roles, hostvars, where=None):
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
                if role in CALLED_ROLES and err.startswith('missing required arguments'):
                    continue
                named = re.search(r"(?:argument '|value of )([a-z0-9_]+)", err)
                place = (where or {}).get(named.group(1)) if named else None
                msg = '{0}role {1} on {2}: {3}'.format(place + ': ' if place else '', role, host, err)
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
        elif str(user) != 'root' and not rules.truthy(hv.get('ansible_become', False)):
            problems.append('{0} logs in as {1} with ansible_become false: the roles change system files and '
                            'some plays (Proxmox, NAS, Longhorn node prep) do not switch to root themselves. Set '
                            'ansible_become: true for {0} (sudo), or log in as root'.format(host, user))
    return problems


SKIP_VARS = frozenset(('groups', 'group_names', 'hostvars', 'omit', 'playbook_dir', 'inventory_hostname',
                       'inventory_hostname_short', 'inventory_dir', 'inventory_file', 'role_names', 'play_hosts',
                       'environment', 'vars', 'role_path', 'module_setup', 'ansible_facts'))
KEEP_ANSIBLE_VARS = frozenset(('ansible_host', 'ansible_user', 'ansible_ssh_user', 'ansible_port',
                               'ansible_connection', 'ansible_become'))
UNDEFINED = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)' is undefined")


class _DuplicateKeyLoader(yaml.SafeLoader):
    """A YAML loader that records a key given twice in one mapping instead of silently keeping the last."""

    duplicates = None

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _value in node.value:
            try:
                key = self.construct_object(key_node, deep=True)
                hash(key)
            except Exception:  # noqa: BLE001,S112 - a key we cannot compare is not ours to judge
                continue
            if key in seen:
                self.duplicates.append((key, seen[key], key_node.start_mark.line + 1))
            else:
                seen[key] = key_node.start_mark.line + 1
        return super(_DuplicateKeyLoader, self).construct_mapping(node, deep=deep)


def _any_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


_DuplicateKeyLoader.add_multi_constructor('!', _any_tag)


def _inventory_files(sources):
    for given in sources or []:
        source = str(given)
        if os.path.isfile(source):
            yield os.path.dirname(source), source
        elif os.path.isdir(source):
            for top, dirs, files in os.walk(source):
                dirs.sort()
                for name in sorted(files):
                    if name.endswith(('.yml', '.yaml', '.json')) or os.path.dirname(top) == source.rstrip('/') \
                            or top.rstrip('/') == source.rstrip('/'):
                        yield source, os.path.join(top, name)


def _scan_files(sources, report):
    """Duplicate keys in the inventory's YAML files, and which file defines each variable."""
    where = {}
    for base, path in _inventory_files(sources):
        rel = os.path.relpath(path, base)
        try:
            with open(path) as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError):
            continue
        if text.startswith('$ANSIBLE_VAULT'):
            continue
        loader = _DuplicateKeyLoader(text)
        loader.duplicates = []
        try:
            data = loader.get_single_data()
        except yaml.YAMLError as exc:
            if rel.endswith(('.yml', '.yaml')):
                report.add(rel, 'not valid YAML ({0})'.format(str(exc).splitlines()[0]),
                           'fix the syntax (yamllint {0} shows where)'.format(rel))
            continue
        finally:
            loader.dispose()
        for key, first, line in loader.duplicates:
            report.add('{0} line {1}'.format(rel, line), 'the key {0} is given twice (first on line {1}); YAML keeps '
                       'only the last one'.format(key, first), 'remove or rename one of them (a copied host block?)')
        parts = rel.split(os.sep)
        if isinstance(data, dict):
            if parts[0] in ('group_vars', 'host_vars'):
                for name in data:
                    where.setdefault(str(name), '{0} {1}'.format(rel, name))
            else:
                for name in _inline_vars(data):
                    where.setdefault(name, '{0} {1}'.format(rel, name))
    return where


def _inline_vars(group):
    """Variable names given inside a YAML inventory file (hosts' and groups' vars)."""
    names = []
    if not isinstance(group, dict):
        return names
    for key, value in group.items():
        if key == 'vars' and isinstance(value, dict):
            names.extend(str(k) for k in value)
        elif key == 'hosts' and isinstance(value, dict):
            for hv in value.values():
                if isinstance(hv, dict):
                    names.extend(str(k) for k in hv)
        elif key == 'children' and isinstance(value, dict):
            for child in value.values():
                names.extend(_inline_vars(child))
        elif isinstance(value, dict) and key not in ('vars', 'hosts'):
            names.extend(_inline_vars(value))
    return names


class _Unresolved(Exception):
    pass


def _plain(value):
    """A fully templated copy (lazy containers are walked, so a nested undefined variable fails here)."""
    if _is_marker(value):
        raise _Unresolved(_marker_message(value))
    if isinstance(value, Mapping):
        return {k: _plain(value[k]) for k in value}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _is_marker(value):
    return type(value).__name__.endswith('Marker') and hasattr(value, '_undefined_message')


def _marker_message(value):
    for attr in ('_as_message', ):
        try:
            return getattr(value, attr)()
        except Exception:  # noqa: BLE001,S112 - fall back to the undefined message
            continue
    try:
        return str(object.__getattribute__(value, '_undefined_message'))
    except Exception:  # noqa: BLE001
        return 'undefined'


def _wanted(name):
    if name in SKIP_VARS:
        return False
    return not name.startswith('ansible_') or name in KEEP_ANSIBLE_VARS


def _resolve(hostvars, hosts):
    """Each host's variables, templated one at a time: an undefined or failing variable is recorded, not raised."""
    resolved, failures = {}, []
    for host in hosts:
        try:
            view = hostvars[host]
            names = [n for n in view if _wanted(n)]
        except Exception:  # noqa: BLE001 - a host we cannot read has nothing to check
            resolved[host] = {}
            continue
        values = {}
        for name in names:
            try:
                values[name] = _plain(view[name])
            except Exception as exc:  # noqa: BLE001 - every templating failure becomes a reported problem
                failures.append((host, name, str(exc)))
        values.update({name: DEFERRED for h, name, message in failures if h == host and RUNTIME_FACTS.search(message)})
        resolved[host] = values
    return resolved, failures


@functools.lru_cache(maxsize=None)
def _spec_description(name):
    for role in sorted(os.listdir(ROLES_DIR)):
        if name.startswith(role + '_'):
            entry_points = _entry_points(role)
            if entry_points is not None:
                opts = (entry_points.get('main') or {}).get('options') or {}
                desc = (opts.get(name) or {}).get('description') or ''
                desc = ' '.join(desc) if isinstance(desc, list) else str(desc)
                return desc.split('. ', maxsplit=1)[0].rstrip('.')
    return ''


# facts the roles publish for later plays (k3s_lxc_node: gpu_render_gid; nas_nfs: nas_nfs_facts): a variable
# wired to them is known only once that play ran, so it is checked by the role that reads it, not here
# (a value read through hostvars is resolved when the role runs: the inventory's view of a host has no hostvars)
RUNTIME_FACTS = re.compile(r"\b(nas_nfs_facts|gpu_render_gid)\b|'hostvars' is undefined")
DEFERRED = '{{ known when the play that publishes it has run }}'


def _report_failures(failures, where, report):
    for host, name, message in failures:
        if RUNTIME_FACTS.search(message):
            continue
        place = where.get(name) or '{0} {1}'.format(host, name)
        found = UNDEFINED.search(message)
        holds = _spec_description(name)
        holds = ' ({0}: {1})'.format(name, holds) if holds else ''
        if found:
            missing = found.group(1)
            fix = ('add {0} to group_vars/all/vault.yml (then ansible-vault encrypt it)'.format(missing)
                   if missing.startswith('vault_') else
                   'define {0} in the inventory (group_vars/all/*.yml) or change {1}'.format(missing, name))
            report.add(place, 'refers to {0}, which is not defined{1}'.format(missing, holds), fix)
        else:
            report.add(place, 'cannot be resolved: {0}{1}'.format(message.splitlines()[0][:200], holds),
                       'fix the expression or the value it reads')


@functools.lru_cache(maxsize=None)
def _all_specs():
    """{role: {option: spec}}: the options of every entry point of each role (main and e.g. longhorn's nodes), so
    that a variable only a secondary entry point reads is still a known one. Built once per process; read it only."""
    specs = {}
    for role in sorted(os.listdir(ROLES_DIR)):
        if _role_spec(role) is None:
            continue
        spec = dict(_role_spec(role))  # a copy: the main entry point's spec stays the role's own
        for entry in _entry_points(role).values():
            for name, option in ((entry or {}).get('options') or {}).items():
                spec.setdefault(name, _clean(option))
        specs[role] = spec
    return specs


def _effective(role, given, groups, host, where):
    """The role's variables for one host: its defaults (a templated default computed here or left out) and what the
    inventory gives."""
    out = {}
    for name, value in _role_defaults(role).items():
        if not _has_template(value):
            out[name] = value
    hv = given.get(host, {})
    out.update(hv)
    computed = {
        'longhorn_storage_nodes': groups.get('storage_nodes', []),
        'longhorn_nodes': [h for h in groups.get('k3s_cluster', []) if given.get(h, {}).get('node_flavour') != 'lxc'],
        'node_prep_flavour': hv.get('node_flavour', ''),
        'k3s_common_flavour': hv.get('node_flavour', ''),
    }
    for name, value in computed.items():
        if name.startswith(role + '_') and name not in hv:
            out[name] = value
    places = {name: 'roles/{0}/defaults/main.yml {1}'.format(role, name) for name in _role_defaults(role)}
    places.update(where)
    out['__where__'] = places
    return out


def _has_template(value):
    if isinstance(value, dict):
        return any(_has_template(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_template(v) for v in value)
    return rules.is_template(value)


def _post_k3s(lines, both):
    """The k3s filter's messages as the inventory reads: the address is ansible_host; the VIP once."""
    out, outside = [], {}
    for text in lines:
        line = text
        found = re.match(r"duplicate node name '([^']+)' for (\S+) and (\S+):", line)
        if found and found.group(2) == found.group(3) and found.group(2) in both:
            continue  # reported as a host in both groups
        found = re.match(r'(\S+) and (\S+) share the IP (\S+): set k3s_common_node_ip per host\.', line)
        if found:
            if found.group(1) in both and found.group(1) == found.group(2):
                continue
            line = ('{0} and {1} share the IP {2}: give each host its own ansible_host in hosts.yml '
                    '(k3s_common_node_ip only when a node has several addresses)'.format(*found.groups()))
        found = re.match(r'(k3s_common_vip=\S+ is outside the subnet (\S+)) of server (\S+):(.*)$', line)
        if found:
            outside.setdefault((found.group(1), found.group(4)), []).append(found.group(3))
            continue
        out.append(line)
    for (head, tail), servers in outside.items():
        out.append('{0} of the servers ({1}):{2}'.format(head, ', '.join(servers), tail))
    return out


def _check_vip_places(vip, network, controller, groups, hostvars, report, places):  # noqa: PLR0917
    ip = rules.parse_ip(vip)
    if ip is None:
        return
    where = places.get('k3s_common_vip') or 'k3s_common_vip'
    nas = controller.get('mediacluster_nas_server')
    nas_hosts = groups.get('nas', [])
    nas_addrs = [str(nas)] if nas else []
    nas_addrs += [str((hostvars.get(h) or {}).get('ansible_host') or h) for h in nas_hosts]
    if str(ip) in nas_addrs:
        report.add(where, 'k3s_common_vip={0} is the address of the NAS'.format(ip),
                   'pick a free address for the VIP; no machine may use it')
    try:
        net = ipaddress.ip_network(str(network), strict=False) if network else None
    except ValueError:
        net = None
    if net is not None and net.num_addresses > 2 and ip in (net.network_address, net.broadcast_address):
        report.add(where, 'k3s_common_vip={0} is the {1} address of {2}'.format(
            ip, 'network' if ip == net.network_address else 'broadcast', net),
            'pick a free host address inside {0}'.format(net))


def _controller_vars(groups, resolved):
    controllers = groups.get('controller') or []
    return resolved.get(controllers[0], {}) if controllers else (next(iter(resolved.values()), {}))


@accept_args_markers
@accept_lazy_markers
def inventory_problems(data):
    if not isinstance(data, Mapping):
        raise AnsibleFilterError('inventory_problems expects a dict with groups, hostvars, roles and sources')
    groups = {k: list(v) for k, v in (data.get('groups') or {}).items()}
    raw_hostvars = data.get('hostvars') or {}
    report = rules.Report()
    where = _scan_files(data.get('sources'), report)
    hosts = list(dict.fromkeys(h for members in groups.values() for h in members))
    resolved, failures = _resolve(raw_hostvars, hosts)
    _report_failures(failures, where, report)
    controller = _controller_vars(groups, resolved)
    network = data['network'] if data.get('network') is not None else controller.get('mediacluster_network', '')
    vip = data['vip'] if data.get('vip') is not None else controller.get('k3s_common_vip', '')
    both = set(groups.get('k3s_servers', [])) & set(groups.get('k3s_agents', []))
    rules.structure(groups, resolved, report)
    report.extend(_check_groups(groups))
    address_problems, seen = _check_addresses(groups, resolved, network)
    report.extend(address_problems)
    k3s_groups = dict(groups, k3s_agents=[h for h in groups.get('k3s_agents', []) if h not in both])
    report.extend(_post_k3s(_check_k3s(k3s_groups, resolved, vip, network), both))
    vip_ip = rules.parse_ip(vip)
    if vip_ip in seen and seen[vip_ip] not in groups.get('k3s_cluster', []):
        report.add('', 'the VIP {0} is the address of {1}: pick an address no machine uses'.format(vip_ip,
                                                                                                   seen[vip_ip]))
    _check_vip_places(vip, network, controller, groups, resolved, report, where)
    version = controller.get('k3s_common_version', _role_defaults('k3s_common').get('k3s_common_version'))
    if not rules.K3S_VERSION.match(str(version)):
        report.add('', 'k3s_common_version={0} is not a supported k3s release (v1.28 to v1.35, written like '
                   'v1.33.5+k3s1): pin one of the releases listed on the k3s release page'.format(version))
    report.extend(_check_specs(data.get('roles'), resolved, where))
    report.extend(_check_consistency(groups, resolved))
    # every role's own rules, for every host it runs on (identical lines collapse)
    for role, role_hosts in sorted((data.get('roles') or {}).items()):
        rule = rules.ROLE_RULES.get(role)
        if rule is None:
            continue
        for host in role_hosts or []:
            values = _effective(role, resolved, groups, host, where)
            if role == 'k3s_common':
                values['k3s_common_version'] = 'v1.33.5+k3s1'  # reported once above
            rule(values, {'groups': groups, 'hostvars': resolved}, report,
                 host if role in ('node_prep', 'nas_nfs') else '')
    report.extend(k3s_lxc_privilege_problems({'groups': groups, 'hostvars': resolved}))
    report.extend(_check_login_users(groups, resolved, data.get('remote_user')))
    rules.cross_role(controller, groups, resolved, network, report)
    given = {h: [n for n in values if not n.startswith('_')] for h, values in resolved.items()}
    rules.unknown_variables(given, _all_specs(), report, where.get)
    return report.lines()


def role_problems(variables, role, groups=None, hostvars=None, host=''):
    """A role's own preflight: its rules over its variables (the same code 00_preflight.yml runs)."""
    return rules.role_problems(role, dict(variables or {}), groups=dict(groups or {}),
                               hostvars=dict(hostvars or {}), host=host)


def cloud_plan(variables, prefix, namespace):
    """The plan's line about cloud libraries (rclone sidecars) of one role, with their security consequence."""
    return rules.cloud_plan(dict(variables or {}), prefix, namespace)


class FilterModule(object):
    def filters(self):
        return {'inventory_problems': inventory_problems, 'role_problems': role_problems, 'cloud_plan': cloud_plan,
                'k3s_lxc_privilege_problems': k3s_lxc_privilege_problems,
                'k3s_lxc_feature_warnings': k3s_lxc_feature_warnings}
