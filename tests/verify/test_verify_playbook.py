"""playbooks/80_verify.yml against the kmock Kubernetes emulator (started by each test on loopback), seeded with
healthy and unhealthy clusters: every check's verdict and message, the report, --check making no write, and test
objects deleted when their check fails."""

import re

from .conftest import BACKUP_TARGET, by_check, healthy_cluster, run_verify

LIVE = 'needs a live cluster: nothing runs pods on this API (kube-system/coredns has no ready replica)'
LH = 'longhorn.io/v1beta2/'


def test_healthy_cluster_passes_and_live_checks_skip_with_their_reason(tmp_path, cluster):
    cluster.seed(healthy_cluster())
    code, output, report = run_verify(tmp_path, cluster, 'verify-healthy')
    assert code == 0, output[-3000:]
    results = by_check(report)
    assert [r for r in report['results'] if r['status'] == 'fail'] == []
    for check in ['node cp1', 'node w3', 'etcd members', 'API through the VIP', 'VIP holder']:
        assert results['k3s', check]['status'] == 'pass', results['k3s', check]
    assert results['k3s', 'etcd members']['detail'] == '3 members (cp1, cp2, cp3), all healthy'
    assert results['k3s', 'VIP holder']['detail'] == 'kube-vip leader: cp2'
    assert results['storage', 'backup of pvc-plex-config']['detail'].startswith('last backup 5.0 h old (allowed 30 h)')
    assert results['storage', 'backup target']['detail'] == BACKUP_TARGET + ' available'
    assert results['gpu', 'gpu.intel.com/i915 on w3']['detail'] == '2 allocatable'
    # checks that need running pods skip in the emulator, and the table says why
    for key in [('storage', 'RWO and RWX volumes'), ('hardlinks', 'hardlink /data/torrents -> /data/media'),
                ('gpu', 'Plex sees /dev/dri/renderD128'), ('network-policy', 'other namespace -> sonarr')]:
        assert results[key]['status'] == 'skipped' and results[key]['detail'] == LIVE, results[key]
    assert results['k3s', 'VIP failover drill']['detail'] == 'not asked for (-e verify_failover=true)'
    assert 'skipped: ' + LIVE in output
    assert report['summary'] == {'pass': 17, 'fail': 0, 'skipped': 5} and report['failed'] is False
    assert cluster.kube.writes() == [], 'a read-only run wrote to the API'


def unhealthy_cluster():
    objects = healthy_cluster()
    cp1 = objects['v1/nodes', None, 'cp1']
    cp1['status']['conditions'][0] = {'type': 'Ready', 'status': 'False', 'reason': 'KubeletNotReady',
                                      'message': 'container runtime network not ready'}
    cp3 = objects['v1/nodes', None, 'cp3']
    cp3['status']['conditions'][1] = {'type': 'EtcdIsVoter', 'status': 'False', 'message': 'learner'}
    w1 = objects['v1/nodes', None, 'w1']
    del w1['metadata']['labels']['node.longhorn.io/create-default-disk']
    w3 = objects['v1/nodes', None, 'w3']
    w3['spec'] = {}
    w3['status']['allocatable']['gpu.intel.com/i915'] = '0'
    del objects['storage.k8s.io/v1/storageclasses', None, 'longhorn-rwx']
    objects[LH + 'nodes', 'longhorn-system', 'w2']['spec']['allowScheduling'] = False
    objects[LH + 'volumes', 'longhorn-system', 'pvc-plex-config']['status']['lastBackupAt'] = '2020-01-01T03:00:00Z'
    plex = objects['v1/pods', 'media', 'plex-0']
    plex['spec']['securityContext'] = {}
    return objects


def test_unhealthy_cluster_names_each_failure_and_what_to_do(tmp_path, cluster):
    cluster.seed(unhealthy_cluster())
    code, output, report = run_verify(tmp_path, cluster, 'verify-unhealthy')
    assert code != 0, 'a failed check must fail the run'
    results = by_check(report)

    def failed(area, check):
        item = results[area, check]
        assert item['status'] == 'fail', item
        assert item['fix'] and item['runbook'].startswith('verify-'), item
        return item['detail']

    assert failed('k3s', 'node cp1') == 'NotReady (container runtime network not ready)'
    assert 'labels differ from the inventory: node.longhorn.io/create-default-disk=true (has none)' in failed(
        'k3s', 'node w1')
    assert failed('k3s', 'node w3') == 'taints missing: gpu=true:NoSchedule'
    assert failed('k3s', 'etcd members') == ('unhealthy members: cp1 (node NotReady), cp3 (learner) '
                                             '(1 of 3 healthy, quorum 2)')
    assert failed('storage', 'RWX StorageClass') == 'StorageClass longhorn-rwx is missing'
    assert failed('storage', 'Longhorn node w2') == 'scheduling disabled (spec.allowScheduling false)'
    assert failed('storage', 'backup of pvc-plex-config').startswith('last backup 2020-01-01T03:00:00Z is ')
    assert failed('gpu', 'gpu.intel.com/i915 on w3') == 'no gpu.intel.com/i915 allocatable'
    assert failed('gpu', 'Plex holds the GPU') == 'plex-0: render group(s) [104] not in supplementalGroups []'
    assert results['k3s', 'node cp2']['status'] == 'pass' and results['storage', 'Longhorn node w1']['status'] == 'pass'
    # one "what to do" line per failure, each pointing at its runbook section
    failures = [r for r in report['results'] if r['status'] == 'fail']
    assert len(report['what_to_do']) == len(failures) == 9
    assert ('k3s / node cp1: NotReady (container runtime network not ready). What to do: ' in report['what_to_do'][0]
            and report['what_to_do'][0].endswith('(see docs/runbooks.md#verify-k3s-nodes)'))
    assert 'docs/runbooks.md#verify-backups' in output and '9 check(s) failed' in output


def test_missing_storage_class_and_backup_target_unavailable(tmp_path, cluster):
    objects = healthy_cluster()
    objects['storage.k8s.io/v1/storageclasses', None, 'longhorn']['metadata']['annotations'] = {}
    objects[LH + 'backuptargets', 'longhorn-system', 'default']['status'] = {
        'available': False, 'conditions': [{'type': 'Unavailable', 'status': 'True',
                                            'message': 'mount.nfs: Connection timed out'}]}
    del objects[LH + 'volumes', 'longhorn-system', 'pvc-plex-config']['status']['lastBackupAt']
    cluster.seed(objects)
    code, output, report = run_verify(tmp_path, cluster, 'verify-storage', {'verify_checks': ['storage']})
    assert code != 0
    results = by_check(report)
    assert results['storage', 'default StorageClass']['detail'] == 'no default StorageClass'
    assert results['storage', 'backup target']['detail'] == (BACKUP_TARGET + ' unavailable: mount.nfs: Connection '
                                                             'timed out')
    assert results['storage', 'backup of pvc-plex-config']['detail'] == 'never backed up (allowed age 30 h)'
    assert [r['area'] for r in report['results']] == ['storage'] * len(report['results'])


def test_check_mode_makes_no_write_and_says_what_it_skipped(tmp_path, cluster):
    cluster.seed(healthy_cluster())
    code, output, report = run_verify(tmp_path, cluster, 'verify-check-mode', {'verify_test_objects': 'always'},
                                      check=True)
    assert code == 0, output[-3000:]
    assert report is None, '--check wrote the report file'
    assert cluster.kube.writes() == [], 'check mode wrote to the API: {0}'.format(cluster.kube.writes())
    assert len(cluster.kube.calls) > 10  # it did read the cluster
    assert 'skipped: check mode creates no test objects' in output
    assert 'skipped: check mode runs nothing in the cluster' in output


def test_failing_test_objects_are_deleted(tmp_path, cluster):
    """Forced onto the emulator (verify_test_objects=always), the Jobs and the probe pod never finish: each check
    fails with that reason, and every object it created is gone afterwards."""
    cluster.seed(healthy_cluster())
    before = set(cluster.live_objects())
    code, output, report = run_verify(tmp_path, cluster, 'verify-objects-fail',
                                      {'verify_test_objects': 'always', 'verify_job_timeout': 2})
    assert code != 0
    results = by_check(report)
    for key in [('storage', 'RWO and RWX volumes'), ('hardlinks', 'hardlink /data/torrents -> /data/media')]:
        assert results[key]['status'] == 'fail'
        assert results[key]['detail'] == 'the test Job did not finish within 2 s', results[key]
    assert results['network-policy', 'other namespace -> sonarr']['detail'] == (
        'the probe pod did not finish within 2 s (phase unknown)')
    created = [c for c in cluster.kube.writes() if c[0] == 'CREATE']
    kinds = sorted(set(re.search(r"plural='([a-z]+)'", c[1]).group(1) for c in created))
    assert kinds == ['jobs', 'namespaces', 'persistentvolumeclaims', 'pods'], created
    deleted = [c for c in cluster.kube.writes() if c[0] == 'DELETE']
    assert len(deleted) == len(created), (created, deleted)
    # every test object carries this run's unique name: verify-<MMDDhhmmss>-<5 random characters>[-suffix]
    run_ids = set(re.match(r'^(verify-[0-9]{10}-[a-z0-9]{5})', c[3]).group(1) for c in deleted)
    assert len(run_ids) == 1, deleted
    assert set(cluster.live_objects()) == before, 'objects left behind: {0}'.format(
        set(cluster.live_objects()) - before)
