# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that hold the k3s cluster logic: inventory checks, the server join plan, restart quorum checks, the
key-by-key kernel command line edit and whether a node is a container. Pure functions, unit-tested in
tests/unit/test_k3s_filters.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib
import ipaddress
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.mediacluster.plugins.module_utils.k3s_tokens import split_token

try:
    from cryptography import x509
except ImportError:  # only needed for CA bundles; reported when one is hashed
    x509 = None

SUPPORTED_ARCHES = {
    'x86_64': 'amd64', 'amd64': 'amd64',
    'aarch64': 'arm64', 'arm64': 'arm64',
    'armv7l': 'armhf', 'armv7': 'armhf', 'armhf': 'armhf', 'arm': 'armhf',
}


def k3s_arch(machine):
    """Map an `uname -m` / ansible_architecture value to the k3s release architecture, or None."""
    return SUPPORTED_ARCHES.get(str(machine or '').lower())


def quorum(members):
    return members // 2 + 1


def k3s_join_plan(servers, initialized=None):
    servers = list(servers or [])
    if not servers:
        raise AnsibleFilterError('k3s_join_plan: the server group is empty; put at least one host in k3s_servers')
    if len(set(servers)) != len(servers):
        raise AnsibleFilterError('k3s_join_plan: a server is listed twice: {0}'.format(servers))
    initialized = [s for s in servers if s in set(initialized or [])]
    if initialized:
        # The cluster exists: nobody runs cluster-init again (that would fork a second cluster). New or wiped
        # servers join through the VIP after the existing members are confirmed healthy.
        seed = initialized[0]
        bootstrap = None
        joiners = [s for s in servers if s not in initialized]
    else:
        seed = bootstrap = servers[0]
        joiners = servers[1:]
    roles = {}
    for server in servers:
        # the first server keeps cluster-init for as long as it holds (or is about to create) the etcd data, so its
        # config never flips between runs; a wiped first server of an existing cluster joins like any other
        roles[server] = 'init' if server == bootstrap or (server == servers[0] and server in initialized) else 'join'
    return {
        'roles': roles,
        'bootstrap': bootstrap,
        'seed': seed,
        'members': initialized or [seed],
        'joiners': joiners,
        'existing': bool(initialized),
        'quorum': quorum(len(servers)),
    }


def k3s_restart_allowed(healthy_members, total_members):
    """True when restarting one healthy member still leaves etcd a quorum of healthy members."""
    healthy_members, total_members = int(healthy_members), int(total_members)
    if total_members <= 1:
        return True  # a single server has no quorum to lose; its restart is an outage either way
    return healthy_members - 1 >= quorum(total_members)


def _node_errors(node):
    errors = []
    name = node.get('name')
    arch = node.get('arch')
    # None: not known yet (the site preflight reads only the inventory, before any host is contacted)
    if arch is not None and k3s_arch(arch) is None:
        errors.append(
            '{0}: architecture {1!r} is not supported by k3s releases (amd64, arm64, armhf). Remove the host from '
            'k3s_cluster or set k3s_common_arch to one of x86_64, aarch64, armv7l if detection is wrong.'.format(
                name, arch))
    if node.get('gpu'):
        labels = node.get('labels') or {}
        taints = node.get('taints') or []
        if not any(str(t).startswith('gpu=') and str(t).endswith(':NoSchedule') for t in taints):
            errors.append(
                '{0} is in the GPU group but has no gpu=…:NoSchedule taint: set k3s_common_gpu_taint (default '
                '"gpu=true:NoSchedule") and keep it in k3s_common_node_taints so only GPU workloads land there.'.format(
                    name))
        if 'gpu' not in labels:
            errors.append(
                '{0} is in the GPU group but has no gpu label: set k3s_common_gpu_labels (default {{gpu: "true"}}) so '
                'the Plex pod can select the node.'.format(name))
    return errors


def k3s_cluster_errors(cluster):
    """Check the whole cluster described by the inventory; return a list of fix-it messages (empty = fine).

    cluster: {servers: [node], agents: [node], vip: str}
    node: {name (inventory host), node_name (k3s node name), ip, cidr (ip/prefix of its interface), arch,
           gpu (bool), labels (dict), taints (list)}
    """
    errors = []
    servers = list(cluster.get('servers') or [])
    agents = list(cluster.get('agents') or [])
    nodes = servers + agents
    # the group decides the count (under --limit not every server is described)
    server_names = list(cluster.get('server_names') or [s['name'] for s in servers])
    if not server_names:
        errors.append('k3s_servers is empty: put one or three (an odd number of) servers in the inventory.')
    elif len(server_names) > 1 and len(server_names) % 2 == 0:
        errors.append(
            '{0} servers ({1}): etcd needs an odd number of servers for quorum ({0} servers survive no more failures '
            'than {2} do). Add a server (e.g. a Raspberry Pi as quorum-only member) or move one to k3s_agents.'.format(
                len(server_names), ', '.join(server_names), len(server_names) - 1))

    seen = {}
    for node in nodes:
        key = str(node.get('node_name') or '').lower()
        if key in seen:
            errors.append(
                'duplicate node name {0!r} for {1} and {2}: k3s refuses a second node with the same name. Give '
                'each host a unique hostname or set k3s_common_node_name per host.'.format(
                    node.get('node_name'), seen[key], node['name']))
        else:
            seen[key] = node['name']
    ips = {}
    for node in nodes:
        if node.get('ip') in ips:
            errors.append('{0} and {1} share the IP {2}: set k3s_common_node_ip per host.'.format(
                ips[node['ip']], node['name'], node['ip']))
        ips.setdefault(node.get('ip'), node['name'])

    vip = cluster.get('vip')
    try:
        vip_addr = ipaddress.ip_address(str(vip))
    except ValueError:
        errors.append('k3s_common_vip={0!r} is not an IP address: set it to a free address in the servers\' '
                      'subnet (e.g. 192.168.1.100).'.format(vip))
        vip_addr = None
    if vip_addr is not None:
        if vip in ips:
            errors.append(
                'k3s_common_vip={0} is the IP of {1}: the VIP must be a free address that no node uses (kube-vip '
                'moves it between servers). Pick an unused address in the servers\' subnet.'.format(vip, ips[vip]))
        for server in servers:
            try:
                network = ipaddress.ip_interface(str(server.get('cidr'))).network
            except ValueError:
                errors.append('{0}: cannot tell its subnet ({1!r}); set k3s_common_node_cidr (e.g. '
                              '192.168.1.11/24).'.format(server['name'], server.get('cidr')))
                continue
            if vip_addr not in network:
                errors.append(
                    'k3s_common_vip={0} is outside the subnet {1} of server {2}: kube-vip announces the VIP by ARP, '
                    'which only works inside the servers\' layer-2 subnet. Pick a free address in {1}.'.format(
                        vip, network, server['name']))
    for node in nodes:
        errors.extend(_node_errors(node))
    return errors


def kernel_cmdline_set(cmdline, params, absent=None):
    """Set each key of params in a kernel command line exactly once, keeping every other word and its order.

    params: dict key -> value (None or '' for a bare flag). A key that already has the wanted value keeps its place;
    duplicates of a managed key are removed; a missing key is appended.
    A list value marks a repeatable key: the kernel accepts cgroup_enable several times with different values, so
    {'cgroup_enable': ['memory']} requires cgroup_enable=memory once and keeps other cgroup_enable words.
    absent: keys removed wherever they appear (e.g. ['cgroup_memory'], which current kernels do not know).
    """
    words = str(cmdline or '').split()
    out = []
    placed = set()
    wanted = {}
    repeatable = set()
    removed = set(absent or [])
    for key, value in (params or {}).items():
        if key in removed:
            raise AnsibleFilterError(
                'kernel_cmdline_set: {0} is both wanted and absent; keep it in one list'.format(key))
        if isinstance(value, (list, tuple)):
            repeatable.add(key)
        values = value if isinstance(value, (list, tuple)) else [value]
        wanted[key] = ['' if v is None else str(v) for v in values]
    for word in words:
        key, _sep, value = word.partition('=')
        if key in removed:
            continue
        if key not in wanted:
            out.append(word)
            continue
        if key in repeatable:
            if value not in wanted[key]:
                out.append(word)  # another value of a repeatable key (e.g. cgroup_enable=blkio): not ours
            elif (key, value) not in placed:
                out.append(word)
                placed.add((key, value))
            continue
        if (key, None) in placed:
            continue  # duplicate of a single-valued managed key
        want = wanted[key][0]
        out.append(key if want == '' else '{0}={1}'.format(key, want))
        placed.add((key, None))
    for key, values in wanted.items():
        if key in repeatable:
            for value in values:
                if (key, value) not in placed:
                    out.append('{0}={1}'.format(key, value))
                    placed.add((key, value))
        elif (key, None) not in placed:
            out.append(key if values[0] == '' else '{0}={1}'.format(key, values[0]))
    return ' '.join(out)


TAINT_EFFECTS = ('NoSchedule', 'PreferNoSchedule', 'NoExecute')


# virtualization_type values (ansible_facts) of a guest that shares its host's kernel
CONTAINER_TYPES = ('lxc', 'podman', 'docker', 'container', 'systemd-nspawn', 'openvz')


def node_is_container(facts):
    """Whether the gathered facts describe a container guest (LXC, podman, docker, nspawn, OpenVZ): it shares the
    host's kernel and clock, so it cannot load modules, set the clock, run nfsd or an iSCSI initiator."""
    facts = facts or {}
    return facts.get('virtualization_role') == 'guest' and facts.get('virtualization_type') in CONTAINER_TYPES


def parse_taint(text):
    """'key=value:Effect' or 'key:Effect' (the k3s node-taint syntax) -> {'key', 'value'?, 'effect'}."""
    spec, _sep, effect = str(text).rpartition(':')
    key, _eq, value = spec.partition('=')
    if not key or effect not in TAINT_EFFECTS:
        raise AnsibleFilterError(
            'Taint {0!r} is not key=value:Effect or key:Effect with Effect one of {1}: fix k3s_common_node_taints or '
            'k3s_common_gpu_taint (e.g. "gpu=true:NoSchedule").'.format(text, ', '.join(TAINT_EFFECTS)))
    return dict({'key': key, 'effect': effect}, **({'value': value} if value else {}))


def k3s_node_patch(node, labels, taints):
    """The merge patch that adds or updates the given labels and taints on a Node object read from the API; {} when
    the node already has them. Labels and taints the collection does not own are never removed: a taint is owned by
    its key and effect, so an owned taint with another value is updated in place and every other taint is kept.
    spec.taints is a list without a merge key, so the patch carries the whole list and the resourceVersion it was
    computed from (the API server refuses the patch if the node changed meanwhile)."""
    node = node or {}
    metadata = node.get('metadata') or {}
    current_labels = metadata.get('labels') or {}
    changed_labels = {str(k): str(v) for k, v in (labels or {}).items() if current_labels.get(str(k)) != str(v)}
    current_taints = list((node.get('spec') or {}).get('taints') or [])
    new_taints = [dict(t) for t in current_taints]
    for wanted in (parse_taint(t) for t in (taints or [])):
        owned = (wanted['key'], wanted['effect'])
        same = [i for i, t in enumerate(new_taints) if (t.get('key'), t.get('effect')) == owned]
        if not same:
            new_taints.append(wanted)
        elif new_taints[same[0]].get('value', '') != wanted.get('value', ''):
            new_taints[same[0]] = wanted
    patch = {}
    if changed_labels:
        patch['metadata'] = {'labels': changed_labels}
    if new_taints != current_taints:
        if metadata.get('resourceVersion'):
            patch.setdefault('metadata', {})['resourceVersion'] = metadata['resourceVersion']
        patch['spec'] = {'taints': new_taints}
    return patch


_PEM_CERT = re.compile(r'-----BEGIN CERTIFICATE-----\s+([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----')
_TOKEN_USERS = {'server': 'server', 'agent': 'node'}


def _pem_certificates(pem):
    ders = []
    for body in _PEM_CERT.findall(pem):
        try:
            ders.append(base64.b64decode(''.join(body.split()), validate=True))
        except (binascii.Error, ValueError):
            continue
    return [der for der in ders if der]


def _bundle_root(ders):
    """The DER of the root certificate the first certificate chains to (issuer == subject at the end)."""
    if x509 is None:
        raise AnsibleFilterError('k3s_ca_hash: the CA file is a bundle; hashing its root needs the Python '
                                 'cryptography library on the controller (pip install cryptography)')
    certs = [x509.load_der_x509_certificate(der) for der in ders]
    current, seen = certs[0], set()
    while current.issuer != current.subject:
        seen.add(id(current))
        issuers = [c for c in certs if c.subject == current.issuer and id(c) not in seen]
        if not issuers:
            raise AnsibleFilterError(
                'k3s_ca_hash: the CA bundle does not contain the root of its first certificate ({0}); k3s cannot '
                'hash it either. Fix the bundle.'.format(current.issuer.rfc4514_string()))
        current = issuers[0]
    return ders[certs.index(current)]


def k3s_ca_hash(pem):
    """The CA hash of a k3s secure token, computed as k3s does (pkg/clientaccess/token.go, hashCA).

    One certificate (the self-signed cluster CA k3s generates): sha256 of the file's bytes as stored. A bundle
    (custom CA): sha256 of the DER of the root certificate the first one chains to.
    """
    data = pem.decode('utf-8') if isinstance(pem, bytes) else str(pem or '')
    ders = _pem_certificates(data)
    if not ders:
        raise AnsibleFilterError('k3s_ca_hash: no PEM certificate in the cluster CA file; it should be '
                                 '/var/lib/rancher/k3s/server/tls/server-ca.crt of a server that has started')
    if len(ders) == 1:
        return hashlib.sha256(data.encode('utf-8')).hexdigest()
    return hashlib.sha256(_bundle_root(ders)).hexdigest()


def k3s_token_secret(token):
    """The secret of a short or secure k3s token (what k3s compares with its passwd entry)."""
    return split_token(token)[1]


def k3s_join_token(secret, ca_hash, kind='server'):
    """The secure join token K10<ca_hash>::server:<secret> (kind server) or K10<ca_hash>::node:<secret> (agent).

    secret may itself be a secure token (e.g. copied from /var/lib/rancher/k3s/server/token): its secret is used,
    after checking its CA hash is this cluster's.
    """
    if kind not in _TOKEN_USERS:
        raise AnsibleFilterError('k3s_join_token: kind must be server or agent, not {0!r}'.format(kind))
    ca_hash = str(ca_hash or '').lower()
    if not re.match('^[0-9a-f]{64}$', ca_hash):
        raise AnsibleFilterError('k3s_join_token: the CA hash must be 64 hex digits (a sha256), not {0!r}'.format(
            ca_hash))
    given_hash, secret = split_token(secret)
    if not secret:
        raise AnsibleFilterError('k3s_join_token: the {0} secret is empty; set k3s_common_{1} or let the first '
                                 'server keep a generated one'.format(kind, 'token' if kind == 'server'
                                                                      else 'agent_token'))
    if given_hash and given_hash.lower() != ca_hash:
        raise AnsibleFilterError(
            'k3s_join_token: the given {0} token carries the CA hash {1}, but this cluster\'s CA hashes to {2}: '
            'it is the token of another cluster (or of this one before its CA changed). Give the secret alone or '
            'the token from this cluster\'s /var/lib/rancher/k3s/server/token.'.format(kind, given_hash, ca_hash))
    return 'K10{0}::{1}:{2}'.format(ca_hash, _TOKEN_USERS[kind], secret)


class FilterModule(object):
    def filters(self):
        return {
            'k3s_join_plan': k3s_join_plan,
            'k3s_restart_allowed': k3s_restart_allowed,
            'k3s_cluster_errors': k3s_cluster_errors,
            'k3s_arch': k3s_arch,
            'kernel_cmdline_set': kernel_cmdline_set,
            'node_is_container': node_is_container,
            'k3s_node_patch': k3s_node_patch,
            'k3s_ca_hash': k3s_ca_hash,
            'k3s_join_token': k3s_join_token,
            'k3s_token_secret': k3s_token_secret,
        }
