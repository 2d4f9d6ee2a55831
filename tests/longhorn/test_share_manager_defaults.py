"""Issue 20: homelab.mediacluster.longhorn_share_manager_info takes its connection from
`module_defaults: {group/homelab.mediacluster.kubernetes: ...}` (meta/runtime.yml), as kubernetes.core's modules take
theirs from `group/kubernetes.core.k8s`, so a role that uses it sets the connection once. Against kmock: the task
names only the claim and resolves it through the group's kubeconfig; without the group it falls back to the
module's own default (here K8S_AUTH_KUBECONFIG pointing at nothing) and fails there."""

import sys

import yaml

from .conftest import DEAD, run_playbook

VOLUME = 'pvc-0f1e2d3c-4b5a-4697-8a1b-2c3d4e5f6a7b'
SEED = [
    {'apiVersion': 'v1', 'kind': 'PersistentVolumeClaim', 'metadata': {'name': 'plex-config', 'namespace': 'media'},
     'spec': {'accessModes': ['ReadWriteMany'], 'storageClassName': 'longhorn-rwx', 'volumeName': VOLUME,
              'resources': {'requests': {'storage': '10Gi'}}},
     'status': {'phase': 'Bound'}},
    {'apiVersion': 'v1', 'kind': 'PersistentVolume', 'metadata': {'name': VOLUME},
     'spec': {'capacity': {'storage': '10Gi'}, 'accessModes': ['ReadWriteMany'],
              'csi': {'driver': 'driver.longhorn.io', 'volumeHandle': VOLUME}}},
    {'apiVersion': 'longhorn.io/v1beta2', 'kind': 'Volume',
     'metadata': {'name': VOLUME, 'namespace': 'longhorn-system'},
     'spec': {'accessMode': 'rwx', 'size': '10737418240', 'numberOfReplicas': 2},
     'status': {'kubernetesStatus': {'namespace': 'media', 'pvcName': 'plex-config'}}},
    {'apiVersion': 'v1', 'kind': 'Service', 'metadata': {
        'name': VOLUME, 'namespace': 'longhorn-system',
        'labels': {'longhorn.io/managed-by': 'longhorn-manager', 'longhorn.io/share-manager': VOLUME}},
     'spec': {'clusterIP': '10.43.17.201', 'type': 'ClusterIP', 'selector': {'longhorn.io/share-manager': VOLUME},
              'ports': [{'name': 'nfs', 'port': 2049, 'protocol': 'TCP', 'targetPort': 2049}]}},
]


def _seed(kubeconfig):
    import kubernetes
    from kubernetes.dynamic import DynamicClient

    client = DynamicClient(kubernetes.config.new_client_from_config(str(kubeconfig)))
    for doc in SEED:
        resource = client.resources.get(api_version=doc['apiVersion'], kind=doc['kind'])
        resource.server_side_apply(body=doc, name=doc['metadata']['name'],
                                   namespace=doc['metadata'].get('namespace'), field_manager='test-seed')


def _playbook(directory, defaults):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / 'inventory.yml').write_text(yaml.safe_dump({'all': {'hosts': {'localhost': {
        'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}}}}))
    play = {'name': 'Share manager', 'hosts': 'localhost', 'gather_facts': False, 'tasks': [
        {'name': 'Find the share-manager export', 'homelab.mediacluster.longhorn_share_manager_info': {
            'claim': 'plex-config'}, 'register': 'share'},
        {'name': 'Show it', 'ansible.builtin.debug': {'msg': 'export={{ share.export }}'}}]}
    if defaults is not None:
        play['module_defaults'] = {'group/homelab.mediacluster.kubernetes': defaults}
    path = directory / 'play.yml'
    path.write_text(yaml.safe_dump([play], sort_keys=False))
    return path


def test_group_defaults_reach_the_module(kube, tmp_path):
    _seed(kube.kubeconfig)
    dead = tmp_path / 'dead-kubeconfig'
    dead.write_text(DEAD)

    playbook = _playbook(tmp_path / 'group', {'kubeconfig': str(kube.kubeconfig), 'context': None})
    code, out = run_playbook('share-manager-group-defaults', playbook, K8S_AUTH_KUBECONFIG=str(dead))
    assert code == 0, out[-3000:]
    assert 'export=10.43.17.201:/' + VOLUME in out, out[-3000:]

    playbook = _playbook(tmp_path / 'none', None)
    code, out = run_playbook('share-manager-no-defaults', playbook, K8S_AUTH_KUBECONFIG=str(dead))
    assert code != 0
    assert 'plex-config' in out and 'export=' not in out, out[-3000:]
