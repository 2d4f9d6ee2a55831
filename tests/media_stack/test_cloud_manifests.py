"""Cloud libraries (issue 21) switched on: the media_stack and plex roles render one rclone sidecar per remote into
each pod that lists it, the manifests validate (official schemas, strict) and pass the cluster-semantics checker
(the export delivery runs it), and the invariants hold: native sidecar with a startup/readiness probe on the mount,
preStop unmount, Bidirectional in the privileged sidecar, HostToContainer in the app, the shared emptyDir, the
namespace's Pod Security level and the collection's own level, apps without mounts unchanged."""

import json

import kubernetes_validate
import pytest
import yaml

from ansible_collections.homelab.mediacluster.plugins.module_utils import (
    cloud_mounts,
    cluster_semantics,
    k8s_validation,
)

from ..conftest import VENV_BIN, run_logged, tail
from .test_cloud_off_identical import GOLDEN, PLEX_DIR
from .test_manifests import CRDS, CUSTOM_GROUPS, K8S_VERSIONS, render

REMOTES = [
    {'name': 'zurg', 'remote': 'zurg:__all__', 'apps': ['sonarr', 'radarr', 'bazarr'],
     'config': '[zurg]\ntype = webdav\nurl = http://zurg.media.svc:9999/dav\nvendor = other\n'},
    {'name': 'torbox', 'remote': 'torbox:torrents', 'apps': ['radarr'], 'secret': 'rclone-torbox-conf',
     'vfs_cache_mode': 'writes', 'vfs_cache_max_size': '5G'},
]
CLOUD = {'media_stack_cloud_remotes': REMOTES, 'media_stack_bazarr_enabled': True}


@pytest.fixture(scope='module')
def cloud(tmp_path_factory):
    return render(tmp_path_factory.mktemp('cloud'), 'cloud-on', CLOUD)[0]


def deployment(docs, app):
    return docs['deployment-{0}.yaml'.format(app)]


def pod(docs, app):
    return deployment(docs, app)['spec']['template']


@pytest.mark.parametrize('version', K8S_VERSIONS)
def test_cloud_manifests_validate_strictly(cloud, version):
    for doc in cloud.values():
        if doc['apiVersion'].startswith(CUSTOM_GROUPS):  # cert-manager, Traefik: against their CRDs
            assert k8s_validation.validate_manifests([doc], version.rsplit('.', 1)[0], CRDS) == []
        else:
            kubernetes_validate.validate(doc, version, strict=True)


def test_cloud_manifests_pass_the_semantics_checker(cloud):
    result = cluster_semantics.check(list(cloud.values()), [], [])
    assert result['errors'] == [], result['errors']


def test_one_native_sidecar_per_remote_with_gate_and_prestop(cloud):
    expected = {'sonarr': ['rclone-zurg'], 'radarr': ['rclone-zurg', 'rclone-torbox'], 'bazarr': ['rclone-zurg']}
    for app, names in expected.items():
        spec = pod(cloud, app)['spec']
        sidecars = [c for c in spec.get('initContainers', []) if c['name'].startswith('rclone-')]
        assert [c['name'] for c in sidecars] == names
        assert pod(cloud, app)['metadata']['annotations'][cloud_mounts.FUSE_SIDECARS_ANNOTATION] == ','.join(names)
        for sidecar in sidecars:
            remote = sidecar['name'][len('rclone-'):]
            point = '/cloud/' + remote
            assert sidecar['restartPolicy'] == 'Always'
            assert sidecar['image'] == 'docker.io/rclone/rclone:1.68.2'
            assert sidecar['securityContext'] == {'privileged': True}
            assert sidecar['command'][3:6] == [point, 'mount', [r for r in REMOTES if r['name'] == remote][0]['remote']]
            assert '--allow-other' in sidecar['command'] and '--read-only' in sidecar['command']
            for probe in ('startupProbe', 'readinessProbe'):
                assert point in sidecar[probe]['exec']['command'][-1]
            assert point in sidecar['lifecycle']['preStop']['exec']['command'][-1]
            mounts = {m['name']: m for m in sidecar['volumeMounts']}
            assert mounts['cloud'] == {'name': 'cloud', 'mountPath': '/cloud', 'mountPropagation': 'Bidirectional'}
            assert mounts['rclone-{0}-config'.format(remote)]['readOnly'] is True
        # the seed step (bazarr) still runs first, the sidecars come after it
        if app == 'bazarr':
            assert spec['initContainers'][0]['name'] == 'seed-config'
        app_container = spec['containers'][0]
        cloud_mounts_of_app = [m for m in app_container['volumeMounts'] if m['name'] == 'cloud']
        assert cloud_mounts_of_app == [{'name': 'cloud', 'mountPath': '/cloud', 'mountPropagation': 'HostToContainer',
                                        'readOnly': True}]
        assert app_container['securityContext']['privileged'] is False
        volumes = {v['name']: v for v in spec['volumes']}
        assert volumes['cloud'] == {'name': 'cloud', 'emptyDir': {}}
        assert volumes['cloud-cache']['emptyDir'] == {'sizeLimit': '25Gi'}
        assert volumes['rclone-zurg-config']['secret']['secretName'] == 'rclone-zurg'
    assert pod(cloud, 'radarr')['spec']['volumes'][-1]['secret']['secretName'] == 'rclone-torbox-conf'
    assert '--vfs-cache-mode=writes' in pod(cloud, 'radarr')['spec']['initContainers'][1]['command']


def test_the_data_tree_stays_one_claim_at_data(cloud):
    for app in ('sonarr', 'radarr', 'bazarr'):
        mounts = pod(cloud, app)['spec']['containers'][0]['volumeMounts']
        assert {'name': 'data', 'mountPath': '/data'} in mounts
        assert not any(m['mountPath'].startswith('/data/') for m in mounts)


def test_apps_without_mounts_are_unchanged(cloud):
    for app in ('prowlarr', 'qbittorrent', 'jellyfin'):
        name = 'deployment-{0}.yaml'.format(app)
        golden = (GOLDEN / 'media-defaults' / (name + '.golden')).read_text()
        assert deployment(cloud, app) == yaml.safe_load(golden)


def test_namespace_enforces_privileged_and_carries_the_collection_level(cloud):
    labels = cloud['namespace-media.yaml']['metadata']['labels']
    assert labels['pod-security.kubernetes.io/enforce'] == 'privileged'
    assert labels[cloud_mounts.COLLECTION_LEVEL_LABEL] == 'baseline'
    assert labels['pod-security.kubernetes.io/warn'] == 'restricted'


def test_secret_made_only_from_the_vaulted_config(cloud):
    secret = cloud['secret-rclone-zurg.yaml']
    assert secret['stringData'] == {'rclone.conf': REMOTES[0]['config']}
    assert 'secret-rclone-torbox-conf.yaml' not in cloud


def test_plex_sidecars_in_its_own_namespace(tmp_path):
    out = tmp_path / 'manifests.json'
    extra = tmp_path / 'vars.json'
    extra.write_text(json.dumps({'out': str(out), 'plex_namespace_own': True, 'plex_namespace': 'plex',
                                 'plex_cloud_remotes': REMOTES[:1]}))
    code, output = run_logged('plex-cloud-on', [str(VENV_BIN / 'ansible-playbook'), '-i', str(PLEX_DIR / 'inventory'),
                                                str(PLEX_DIR / 'render.yml'), '-e', '@' + str(extra)])
    assert code == 0, tail(output)
    docs = json.loads(out.read_text())
    for doc in docs:
        if doc['apiVersion'].startswith(CUSTOM_GROUPS):  # cert-manager, Traefik: against their CRDs
            assert k8s_validation.validate_manifests([doc], '1.33', CRDS) == []
        elif not doc['apiVersion'].startswith(('longhorn.io/', 'gateway.networking.k8s.io/')):
            kubernetes_validate.validate(doc, '1.33.0', strict=True)
    plex = [d for d in docs if d['kind'] == 'StatefulSet'][0]['spec']['template']
    sidecars = [c for c in plex['spec']['initContainers'] if c['name'].startswith('rclone-')]
    assert [c['name'] for c in sidecars] == ['rclone-zurg']
    assert {'name': 'cloud', 'mountPath': '/cloud', 'mountPropagation': 'HostToContainer', 'readOnly': True} in \
        plex['spec']['containers'][0]['volumeMounts']
    namespace = [d for d in docs if d['kind'] == 'Namespace'][0]['metadata']['labels']
    assert namespace['pod-security.kubernetes.io/enforce'] == 'privileged'
    assert namespace[cloud_mounts.COLLECTION_LEVEL_LABEL] == 'baseline'
    assert [d['metadata']['name'] for d in docs if d['kind'] == 'Secret'] == ['rclone-zurg']
    result = cluster_semantics.check([d for d in docs if d['kind'] != 'RecurringJob'], [], [])
    assert result['errors'] == [], result['errors']
