"""The plex role's manifests, rendered by the role's own templates for several input combinations: every document
validates against the official Kubernetes schema (strict) or its Longhorn CRD schema, and the design invariants
hold (GPU placement, GPU access per mode, render GIDs, static PV, holder placement, backups, claim token)."""

import functools
import json
import pathlib

import jsonschema
import kubernetes_validate
import pytest

from ansible_collections.homelab.mediacluster.plugins.module_utils import k8s_validation

from ..conftest import VENV_BIN, run_logged, tail
from ..yaml_files import documents

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CRDS = ROOT / 'tests' / 'schemas' / 'crds' / 'longhorn-v1.12.1-crds.yaml'
# cert-manager Certificate and Traefik Middleware (the Ingress's TLS and HTTP redirect)
ROUTE_CRDS = sorted((ROOT / 'tests' / 'schemas' / 'crds').glob('[ct][er]*.yaml'))
K8S_VERSIONS = ['1.31', '1.33']
VOLUME = 'pvc-64ffe0e2-1120-4278-93f0-0f353a1d890d'

SCENARIOS = {
    'default': {'plex_claim_token': 'claim-abcdefghijklmnop'},
    'privileged': {'plex_gpu_mode': 'privileged'},
    'xe-media-claim-db-backup': {'plex_gpu_resource': 'xe', 'plex_media_claim': 'data', 'plex_db_backup_enabled': True,
                                 'plex_db_backup_nfs_server': '10.77.0.29', 'plex_db_backup_nfs_path': '/backup/plex',
                                 'plex_transcode_medium': '', 'plex_gpu_render_gid': 992, 'plex_backup_group': 'plex',
                                 'plex_backup_recurring_job': {'name': 'plex-config-nightly-backup',
                                                               'cron': '0 3 * * *', 'retain': 7, 'concurrency': 1}},
    'software-on-storage-node': {'plex_gpu_mode': 'none', 'plex_gpu_group': 'plex_fallback',
                                 'plex_gpu_label_key': 'mediacluster.homelab/plex'},
    'local-db-backup': {'plex_config_mode': 'local', 'plex_db_backup_enabled': True, 'plex_domain': '',
                        'plex_db_backup_nfs_server': '10.77.0.29', 'plex_db_backup_nfs_path': '/backup/plex'},
    'httproute': {'plex_route': 'httproute',
                  'plex_gateway_parent_refs': [{'name': 'homelab', 'namespace': 'gateway', 'sectionName': 'https'}]},
}
# The collection ships no Gateway API CRD (no registry reachable here has it; docs/delivery.md): the delivery layer
# gets this names-only stand-in, and the HTTPRoute itself is checked by the Gateway API validators (test below).
NAMES_ONLY_CRD = ROOT / 'tests' / 'gateway_api' / 'httproute-names-only-crd.yaml'


@pytest.fixture(scope='module', params=sorted(SCENARIOS))
def rendered(request, tmp_path_factory):
    name = request.param
    out = tmp_path_factory.mktemp('render') / 'manifests.json'
    extra = tmp_path_factory.mktemp('vars') / 'vars.json'
    extra.write_text(json.dumps(dict(SCENARIOS[name], out=str(out))))
    code, output = run_logged('plex-render-' + name, [str(VENV_BIN / 'ansible-playbook'), '-i',
                                                      str(HERE / 'inventory'), str(HERE / 'render.yml'),
                                                      '-e', '@' + str(extra)])
    assert code == 0, tail(output)
    return name, json.loads(out.read_text()), json.loads(pathlib.Path(str(out) + '.prefs.json').read_text())


@functools.lru_cache(maxsize=None)
def crd_schemas():
    """The CRDs' schemas by (apiVersion, kind), built once per process: read them, copy what you change."""
    schemas = {}
    for doc in [d for path in [CRDS] + ROUTE_CRDS for d in documents(path)]:
        if doc.get('kind') == 'CustomResourceDefinition':
            for version in doc['spec']['versions']:
                key = ('{0}/{1}'.format(doc['spec']['group'], version['name']), doc['spec']['names']['kind'])
                schemas[key] = version['schema']['openAPIV3Schema']
    return schemas


def strict(schema):
    """Reject unknown properties the way fieldValidation=Strict does (unless the schema preserves them)."""
    if isinstance(schema, dict):
        schema = {k: strict(v) for k, v in schema.items()}
        if 'properties' in schema and not schema.get('x-kubernetes-preserve-unknown-fields'):
            schema.setdefault('additionalProperties', False)
            schema['properties'].setdefault('apiVersion', {'type': 'string'})
            schema['properties'].setdefault('kind', {'type': 'string'})
            schema['properties'].setdefault('metadata', {'type': 'object'})
    elif isinstance(schema, list):
        schema = [strict(s) for s in schema]
    return schema


def by_kind(docs, kind, name=None):
    found = [d for d in docs if d['kind'] == kind and (name is None or d['metadata']['name'] == name)]
    return found


def one(docs, kind, name):
    found = by_kind(docs, kind, name)
    assert len(found) == 1, '{0} {1}: found {2}'.format(kind, name, len(found))
    return found[0]


@pytest.mark.parametrize('version', K8S_VERSIONS)
def test_every_manifest_validates(rendered, version):
    """The delivery layer's validator (kubernetes-validate strict for built-ins, the Longhorn CRD schema made strict
    for RecurringJob) finds nothing; it runs on the same documents before every apply or export."""
    _unused, docs, _unused_prefs = rendered
    assert k8s_validation.validate_manifests(docs, version, [str(CRDS), str(NAMES_ONLY_CRD)] + [
        str(p) for p in ROUTE_CRDS]) == []


@pytest.mark.parametrize('version', K8S_VERSIONS)
def test_every_manifest_validates_independently(rendered, version):
    """A second, independent check with kubernetes-validate and jsonschema directly."""
    _unused, docs, _unused_prefs = rendered
    schemas = crd_schemas()
    errors = []
    for doc in docs:
        key = (doc['apiVersion'], doc['kind'])
        where = '{0} {1}'.format(doc['kind'], doc['metadata']['name'])
        if key[0].startswith('gateway.networking.k8s.io/'):
            continue  # kubernetes-validate has no Gateway API: test_httproute_passes_the_gateway_api_validators
        if key in schemas:
            validator = jsonschema.Draft7Validator(strict(schemas[key]))
            errors += ['{0}: {1}: {2}'.format(where, '.'.join(map(str, e.path)), e.message)
                       for e in validator.iter_errors(doc)]
        else:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as err:
                errors.append('{0}: {1}: {2}'.format(where, '.'.join(map(str, err.path)), err.message))
    assert errors == []


def test_statefulset_runs_only_on_gpu_nodes_and_fails_over_quickly(rendered):
    _unused, docs, _unused_prefs = rendered
    pod = one(docs, 'StatefulSet', 'plex')['spec']['template']['spec']
    terms = pod['affinity']['nodeAffinity']['requiredDuringSchedulingIgnoredDuringExecution']['nodeSelectorTerms']
    key = rendered[0] and SCENARIOS[rendered[0]].get('plex_gpu_label_key', 'gpu')
    assert all({'key': key, 'operator': 'In', 'values': ['true']} in t['matchExpressions'] for t in terms)
    tolerations = {t['key']: t for t in pod['tolerations']}
    assert tolerations['gpu'] == {'key': 'gpu', 'operator': 'Equal', 'value': 'true', 'effect': 'NoSchedule'}
    for key in ('node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'):
        assert tolerations[key]['effect'] == 'NoExecute' and tolerations[key]['tolerationSeconds'] <= 60


def test_gpu_access_per_mode(rendered):
    name, docs, _prefs = rendered
    settings = SCENARIOS[name]
    container = one(docs, 'StatefulSet', 'plex')['spec']['template']['spec']['containers'][0]
    if settings.get('plex_gpu_mode') == 'none':
        assert 'securityContext' not in container and 'gpu.intel.com/i915' not in container['resources']['limits']
        assert by_kind(docs, 'DaemonSet') == []
        assert 'securityContext' not in one(docs, 'StatefulSet', 'plex')['spec']['template']['spec']
    elif settings.get('plex_gpu_mode') == 'privileged':
        assert container['securityContext']['privileged'] is True
        assert {'name': 'dri', 'mountPath': '/dev/dri'} in container['volumeMounts']
        assert not any(k.startswith('gpu.intel.com/') for k in container['resources'].get('limits', {}))
        assert by_kind(docs, 'DaemonSet') == []
    else:
        resource = 'gpu.intel.com/' + settings.get('plex_gpu_resource', 'i915')
        assert container['resources']['limits'][resource] == 1
        assert container['resources']['requests'][resource] == 1
        assert not container.get('securityContext', {}).get('privileged', False)
        plugin = one(docs, 'DaemonSet', 'intel-gpu-plugin')['spec']['template']['spec']
        assert plugin['nodeSelector'] == {'gpu': 'true'}
        assert plugin['tolerations'][0]['key'] == 'gpu'


def test_render_gids_come_from_the_gpu_hosts(rendered):
    name, docs, _prefs = rendered
    if SCENARIOS[name].get('plex_gpu_mode') == 'none':
        pytest.skip('software transcoding: no GPU, no render group')
    groups = one(docs, 'StatefulSet', 'plex')['spec']['template']['spec']['securityContext']['supplementalGroups']
    expected = [SCENARIOS[name]['plex_gpu_render_gid']] if 'plex_gpu_render_gid' in SCENARIOS[name] else [104, 993]
    assert groups == expected  # the inventory's gpu_render_gid of k3s-w3 and k3s-w4, not a hard-coded 992


def test_config_volume_per_mode(rendered):
    name, docs, _prefs = rendered
    pod = one(docs, 'StatefulSet', 'plex')['spec']['template']['spec']
    config = next(v for v in pod['volumes'] if v['name'] == 'config')
    if SCENARIOS[name].get('plex_config_mode') == 'local':
        assert config['hostPath']['path'] == '/var/lib/plex/config'
        assert by_kind(docs, 'PersistentVolume', 'media-plex-config-nfs') == []
        assert by_kind(docs, 'Deployment') == []
        terms = pod['affinity']['nodeAffinity']['requiredDuringSchedulingIgnoredDuringExecution']
        assert {'key': 'kubernetes.io/hostname', 'operator': 'In', 'values': ['k3s-w3']} in \
            terms['nodeSelectorTerms'][0]['matchExpressions']
        return
    assert config['persistentVolumeClaim']['claimName'] == 'plex-config-nfs'
    pv = one(docs, 'PersistentVolume', 'media-plex-config-nfs')['spec']
    assert pv['persistentVolumeReclaimPolicy'] == 'Retain' and pv['storageClassName'] == ''
    assert pv['nfs'] == {'server': '10.43.17.201', 'path': '/' + VOLUME}
    assert pv['claimRef']['name'] == 'plex-config-nfs' and pv['claimRef']['namespace'] == 'media'
    assert 'hard' in pv['mountOptions'] and not any(o.startswith('soft') for o in pv['mountOptions'])
    pvc = one(docs, 'PersistentVolumeClaim', 'plex-config-nfs')['spec']
    assert pvc['volumeName'] == 'media-plex-config-nfs' and pvc['storageClassName'] == ''
    rwx = one(docs, 'PersistentVolumeClaim', 'plex-config')
    assert rwx['spec']['storageClassName'] == 'longhorn-rwx' and rwx['spec']['accessModes'] == ['ReadWriteMany']
    group = SCENARIOS[name].get('plex_backup_group', 'default')
    assert rwx['metadata']['labels']['recurring-job-group.longhorn.io/' + group] == 'enabled'
    assert rwx['metadata']['labels']['recurring-job.longhorn.io/source'] == 'enabled'


def test_holder_runs_on_storage_nodes_never_on_gpu_nodes(rendered):
    name, docs, _prefs = rendered
    if SCENARIOS[name].get('plex_config_mode') == 'local':
        pytest.skip('local config mode has no holder (no Longhorn volume)')
    holder = one(docs, 'Deployment', 'plex-config-holder')['spec']['template']['spec']
    exprs = holder['affinity']['nodeAffinity']['requiredDuringSchedulingIgnoredDuringExecution'][
        'nodeSelectorTerms'][0]['matchExpressions']
    key = SCENARIOS[name].get('plex_gpu_label_key', 'gpu')
    # Plex moved onto a storage node (software mode): the holder keeps to the other storage node
    nodes = ['k3s-w2'] if SCENARIOS[name].get('plex_gpu_group') == 'plex_fallback' else ['k3s-w1', 'k3s-w2']
    assert {'key': 'kubernetes.io/hostname', 'operator': 'In', 'values': nodes} in exprs
    assert {'key': key, 'operator': 'NotIn', 'values': ['true']} in exprs
    assert not any(t.get('key') == 'gpu' for t in holder.get('tolerations', []))
    assert holder['volumes'][0]['persistentVolumeClaim']['claimName'] == 'plex-config'


def test_probes_media_and_transcode(rendered):
    name, docs, _prefs = rendered
    pod = one(docs, 'StatefulSet', 'plex')['spec']['template']['spec']
    container = pod['containers'][0]
    for probe in ('startupProbe', 'readinessProbe', 'livenessProbe'):
        assert container[probe]['httpGet']['path'] == '/identity'
    startup = container['startupProbe']
    assert startup['periodSeconds'] * startup['failureThreshold'] >= 600  # first boot: 10 minutes
    media_mount = next(m for m in container['volumeMounts'] if m['name'] == 'media')
    assert media_mount['readOnly'] is True
    media = next(v for v in pod['volumes'] if v['name'] == 'media')['persistentVolumeClaim']
    assert media['readOnly'] is True
    assert media['claimName'] == SCENARIOS[name].get('plex_media_claim', 'plex-media')
    transcode = next(v for v in pod['volumes'] if v['name'] == 'transcode')['emptyDir']
    assert transcode.get('medium', '') == SCENARIOS[name].get('plex_transcode_medium', 'Memory')


def test_services_ingress_and_backups(rendered):
    name, docs, _prefs = rendered
    settings = SCENARIOS[name]
    assert one(docs, 'Service', 'plex-headless')['spec']['clusterIP'] == 'None'
    assert one(docs, 'Service', 'plex')['spec']['ports'][0]['port'] == 32400
    assert one(docs, 'StatefulSet', 'plex')['spec']['serviceName'] == 'plex-headless'
    assert one(docs, 'StatefulSet', 'plex')['spec'].get('replicas', 1) == 1  # one SQLite writer
    if settings.get('plex_domain', 'media.example') and settings.get('plex_route') == 'httproute':
        assert by_kind(docs, 'Ingress') == []
        route = one(docs, 'HTTPRoute', 'plex')
        assert route['spec']['parentRefs'] == settings['plex_gateway_parent_refs']
        assert route['spec']['hostnames'] == ['plex.media.example']
        assert route['spec']['rules'][0]['backendRefs'] == [{'kind': 'Service', 'name': 'plex', 'port': 32400}]
    elif settings.get('plex_domain', 'media.example'):
        secure, plain = one(docs, 'Ingress', 'plex'), one(docs, 'Ingress', 'plex-http')
        assert secure['spec']['rules'][0]['host'] == 'plex.media.example'
        assert secure['spec']['tls'] == [{'hosts': ['plex.media.example'], 'secretName': 'plex-tls'}]
        assert secure['metadata']['annotations'] == {'traefik.ingress.kubernetes.io/router.entrypoints': 'websecure',
                                                     'traefik.ingress.kubernetes.io/router.tls': 'true'}
        assert plain['metadata']['annotations'] == {
            'traefik.ingress.kubernetes.io/router.entrypoints': 'web',
            'traefik.ingress.kubernetes.io/router.middlewares': 'media-plex-redirect-https@kubernetescrd'}
        assert one(docs, 'Middleware', 'plex-redirect-https')['spec'] == {
            'redirectScheme': {'scheme': 'https', 'permanent': True}}
        cert = one(docs, 'Certificate', 'plex-tls')['spec']
        assert cert['dnsNames'] == ['plex.media.example'] and cert['secretName'] == 'plex-tls'
        assert by_kind(docs, 'HTTPRoute') == []
    else:
        assert by_kind(docs, 'Ingress') == [] and by_kind(docs, 'HTTPRoute') == []
    if settings.get('plex_config_mode') == 'local':
        assert by_kind(docs, 'RecurringJob') == []  # no Longhorn volume to back up: the DB-only job is the backup
        assert by_kind(docs, 'CronJob', 'plex-db-backup')
        return
    if 'plex_backup_recurring_job' not in settings:
        assert by_kind(docs, 'RecurringJob') == []  # the claim joins the longhorn role's nightly-backup (default)
    else:
        job = one(docs, 'RecurringJob', 'plex-config-nightly-backup')
        assert job['metadata']['namespace'] == 'longhorn-system'
        assert (job['spec']['task'], job['spec']['cron'], job['spec']['retain'], job['spec']['groups']) == \
            ('backup', '0 3 * * *', 7, ['plex'])
    cron = by_kind(docs, 'CronJob', 'plex-db-backup')
    assert len(cron) == (1 if settings.get('plex_db_backup_enabled') else 0)
    if cron:
        pod = cron[0]['spec']['jobTemplate']['spec']['template']['spec']
        assert pod['serviceAccountName'] == 'plex-db-backup'
        backup = next(v for v in pod['volumes'] if v['name'] == 'backup')
        assert backup['nfs'] == {'server': '10.77.0.29', 'path': '/backup/plex'}
        script = pod['containers'][0]['command'][-1]
        assert 'trap restore EXIT' in script and '--replicas=0' in script and 'Databases' in script


def test_httproute_passes_the_gateway_api_validators(rendered):
    from ..gateway_api.validator import validate_gateway_objects
    name, docs, _prefs = rendered
    routes = by_kind(docs, 'HTTPRoute') + by_kind(docs, 'ReferenceGrant')
    if SCENARIOS[name].get('plex_route') != 'httproute':
        assert routes == []
        return
    assert len(routes) == 3  # the route, the redirect route, the ReferenceGrant
    assert validate_gateway_objects(routes) == [[], [], []]
    routes = by_kind(docs, 'HTTPRoute', 'plex')
    broken = json.loads(json.dumps(routes[0]))
    broken['spec']['rules'][0]['backendRefs'][0]['port'] = 'pms'
    [errors] = validate_gateway_objects([broken])
    assert errors and all(e.startswith('/spec/rules/0/backendRefs/0/port: type') for e in errors)


def test_httproute_gets_tls_and_a_redirect(rendered):
    """Issue 22 in Gateway API mode, as with the Ingress: a Certificate for plex.<domain>, a redirect HTTPRoute on the
    Gateway's HTTP listener (301 to https) and a ReferenceGrant letting the Gateway's namespace use the Secret."""
    name, docs, _prefs = rendered
    if SCENARIOS[name].get('plex_route') != 'httproute':
        assert by_kind(docs, 'HTTPRoute', 'plex-http') == [] and by_kind(docs, 'ReferenceGrant') == []
        return
    cert = one(docs, 'Certificate', 'plex-tls')['spec']
    assert cert['dnsNames'] == ['plex.media.example'] and cert['secretName'] == 'plex-tls'
    redirect = one(docs, 'HTTPRoute', 'plex-http')['spec']
    assert redirect['parentRefs'] == [{'name': 'homelab', 'namespace': 'gateway', 'sectionName': 'http'}]
    assert redirect['hostnames'] == ['plex.media.example']
    assert redirect['rules'] == [{'filters': [{'type': 'RequestRedirect',
                                               'requestRedirect': {'scheme': 'https', 'statusCode': 301}}]}]
    grant = one(docs, 'ReferenceGrant', 'plex-gateway-tls')
    assert grant['metadata']['namespace'] == 'media'
    gateway = {'group': 'gateway.networking.k8s.io', 'kind': 'Gateway', 'namespace': 'gateway'}
    assert grant['spec'] == {'from': [gateway],
                             'to': [{'group': '', 'kind': 'Secret', 'name': 'plex-tls'}]}


def test_claim_token_only_while_unclaimed(rendered):
    name, docs, _prefs = rendered
    container = one(docs, 'StatefulSet', 'plex')['spec']['template']['spec']['containers'][0]
    env = {e['name']: e for e in container['env']}
    if SCENARIOS[name].get('plex_claim_token'):
        assert env['PLEX_CLAIM']['valueFrom']['secretKeyRef'] == {'name': 'plex-claim', 'key': 'PLEX_CLAIM'}
        assert one(docs, 'Secret', 'plex-claim')['stringData']['PLEX_CLAIM'] == SCENARIOS[name]['plex_claim_token']
    else:
        assert 'PLEX_CLAIM' not in env and by_kind(docs, 'Secret') == []
    assert 'ADVERTISE_IP' not in env  # linuxserver/plex ignores it; customConnections is set in Preferences.xml


def test_the_validators_are_not_a_no_op():
    """A typo in a built-in kind and in a Longhorn CR is caught by the same checks as above."""
    job = {'apiVersion': 'longhorn.io/v1beta2', 'kind': 'RecurringJob', 'metadata': {'name': 'x'},
           'spec': {'task': 'backup', 'cron': '0 3 * * *', 'retain': 'seven', 'grups': ['plex']}}
    schema = strict(crd_schemas()[('longhorn.io/v1beta2', 'RecurringJob')])
    messages = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(job)]
    assert any("'seven' is not of type 'integer'" in m for m in messages)
    assert any("'grups' was unexpected" in m for m in messages)
    service = {'apiVersion': 'v1', 'kind': 'Service', 'metadata': {'name': 'x'}, 'spec': {'clusterIp': 'None'}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(service, K8S_VERSIONS[-1], strict=True)
    shared = k8s_validation.validate_manifests([job, service], K8S_VERSIONS[-1], [str(CRDS)])
    assert len(shared) >= 2 and any('retain' in e for e in shared) and any('clusterIp' in e for e in shared)


def test_direct_lan_access_and_lan_networks(rendered):
    """Issue 22: a LoadBalancer Service (k3s ServiceLB) publishes 32400 on the nodes; Plex advertises the LAN
    address first in customConnections and treats the LAN and the pod CIDR as local (LanNetworks)."""
    name, docs, prefs = rendered
    lan = one(docs, 'Service', 'plex-lan')['spec']
    assert lan['type'] == 'LoadBalancer' and lan['externalTrafficPolicy'] == 'Cluster'
    assert lan['ports'] == [{'name': 'pms', 'port': 32400, 'targetPort': 'pms', 'protocol': 'TCP'}]
    assert lan['selector'] == {'app.kubernetes.io/name': 'plex'}
    assert prefs['LanNetworks'] == '10.42.0.0/16'  # no mediacluster_network in this inventory
    connections = prefs['customConnections'].split(',')
    first_gpu = 'k3s-w1' if name == 'software-on-storage-node' else 'k3s-w3'
    assert connections[0] == 'http://{0}:32400'.format(first_gpu)
    if SCENARIOS[name].get('plex_domain', 'media.example'):
        assert connections[1:] == ['https://plex.media.example:443']


# LAN Service on/off x domain set/unset: the customConnections string the role writes into Preferences.xml.
LAN = 'http://192.168.1.50:32400'
INGRESS = 'https://plex.media.example:443'
CONNECTION_CASES = {
    'lan-and-domain': ({'plex_lan_service': 'loadbalancer', 'plex_domain': 'media.example'}, [LAN, INGRESS]),
    'lan-and-domain-httproute': ({'plex_lan_service': 'loadbalancer', 'plex_domain': 'media.example',
                                  'plex_route': 'httproute', 'plex_gateway_parent_refs': [{'name': 'homelab'}]},
                                 [LAN, INGRESS]),
    'lan-only': ({'plex_lan_service': 'loadbalancer', 'plex_domain': ''}, [LAN]),
    'domain-only': ({'plex_lan_service': 'none', 'plex_domain': 'media.example'}, [INGRESS]),
    # nothing to advertise: the attribute is still owned and emptied, so an address from an earlier run (a LAN
    # Service or a domain since switched off) is no longer offered to clients
    'neither': ({'plex_lan_service': 'none', 'plex_domain': ''}, []),
}


@pytest.mark.parametrize('case', sorted(CONNECTION_CASES))
def test_custom_connections_preference_string(case, tmp_path):
    """customConnections lists what a client can really use, in the order it should try them: the LAN Service's
    address over plain HTTP on port 32400 first (Plex's own certificate on that port is issued for *.plex.direct
    names only, so https://<LAN address> would fail verification), then the route's HTTPS URL, whose certificate
    cert-manager issues for plex.<domain> (Ingress or HTTPRoute alike)."""
    settings, expected = CONNECTION_CASES[case]
    out = tmp_path / 'manifests.json'
    extra = tmp_path / 'vars.json'
    extra.write_text(json.dumps(dict(settings, plex_lan_address='192.168.1.50', out=str(out))))
    code, output = run_logged('plex-render-connections-' + case, [
        str(VENV_BIN / 'ansible-playbook'), '-i', str(HERE / 'inventory'), str(HERE / 'render.yml'),
        '-e', '@' + str(extra)])
    assert code == 0, tail(output)
    prefs = json.loads(pathlib.Path(str(out) + '.prefs.json').read_text())
    assert prefs['customConnections'] == ','.join(expected)
    docs = json.loads(out.read_text())
    assert len(by_kind(docs, 'Service', 'plex-lan')) == (1 if settings['plex_lan_service'] != 'none' else 0)
