"""The longhorn role against the kmock API emulator: --check --diff writes nothing, the first run creates every
object and labels the storage nodes, a rerun reports changed=0 with no write call, a one-minor chart bump is applied,
and skipped minors and downgrades are refused before anything is sent."""

import json
import urllib.request

from .conftest import recap, run_playbook, write_longhorn_playbook

LABEL = 'node.longhorn.io/create-default-disk'
COMPONENTS = 'mediacluster.homelab/longhorn'


def _create_node(kube, name):
    body = json.dumps({'apiVersion': 'v1', 'kind': 'Node', 'metadata': {'name': name, 'labels': {'role': 'worker'}}})
    request = urllib.request.Request(kube.url + '/api/v1/nodes', data=body.encode(), method='POST',
                                     headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 201)


def _vars(kube, **extra):
    values = {'k8s_kubeconfig': str(kube.kubeconfig), 'k8s_delivery_wait': False, 'longhorn_wait_for_crds': False,
              'longhorn_backup_target': 'nfs://10.77.0.29:/srv/nas/longhorn_backup'}
    values.update(extra)
    return values


def test_apply_check_rerun_and_upgrade_path(kube, tmp_path):
    # cp1 runs pods (so Longhorn's components) but holds no replica; w3 is an LXC node: no Longhorn at all.
    for node in ('cp1', 'w1', 'w2', 'w3'):
        _create_node(kube, node)
    playbook = write_longhorn_playbook(tmp_path / 'pb', k3s_nodes=('cp1', 'w1', 'w2', 'w3'), flavours={'w3': 'lxc'})
    start = len(kube.calls)

    code, out = run_playbook('longhorn-apply-1-check', playbook, '--check', '--diff', extra_vars=_vars(kube))
    assert code == 0, out[-3000:]
    assert recap(out)['changed'] > 0
    assert '"failurePolicy": "abort"' in out  # the diff of the HelmChart is shown
    assert kube.writes(start) == [], kube.writes(start)
    assert kube.stored('helm.cattle.io/v1', 'helmcharts', 'kube-system', 'longhorn') is None

    mark = len(kube.calls)
    code, out = run_playbook('longhorn-apply-2-first', playbook, extra_vars=_vars(kube))
    assert code == 0, out[-3000:]
    written = {(w[1].split("plural='")[1].rstrip("')"), w[3]) for w in kube.writes(mark)}
    assert written == {('namespaces', 'longhorn-system'), ('helmcharts', 'longhorn'),
                       ('storageclasses', 'longhorn-rwx'), ('recurringjobs', 'nightly-backup'),
                       ('recurringjobs', 'snapshot-cleanup'), ('nodes', 'cp1'), ('nodes', 'w1'),
                       ('nodes', 'w2')}, written
    chart = kube.stored('helm.cattle.io/v1', 'helmcharts', 'kube-system', 'longhorn')
    assert chart['spec']['version'] == '1.12.1' and chart['spec']['failurePolicy'] == 'abort'
    assert 'backupTarget: nfs://10.77.0.29:/srv/nas/longhorn_backup' in chart['spec']['valuesContent']
    job = kube.stored('longhorn.io/v1beta2', 'recurringjobs', 'longhorn-system', 'nightly-backup')
    assert job['spec']['cron'] == '0 3 * * *' and job['spec']['retain'] == 7 and job['spec']['groups'] == ['default']
    rwx = kube.stored('storage.k8s.io/v1', 'storageclasses', None, 'longhorn-rwx')
    assert rwx['parameters']['migratable'] == 'false'
    for node in ('w1', 'w2'):
        labels = kube.stored('v1', 'nodes', None, node)['metadata']['labels']
        assert labels == {'role': 'worker', LABEL: 'true', COMPONENTS: 'true'}, labels
    assert kube.stored('v1', 'nodes', None, 'cp1')['metadata']['labels'] == {'role': 'worker', COMPONENTS: 'true'}
    assert kube.stored('v1', 'nodes', None, 'w3')['metadata']['labels'] == {'role': 'worker'}

    mark = len(kube.calls)
    code, out = run_playbook('longhorn-apply-3-rerun', playbook, extra_vars=_vars(kube))
    assert code == 0, out[-3000:]
    assert recap(out)['changed'] == 0, out[-3000:]
    assert kube.writes(mark) == [], kube.writes(mark)

    # Skipping a minor version and downgrading are refused before anything is sent.
    for version, text in (('1.14.0', 'upgrade one minor version at a time (set longhorn_chart_version to the latest '
                                     '1.13.x'),
                          ('1.11.3', 'Longhorn 1.12.1 is installed and longhorn_chart_version=1.11.3')):
        mark = len(kube.calls)
        code, out = run_playbook('longhorn-apply-refuse-' + version, playbook,
                                 extra_vars=_vars(kube, longhorn_chart_version=version))
        assert code != 0
        assert text in ' '.join(out.split()), out[-3000:]
        assert kube.writes(mark) == []
    assert kube.stored('helm.cattle.io/v1', 'helmcharts', 'kube-system', 'longhorn')['spec']['version'] == '1.12.1'

    # The next minor is the supported path: applied, and only the HelmChart changes.
    mark = len(kube.calls)
    code, out = run_playbook('longhorn-apply-upgrade', playbook,
                             extra_vars=_vars(kube, longhorn_chart_version='1.13.0'))
    assert code == 0, out[-3000:]
    assert [w[3] for w in kube.writes(mark)] == ['longhorn']
    assert kube.stored('helm.cattle.io/v1', 'helmcharts', 'kube-system', 'longhorn')['spec']['version'] == '1.13.0'
