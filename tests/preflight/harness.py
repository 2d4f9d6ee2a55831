"""The preflight's rules run in-process on an inventory directory, as playbooks/00_preflight.yml runs them: Ansible's
own inventory and variable managers read the directory and the same filter checks it. No host is contacted (the
rules never open a connection), so this needs no network namespace; it is the fast path for the corpus."""

import importlib

from ansible import constants as C
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.vars.hostvars import HostVars
from ansible.vars.manager import VariableManager

from . import collection  # noqa: F401 - Ansible's loader first  # pylint: disable=unused-import

inventory_problems = importlib.import_module(
    'ansible_collections.homelab.mediacluster.plugins.filter.preflight').inventory_problems


def _roles(groups):
    """role -> hosts, as playbooks/00_preflight.yml (and site.yml) apply them."""
    cluster = groups.get('k3s_cluster', [])
    controller = groups.get('controller', [])
    return {
        'common': cluster, 'node_prep': cluster, 'k3s_common': cluster,
        'k3s_server': groups.get('k3s_servers', []), 'k3s_agent': groups.get('k3s_agents', []),
        'proxmox_guests': controller, 'proxmox_k3s_lxc': groups.get('proxmox_hosts', []) + cluster,
        'k3s_lxc_node': cluster,
        'nas_nfs': groups.get('nas', []), 'longhorn': controller, 'media_stack': controller, 'plex': controller,
        'k8s_delivery': controller,
    }


def run_rules(inventory_dir):
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[str(inventory_dir)])
    variables = VariableManager(loader=loader, inventory=inventory)
    hostvars = HostVars(inventory=inventory, variable_manager=variables, loader=loader)
    groups = {name: [h.name for h in group.get_hosts()] for name, group in inventory.groups.items()}
    return inventory_problems({'groups': groups, 'hostvars': hostvars, 'roles': _roles(groups),
                               'sources': [str(inventory_dir)], 'remote_user': C.DEFAULT_REMOTE_USER})
