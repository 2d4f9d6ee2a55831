"""Every manifest the longhorn role produces (defaults and a non-default variable set) validates against the
Kubernetes and CRD schemas; chart values use the chart's exact names; broken values are caught before anything is
written or applied."""

import pytest
import yaml

from ansible_collections.homelab.mediacluster.plugins.module_utils import k8s_validation

from ..conftest import ROOT
from .conftest import export_vars, read_tree, recap, run_playbook, write_longhorn_playbook

CRDS = [ROOT / 'tests' / 'schemas' / 'crds']
# TEST-ONLY HTTPRoute stand-in (tests/gateway_api): lets the UI's HTTPRoute through the delivery layer in export mode;
# the route itself is checked with the Gateway API validators.
NAMES_ONLY_CRD = str(ROOT / 'tests' / 'gateway_api' / 'httproute-names-only-crd.yaml')

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
    'longhorn_ui_auth': 'forward',
    'longhorn_ui_forward_auth_address': 'http://authelia.auth.svc.cluster.local/api/verify',
    'k8s_delivery_crd_paths': [NAMES_ONLY_CRD],
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
    assert k8s_validation.validate_manifests(docs, '1.33', CRDS + ([NAMES_ONLY_CRD] if extra else [])) == []
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
        # the UI route is the role's own (TLS, redirect, auth), never the chart's
        assert values['httproute'] == {'enabled': False} and values['ingress'] == {'enabled': False}
        route = next(r for r in by_kind['HTTPRoute'] if r['metadata']['name'] == 'longhorn-ui')
        # attached to the Gateway's HTTPS listener (longhorn_ui_gateway_listeners), the redirect route to its HTTP one
        assert route['spec']['parentRefs'] == [{'name': 'homelab', 'namespace': 'gateway', 'sectionName': 'https'}]
        assert route['spec']['hostnames'] == ['longhorn.k8s.example.com']
        assert route['spec']['rules'][0]['filters'] == [{'type': 'ExtensionRef', 'extensionRef': {
            'group': 'traefik.io', 'kind': 'Middleware', 'name': 'longhorn-ui-auth'}}]
        assert by_kind['Middleware'][0]['spec'] == {'forwardAuth': {
            'address': 'http://authelia.auth.svc.cluster.local/api/verify', 'trustForwardHeader': False,
            'authResponseHeaders': ['Remote-User', 'Remote-Groups', 'Remote-Email', 'Remote-Name']}}
        assert values['longhornUI']['replicas'] == 1
        assert values['global']['timezone'] == 'America/Chicago'
        assert values['defaultSettings']['allowRecurringJobWhileVolumeDetached'] is True
        assert set(jobs) == {'hourly-snapshot', 'plex-backup', 'weekly-trim'}
        assert jobs['plex-backup']['groups'] == ['plex', 'media'] and jobs['plex-backup']['concurrency'] == 2
        assert rwx['parameters']['dataLocality'] == 'best-effort' and rwx['parameters']['numberOfReplicas'] == '3'

    code, out = run_playbook('longhorn-export-rerun-' + variant, tmp_path / 'pb' / 'play.yml',
                             extra_vars=export_vars(tree, **extra))
    assert code == 0 and recap(out)['changed'] == 0, out[-3000:]


def test_ingress_has_tls_an_http_redirect_and_basic_auth(tmp_path):
    """Issue 22: the UI's Ingress answers HTTPS only, with a cert-manager Certificate for its host and the basicAuth
    middleware; a second Ingress on the web entrypoint only redirects (a Traefik router with TLS serves no plain
    HTTP). The htpasswd line verifies against the password, and a rerun keeps it (changed=0)."""
    from ansible_collections.homelab.mediacluster.plugins.module_utils import htpasswd
    extra = {'longhorn_ui_expose': 'ingress', 'longhorn_ui_auth_password': 'correct horse',
             'longhorn_ui_ingress_annotations': {'gethomepage.dev/enabled': 'true'}}
    code, out, tree = _export(tmp_path, 'longhorn-export-ingress', **extra)
    assert code == 0, out[-3000:]
    assert 'correct horse' not in out
    exported = read_tree(tree)
    values = yaml.safe_load(exported['longhorn']['helmchart-longhorn.yaml'][0]['spec']['valuesContent'])
    assert values['ingress'] == {'enabled': False} and values['httproute'] == {'enabled': False}
    config = exported['longhorn-config']
    https, http = config['ingress-longhorn-ui.yaml'][0], config['ingress-longhorn-ui-http.yaml'][0]
    assert https['metadata']['annotations'] == {
        'gethomepage.dev/enabled': 'true',
        'traefik.ingress.kubernetes.io/router.entrypoints': 'websecure',
        'traefik.ingress.kubernetes.io/router.tls': 'true',
        'traefik.ingress.kubernetes.io/router.middlewares': 'longhorn-system-longhorn-ui-auth@kubernetescrd'}
    assert https['spec']['tls'] == [{'hosts': ['longhorn.homelab'], 'secretName': 'longhorn-ui-tls'}]
    assert http['metadata']['annotations'] == {
        'traefik.ingress.kubernetes.io/router.entrypoints': 'web',
        'traefik.ingress.kubernetes.io/router.middlewares': 'longhorn-system-longhorn-ui-redirect-https@kubernetescrd'}
    assert 'tls' not in http['spec'] and http['spec']['rules'][0]['host'] == 'longhorn.homelab'
    cert = config['certificate-longhorn-ui-tls.yaml'][0]['spec']
    assert cert['dnsNames'] == ['longhorn.homelab'] and cert['secretName'] == 'longhorn-ui-tls'
    assert cert['issuerRef'] == {'group': 'cert-manager.io', 'kind': 'ClusterIssuer', 'name': 'homelab'}
    assert config['middleware-longhorn-ui-redirect-https.yaml'][0]['spec'] == {
        'redirectScheme': {'scheme': 'https', 'permanent': True}}
    assert config['middleware-longhorn-ui-auth.yaml'][0]['spec']['basicAuth']['secret'] == 'longhorn-ui-auth'
    users = config['secret-longhorn-ui-auth.yaml'][0]['stringData']['users']
    user, hashed = users.split(':', 1)
    assert user == 'admin' and hashed.startswith('$apr1$') and htpasswd.verify(hashed, 'correct horse')
    docs = [d for files in config.values() for d in files if 'kind' in d and d['kind'] != 'Kustomization']
    assert k8s_validation.validate_manifests(docs, '1.33', CRDS) == []

    code, out = run_playbook('longhorn-export-ingress-rerun', tmp_path / 'pb' / 'play.yml',
                             extra_vars=export_vars(tree, **extra))
    assert code == 0 and recap(out)['changed'] == 0, out[-3000:]
    assert read_tree(tree)['longhorn-config']['secret-longhorn-ui-auth.yaml'][0]['stringData']['users'] == users


def test_httproute_fits_the_gateway_api(tmp_path):
    """The role's HTTPRoute for the UI (with the auth middleware as an ExtensionRef filter) passes the validators
    of @kubernetes-models/gateway-api (tests/gateway_api); a broken parentRef is rejected by the same check."""
    from ..gateway_api.validator import validate_gateway_objects
    parent = {'name': 'homelab', 'namespace': 'gateway', 'sectionName': 'https', 'port': 443}
    code, out, tree = _export(tmp_path, 'longhorn-export-httproute', longhorn_ui_expose='httproute',
                              longhorn_ui_host='longhorn.k8s.example.com', longhorn_ui_gateway_parent_refs=[parent],
                              longhorn_ui_auth_password='correct horse', k8s_delivery_crd_paths=[NAMES_ONLY_CRD])
    assert code == 0, out[-3000:]
    files = read_tree(tree)['longhorn-config']
    route = files['httproute-longhorn-ui.yaml'][0]
    assert route['spec']['parentRefs'] == [parent]
    # issue 22 in Gateway API mode: a Certificate for the host, a redirect route on the HTTP listener (301 to https,
    # no backend, no auth needed to be told to use HTTPS) and the ReferenceGrant for the Gateway's namespace
    cert = files['certificate-longhorn-ui-tls.yaml'][0]['spec']
    assert cert['dnsNames'] == ['longhorn.k8s.example.com'] and cert['secretName'] == 'longhorn-ui-tls'
    redirect = files['httproute-longhorn-ui-http.yaml'][0]
    assert redirect['spec']['parentRefs'] == [dict(parent, sectionName='http')]
    assert redirect['spec']['hostnames'] == ['longhorn.k8s.example.com']
    assert redirect['spec']['rules'] == [{'filters': [{'type': 'RequestRedirect',
                                                       'requestRedirect': {'scheme': 'https', 'statusCode': 301}}]}]
    grant = files['referencegrant-longhorn-ui-gateway-tls.yaml'][0]
    assert grant['metadata']['namespace'] == 'longhorn-system'
    gateway = {'group': 'gateway.networking.k8s.io', 'kind': 'Gateway', 'namespace': 'gateway'}
    assert grant['spec'] == {'from': [gateway],
                             'to': [{'group': '', 'kind': 'Secret', 'name': 'longhorn-ui-tls'}]}
    assert validate_gateway_objects([route, redirect, grant]) == [[], [], []]
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
