"""playbooks/70_plex.yml against the kmock emulator: check mode on an empty cluster changes nothing, a converge
applies every object, a rerun reports changed=0, the static PV carries the share-manager address Longhorn
published, and bad inputs fail in preflight before any object exists.

kmock cannot list pods, exec or scale, so Preferences.xml management (holder pod lookup + k8s_cp) is switched off
here (plex_manage_preferences=false); the plex_preferences module itself is tested in test_plex_preferences.py."""

import json
import re

import pytest
import yaml

from ..conftest import VENV_BIN, run_logged, tail
from .test_longhorn_share_manager_info import VOLUME, pv, service, volume

HERE = __import__('pathlib').Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PLAYBOOK = ROOT / 'playbooks' / '70_plex.yml'


def playbook(kube, tmp_path, name, *args, inventory=None):
    extra = tmp_path / 'extra.json'
    # the emulator runs no pods: nothing would ever become ready (k8s_delivery_wait)
    extra.write_text(json.dumps({'k8s_kubeconfig': kube.kubeconfig, 'plex_manage_preferences': False,
                                 'k8s_delivery_wait': False}))
    cmd = [str(VENV_BIN / 'ansible-playbook'), '-i', str(inventory or HERE / 'inventory'), str(PLAYBOOK),
           '-e', '@' + str(extra)] + list(args)
    return run_logged('plex-emulator-' + name, cmd, timeout=600)


def recap_changed(output):
    match = re.search(r'localhost\s+:\s+ok=\d+\s+changed=(\d+)', output)
    assert match, tail(output)
    return int(match.group(1))


def seed_longhorn(kube, size='10Gi'):
    """What Longhorn does once the role's claim exists and the holder mounts it: bind it to a volume and start the
    share-manager behind a Service of the volume's name."""
    kube.apply({'apiVersion': 'v1', 'kind': 'PersistentVolumeClaim',
                'metadata': {'name': 'plex-config', 'namespace': 'media'},
                'spec': {'accessModes': ['ReadWriteMany'], 'storageClassName': 'longhorn-rwx', 'volumeName': VOLUME,
                         'resources': {'requests': {'storage': size}}},
                'status': {'phase': 'Bound'}},
               pv(), volume(), service())


def emulator_honours_dry_run(kube):
    """The real API server stores nothing for ?dryRun=All (what kubernetes.core sends in check mode); the kmock
    emulator on this branch stores it (issue 6 fixes tests/peers/kube_emulator.py)."""
    probe = {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'dry-run-probe', 'namespace': 'default'},
             'data': {'a': 'b'}}
    resource = kube.client.resources.get(api_version='v1', kind='ConfigMap')
    resource.server_side_apply(body=probe, name='dry-run-probe', namespace='default', field_manager='probe',
                               dry_run='All')
    return kube.get('v1', 'ConfigMap', 'dry-run-probe', 'default') is None


def test_check_mode_on_an_empty_cluster_changes_nothing(kube, tmp_path):
    if not emulator_honours_dry_run(kube):
        pytest.skip('the kmock emulator on this branch stores dry-run applies (?dryRun=All), so a check run would '
                    'create objects there; the fixed emulator comes with issue 6 (tests/peers/kube_emulator.py)')
    code, output = playbook(kube, tmp_path, 'check', '--check', '--diff')
    assert code == 0, tail(output)
    assert kube.get('apps/v1', 'StatefulSet', 'plex', 'media') is None
    assert kube.get('v1', 'PersistentVolumeClaim', 'plex-config', 'media') is None
    assert 'Plex manifests that need it are' in output  # says why the rest is not checked


def test_converge_then_rerun_unchanged(kube, tmp_path):
    seed_longhorn(kube)
    code, output = playbook(kube, tmp_path, 'converge')
    assert code == 0, tail(output)
    assert recap_changed(output) > 0

    static = kube.get('v1', 'PersistentVolume', 'media-plex-config-nfs')
    assert static['spec']['nfs'] == {'server': '10.43.17.201', 'path': '/' + VOLUME}
    assert static['spec']['persistentVolumeReclaimPolicy'] == 'Retain'
    sts = kube.get('apps/v1', 'StatefulSet', 'plex', 'media')
    pod = sts['spec']['template']['spec']
    assert pod['securityContext']['supplementalGroups'] == [104, 993]
    assert pod['containers'][0]['resources']['limits']['gpu.intel.com/i915'] == 1
    plugin_namespace = kube.get('v1', 'Namespace', 'intel-gpu-plugin')  # the plugin alone, enforce privileged
    assert plugin_namespace['metadata']['labels']['pod-security.kubernetes.io/enforce'] == 'privileged'
    for api, kind, name, ns in [('apps/v1', 'DaemonSet', 'intel-gpu-plugin', 'intel-gpu-plugin'),
                                ('apps/v1', 'Deployment', 'plex-config-holder', 'media'),
                                ('v1', 'PersistentVolumeClaim', 'plex-config-nfs', 'media'),
                                ('v1', 'Service', 'plex', 'media'), ('v1', 'Service', 'plex-headless', 'media'),
                                ('networking.k8s.io/v1', 'Ingress', 'plex', 'media')]:
        assert kube.get(api, kind, name, ns) is not None, '{0} {1} was not applied'.format(kind, name)
    claim = kube.get('v1', 'PersistentVolumeClaim', 'plex-config', 'media')
    assert claim['spec']['volumeName'] == VOLUME  # the role's apply did not clobber Longhorn's binding
    # the longhorn role's nightly-backup job (group default, 03:00, retain 7) picks the volume up
    assert claim['metadata']['labels']['recurring-job-group.longhorn.io/default'] == 'enabled'

    before = len(kube.calls)
    code, output = playbook(kube, tmp_path, 'rerun')
    assert code == 0, tail(output)
    assert recap_changed(output) == 0, tail(output, 80)
    assert kube.writes(before) == [], 'the rerun sent write requests'

    before = len(kube.calls)
    code, output = playbook(kube, tmp_path, 'rerun-check', '--check', '--diff')
    assert code == 0 and recap_changed(output) == 0, tail(output, 80)
    assert kube.writes(before) == []


def test_httproute_validated_against_the_cluster_crd_without_crd_paths(kube_gateway, tmp_path):
    """plex_route=httproute in apply mode with no k8s_delivery_crd_paths: the cluster's HTTPRoute CRD is used."""
    kube = kube_gateway
    seed_longhorn(kube)
    route = ['-e', json.dumps({'plex_route': 'httproute', 'plex_domain': 'media.example',
                               'plex_gateway_parent_refs': [{'name': 'homelab', 'namespace': 'gateway'}]})]
    code, output = playbook(kube, tmp_path, 'httproute-converge', *route)
    assert code == 0, tail(output)
    assert ("Check the manifests (schemas, Pod Security, scheduling, NetworkPolicy) of plex, with the cluster's "
            'CRDs') in output, tail(output)
    stored = kube.get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'plex', 'media')
    assert stored['spec']['hostnames'] == ['plex.media.example']
    assert stored['spec']['rules'][0]['backendRefs'] == [{'kind': 'Service', 'name': 'plex', 'port': 32400}]
    assert kube.get('networking.k8s.io/v1', 'Ingress', 'plex', 'media') is None

    before = len(kube.calls)
    code, output = playbook(kube, tmp_path, 'httproute-rerun', *route)
    assert code == 0, tail(output)
    assert recap_changed(output) == 0, tail(output, 80)
    assert kube.writes(before) == [], 'the rerun sent write requests'


def test_recreated_volume_needs_the_repoint_flag(kube, tmp_path):
    seed_longhorn(kube)
    code, output = playbook(kube, tmp_path, 'repoint-converge')
    assert code == 0, tail(output)
    # the volume was restored from a backup under a new name: Longhorn binds the claim to it
    kube.apply({'apiVersion': 'v1', 'kind': 'PersistentVolumeClaim',
                'metadata': {'name': 'plex-config', 'namespace': 'media'},
                'spec': {'volumeName': 'pvc-restored'}, 'status': {'phase': 'Bound'}},
               pv(name='pvc-restored', handle='pvc-restored'), volume(name='pvc-restored'),
               service(name='pvc-restored', ip='10.43.50.5'))
    code, output = playbook(kube, tmp_path, 'repoint-refused')
    assert code != 0
    assert 'plex_config_repoint=true' in output and '10.43.50.5:/pvc-restored' in output, tail(output)
    assert kube.get('v1', 'PersistentVolume', 'media-plex-config-nfs')['spec']['nfs']['server'] == '10.43.17.201'


def bad_inventory(tmp_path):
    data = yaml.safe_load((HERE / 'inventory' / 'hosts.yml').read_text())
    data['all']['children']['gpu_nodes'] = {'hosts': {}}
    data['all']['children']['k3s_agents'] = {'hosts': {'k3s-w3': None}}  # the node exists, unlabelled
    path = tmp_path / 'no-gpu.yml'
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize('case, args, expected', [
    ('no-gpu-node', [], 'No gpu=true node: inventory group gpu_nodes is empty'),
    ('unknown-device', ['-e', 'plex_gpu_device_path=/dev/dri/renderD300'], 'is not a device Plex can transcode'),
    ('card-typo', ['-e', 'plex_gpu_device_path=/dev/dri/render128'], 'is not a device Plex can transcode'),
    ('missing-nas-export', ['-e', 'plex_media_nfs_server='], 'Missing NAS export for Plex'),
    ('db-backup-no-export', ['-e', 'plex_db_backup_enabled=true'], 'plex_db_backup_enabled=true needs the NAS'),
    ('config-shrinks', ['-e', 'plex_config_size=5Gi'], 'is smaller than the existing claim media/plex-config (10Gi)'),
    ('bad-mode', ['-e', 'plex_gpu_mode=hostpath'], 'plex_gpu_mode'),
    # issue 13 defect 1 re-introduced: the plugin (hostPath volumes) back in Plex's baseline namespace, and Plex's own
    # host-access modes in the shared media namespace; Pod Security would refuse the pods, the preflight refuses first
    ('gpu-plugin-in-media', ['-e', 'plex_gpu_plugin_namespace=media'],
     'plex_gpu_plugin_namespace=media must be a DNS label naming a namespace that holds the Intel GPU device plugin'),
    ('privileged-gpu-in-media', ['-e', 'plex_gpu_mode=privileged'],
     'plex_gpu_mode=privileged (a privileged container with a hostPath /dev/dri) needs Pod Security "privileged", '
     'which the media stack namespace media does not allow'),
    ('local-config-in-media', ['-e', 'plex_config_mode=local'],
     'plex_config_mode=local (a hostPath /config) needs Pod Security "privileged"'),
    ('httproute-no-parent', ['-e', '{"plex_route": "httproute", "plex_domain": "media.example"}'],
     'give at least one parentRef with a name, e.g. plex_gateway_parent_refs'),
    # apply mode, no k8s_delivery_crd_paths, and this cluster has no Gateway API: the delivery layer's preflight asks
    # the cluster for the HTTPRoute CRD and stops before any write
    ('httproute-cluster-without-crd',
     ['-e', '{"plex_route": "httproute", "plex_domain": "media.example", '
            '"plex_gateway_parent_refs": [{"name": "homelab", "namespace": "gateway"}]}'],
     'the cluster has no CRD for HTTPRoute gateway.networking.k8s.io/v1: install Gateway API (standard channel) first'),
])
def test_bad_inputs_fail_in_preflight_before_any_change(kube, tmp_path, case, args, expected):
    if case == 'config-shrinks':
        seed_longhorn(kube, size='10Gi')
    inventory = bad_inventory(tmp_path) if case == 'no-gpu-node' else None
    seeded = len(kube.calls)
    code, output = playbook(kube, tmp_path, 'bad-' + case, *args, inventory=inventory)
    assert code != 0, tail(output)
    assert expected in ' '.join(output.split()), tail(output, 40)
    failed_task = re.findall(r'TASK \[([^\]]+)\]', output.split('fatal:')[0])[-1]
    assert 'preflight' in failed_task.lower() or 'Check' in failed_task or 'Validating' in failed_task, failed_task
    assert kube.get('apps/v1', 'StatefulSet', 'plex', 'media') is None
    assert kube.get('apps/v1', 'DaemonSet', 'intel-gpu-plugin', 'intel-gpu-plugin') is None
    assert kube.writes(seeded) == [], 'preflight failed but the run wrote to the API'
