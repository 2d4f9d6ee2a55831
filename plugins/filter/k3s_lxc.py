# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which k3s nodes are Proxmox LXC containers, and which of them live on one PVE node: read by both sides of the
LXC setup (roles k3s_lxc_node inside the containers, proxmox_k3s_lxc on the PVE hosts) and by playbooks/10_proxmox.yml,
so the three agree."""


def _guest(host):
    guest = (host or {}).get('proxmox_guest')
    return guest if isinstance(guest, dict) else None


def k3s_lxc_nodes(hosts):
    """The names of the hosts (their variables, each with inventory_hostname) that are LXC containers: first those
    whose proxmox_guest.type is lxc, then those whose node_flavour is lxc; each once, in that order."""
    names = []
    for host in hosts or []:
        guest = _guest(host)
        if guest is not None and guest.get('type') == 'lxc':
            names.append(host['inventory_hostname'])
    for host in hosts or []:
        if (host or {}).get('node_flavour') == 'lxc':
            names.append(host['inventory_hostname'])
    return [name for index, name in enumerate(names) if name not in names[:index]]


def k3s_lxc_containers_on(hosts, node, default_node=''):
    """The names of the hosts (their variables) whose proxmox_guest lives on the PVE node `node`: proxmox_guest.node
    equal to it, then, when `node` is the inventory's default node (proxmox_node), the guests that name no node."""
    hosts = list(hosts or [])
    named = [h['inventory_hostname'] for h in hosts if _guest(h) is not None and 'node' in _guest(h)
             and _guest(h)['node'] == node]
    unnamed = [h['inventory_hostname'] for h in hosts if _guest(h) is not None and 'node' not in _guest(h)]
    return named + (unnamed if node == (default_node or '') else [])


class FilterModule(object):
    def filters(self):
        return {'k3s_lxc_nodes': k3s_lxc_nodes, 'k3s_lxc_containers_on': k3s_lxc_containers_on}
