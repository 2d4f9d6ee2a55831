"""The verify role's per-area judgements (plugins/filter/verify.py), which took over the Jinja expressions of
roles/verify/tasks/*.yml (issue 20): each combines the single-fact filters exactly as the task did, from the
registered results as Ansible hands them over (loop results, skipped tasks)."""

import importlib.util

import pytest

from ...conftest import ROOT

_spec = importlib.util.spec_from_file_location('verify_area_filters', ROOT / 'plugins' / 'filter' / 'verify.py')
verify = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(verify)

NOW = '2026-12-05T12:00:00+00:00'
NO_PODS = 'needs a live cluster: nothing runs pods on this API (kube-system/coredns has no ready replica)'


def statuses(results):
    return [(r['check'], r['status']) for r in results]


# --- prepare -----------------------------------------------------------------------------------------------------

def coredns(ready):
    return [{'metadata': {'name': 'coredns'}, 'status': {'readyReplicas': ready} if ready is not None else {}}]


@pytest.mark.parametrize('deployments, check_mode, test_objects, live, objects', [
    (coredns(1), False, 'auto', '', ''),
    (coredns(0), False, 'auto', NO_PODS, NO_PODS),
    (coredns(None), False, 'auto', NO_PODS, NO_PODS),  # no status yet
    ([], False, 'auto', NO_PODS, NO_PODS),  # no coredns at all
    ([], False, 'always', '', ''),
    (coredns(1), False, 'never', '', 'verify_test_objects is never'),
    ([], False, 'never', NO_PODS, 'verify_test_objects is never'),
    (coredns(2), True, 'always', 'check mode runs nothing in the cluster', 'check mode creates no test objects'),
])
def test_skip_reasons(deployments, check_mode, test_objects, live, objects):
    assert verify.verify_skip_reasons(deployments, check_mode, test_objects) == {'live': live, 'objects': objects}


# --- k3s ---------------------------------------------------------------------------------------------------------

MODEL = [{'name': 'cp1', 'host': 'cp1.lan', 'labels': {'node-role.kubernetes.io/control-plane': 'true'},
          'taints': []}]
API = [{'metadata': {'name': 'cp1', 'labels': {'node-role.kubernetes.io/control-plane': 'true',
                                               'node-role.kubernetes.io/etcd': 'true'}},
        'spec': {}, 'status': {'conditions': [{'type': 'Ready', 'status': 'True'}]}}]
LEASE = [{'spec': {'holderIdentity': 'cp1'}}]


def test_k3s_without_a_vip_skips_the_vip_checks():
    results = verify.verify_k3s(API, MODEL, ['cp1'], '', vip_answer={'skipped': True}, leases=LEASE)
    assert results[:-2] == verify.verify_k3s_nodes(API, MODEL) + verify.verify_etcd(API, ['cp1'])
    assert results[-2:] == verify.verify_skipped(['API through the VIP', 'VIP holder'], 'k3s',
                                                 'no VIP: k3s_common_vip and verify_vip_url are empty')


def test_k3s_with_a_vip_judges_the_answer_and_the_holder():
    url = 'https://10.0.0.100:6443'
    good = verify.verify_k3s(API, MODEL, ['cp1'], url, vip_answer={'api_found': True}, leases=LEASE)
    assert good[-2:] == verify.verify_vip(url, True, '', LEASE[0])
    assert statuses(good[-2:]) == [('API through the VIP', 'pass'), ('VIP holder', 'pass')]
    bad = verify.verify_k3s(API, MODEL, ['cp1'], url, vip_answer={'failed': True, 'msg': 'timed out'}, leases=[])
    assert bad[-2:] == verify.verify_vip(url, False, 'timed out', {})
    assert statuses(bad[-2:]) == [('API through the VIP', 'fail'), ('VIP holder', 'fail')]
    assert 'timed out' in bad[-2]['detail']


# --- storage -----------------------------------------------------------------------------------------------------

CLASSES = [{'metadata': {'name': 'longhorn', 'annotations': {'storageclass.kubernetes.io/is-default-class': 'true'}}},
           {'metadata': {'name': 'longhorn-rwx'}}]
LH_NODES = [{'metadata': {'name': 'w1'}, 'spec': {'allowScheduling': True, 'disks': {'d': {'allowScheduling': True}}},
             'status': {'conditions': [{'type': 'Ready', 'status': 'True'}, {'type': 'Schedulable', 'status': 'True'}],
                        'diskStatus': {'d': {'conditions': [{'type': 'Schedulable', 'status': 'True'}]}}}}]
TARGETS = [{'metadata': {'name': 'other'}, 'status': {'available': False}},
           {'metadata': {'name': 'default'}, 'spec': {'backupTargetURL': 'nfs://nas:/backup'},
            'status': {'available': True}}]


def reads(**kinds):
    """The registered results of the loop over Longhorn's kinds: each entry with its kind and resources; a kind
    given as None failed to read (no resources key)."""
    out = []
    for kind in ('Node', 'BackupTarget', 'Volume', 'RecurringJob'):
        entry = {'_verify_kind': kind, 'changed': False}
        if kinds.get(kind) is not None:
            entry['resources'] = kinds[kind]
        else:
            entry['failed'] = True
        out.append(entry)
    return out


def test_storage_is_the_four_judgements_in_order():
    results = verify.verify_storage(reads(Node=LH_NODES, BackupTarget=TARGETS, Volume=[], RecurringJob=[]), CLASSES,
                                    NOW, rwx_class='longhorn-rwx', storage_nodes=['w1'],
                                    backup_target='nfs://nas:/backup', grace_hours=6, max_age_hours=0,
                                    detached_volumes='false')
    expected = (verify.verify_storage_classes(CLASSES, 'longhorn-rwx')
                + verify.verify_longhorn_nodes(LH_NODES, ['w1'])
                + verify.verify_backup_target(TARGETS[1], 'nfs://nas:/backup')
                + verify.verify_backups([], [], NOW, grace_hours=6, max_age_hours=0, configured=True,
                                        detached_volumes=False))
    assert results == expected


def test_storage_kinds_that_could_not_be_read_count_as_none():
    results = verify.verify_storage(reads(), [], NOW, rwx_class='longhorn-rwx', storage_nodes=['w1'])
    expected = (verify.verify_storage_classes([], 'longhorn-rwx') + verify.verify_longhorn_nodes([], ['w1'])
                + verify.verify_backup_target({}, '')
                + verify.verify_backups([], [], NOW, configured=False, detached_volumes=False))
    assert results == expected
    assert ('default StorageClass', 'fail') in statuses(results)


# --- GPU ---------------------------------------------------------------------------------------------------------

GPU_NODE = {'metadata': {'name': 'w3'}, 'status': {'allocatable': {'gpu.intel.com/i915': '2'}}}
PLEX = [{'metadata': {'name': 'plex-0'}, 'status': {'phase': 'Running'},
         'spec': {'nodeName': 'w3', 'securityContext': {'supplementalGroups': [104]},
                  'containers': [{'name': 'plex', 'resources': {'limits': {'gpu.intel.com/i915': '1'}}}]}}]


def test_gpu_device_plugin_judges_nodes_and_pod():
    node_reads = [{'item': 'w3', 'resources': [GPU_NODE]}, {'item': 'w4', 'resources': []}]
    results = verify.verify_gpu(node_reads, PLEX, 'device_plugin', ['w3', 'w4'], 'gpu.intel.com/i915', [104])
    assert results == (verify.verify_gpu_nodes([GPU_NODE], ['w3', 'w4'], 'gpu.intel.com/i915')
                       + verify.verify_plex_pod(PLEX, 'gpu.intel.com/i915', [104]))
    assert statuses(results) == [('gpu.intel.com/i915 on w3', 'pass'), ('gpu.intel.com/i915 on w4', 'fail'),
                                 ('Plex holds the GPU', 'pass')]


def test_gpu_without_device_plugin_skips_the_resource():
    results = verify.verify_gpu([{'resources': [GPU_NODE]}], PLEX, 'lxc_passthrough', ['w3'], 'gpu.intel.com/i915',
                                [104])
    assert results[0] == verify.verify_skipped(['gpu.intel.com/i915 allocatable'], 'gpu',
                                               'plex_gpu_mode lxc_passthrough uses no device plugin resource')[0]
    assert results[1:] == verify.verify_plex_pod(PLEX, '', [104])


@pytest.mark.parametrize('outcome, reason, expected', [
    ({'changed': False, 'skipped': True, 'skip_reason': 'Conditional result was False'}, '', 'no running Plex pod'),
    ({'skipped': True}, 'check mode runs nothing in the cluster', 'check mode runs nothing in the cluster'),
    (None, '', 'no running Plex pod'),
])
def test_plex_exec_not_run_is_skipped_with_its_reason(outcome, reason, expected):
    assert verify.verify_plex_exec(outcome, '/dev/dri/renderD128', [104], reason) == verify.verify_skipped(
        ['Plex sees /dev/dri/renderD128'], 'gpu', expected)


def test_plex_exec_output_is_judged():
    ok = verify.verify_plex_exec({'stdout': '104\n1000 104', 'rc': 0}, '/dev/dri/renderD128', [104])
    assert ok == verify.verify_plex_device('104\n1000 104', 0, '/dev/dri/renderD128', [104])
    assert statuses(ok) == [('Plex sees /dev/dri/renderD128', 'pass')]
    # kubernetes.core.k8s_exec reports return_code; a failed exec has only msg
    assert verify.verify_plex_exec({'stdout': '44\n1000', 'return_code': 0}, '/dev/dri/renderD128', [104]) == \
        verify.verify_plex_device('44\n1000', 0, '/dev/dri/renderD128', [104])
    failed = verify.verify_plex_exec({'failed': True, 'msg': 'container not found'}, '/dev/dri/renderD128', [104])
    assert failed == verify.verify_plex_device('container not found', 1, '/dev/dri/renderD128', [104])
    assert 'container not found' in failed[0]['detail']


# --- apps: wiring --------------------------------------------------------------------------------------------------

def loop(*entries):
    return {'changed': False, 'results': list(entries)} if entries else {'skipped': True, 'results': []}


def test_media_wiring_collects_every_task_as_the_task_did():
    qbit = {'changed': False}
    roots = loop({'_verify_item': {'app': 'sonarr', 'path': '/data/media/tv'}, 'changed': True,
                  'diff': {'before': {}, 'after': {'path': '/data/media/tv'}}})
    clients = loop({'_verify_item': {'app': 'radarr', 'category': 'movies'}, 'changed': False})
    prowlarr = loop({'_verify_item': {'app': 'sonarr', 'name': 'Sonarr'}, 'failed': True, 'msg': 'HTTP 401'})
    jellyfin = {'changed': False}
    results = verify.verify_media_wiring(['qbittorrent', 'sonarr', 'radarr', 'prowlarr', 'jellyfin'],
                                         qbittorrent=qbit, root_folders=roots, download_clients=clients,
                                         prowlarr=prowlarr, jellyfin=jellyfin, jellyfin_setup='true')
    assert results == verify.verify_wiring(
        [{'app': 'qbittorrent', 'what': 'preferences and categories', 'result': qbit}]
        + verify.verify_wiring_items(roots['results'], 'root folder {path}')
        + verify.verify_wiring_items(clients['results'], 'download client qBittorrent/{category}')
        + verify.verify_wiring_items(prowlarr['results'], 'application {name}', app='prowlarr')
        + [{'app': 'jellyfin', 'what': 'admin, server name and libraries', 'result': jellyfin}])
    assert statuses(results) == [
        ('wiring qbittorrent: preferences and categories', 'pass'),
        ('wiring sonarr: root folder /data/media/tv', 'fail'),
        ('wiring radarr: download client qBittorrent/movies', 'pass'),
        ('wiring prowlarr: application Sonarr', 'fail'),
        ('wiring jellyfin: admin, server name and libraries', 'pass')]


def test_media_wiring_leaves_out_unhealthy_apps_and_jellyfin_without_setup():
    skipped = {'changed': False, 'skipped': True, 'skip_reason': 'Conditional result was False'}
    assert verify.verify_media_wiring(['sonarr'], qbittorrent=skipped, root_folders=loop(), download_clients=loop(),
                                      prowlarr=loop(), jellyfin=skipped) == []
    assert verify.verify_media_wiring(['jellyfin'], jellyfin={'changed': False}, jellyfin_setup=False) == []


# --- cloud mounts ------------------------------------------------------------------------------------------------

def test_cloud_mounts_rows_or_one_skipped_result():
    row = {'pod': 'sonarr-0', 'node': 'w1', 'remote': 'zurg', 'path': '/cloud/zurg', 'state': 'ok', 'items': 3}
    bad = dict(row, pod='plex-0', state='missing', detail='not mounted')
    assert verify.verify_cloud_mounts([{'rows': [row]}, {'rows': [bad]}, {'rows': []}]) == [
        verify.verify_cloud_mount_result(row), verify.verify_cloud_mount_result(bad)]
    off = verify.verify_skipped(['cloud mounts'], 'storage', 'cloud libraries are off')
    assert verify.verify_cloud_mounts([]) == off and verify.verify_cloud_mounts(None) == off
    assert verify.verify_cloud_mounts([{'rows': []}]) == off


# --- failover drill ----------------------------------------------------------------------------------------------

DRILL_MODEL = [{'name': 'cp1', 'host': 'k3s-cp1'}, {'name': 'cp2', 'host': 'k3s-cp2'}]
URL = 'https://10.0.0.100:6443'


@pytest.mark.parametrize('leases, url, live, plan', [
    ([{'spec': {'holderIdentity': 'cp2'}}], URL, '', {'holder': 'cp2', 'host': 'k3s-cp2', 'skip': ''}),
    ([{'spec': {'holderIdentity': 'cp2'}}], URL, 'check mode runs nothing in the cluster',
     {'holder': 'cp2', 'host': 'k3s-cp2', 'skip': 'check mode runs nothing in the cluster'}),
    ([{'spec': {'holderIdentity': 'cp2'}}], '', '',
     {'holder': 'cp2', 'host': 'k3s-cp2', 'skip': 'no VIP: k3s_common_vip and verify_vip_url are empty'}),
    ([], URL, '', {'holder': '', 'host': '', 'skip': 'no kube-vip leader to stop'}),
    ([{'spec': {}}], URL, '', {'holder': '', 'host': '', 'skip': 'no kube-vip leader to stop'}),
    ([{'spec': {'holderIdentity': 'cp9'}}], URL, '',
     {'holder': 'cp9', 'host': '', 'skip': 'the VIP holder cp9 is not an inventory host'}),
])
def test_drill_plan(leases, url, live, plan):
    assert verify.verify_drill_plan(leases, DRILL_MODEL, url, live) == plan


def test_every_new_filter_is_documented():
    for name in ('verify_skip_reasons', 'verify_k3s', 'verify_storage', 'verify_gpu', 'verify_plex_exec',
                 'verify_media_wiring', 'verify_cloud_mounts', 'verify_drill_plan'):
        assert name in verify.FilterModule().filters(), name
        assert (ROOT / 'plugins' / 'filter' / (name + '.yml')).exists(), name
