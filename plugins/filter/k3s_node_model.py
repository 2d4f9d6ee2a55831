# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The node model the cluster-semantics checker schedules against: from the inventory, the labels and taints each
k3s node will carry in the chosen delivery mode. Unit-tested in tests/unit/semantics/."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

# Defaults of the k3s_common role (roles/k3s_common/defaults/main.yml) that decide labels and taints.
K3S_COMMON_DEFAULTS = {
    'k3s_common_server_group': 'k3s_servers',
    'k3s_common_agent_group': 'k3s_agents',
    'k3s_common_gpu_group': 'gpu_nodes',
    'k3s_common_storage_group': 'storage_nodes',
    'k3s_common_node_labels': {},
    'k3s_common_node_taints': [],
    'k3s_common_gpu_labels': {'gpu': 'true'},
    'k3s_common_gpu_taint': 'gpu=true:NoSchedule',
    'k3s_common_storage_labels': {'node.longhorn.io/create-default-disk': 'true'},
    'k3s_common_longhorn_labels': {'mediacluster.homelab/longhorn': 'true'},
}
# The longhorn role's API labels (roles/longhorn/vars/main.yml), apply mode only.
LONGHORN_COMPONENT_LABEL = 'mediacluster.homelab/longhorn'
LONGHORN_DISK_LABEL = 'node.longhorn.io/create-default-disk'
ARCHES = {'x86_64': 'amd64', 'amd64': 'amd64', 'aarch64': 'arm64', 'arm64': 'arm64', 'armv7l': 'arm', 'armhf': 'arm'}


class _HostViews(object):
    """hostvars, each host's view fetched once: HostVars computes a host's variables on every lookup."""

    def __init__(self, hostvars):
        self._hostvars = hostvars
        self._views = {}

    def __getitem__(self, host):
        if host not in self._views:
            self._views[host] = self._hostvars[host]
        return self._views[host]


def _get(hostvars, host, key, default):
    try:
        value = hostvars[host].get(key) if hasattr(hostvars[host], 'get') else None
    except Exception:  # noqa: BLE001 - an undefined variable in the inventory reads as unset here
        value = None
    return default if value is None else value


def parse_taint(text):
    """k3s node-taint syntax key[=value]:Effect as a taint dict."""
    head, sep, effect = str(text).rpartition(':')
    if not sep or effect not in ('NoSchedule', 'PreferNoSchedule', 'NoExecute'):
        raise AnsibleFilterError('taint {0!r} is not key[=value]:NoSchedule|PreferNoSchedule|NoExecute'.format(text))
    key, eq, value = head.partition('=')
    taint = {'key': key, 'effect': effect}
    if eq:
        taint['value'] = value
    return taint


def _lxc(hostvars, host):
    return str(_get(hostvars, host, 'node_flavour', _get(hostvars, host, 'k3s_common_flavour', ''))) == 'lxc'


def k3s_node_model(hostvars, groups, mode='apply', *, longhorn_nodes=None, longhorn_storage_nodes=None,
                   longhorn_label_nodes=None):
    if mode not in ('apply', 'export'):
        raise AnsibleFilterError('k3s_node_model: mode must be apply or export, not {0!r}'.format(mode))
    groups = groups or {}
    hostvars = _HostViews(hostvars)
    any_host = None
    for host in groups.get('all', []) or []:
        any_host = host
        break

    def setting(key, host=None):
        return _get(hostvars, host or any_host, key, K3S_COMMON_DEFAULTS[key]) if (host or any_host) \
            else K3S_COMMON_DEFAULTS[key]

    servers = list(groups.get(setting('k3s_common_server_group'), []) or [])
    agents = [h for h in groups.get(setting('k3s_common_agent_group'), []) or [] if h not in servers]
    k3s_hosts = servers + agents
    storage = set(groups.get(setting('k3s_common_storage_group'), []) or [])
    gpu = set(groups.get(setting('k3s_common_gpu_group'), []) or [])
    # the longhorn role's defaults (longhorn_nodes: every k3s node but LXC ones; plus the storage nodes)
    default_longhorn = [h for h in groups.get('k3s_cluster', k3s_hosts) or [] if not _lxc(hostvars, h)]
    # k3s_common_longhorn_nodes: the Longhorn component label at registration (same default as longhorn_nodes)
    registered_longhorn = set(_get(hostvars, any_host, 'k3s_common_longhorn_nodes', default_longhorn)
                              if any_host else [])
    if longhorn_nodes is None:
        longhorn_nodes = _get(hostvars, any_host, 'longhorn_nodes', default_longhorn) if any_host else []
    if longhorn_storage_nodes is None:
        longhorn_storage_nodes = _get(hostvars, any_host, 'longhorn_storage_nodes', sorted(storage)) if any_host else []
    if longhorn_label_nodes is None:
        longhorn_label_nodes = _get(hostvars, any_host, 'longhorn_label_nodes', True) if any_host else True
    longhorn_nodes = set(longhorn_nodes)
    longhorn_storage = set(longhorn_storage_nodes)
    label_via_api = bool(longhorn_label_nodes)

    model = []
    for host in k3s_hosts:
        name = str(_get(hostvars, host, 'k3s_common_node_name', str(host).split('.', maxsplit=1)[0]))
        arch = ARCHES.get(str(_get(hostvars, host, 'k3s_common_arch', '') or ''),
                          'arm64' if _get(hostvars, host, 'node_flavour', '') == 'pi' else 'amd64')
        labels = {
            'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': arch,
            'beta.kubernetes.io/os': 'linux', 'beta.kubernetes.io/arch': arch,
            'node.kubernetes.io/instance-type': 'k3s', 'beta.kubernetes.io/instance-type': 'k3s',
        }
        if host in servers:
            labels.update({'node-role.kubernetes.io/control-plane': 'true',
                           'node-role.kubernetes.io/master': 'true',
                           'node-role.kubernetes.io/etcd': 'true'})
        # node-label in the k3s config (roles/k3s_common/tasks/preflight.yml)
        registered = dict(setting('k3s_common_node_labels', host) or {})
        if host in gpu:
            registered.update(setting('k3s_common_gpu_labels', host) or {})
        if host in storage:
            registered.update(setting('k3s_common_storage_labels', host) or {})
        if host in storage or host in registered_longhorn:
            registered.update(setting('k3s_common_longhorn_labels', host) or {})
        labels.update(dict((str(k), str(v)) for k, v in registered.items()))
        # node-taint in the k3s config (k3s_common, k3s_server's quorum-only taint)
        taint_texts = list(setting('k3s_common_node_taints', host) or [])
        gpu_taint = setting('k3s_common_gpu_taint', host)
        if host in gpu and gpu_taint:
            taint_texts.append(gpu_taint)
        if host in servers and bool(_get(hostvars, host, 'k3s_server_quorum_only', False)):
            taint_texts.append('node-role.kubernetes.io/control-plane:NoSchedule')
        taints = []
        for text in taint_texts:
            taint = parse_taint(text)
            if taint not in taints:
                taints.append(taint)
        # apply mode: what the longhorn role labels through the API
        if mode == 'apply' and label_via_api and (host in longhorn_nodes or host in longhorn_storage):
            labels[LONGHORN_COMPONENT_LABEL] = 'true'
            if host in longhorn_storage:
                labels[LONGHORN_DISK_LABEL] = 'true'
        model.append({'name': name, 'host': str(host),
                      'address': str(_get(hostvars, host, 'k3s_common_node_ip', '')
                                     or _get(hostvars, host, 'ansible_host', host)),
                      'labels': labels, 'taints': taints, 'lxc': _lxc(hostvars, host)})
    return model


class FilterModule(object):
    def filters(self):
        return {'k3s_node_model': k3s_node_model}
