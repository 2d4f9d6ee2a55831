"""The cluster-semantics checker and cloud libraries (issue 21): in a namespace that enforces "privileged" only for
rclone FUSE sidecars (label homelab.mediacluster/pod-security-enforce), exactly the sidecars the collection renders
are accepted and everything else is refused at the collection's level; Bidirectional propagation outside a
privileged container is refused everywhere, as the API server does."""

import copy
import importlib
import sys

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / '.collections'))
CM = importlib.import_module('ansible_collections.homelab.mediacluster.plugins.module_utils.cloud_mounts')
SEM = importlib.import_module('ansible_collections.homelab.mediacluster.plugins.module_utils.cluster_semantics')

REMOTES = [{'name': 'zurg', 'remote': 'zurg:', 'apps': ['sonarr'], 'secret': 'rclone-zurg'},
           {'name': 'torbox', 'remote': 'torbox:torrents', 'apps': ['sonarr'], 'secret': 'rclone-torbox'}]
LIMITS = {'limits': {'memory': '1Gi'}}


def namespace(labels):
    return {'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'media', 'labels': labels}}


CLOUD_NS = namespace({'pod-security.kubernetes.io/enforce': 'privileged', CM.COLLECTION_LEVEL_LABEL: 'baseline'})
BASELINE_NS = namespace({'pod-security.kubernetes.io/enforce': 'baseline'})


def sonarr(remotes=None):
    remotes = REMOTES if remotes is None else remotes
    parts = CM.pod_parts(remotes, 'sonarr', '/cloud', 'docker.io/rclone/rclone:1.68.2', 1000, 1000, LIMITS, '25Gi')
    meta = {'labels': {'app': 'sonarr'}}
    if parts['annotation']:
        meta['annotations'] = {CM.FUSE_SIDECARS_ANNOTATION: parts['annotation']}
    return {'apiVersion': 'apps/v1', 'kind': 'Deployment', 'metadata': {'name': 'sonarr', 'namespace': 'media'},
            'spec': {'selector': {'matchLabels': {'app': 'sonarr'}}, 'template': {'metadata': meta, 'spec': {
                'securityContext': {'seccompProfile': {'type': 'RuntimeDefault'}},
                'initContainers': parts['sidecars'],
                'containers': [{'name': 'sonarr', 'image': 'lscr.io/linuxserver/sonarr:4.0.15',
                                'securityContext': {'privileged': False, 'allowPrivilegeEscalation': False,
                                                    'capabilities': {'drop': ['ALL'], 'add': ['CHOWN']}},
                                'volumeMounts': [{'name': 'data', 'mountPath': '/data'}] + parts['app_mounts']}],
                'volumes': [{'name': 'data', 'persistentVolumeClaim': {'claimName': 'media-data'}}]
                + parts['volumes']}}}}


def errors(*objects):
    return SEM.check(list(objects), [], [])['errors']


def spec_of(obj):
    return obj['spec']['template']['spec']


def test_the_rendered_sidecars_are_accepted():
    assert errors(CLOUD_NS, sonarr()) == []


def test_the_same_pod_is_refused_where_the_namespace_enforces_baseline():
    found = errors(BASELINE_NS, sonarr())
    assert len(found) == 1 and 'refused by Pod Security "baseline"' in found[0] and '"rclone-zurg"' in found[0]


def _mutated(change):
    obj = sonarr()
    change(spec_of(obj), obj['spec']['template']['metadata'])
    return obj


def _privileged_app(spec, meta):
    spec['containers'][0]['securityContext']['privileged'] = True


def _undeclared_sidecar(spec, meta):
    meta['annotations'][CM.FUSE_SIDECARS_ANNOTATION] = 'rclone-zurg'


def _host_path_in_sidecar(spec, meta):
    spec['volumes'].append({'name': 'host', 'hostPath': {'path': '/'}})
    spec['initContainers'][0]['volumeMounts'].append({'name': 'host', 'mountPath': '/host'})


def _other_image(spec, meta):
    spec['initContainers'][0]['image'] = 'docker.io/library/alpine:3.20'


def _declared_app(spec, meta):
    meta['annotations'][CM.FUSE_SIDECARS_ANNOTATION] += ',sonarr'
    spec['containers'][0]['securityContext']['privileged'] = True


def _host_network(spec, meta):
    spec['hostNetwork'] = True


def _not_native(spec, meta):
    spec['containers'].append(spec['initContainers'].pop())


def _pvc_in_sidecar(spec, meta):
    spec['initContainers'][0]['volumeMounts'].append({'name': 'data', 'mountPath': '/data',
                                                      'mountPropagation': 'Bidirectional'})


@pytest.mark.parametrize('change, expected', [
    (_privileged_app, 'container "sonarr" must not set securityContext.privileged=true'),
    (_undeclared_sidecar, 'container "rclone-torbox" must not set securityContext.privileged=true'),
    (_host_path_in_sidecar, 'hostPath volumes: volume "host"'),
    (_other_image, 'image docker.io/library/alpine:3.20 is not an rclone image'),
    (_declared_app, 'declared FUSE sidecar "sonarr"'),
    (_host_network, 'host namespaces: hostNetwork=true'),
    (_not_native, 'it is not a native sidecar'),
    (_pvc_in_sidecar, 'it mounts volume data, which is neither an emptyDir nor a read-only Secret'),
])
def test_everything_else_is_refused_in_the_cloud_namespace(change, expected):
    found = errors(CLOUD_NS, _mutated(change))
    assert len(found) == 1, found
    assert "refused by the collection's Pod Security rule \"baseline\" of namespace media" in found[0]
    assert expected in found[0]


def test_a_privileged_pod_without_sidecars_is_refused_there():
    obj = sonarr(remotes=[])
    spec_of(obj)['containers'][0]['securityContext']['privileged'] = True
    found = errors(CLOUD_NS, obj)
    assert len(found) == 1 and 'must not set securityContext.privileged=true' in found[0]


def test_bidirectional_outside_a_privileged_container_is_refused_by_the_api_server():
    obj = sonarr()
    spec_of(obj)['containers'][0]['volumeMounts'][-1]['mountPropagation'] = 'Bidirectional'
    found = errors(CLOUD_NS, obj)
    assert any('refused by the API server: Bidirectional mount propagation is available only to privileged '
               'containers (container "sonarr" volumeMount "cloud")' in e for e in found), found
    # and it is the API server's rule, not the namespace's: a privileged namespace refuses it too
    open_ns = namespace({'pod-security.kubernetes.io/enforce': 'privileged'})
    assert any('Bidirectional' in e for e in errors(open_ns, copy.deepcopy(obj)))


def test_a_bad_collection_level_label_is_reported():
    bad = namespace({'pod-security.kubernetes.io/enforce': 'privileged', CM.COLLECTION_LEVEL_LABEL: 'strict'})
    found = errors(bad, sonarr())
    assert found and 'is not one of privileged, baseline, restricted' in found[0]
