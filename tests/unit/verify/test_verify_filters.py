"""The verdict logic of playbooks/80_verify.yml (plugins/filter/verify.py): each check's pass/fail/skipped and its
message, the report, and the runbook anchors every failure links to."""

import datetime
import importlib.util
import json
import re

import pytest
import yaml

from ...conftest import ROOT

_spec = importlib.util.spec_from_file_location('verify_filters', ROOT / 'plugins' / 'filter' / 'verify.py')
verify = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(verify)

NOW = datetime.datetime(2026, 12, 5, 12, 0, tzinfo=datetime.timezone.utc)


def node(name, ready=True, *, labels=None, taints=None, allocatable=None, conditions=()):
    return {'metadata': {'name': name, 'labels': dict(labels or {})}, 'spec': {'taints': list(taints or [])},
            'status': {'conditions': [{'type': 'Ready', 'status': 'True' if ready else 'False',
                                       'message': 'kubelet stopped posting node status'}] + list(conditions),
                       'allocatable': dict(allocatable or {})}}


MODEL = [{'name': 'cp1', 'host': 'cp1', 'labels': {'node-role.kubernetes.io/control-plane': 'true',
                                                   'kubernetes.io/arch': 'amd64'}, 'taints': []},
         {'name': 'w3', 'host': 'w3.lan', 'labels': {'gpu': 'true'},
          'taints': [{'key': 'gpu', 'value': 'true', 'effect': 'NoSchedule'}]}]


# --- k3s ---------------------------------------------------------------------------------------------------------

def test_nodes_as_the_inventory_says_pass():
    api = [node('cp1', labels={'node-role.kubernetes.io/control-plane': 'true', 'kubernetes.io/arch': 'arm64'}),
           node('w3', labels={'gpu': 'true'}, taints=[{'key': 'gpu', 'value': 'true', 'effect': 'NoSchedule'},
                                                      {'key': 'node.kubernetes.io/unschedulable',
                                                       'effect': 'NoSchedule'}])]
    results = verify.verify_k3s_nodes(api, MODEL)
    # the architecture is guessed by the inventory and system taints are the kubelet's business: neither fails
    assert [r['status'] for r in results] == ['pass', 'pass']


def test_node_problems_are_each_named():
    api = [node('cp1', ready=False, labels={}),
           node('w3', labels={'gpu': 'false'}, taints=[{'key': 'dedicated', 'value': 'x', 'effect': 'NoExecute'}]),
           node('stray')]
    results = {r['check']: r for r in verify.verify_k3s_nodes(api, MODEL)}
    assert results['node cp1']['detail'] == ('NotReady (kubelet stopped posting node status); labels differ from the '
                                             'inventory: node-role.kubernetes.io/control-plane=true (has none)')
    assert results['node w3']['detail'] == ('labels differ from the inventory: gpu=true (has false); taints missing: '
                                            'gpu=true:NoSchedule; taints the inventory does not give: '
                                            'dedicated=x:NoExecute')
    assert results['node stray']['detail'] == 'in the cluster but not in the inventory'
    assert all(r['status'] == 'fail' and r['runbook'] == 'verify-k3s-nodes' for r in results.values())


def test_unregistered_node_says_which_host_to_look_at():
    result = verify.verify_k3s_nodes([], MODEL[1:])[0]
    assert result['detail'] == 'not registered with the API server' and '--limit w3.lan' in result['fix']


@pytest.mark.parametrize('api, servers, detail', [
    ([node('cp1', labels={'node-role.kubernetes.io/etcd': 'true'})], ['cp1', 'cp2', 'cp3'],
     'servers without an etcd member: cp2, cp3 (1 of 3 healthy, quorum 2)'),
    ([node(n, labels={'node-role.kubernetes.io/etcd': 'true'}) for n in ('cp1', 'cp2', 'w1')], ['cp1', 'cp2'],
     'etcd members that are not inventory servers: w1 (3 of 2 healthy, quorum 2)'),
    ([node('cp1', labels={'node-role.kubernetes.io/etcd': 'true'},
           conditions=[{'type': 'EtcdIsVoter', 'status': 'False', 'message': 'learner, not promoted'}])], ['cp1'],
     'unhealthy members: cp1 (learner, not promoted) (0 of 1 healthy, quorum 1)'),
])
def test_etcd_members_must_be_the_servers_and_healthy(api, servers, detail):
    result = verify.verify_etcd(api, servers)[0]
    assert (result['status'], result['detail'], result['runbook']) == ('fail', detail, 'verify-etcd')


def test_vip_answer_and_holder():
    lease = {'spec': {'holderIdentity': 'cp2'}}
    assert [r['status'] for r in verify.verify_vip('https://10.0.0.5:6443', True, lease=lease)] == ['pass', 'pass']
    down = verify.verify_vip('https://10.0.0.5:6443', False, 'timed out', None)
    assert [(r['status'], r['detail']) for r in down] == [
        ('fail', 'https://10.0.0.5:6443: timed out'), ('fail', 'no kube-vip leader Lease (kube-system/plndr-cp-lock)')]


def test_failover_drill_reports_the_seconds_or_that_nobody_took_over():
    assert verify.verify_failover(3.25, 'cp1', 'cp2', 60)[0]['detail'] == (
        'VIP moved from cp1 to cp2; API answered again after 3.2 s')
    assert verify.verify_failover(None, 'cp1', 'cp1', 60)[0]['status'] == 'fail'


# --- storage -----------------------------------------------------------------------------------------------------

def sc(name, default=False):
    annotations = {'storageclass.kubernetes.io/is-default-class': 'true'} if default else {}
    return {'metadata': {'name': name, 'annotations': annotations}}


def test_storage_classes():
    ok = verify.verify_storage_classes([sc('longhorn', True), sc('longhorn-rwx')], 'longhorn-rwx')
    assert [r['status'] for r in ok] == ['pass', 'pass']
    two = verify.verify_storage_classes([sc('longhorn', True), sc('local-path', True)], 'longhorn-rwx')
    assert two[0]['detail'] == 'more than one default StorageClass: local-path, longhorn'
    assert two[1]['detail'] == 'StorageClass longhorn-rwx is missing'


def test_longhorn_nodes():
    nodes = [{'metadata': {'name': 'w1'}, 'spec': {'allowScheduling': True},
              'status': {'conditions': [{'type': 'Schedulable', 'status': 'False', 'message': 'disk pressure'}]}}]
    results = verify.verify_longhorn_nodes(nodes, ['w1', 'w2'])
    assert [(r['check'], r['detail']) for r in results] == [
        ('Longhorn node w1', 'Schedulable: disk pressure'), ('Longhorn node w2', 'no Longhorn node object')]


@pytest.mark.parametrize('cron, hours', [
    ('0 3 * * *', 24), ('0 */6 * * *', 6), ('30 2 * * 0', 168), ('0 3 * * MON-FRI', 72), ('0 3 1 * *', 31 * 24),
    ('@daily', 24), ('@every 1h30m', 1.5), ('*/15 * * * *', 0.25), ('not a cron', None)])
def test_cron_interval_is_the_longest_gap(cron, hours):
    assert verify.cron_interval_hours(cron) == hours


def volume(name, last=None, labels=None, state='attached'):
    return {'metadata': {'name': name, 'labels': labels or {}},
            'status': {'state': state, 'lastBackupAt': last} if last else {'state': state}}


JOBS = [{'metadata': {'name': 'nightly-backup'}, 'spec': {'name': 'nightly-backup', 'task': 'backup',
                                                          'cron': '0 3 * * *', 'groups': ['default']}},
        {'metadata': {'name': 'weekly'}, 'spec': {'name': 'weekly', 'task': 'backup', 'cron': '0 4 * * 0',
                                                  'groups': ['archive']}},
        {'metadata': {'name': 'cleanup'}, 'spec': {'name': 'cleanup', 'task': 'snapshot-cleanup',
                                                   'cron': '0 5 * * *', 'groups': ['default']}}]


def test_backup_age_against_the_schedule():
    volumes = [volume('fresh', '2026-12-05T03:00:00Z'),
               volume('stale', '2026-12-03T03:00:00Z'),
               volume('never'),
               volume('archived', '2026-11-30T04:00:00Z', {'recurring-job-group.longhorn.io/archive': 'enabled'}),
               volume('unprotected', None, {'recurring-job.longhorn.io/cleanup': 'enabled'}),
               volume('parked', None, state='detached')]
    results = {r['check']: r for r in verify.verify_backups(volumes, JOBS, NOW, grace_hours=6)}
    assert results['backup of fresh']['status'] == 'pass'
    assert results['backup of stale']['detail'] == ('last backup 2026-12-03T03:00:00Z is 57.0 h old; the schedule '
                                                    'allows 30 h')
    assert results['backup of never']['detail'] == 'never backed up (allowed age 30 h)'
    # a weekly job allows a week plus the grace: 5 days old is fine
    assert results['backup of archived']['status'] == 'pass'
    assert 'backup of unprotected' not in results  # only a snapshot-cleanup job covers it
    assert results['backup of parked']['status'] == 'skipped'


def test_backup_max_age_wins_and_no_target_skips():
    results = verify.verify_backups([volume('v', '2026-12-05T03:00:00Z')], JOBS, NOW, max_age_hours=2)
    assert results[0]['detail'].endswith('the schedule allows 2 h')
    skipped = verify.verify_backups([], JOBS, NOW, configured=False)
    assert [(r['status'], r['detail']) for r in skipped] == [
        ('skipped', 'no backup target configured (longhorn_backup_target)')]
    assert verify.verify_backups([], [], NOW)[0]['detail'] == 'no backup RecurringJob in Longhorn'


def test_backup_target():
    assert verify.verify_backup_target({'status': {'available': True}}, 'nfs://nas:/b')[0]['status'] == 'pass'
    down = verify.verify_backup_target({'status': {'available': False, 'conditions': [
        {'type': 'Unavailable', 'message': 'mount failed'}]}}, 'nfs://nas:/b')[0]
    assert down['detail'] == 'nfs://nas:/b unavailable: mount failed'
    assert verify.verify_backup_target({}, '')[0]['status'] == 'skipped'


# --- GPU ---------------------------------------------------------------------------------------------------------

def plex(limits=None, groups=None, phase='Running'):
    return {'metadata': {'name': 'plex-0'}, 'status': {'phase': phase},
            'spec': {'nodeName': 'w3', 'securityContext': {'supplementalGroups': groups or []},
                     'containers': [{'name': 'plex', 'resources': {'limits': limits or {}}}]}}


def test_gpu_allocatable_on_every_gpu_node():
    api = [node('w3', allocatable={'gpu.intel.com/i915': '2'}), node('w4', allocatable={})]
    results = verify.verify_gpu_nodes(api, ['w3', 'w4', 'w5'], 'gpu.intel.com/i915')
    assert [(r['status'], r['detail']) for r in results] == [
        ('pass', '2 allocatable'), ('fail', 'no gpu.intel.com/i915 allocatable'), ('fail', 'node not registered')]


def test_plex_holds_the_gpu_with_the_render_group():
    good = plex({'gpu.intel.com/i915': '1'}, [104])
    assert verify.verify_plex_pod([good], 'gpu.intel.com/i915', [104])[0]['status'] == 'pass'
    bad = verify.verify_plex_pod([plex({}, [44])], 'gpu.intel.com/i915', [104])[0]
    assert bad['detail'] == ('plex-0: no container has a gpu.intel.com/i915 limit; render group(s) [104] not in '
                             'supplementalGroups [44]')
    assert verify.verify_plex_pod([plex(phase='Pending')], 'x', [])[0]['detail'] == 'no running Plex pod'
    # privileged mode: no device plugin resource to hold
    assert verify.verify_plex_pod([plex({}, [104])], '', [104])[0]['status'] == 'pass'


def test_plex_device_group():
    assert verify.verify_plex_device('104\n1000 104\n', 0, '/dev/dri/renderD128', [104])[0]['status'] == 'pass'
    wrong = verify.verify_plex_device('993\n1000 104\n', 0, '/dev/dri/renderD128', [104])[0]
    assert wrong['status'] == 'fail' and 'set plex_gpu_render_gid' in wrong['fix'] and '993' in wrong['fix']
    missing = verify.verify_plex_device("stat: can't stat '/dev/dri/renderD128'", 1, '/dev/dri/renderD128', [104])
    assert missing[0]['detail'].startswith('not visible in the Plex container: stat:')


# --- apps --------------------------------------------------------------------------------------------------------

CATALOG = {'sonarr': {'port': 8989, 'probe': '/ping'}, 'qbittorrent': {'port': 8080, 'probe': 'tcp'}}


def test_enabled_apps_fall_back_to_the_role_default():
    defaults = {'media_stack_sonarr_enabled': True, 'media_stack_qbittorrent_enabled': False}
    assert verify.verify_enabled_apps([('sonarr', '__default__'), ('qbittorrent', 'true')], defaults) == [
        'sonarr', 'qbittorrent']
    assert verify.verify_enabled_apps([('sonarr', False), ('qbittorrent', '__default__')], defaults) == []


def test_endpoints_in_node_mode_are_called_from_the_pods_node():
    services = [{'metadata': {'name': 'sonarr'}, 'spec': {'clusterIP': '10.43.0.9'}},
                {'metadata': {'name': 'qbittorrent'}, 'spec': {'clusterIP': '10.43.0.8'}}]
    pods = [{'metadata': {'labels': {'app.kubernetes.io/name': 'sonarr'}}, 'spec': {'nodeName': 'w1'},
             'status': {'phase': 'Running'}}]
    nodes = [{'name': 'w1', 'host': 'w1.lan'}]
    endpoints = verify.verify_app_endpoints(['sonarr', 'qbittorrent'], CATALOG, 'node', services=services, pods=pods,
                                            nodes=nodes)
    assert endpoints[0]['url'] == 'http://10.43.0.9:8989' and endpoints[0]['host'] == 'w1.lan'
    assert endpoints[1]['error'] == 'no running pod'
    url_mode = verify.verify_app_endpoints(['sonarr', 'qbittorrent'], CATALOG, 'url',
                                           urls={'sonarr': 'https://sonarr.example/'})
    assert url_mode[0]['url'] == 'https://sonarr.example' and url_mode[1]['error'] == 'no URL in media_stack_api_urls'


def test_probes_and_health():
    endpoints = [{'app': 'sonarr', 'url': 'http://s', 'probe': '/ping', 'error': ''},
                 {'app': 'qbittorrent', 'url': 'http://q:8080', 'probe': 'tcp', 'error': ''},
                 {'app': 'radarr', 'url': '', 'probe': '/ping', 'error': 'no running pod'}]
    registered = [{'_verify_endpoint': endpoints[0], 'status': 503, 'failed': True, 'msg': 'Status code was 503'},
                  {'_verify_endpoint': endpoints[1], 'failed': False}]
    probes = verify.verify_probes(endpoints, registered)
    assert [(p['app'], p['ok']) for p in probes] == [('sonarr', False), ('qbittorrent', True), ('radarr', False)]
    health = {r['check']: r for r in verify.verify_app_health(probes)}
    assert health['sonarr health']['detail'] == 'http://s/ping: Status code was 503'
    assert health['radarr health']['detail'] == 'no running pod'
    assert health['qbittorrent health']['status'] == 'pass'


def test_wiring_drift_names_what_would_change():
    created = {'changed': True, 'diff': {'before': {}, 'after': {'path': '/tv'}}}
    checks = [{'app': 'sonarr', 'what': 'root folder /tv', 'result': created},
              {'app': 'qbittorrent', 'what': 'preferences', 'result': {'changed': True, 'diff': {
                  'before': {'save_path': '/downloads', 'x': 1}, 'after': {'save_path': '/data/torrents', 'x': 1}}}},
              {'app': 'radarr', 'what': 'root folder /movies', 'result': {'changed': False}},
              {'app': 'prowlarr', 'what': 'application Sonarr', 'result': {'failed': True, 'msg': 'HTTP 401'}}]
    results = verify.verify_wiring(checks)
    assert [(r['status'], r['detail']) for r in results] == [
        ('fail', 'drift: missing, would be created'), ('fail', 'drift: would change save_path'),
        ('pass', 'as the collection configured it'), ('fail', 'could not be checked: HTTP 401')]


def test_secret_values_are_decoded():
    assert verify.verify_b64decode_values({'a': 'c2VjcmV0', 'b': '***not base64***'}) == {'a': 'secret'}


# --- test objects and report ---------------------------------------------------------------------------------------

def test_job_and_probe_verdicts():
    assert verify.verify_job('hardlinks', 'h', {'status': {'succeeded': 1}}, 60, pass_detail='one inode')[0][
        'detail'] == 'one inode'
    failed = verify.verify_job('hardlinks', 'h', {'status': {'failed': 1}}, 60, log='not one file with two links\n',
                               runbook='hardlinks')[0]
    assert failed['detail'] == 'the test Job failed: not one file with two links'
    assert failed['runbook'] == 'verify-hardlinks'
    refused = {'phase': 'Failed', 'containerStatuses': [{'state': {'terminated': {'exitCode': 1}}}]}
    assert verify.verify_outcome({'status': refused}, 'Pod', 'network-policy', 'p', 5)[0]['status'] == 'pass'
    # a pod that never ran its command (deadline during the image pull) proves nothing about the policy
    never_ran = verify.verify_outcome({'status': {'phase': 'Failed', 'reason': 'DeadlineExceeded'}}, 'Pod',
                                      'network-policy', 'p', 5)[0]
    assert never_ran['status'] == 'fail' and never_ran['detail'] == 'the probe pod ended without running ' \
        '(DeadlineExceeded)'
    leak = verify.verify_outcome({'status': {'phase': 'Succeeded'}}, 'Pod', 'network-policy', 'p', 5)[0]
    assert leak['status'] == 'fail' and leak['detail'] == 'a pod in another namespace connected'
    assert verify.verify_finished({'phase': 'Running'}) is False and verify.verify_finished({'failed': 1}) is True


def test_claim_volumes_left_by_retain_are_listed_for_deletion():
    assert verify.verify_claim_volumes(['pvc-1'], 'longhorn-system') == [
        ['v1', 'PersistentVolume', '', 'pvc-1'], ['longhorn.io/v1beta2', 'Volume', 'longhorn-system', 'pvc-1']]


def test_report_table_and_what_to_do():
    results = (verify.verify_result('node cp1', 'k3s', 'fail', 'NotReady', fix='look at the kubelet',
                                    runbook='k3s-nodes')
               + verify.verify_result('backups', 'storage', 'pass', 'fresh')
               + verify.verify_skipped(['RWO and RWX volumes'], 'storage', 'check mode creates no test objects'))
    report = verify.verify_report(results, '2026-12-05T12:00:00+00:00', 'https://10.0.0.5:6443')
    assert report['summary'] == {'pass': 1, 'fail': 1, 'skipped': 1} and report['failed'] is True
    assert report['what_to_do'] == ['k3s / node cp1: NotReady. What to do: look at the kubelet '
                                    '(see docs/runbooks.md#verify-k3s-nodes)']
    json.dumps(report)
    table = verify.verify_table(results)
    assert table[0].split() == ['AREA', 'CHECK', 'STATUS', 'DETAIL']
    assert table[3].endswith('skipped: check mode creates no test objects')
    assert table[-1] == '1 passed, 1 failed, 1 skipped'
    # a passing or skipped result carries no fix or runbook
    assert results[1]['fix'] == results[1]['runbook'] == results[2]['runbook'] == ''
    with pytest.raises(ValueError):
        verify.result('k3s', 'x', 'warning')


def test_every_runbook_anchor_exists_in_the_runbooks():
    text = (ROOT / 'docs' / 'runbooks.md').read_text()
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', text))
    assert set(verify.RUNBOOKS.values()) <= anchors, sorted(set(verify.RUNBOOKS.values()) - anchors)


def test_every_filter_is_registered():
    filters = verify.FilterModule().filters()
    used = set()
    for path in (ROOT / 'roles' / 'verify').rglob('*.yml'):
        used |= set(re.findall(r'homelab\.mediacluster\.(verify_[a-z0-9_]+)', path.read_text()))
    assert used <= set(filters), sorted(used - set(filters))


def test_the_role_fallbacks_equal_the_other_roles_defaults():
    """roles/verify/vars/main.yml repeats the defaults of the media_stack, plex and longhorn roles (role defaults are
    not visible to another role): each fallback must still be that role's default."""
    text = (ROOT / 'roles' / 'verify' / 'vars' / 'main.yml').read_text()
    defaults = {}
    for role in ('media_stack', 'plex', 'longhorn'):
        defaults.update(yaml.safe_load((ROOT / 'roles' / role / 'defaults' / 'main.yml').read_text()))
    pairs = re.findall(r'\{\{ ((?:media_stack|plex|longhorn)_[a-z0-9_]+) \| default\((.+?)\) \}\}"?$', text,
                       re.MULTILINE)
    assert len(pairs) >= 20
    for name, fallback in pairs:
        if fallback.startswith(('groups', '[{', 'none')):
            continue  # computed in the role too (storage group, libraries from the roots); checked below
        value = yaml.safe_load(fallback.replace("'", '"')) if fallback[0] in '[{' else yaml.safe_load(fallback)
        assert value == defaults[name], '{0}: verify falls back to {1!r}, the role defaults to {2!r}'.format(
            name, value, defaults[name])
    libraries = defaults['media_stack_jellyfin_libraries']
    assert [(lib['name'], lib['type']) for lib in libraries] == [('Movies', 'movies'), ('Shows', 'tvshows')]


def test_cloud_mount_rows_become_results():
    ok = verify.verify_cloud_mount_result({'pod': 'sonarr-0', 'app': 'sonarr', 'node': 'k3s-w1', 'remote': 'zurg',
                                           'path': '/cloud/zurg', 'state': 'ok', 'items': 12, 'detail': ''})
    assert ok['status'] == 'pass' and ok['area'] == 'storage' and '12 items' in ok['detail'] and ok['fix'] == ''
    bad = verify.verify_cloud_mount_result({'pod': 'plex-0', 'app': 'plex', 'node': '', 'remote': 'torbox',
                                            'path': '/cloud/torbox', 'state': 'stale',
                                            'detail': 'Transport endpoint is not connected'})
    assert bad['status'] == 'fail' and 'plex-0 (no node) /cloud/torbox: Transport endpoint' in bad['detail']
    assert 'kubectl logs plex-0 -c rclone-torbox' in bad['fix'] and bad['runbook'] == 'verify-cloud-mounts'
