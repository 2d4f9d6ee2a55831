"""Fixtures for the longhorn role tests: the delivery layer's emulator fixture and playbook helpers, and a play that
runs the role on the controller with a two-node storage_nodes group."""

import pathlib
import sys

import pytest
import yaml

from ..delivery.conftest import kube, recap, run_playbook  # noqa: F401 (fixtures)  # pylint: disable=unused-import

CHART_VALUES = pathlib.Path(__file__).resolve().parents[1] / 'schemas' / 'longhorn-v1.12.1-chart-values.yaml'


def write_longhorn_playbook(directory, storage_nodes=('w1', 'w2'), flavours=None, play_vars=None, k3s_nodes=()):
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    flavours = flavours or {}

    def hosts(names):
        return {name: ({'node_flavour': flavours[name]} if name in flavours else {}) for name in names}

    inventory = {'all': {
        'hosts': {'localhost': {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}},
        'children': {'storage_nodes': {'hosts': hosts(storage_nodes)}},
    }}
    if k3s_nodes:
        inventory['all']['children']['k3s_cluster'] = {'hosts': hosts(k3s_nodes)}
    (directory / 'inventory.yml').write_text(yaml.safe_dump(inventory))
    play = [{'name': 'Longhorn', 'hosts': 'localhost', 'gather_facts': False, 'vars': play_vars or {},
             'roles': [{'role': 'homelab.mediacluster.longhorn'}]}]
    path = directory / 'play.yml'
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    return path


def export_vars(tree, **extra):
    values = {'k8s_delivery_mode': 'export', 'k8s_delivery_export_dir': str(tree),
              'k8s_delivery_kubernetes_version': '1.33',
              'longhorn_backup_target': 'nfs://10.77.0.29:/srv/nas/longhorn_backup'}
    values.update(extra)
    return values


def read_tree(tree):
    """{app: {file name: [docs]}} of an exported tree."""
    result = {}
    for app_dir in sorted(pathlib.Path(tree).iterdir()):
        result[app_dir.name] = {p.name: [d for d in yaml.safe_load_all(p.read_text()) if d]
                                for p in sorted(app_dir.glob('*.yaml'))}
    return result


@pytest.fixture(scope='session')
def chart_values():
    return yaml.safe_load(CHART_VALUES.read_text())


# A kubeconfig whose server answers nothing: a module that still reaches the emulator took the connection from
# somewhere else (module_defaults), not from this file.
DEAD = """apiVersion: v1
kind: Config
current-context: dead
clusters: [{name: dead, cluster: {server: "http://127.0.0.1:9"}}]
users: [{name: dead, user: {token: t}}]
contexts: [{name: dead, context: {cluster: dead, user: dead}}]
"""
