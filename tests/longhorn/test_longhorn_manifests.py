"""Every manifest the longhorn role produces (defaults and a non-default variable set) validates against the
Kubernetes and CRD schemas; chart values use the chart's exact names; broken values are caught before anything is
written or applied."""

import pytest
import yaml

from ansible_collections.homelab.mediacluster.plugins.module_utils import k8s_validation

from ..conftest import ROOT
from .conftest import export_vars, read_tree, recap, run_playbook, write_longhorn_playbook

CRDS = [ROOT / 'tests' / 'schemas' / 'crds']

NON_DEFAULT = {
    'longhorn_chart_version': '1.11.2',
    'longhorn_replica_count': 3,
    'longhorn_data_path': '/mnt/longhorn/',
    'longhorn_default_class': False,
    'longhorn_reclaim_policy': 'Delete',
    'longhorn_backup_target': 's3://backups@us-east-1/longhorn',
    'longhorn_backup_target_credential_secret': 'longhorn-s3',
    'longhorn_timezone': 'America/Chicago',
    'longhorn_recurring_jobs': [
        {'name': 'hourly-snapshot', 'task': 'snapshot', 'cron': '0 * * * *', 'retain': 24, 'groups': ['default']},
        {'name': 'plex-backup', 'task': 'backup', 'cron': '30 3 * * *', 'retain': 14, 'concurrency': 2,
         'groups': ['plex', 'media'], 'labels': {'app': 'plex'}, 'parameters': {'full-backup-interval': '7'}},
        {'name': 'weekly-trim', 'task': 'filesystem-trim', 'cron': '0 5 * * SUN', 'retain': 0, 'groups': ['default']},
    ],
    'longhorn_recurring_jobs_detached_volumes': True,
    'longhorn_rwx_parameters': {'dataLocality': 'best-effort'},
    'longhorn_ui_expose': 'httproute',
    'longhorn_ui_host': 'longhorn.k8s.example.com',
    'longhorn_ui_gateway_parent_refs': [{'name': 'homelab', 'namespace': 'gateway'}],
    'longhorn_chart_values_extra': {'longhornUI': {'replicas': 1}},
}


def _unknown(values, chart, prefix=''):
    """Dotted paths in values that the chart's values.yaml does not have. Maps the chart leaves empty ({}, e.g.
    nodeSelector, annotations) take any key."""
    unknown = []
    for key, value in values.items():
        path = prefix + key
        if not isinstance(chart, dict) or key not in chart:
            unknown.append(path)
        elif isinstance(value, dict) and value and chart[key] != {}:
            unknown.extend(_unknown(value, chart[key], path + '.'))
    return unknown


def _export(tmp_path, name, nodes=('w1', 'w2'), **extra):
    tree = tmp_path / 'tree'
    playbook = write_longhorn_playbook(tmp_path / 'pb', storage_nodes=nodes)
    code, out = run_playbook(name, playbook, extra_vars=export_vars(tree, **extra))
    return code, out, tree


@pytest.mark.parametrize('variant', ['defaults', 'non-default'])
def test_every_manifest_validates_and_values_use_chart_names(tmp_path, chart_values, variant):
    extra = {} if variant == 'defaults' else NON_DEFAULT
    nodes = ('w1', 'w2') if variant == 'defaults' else ('w1', 'w2', 'w4')
    code, out, tree = _export(tmp_path, 'longhorn-export-' + variant, nodes=nodes, **extra)
    assert code == 0, out[-3000:]
    exported = read_tree(tree)
    assert set(exported) == {'longhorn', 'longhorn-config'}
    docs = []
    for app, files in exported.items():
        kustomization = files.pop('kustomization.yaml')[0]
        assert sorted(kustomization['resources']) == sorted(files), app
        for name, file_docs in files.items():
            assert len(file_docs) == 1, name
            docs.extend(file_docs)
    assert k8s_validation.validate_manifests(docs, '1.33', CRDS) == []
    by_kind = {}
    for doc in docs:
        by_kind.setdefault(doc['kind'], []).append(doc)

    chart = by_kind['HelmChart'][0]
    assert chart['metadata'] == {'name': 'longhorn', 'namespace': 'kube-system'}
    assert chart['spec']['failurePolicy'] == 'abort'
    assert chart['spec']['version'] == ('1.12.1' if variant == 'defaults' else '1.11.2')
    values = yaml.safe_load(chart['spec']['valuesContent'])
    unknown = _unknown(values, chart_values)
    assert unknown == [], 'chart values not in the chart values.yaml: {0}'.format(unknown)

    rwx = by_kind['StorageClass'][0]
    assert rwx['metadata']['name'] == 'longhorn-rwx' and rwx['provisioner'] == 'driver.longhorn.io'
    assert rwx['parameters']['migratable'] == 'false'
    assert 'hard' in rwx['parameters']['nfsOptions'].split(',') and 'vers=4.1' in rwx['parameters']['nfsOptions']
    jobs = {j['metadata']['name']: j['spec'] for j in by_kind['RecurringJob']}
    if variant == 'defaults':
        assert values['defaultBackupStore']['backupTarget'] == 'nfs://10.77.0.29:/srv/nas/longhorn_backup'
        assert values['persistence']['defaultClass'] is True and values['defaultSettings']['defaultReplicaCount'] == 2
        assert values['ingress']['enabled'] is False and values['httproute']['enabled'] is False
        assert jobs['nightly-backup'] == {'name': 'nightly-backup', 'task': 'backup', 'cron': '0 3 * * *',
                                          'retain': 7, 'concurrency': 1, 'groups': ['default'], 'labels': {}}
        assert jobs['snapshot-cleanup']['task'] == 'snapshot-cleanup'
        assert rwx['parameters']['numberOfReplicas'] == '2'
        assert values['defaultSettings']['createDefaultDiskLabeledNodes'] is True
        # Every component selects the collection's Longhorn-node label, not the disk label: the CSI plugin and the
        # instance managers must run wherever a pod with a Longhorn claim may land, not only where replicas live.
        for part in ('longhornManager', 'longhornDriver', 'longhornUI'):
            assert values[part]['nodeSelector'] == {'mediacluster.homelab/longhorn': 'true'}, part
        assert values['defaultSettings']['systemManagedComponentsNodeSelector'] == 'mediacluster.homelab/longhorn:true'
    else:
        assert values['defaultBackupStore']['backupTargetCredentialSecret'] == 'longhorn-s3'
        assert values['httproute']['enabled'] is True
        assert values['httproute']['parentRefs'] == [{'name': 'homelab', 'namespace': 'gateway'}]
        assert values['httproute']['hostnames'] == ['longhorn.k8s.example.com']
        assert values['ingress']['enabled'] is False
        assert values['longhornUI']['replicas'] == 1
        assert values['global']['timezone'] == 'America/Chicago'
        assert values['defaultSettings']['allowRecurringJobWhileVolumeDetached'] is True
        assert set(jobs) == {'hourly-snapshot', 'plex-backup', 'weekly-trim'}
        assert jobs['plex-backup']['groups'] == ['plex', 'media'] and jobs['plex-backup']['concurrency'] == 2
        assert rwx['parameters']['dataLocality'] == 'best-effort' and rwx['parameters']['numberOfReplicas'] == '3'

    code, out = run_playbook('longhorn-export-rerun-' + variant, tmp_path / 'pb' / 'play.yml',
                             extra_vars=export_vars(tree, **extra))
    assert code == 0 and recap(out)['changed'] == 0, out[-3000:]


def test_ingress_only_when_asked(tmp_path):
    code, out, tree = _export(tmp_path, 'longhorn-export-ingress', longhorn_ui_expose='ingress',
                              longhorn_ui_ingress_annotations={
                                  'traefik.ingress.kubernetes.io/router.middlewares': 'auth-basic@kubernetescrd'})
    assert code == 0, out[-3000:]
    chart = read_tree(tree)['longhorn']['helmchart-longhorn.yaml'][0]
    values = yaml.safe_load(chart['spec']['valuesContent'])
    assert values['ingress']['enabled'] is True and values['ingress']['ingressClassName'] == 'traefik'
    assert values['ingress']['host'] == 'longhorn.homelab'
    assert values['httproute']['enabled'] is False


def test_httproute_values_fit_the_gateway_api(tmp_path):
    """The chart copies httproute.parentRefs, .hostnames and .path/.pathType into its HTTPRoute; each value is checked
    against its Gateway API type (ParentReference, Hostname, HTTPPathMatch) with the validators of
    @kubernetes-models/gateway-api (tests/gateway_api), and a broken parentRef is rejected by the same check."""
    from ..gateway_api.validator import validate_gateway_objects
    parent = {'name': 'homelab', 'namespace': 'gateway', 'sectionName': 'https', 'port': 443}
    code, out, tree = _export(tmp_path, 'longhorn-export-httproute', longhorn_ui_expose='httproute',
                              longhorn_ui_host='longhorn.k8s.example.com', longhorn_ui_gateway_parent_refs=[parent])
    assert code == 0, out[-3000:]
    chart = read_tree(tree)['longhorn']['helmchart-longhorn.yaml'][0]
    route = yaml.safe_load(chart['spec']['valuesContent'])['httproute']
    assert route['enabled'] is True and route['parentRefs'] == [parent]
    checks = [{'type': 'ParentReference', 'value': ref} for ref in route['parentRefs']]
    checks += [{'type': 'Hostname', 'value': host} for host in route['hostnames']]
    checks.append({'type': 'HTTPPathMatch', 'value': {'type': route['pathType'], 'value': route['path']}})
    assert validate_gateway_objects(checks) == [[]] * len(checks)
    broken = [{'type': 'ParentReference', 'value': dict(parent, port='https')},
              {'type': 'HTTPPathMatch', 'value': {'type': 'Prefix', 'value': '/'}}]  # the Ingress spelling
    port_errors, path_errors = validate_gateway_objects(broken)
    assert port_errors and all(e.startswith('/port: type') for e in port_errors)
    assert path_errors and all(e.startswith('/type: enum') for e in path_errors)


BROKEN = [
    ('rwx-parameter-type', {'longhorn_rwx_parameters': {'staleReplicaTimeout': 30}},
     "StorageClass longhorn-rwx: parameters.staleReplicaTimeout: 30 is not of type 'string', 'null'"),
    ('unknown-task', {'longhorn_recurring_jobs': [
        {'name': 'nightly', 'task': 'backupp', 'cron': '0 3 * * *', 'retain': 7, 'groups': ['default']}]},
     "RecurringJob longhorn-system/nightly: spec.task: 'backupp' is not one of"),
    ('concurrency-type', {'longhorn_recurring_jobs': [
        {'name': 'nightly', 'task': 'backup', 'cron': '0 3 * * *', 'retain': 7, 'concurrency': 'two'}]},
     "RecurringJob longhorn-system/nightly: spec.concurrency: 'two' is not of type 'integer'"),
    ('label-type', {'longhorn_recurring_jobs': [
        {'name': 'nightly', 'task': 'backup', 'cron': '0 3 * * *', 'retain': 7, 'labels': {'tier': 1}}]},
     "RecurringJob longhorn-system/nightly: spec.labels.tier: 1 is not of type 'string'"),
]


@pytest.mark.parametrize('name, extra, expected', BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_values_are_caught_by_validation_before_anything_is_written(tmp_path, name, extra, expected):
    code, out, tree = _export(tmp_path, 'longhorn-broken-' + name, **extra)
    assert code != 0
    assert expected in out, out[-3000:]
    assert 'longhorn-config' not in {p.name for p in tree.iterdir()} if tree.exists() else True


def test_retain_seven_is_a_schema_error_too():
    job = {'apiVersion': 'longhorn.io/v1beta2', 'kind': 'RecurringJob',
           'metadata': {'name': 'nightly-backup', 'namespace': 'longhorn-system'},
           'spec': {'name': 'nightly-backup', 'task': 'backup', 'cron': '0 3 * * *', 'retain': 'seven',
                    'concurrency': 1, 'groups': ['default'], 'labels': {}}}
    assert k8s_validation.validate_manifests([job], '1.33', CRDS) == [
        "RecurringJob longhorn-system/nightly-backup: spec.retain: 'seven' is not of type 'integer'"]
