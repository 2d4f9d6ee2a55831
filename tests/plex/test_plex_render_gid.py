"""The Plex role reads the render GID from the GPU nodes in the run that needs it (roles/plex/tasks/
read_render_gid.yml): 70_plex.yml run alone on a controller with an empty fact cache does not depend on a fact the
proxmox_k3s_lxc role published in an earlier run. The GPU nodes are this machine (connection local): one has the
render device (its owner group counts), one has not (its render group counts)."""

import grp
import json
import os
import sys

import yaml

from ..conftest import VENV_BIN, run_logged, tail

HERE = __import__('pathlib').Path(__file__).resolve().parent

PLAY = """- name: The Plex role's preflight alone
  hosts: controller
  gather_facts: false
  tasks:
    - name: Run it
      ansible.builtin.include_role:
        name: homelab.mediacluster.plex
        tasks_from: check_inputs
        public: true  # the role's vars stay visible to the next task
    - name: Show what Plex would get in supplementalGroups
      ansible.builtin.debug:
        msg: "render gids {{ _plex_render_gids | to_json }}"
"""


def _inventory(tmp_path, hosts):
    data = yaml.safe_load((HERE / 'inventory' / 'hosts.yml').read_text())
    local = {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}
    data['all']['children']['gpu_nodes']['hosts'] = {name: dict(local, **extra) for name, extra in hosts.items()}
    path = tmp_path / 'hosts.yml'
    path.write_text(yaml.safe_dump(data))
    return path


def _run(tmp_path, name, inventory, **extra):
    play = tmp_path / 'play.yml'
    play.write_text(PLAY)
    variables = tmp_path / 'extra.json'
    # The device is a file in a temp dir, which the input rules refuse (only /dev/dri nodes are GPUs): the input
    # check is skipped as after a passed whole-inventory preflight; tests/preflight covers it.
    variables.write_text(json.dumps(dict({'k8s_delivery_mode': 'export', '_mediacluster_preflight_passed': True},
                                         **extra)))
    # no fact cache at all: a fresh controller
    return run_logged('plex-render-gid-' + name, [str(VENV_BIN / 'ansible-playbook'), '-i', str(inventory),
                                                  str(play), '-e', '@' + str(variables)],
                      ANSIBLE_CACHE_PLUGIN='memory')


def test_render_gid_is_read_from_the_gpu_nodes_with_an_empty_fact_cache(tmp_path):
    device = tmp_path / 'renderD128'
    device.write_text('')
    os.chown(device, -1, 4242)
    group = next(g for g in grp.getgrall() if g.gr_gid > 0).gr_name
    inventory = _inventory(tmp_path, {'k3s-w3': {}, 'k3s-w4': {'gpu_render_gid': 993}})
    code, out = _run(tmp_path, 'read', inventory, plex_gpu_device_path=str(device), plex_gpu_render_group=group)
    assert code == 0, tail(out)
    # k3s-w3 (this machine) is read: its device's group; k3s-w4's comes from the inventory and is not read
    assert 'render gids [993, 4242]' in out, tail(out)
    assert "(item=k3s-w3)" in out and "(item=k3s-w4)" not in out, tail(out)


def test_render_group_is_read_when_the_device_is_missing(tmp_path):
    group = next(g for g in grp.getgrall() if g.gr_gid > 0)  # GID 0 (root) is refused: Plex runs as non-root
    inventory = _inventory(tmp_path, {'k3s-w3': {}})
    code, out = _run(tmp_path, 'group', inventory, plex_gpu_device_path=str(tmp_path / 'missing'),
                     plex_gpu_render_group=group.gr_name)
    assert code == 0, tail(out)
    assert 'render gids [{0}]'.format(group.gr_gid) in out, tail(out)


def test_inventory_gid_wins_and_nothing_is_read(tmp_path):
    inventory = _inventory(tmp_path, {'k3s-w3': {'gpu_render_gid': 993}})
    code, out = _run(tmp_path, 'inventory', inventory, plex_gpu_device_path=str(tmp_path / 'missing'))
    assert code == 0, tail(out)
    assert 'render gids [993]' in out and 'Look at the render device' not in out, tail(out)


def test_unknown_gid_is_a_clear_error(tmp_path):
    inventory = _inventory(tmp_path, {'k3s-w3': {}})
    code, out = _run(tmp_path, 'unknown', inventory, plex_gpu_device_path=str(tmp_path / 'missing'),
                     plex_gpu_render_group='no-such-group-here')
    assert code != 0
    assert 'neither that device nor the group no-such-group-here exists on the node' in out, tail(out)
