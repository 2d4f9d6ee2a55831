"""Fixtures for playbooks/80_verify.yml: the kmock Kubernetes emulator on loopback (started by the test, counting
every request), seeded with a cluster in the state a test needs, and a runner for the playbook."""

import copy
import datetime
import importlib.util
import json
import pathlib
import sys

import pytest
import yaml

from ..conftest import ROOT, run_logged
from ..delivery.conftest import RunningEmulator

_spec = importlib.util.spec_from_file_location('verify_cluster_semantics', ROOT / 'plugins' / 'filter' /
                                               'k3s_node_model.py')
_semantics = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_semantics)

SERVERS = ['cp1', 'cp2', 'cp3']
AGENTS = ['w1', 'w2', 'w3']
STORAGE = ['w1', 'w2']
GPU = ['w3']
RENDER_GID = 104
BACKUP_TARGET = 'nfs://192.0.2.29:/longhorn-backup'


def inventory():
    never = {'ansible_host': '127.0.0.1', 'ansible_connection': 'local'}  # never contacted: only the model reads them
    return {'all': {
        'hosts': {'localhost': {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}},
        'children': {
            'controller': {'hosts': {'localhost': {}}},
            'k3s_cluster': {'children': {
                'k3s_servers': {'hosts': {h: dict(never) for h in SERVERS}},
                'k3s_agents': {'hosts': dict((h, dict(never, **({'node_flavour': 'lxc'} if h in GPU else {})))
                                             for h in AGENTS)}}},
            'storage_nodes': {'hosts': {h: {} for h in STORAGE}},
            'gpu_nodes': {'hosts': {h: {} for h in GPU}},
        }}}


def node_model():
    """The model the verify role compares against, from the same inventory."""
    inv = inventory()['all']
    groups = {'all': ['localhost'] + SERVERS + AGENTS, 'k3s_servers': SERVERS, 'k3s_agents': AGENTS,
              'k3s_cluster': SERVERS + AGENTS, 'storage_nodes': STORAGE, 'gpu_nodes': GPU, 'controller': ['localhost']}
    hostvars = {h: {} for h in groups['all']}
    for h, v in inv['children']['k3s_cluster']['children']['k3s_agents']['hosts'].items():
        hostvars[h].update(v)
    return _semantics.k3s_node_model(hostvars, groups, 'apply')


def _ago(hours):
    moment = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=hours)
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def healthy_cluster():
    """{(resource, namespace, name): object} of a cluster where every read-path check passes."""
    objects = {}
    for model in node_model():
        node = {'apiVersion': 'v1', 'kind': 'Node',
                'metadata': {'name': model['name'], 'labels': dict(model['labels'])},
                'spec': {'taints': [dict(t) for t in model['taints']]} if model['taints'] else {},
                'status': {'conditions': [{'type': 'Ready', 'status': 'True', 'reason': 'KubeletReady'}],
                           'allocatable': {'cpu': '4', 'memory': '8Gi'}}}
        if model['name'] in SERVERS:
            node['status']['conditions'].append({'type': 'EtcdIsVoter', 'status': 'True'})
        if model['name'] in GPU:
            node['status']['allocatable']['gpu.intel.com/i915'] = '2'
        objects['v1/nodes', None, model['name']] = node
    objects['coordination.k8s.io/v1/leases', 'kube-system', 'plndr-cp-lock'] = {
        'apiVersion': 'coordination.k8s.io/v1', 'kind': 'Lease',
        'metadata': {'name': 'plndr-cp-lock', 'namespace': 'kube-system'}, 'spec': {'holderIdentity': 'cp2'}}
    objects['storage.k8s.io/v1/storageclasses', None, 'longhorn'] = {
        'apiVersion': 'storage.k8s.io/v1', 'kind': 'StorageClass', 'provisioner': 'driver.longhorn.io',
        'metadata': {'name': 'longhorn', 'annotations': {'storageclass.kubernetes.io/is-default-class': 'true'}}}
    objects['storage.k8s.io/v1/storageclasses', None, 'longhorn-rwx'] = {
        'apiVersion': 'storage.k8s.io/v1', 'kind': 'StorageClass', 'provisioner': 'driver.longhorn.io',
        'metadata': {'name': 'longhorn-rwx'}}
    lh = 'longhorn.io/v1beta2/'
    for name in STORAGE:
        objects[lh + 'nodes', 'longhorn-system', name] = {
            'apiVersion': 'longhorn.io/v1beta2', 'kind': 'Node', 'metadata': {'name': name,
                                                                              'namespace': 'longhorn-system'},
            'spec': {'allowScheduling': True},
            'status': {'conditions': [{'type': 'Ready', 'status': 'True'}, {'type': 'Schedulable', 'status': 'True'}]}}
    objects[lh + 'backuptargets', 'longhorn-system', 'default'] = {
        'apiVersion': 'longhorn.io/v1beta2', 'kind': 'BackupTarget',
        'metadata': {'name': 'default', 'namespace': 'longhorn-system'},
        'spec': {'backupTargetURL': BACKUP_TARGET}, 'status': {'available': True}}
    objects[lh + 'recurringjobs', 'longhorn-system', 'nightly-backup'] = {
        'apiVersion': 'longhorn.io/v1beta2', 'kind': 'RecurringJob',
        'metadata': {'name': 'nightly-backup', 'namespace': 'longhorn-system'},
        'spec': {'name': 'nightly-backup', 'task': 'backup', 'cron': '0 3 * * *', 'retain': 7, 'concurrency': 1,
                 'groups': ['default']}}
    objects[lh + 'volumes', 'longhorn-system', 'pvc-plex-config'] = {
        'apiVersion': 'longhorn.io/v1beta2', 'kind': 'Volume',
        'metadata': {'name': 'pvc-plex-config', 'namespace': 'longhorn-system'},
        'spec': {}, 'status': {'state': 'attached', 'lastBackupAt': _ago(5)}}
    objects['v1/pods', 'media', 'plex-0'] = {
        'apiVersion': 'v1', 'kind': 'Pod',
        'metadata': {'name': 'plex-0', 'namespace': 'media', 'labels': {'app.kubernetes.io/name': 'plex'}},
        'spec': {'nodeName': 'w3', 'securityContext': {'supplementalGroups': [RENDER_GID]},
                 'containers': [{'name': 'plex', 'image': 'plex',
                                 'resources': {'limits': {'gpu.intel.com/i915': '1'}}}]},
        'status': {'phase': 'Running'}}
    objects['v1/namespaces', None, 'media'] = {
        'apiVersion': 'v1', 'kind': 'Namespace',
        'metadata': {'name': 'media', 'labels': {'pod-security.kubernetes.io/enforce': 'baseline'}}}
    objects['v1/persistentvolumeclaims', 'media', 'media-data'] = {
        'apiVersion': 'v1', 'kind': 'PersistentVolumeClaim', 'metadata': {'name': 'media-data', 'namespace': 'media'},
        'spec': {'accessModes': ['ReadWriteMany'], 'resources': {'requests': {'storage': '2Ti'}}}}
    objects['v1/services', 'media', 'sonarr'] = {
        'apiVersion': 'v1', 'kind': 'Service', 'metadata': {'name': 'sonarr', 'namespace': 'media',
                                                            'labels': {'app.kubernetes.io/name': 'sonarr'}},
        'spec': {'clusterIP': '10.43.0.50', 'ports': [{'port': 8989}]}}
    return objects


class Cluster:
    """The emulator plus helpers to seed it and to read what it holds."""

    def __init__(self, kube):
        self.kube = kube

    def seed(self, objects):
        for key, obj in objects.items():
            self.kube.emulator.objects[key] = copy.deepcopy(obj)

    def remove(self, key):
        self.kube.emulator.objects[key] = {}
        del self.kube.emulator.objects[key]

    def live_objects(self):
        """(resource, namespace, name) of every object the emulator holds now."""
        keys = []
        for key in list(self.kube.emulator._objects.keys()):
            if not self.kube.emulator._objects[key].deleted:
                keys.append((str(key[0]), key[1], key[2]))
        return keys


@pytest.fixture
def cluster(tmp_path):
    kube = RunningEmulator(tmp_path / 'kubeconfig').start()
    yield Cluster(kube)
    kube.stop()


def run_verify(tmp_path, cluster, name, extra=None, check=False):
    """Run playbooks/80_verify.yml against the emulator; return (exit code, output, report or None)."""
    (tmp_path / 'inventory.yml').write_text(yaml.safe_dump(inventory()))
    report = tmp_path / 'report.json'
    if report.exists():
        report.unlink()
    variables = {'k8s_kubeconfig': str(cluster.kube.kubeconfig), 'verify_vip_url': cluster.kube.url,
                 'verify_report_path': str(report), 'longhorn_backup_target': BACKUP_TARGET,
                 'plex_gpu_render_gid': RENDER_GID, 'verify_checks': ['k3s', 'storage', 'hardlinks', 'gpu',
                                                                      'network_policy']}
    variables.update(extra or {})
    (tmp_path / 'vars.yml').write_text(yaml.safe_dump(variables))
    cmd = ['ansible-playbook', '-i', str(tmp_path / 'inventory.yml'), str(ROOT / 'playbooks' / '80_verify.yml'),
           '-e', '@' + str(tmp_path / 'vars.yml')]
    if check:
        cmd.append('--check')
    code, output = run_logged(name, cmd, timeout=900)
    return code, output, (json.loads(report.read_text()) if report.exists() else None)


def by_check(report):
    return {(r['area'], r['check']): r for r in report['results']}


def writes(cluster, since=0):
    return cluster.kube.writes(since)


__all__ = ['ROOT', 'pathlib']
