"""The media_stack role's manifests: rendered by the role itself (export delivery), validated against the official
Kubernetes schemas (kubernetes-validate, strict), and checked for the invariants the seeds depend on."""

import json
import pathlib
import subprocess
import tempfile

import kubernetes_validate
import pytest
import yaml

from ansible_collections.homelab.mediacluster.plugins.module_utils import k8s_validation

from ..conftest import ROOT, run_logged
from .conftest import SHELLS, shell_command

K8S_VERSIONS = ['1.31.0', '1.33.0']
# custom resources (cert-manager Certificates, Traefik Middlewares) are validated against their CRDs instead
CUSTOM_GROUPS = ('cert-manager.io/', 'traefik.io/')
CRDS = [ROOT / 'tests' / 'schemas' / 'crds']
ALL_APPS = ['prowlarr', 'sonarr', 'radarr', 'qbittorrent', 'jellyfin', 'bazarr', 'sabnzbd', 'seerr']
FILE_APPS = {'sonarr', 'radarr', 'qbittorrent', 'jellyfin', 'bazarr', 'sabnzbd'}
KEYS = {'prowlarr': '1' * 32, 'sonarr': '2' * 32, 'radarr': '3' * 32, 'sabnzbd': '4' * 32, 'bazarr': '5' * 32}
EXPORT = {'k8s_delivery_mode': 'export', 'k8s_delivery_kubernetes_version': '1.33',
          'media_stack_nfs_server': '192.0.2.10', 'media_stack_nfs_path': '/data', 'media_stack_wire': False,
          'media_stack_api_keys': KEYS, 'media_stack_qbittorrent_password': 'export-Pa55word',
          'media_stack_jellyfin_admin_password': 'export-Jf-Pa55word',
          # SABnzbd's and Bazarr's login (issue 22): export mode writes it from their init containers
          'media_stack_arr_password': 'export-Arr-Pa55word'}
INVENTORY = """
all:
  children:
    controller:
      hosts:
        localhost:
          ansible_connection: local
          ansible_python_interpreter: "{{ ansible_playbook_python }}"
"""


def render(tmp_path, name, extra, args=()):
    inventory = tmp_path / 'inventory.yml'
    inventory.write_text(INVENTORY)
    export = tmp_path / 'export'
    variables = dict(EXPORT, k8s_delivery_export_dir=str(export), **extra)
    code, output = run_logged('media-stack-render-' + name, [
        'ansible-playbook', '-i', str(inventory), str(ROOT / 'playbooks' / '60_media.yml'),
        '-e', json.dumps(variables), *args])
    assert code == 0, output[-3000:]
    tree = export / 'media-stack'
    docs = {}
    for path in sorted(tree.glob('*.yaml')):
        if path.name != 'kustomization.yaml':
            docs[path.name] = yaml.safe_load(path.read_text())
    kustomization = yaml.safe_load((tree / 'kustomization.yaml').read_text())
    return docs, kustomization


@pytest.fixture(scope='module')
def rendered(tmp_path_factory):
    everything = {'media_stack_{0}_enabled'.format(app): True for app in ALL_APPS}
    everything.update(media_stack_preferred_nodes=['w1', 'w2'], media_stack_ingress_tls_secret='wildcard-tls',
                      media_stack_allowed_cidrs=['192.0.2.0/24'])
    return {
        'defaults': render(tmp_path_factory.mktemp('defaults'), 'defaults', {}),
        'all-apps': render(tmp_path_factory.mktemp('all'), 'all-apps', everything),
    }


def objects(rendered, case, kind=None):
    docs = rendered[case][0].values()
    return [d for d in docs if kind is None or d['kind'] == kind]


CASES = ['defaults', 'all-apps']


@pytest.mark.parametrize('case', CASES)
@pytest.mark.parametrize('version', K8S_VERSIONS)
def test_every_manifest_validates_strictly(rendered, case, version):
    errors = []
    for name, doc in rendered[case][0].items():
        if doc['apiVersion'].startswith(CUSTOM_GROUPS):
            errors.extend(k8s_validation.validate_manifests([doc], version.rsplit('.', 1)[0], CRDS))
            continue
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append('{0}: {1}'.format(name, exc.message))
    assert errors == []
    assert len(rendered[case][0]) >= 20


@pytest.mark.parametrize('case', CASES)
def test_kustomization_lists_every_file(rendered, case):
    docs, kustomization = rendered[case]
    assert sorted(kustomization['resources']) == sorted(docs)


def test_enabled_apps(rendered):
    def names(case):
        return sorted(d['metadata']['name'] for d in objects(rendered, case, 'Deployment'))

    assert names('defaults') == ['jellyfin', 'prowlarr', 'qbittorrent', 'radarr', 'sonarr']
    assert names('all-apps') == sorted(ALL_APPS)


@pytest.mark.parametrize('case', CASES)
def test_one_data_claim_mounted_whole_at_data(rendered, case):
    pv = objects(rendered, case, 'PersistentVolume')
    assert len(pv) == 1
    pv = pv[0]
    assert pv['spec']['persistentVolumeReclaimPolicy'] == 'Retain'
    assert pv['spec']['accessModes'] == ['ReadWriteMany']
    assert 'nfsvers=4.1' in pv['spec']['mountOptions'] and 'hard' in pv['spec']['mountOptions']
    assert pv['spec']['nfs'] == {'server': '192.0.2.10', 'path': '/data'}
    claim = [c for c in objects(rendered, case, 'PersistentVolumeClaim')
             if c['spec']['accessModes'] == ['ReadWriteMany']]
    assert [c['metadata']['name'] for c in claim] == [pv['metadata']['name']]
    assert claim[0]['spec']['volumeName'] == pv['metadata']['name']
    assert pv['spec']['claimRef']['name'] == claim[0]['metadata']['name']

    data_claims = set()
    file_apps = set()
    for deployment in objects(rendered, case, 'Deployment'):
        spec = deployment['spec']['template']['spec']
        volumes = {v['name']: v for v in spec['volumes']}
        for container in spec.get('initContainers', []) + spec['containers']:
            for mount in container.get('volumeMounts', []):
                assert 'subPath' not in mount and 'subPathExpr' not in mount, (deployment['metadata']['name'], mount)
                claim_name = volumes[mount['name']].get('persistentVolumeClaim', {}).get('claimName')
                if claim_name == pv['metadata']['name']:
                    assert mount['mountPath'] == '/data', (deployment['metadata']['name'], mount)
                    data_claims.add(claim_name)
                    file_apps.add(deployment['metadata']['name'])
    assert data_claims == {pv['metadata']['name']}
    enabled = {d['metadata']['name'] for d in objects(rendered, case, 'Deployment')}
    assert file_apps == FILE_APPS & enabled


@pytest.mark.parametrize('case', CASES)
def test_config_claims_are_longhorn(rendered, case):
    configs = [c for c in objects(rendered, case, 'PersistentVolumeClaim') if c['metadata']['name'].endswith('-config')]
    enabled = {d['metadata']['name'] for d in objects(rendered, case, 'Deployment')}
    assert {c['metadata']['name'][:-len('-config')] for c in configs} == enabled
    for claim in configs:
        assert claim['spec']['storageClassName'] == 'longhorn'
        assert claim['spec']['accessModes'] == ['ReadWriteOnce']
    sizes = {c['metadata']['name']: c['spec']['resources']['requests']['storage'] for c in configs}
    assert sizes['jellyfin-config'] == '5Gi' and sizes['sonarr-config'] == '2Gi'


@pytest.mark.parametrize('case', CASES)
def test_pods_are_unprivileged_probed_and_limited(rendered, case):
    for deployment in objects(rendered, case, 'Deployment'):
        name = deployment['metadata']['name']
        assert deployment['spec']['strategy'] == {'type': 'Recreate'}, name
        image_tags = []
        spec = deployment['spec']['template']['spec']
        assert spec['securityContext']['seccompProfile'] == {'type': 'RuntimeDefault'}
        assert 'nodeSelector' not in spec, name
        affinity = spec.get('affinity', {}).get('nodeAffinity', {})
        assert 'requiredDuringSchedulingIgnoredDuringExecution' not in affinity, name
        for container in spec.get('initContainers', []) + spec['containers']:
            ctx = container['securityContext']
            assert ctx.get('privileged') is False and ctx['allowPrivilegeEscalation'] is False, name
            assert ctx['capabilities']['drop'] == ['ALL'], name
            assert set(ctx['capabilities'].get('add', [])) <= {'CHOWN', 'SETUID', 'SETGID'}, name
            assert ctx['seccompProfile'] == {'type': 'RuntimeDefault'}, name
            assert container['resources']['limits']['cpu'] and container['resources']['limits']['memory'], name
            assert container['resources']['requests'], name
            image_tags.append(container['image'].rsplit(':', 1)[1])
        for container in spec['containers']:
            for probe in ('startupProbe', 'readinessProbe', 'livenessProbe'):
                assert probe in container, '{0}: {1} missing'.format(name, probe)
        assert 'latest' not in image_tags, name


def test_probes_use_each_apps_health_endpoint(rendered):
    probes = {d['metadata']['name']: d['spec']['template']['spec']['containers'][0]['readinessProbe']
              for d in objects(rendered, 'all-apps', 'Deployment')}
    for app in ('prowlarr', 'sonarr', 'radarr'):
        assert probes[app]['httpGet']['path'] == '/ping'
    assert probes['jellyfin']['httpGet']['path'] == '/health'
    assert probes['qbittorrent'] == dict(probes['qbittorrent'], tcpSocket={'port': 'http'})


def test_api_keys_are_injected_from_the_secret(rendered):
    secret = objects(rendered, 'defaults', 'Secret')[0]
    for deployment in objects(rendered, 'defaults', 'Deployment'):
        name = deployment['metadata']['name']
        env = {e['name']: e for e in deployment['spec']['template']['spec']['containers'][0]['env']}
        if name in ('prowlarr', 'sonarr', 'radarr'):
            ref = env[name.upper() + '__AUTH__APIKEY']['valueFrom']['secretKeyRef']
            assert ref == {'name': secret['metadata']['name'], 'key': name + '-api-key'}
            assert ref['key'] in secret['data']
    import base64
    assert {k: base64.b64decode(secret['data'][k + '-api-key']).decode() for k in KEYS} == KEYS


def test_qbittorrent_password_is_seeded_before_start(rendered):
    import base64
    import hashlib
    secret = objects(rendered, 'defaults', 'Secret')[0]
    data = {k: base64.b64decode(v).decode() for k, v in secret['data'].items()}
    salt_b64, key_b64 = data['qbittorrent-password-pbkdf2'].split(':')
    expected = hashlib.pbkdf2_hmac('sha512', data['qbittorrent-password'].encode(), base64.b64decode(salt_b64),
                                   100000, 64)
    assert base64.b64decode(key_b64) == expected
    qbt = [d for d in objects(rendered, 'defaults', 'Deployment') if d['metadata']['name'] == 'qbittorrent'][0]
    init = qbt['spec']['template']['spec']['initContainers'][0]
    assert init['command'] == ['/bin/sh', '/seed/seed-webui-password.sh']
    script = list(objects(rendered, 'defaults', 'ConfigMap'))[0]['data']['seed-webui-password.sh']
    assert 'WebUI\\\\Password_PBKDF2' in script and '${QBT_CONFIG_DIR:-/config}/qBittorrent' in script


def _seed(script, config_dir, username, pbkdf2, shell):
    with tempfile.TemporaryDirectory() as bindir:
        prefix, path = shell_command(shell, bindir)
        env = {'PATH': path, 'QBT_CONFIG_DIR': str(config_dir), 'QBT_USERNAME': username,
               'QBT_PASSWORD_PBKDF2': pbkdf2}
        subprocess.run(prefix + ['-c', script], env=env, check=True)
    return (config_dir / 'qBittorrent' / 'qBittorrent.conf').read_text()


@pytest.mark.parametrize('shell', SHELLS)
def test_seed_script_writes_the_password_and_keeps_other_settings(rendered, tmp_path, shell):
    script = objects(rendered, 'defaults', 'ConfigMap')[0]['data']['seed-webui-password.sh']
    fresh = _seed(script, tmp_path / 'fresh', 'admin', 'c2FsdA==:a2V5', shell)
    # a missing file starts from the LinuxServer image's defaults (issue 16 item 10)
    assert fresh == ('[AutoRun]\nenabled=false\nprogram=\n\n[LegalNotice]\nAccepted=true\n\n[Preferences]\n'
                     'WebUI\\Username=admin\nWebUI\\Password_PBKDF2="@ByteArray(c2FsdA==:a2V5)"\n'
                     'Connection\\UPnP=false\nConnection\\PortRangeMin=6881\nWebUI\\Address=*\n'
                     'WebUI\\ServerDomains=*\n')
    existing = tmp_path / 'existing' / 'qBittorrent'
    existing.mkdir(parents=True)
    (existing / 'qBittorrent.conf').write_text(
        '[BitTorrent]\nSession\\DefaultSavePath=/data/torrents\n\n[Preferences]\nWebUI\\Port=8080\n'
        'WebUI\\Password_PBKDF2="@ByteArray(old:old)"\nWebUI\\Username=someone\n')
    first = _seed(script, tmp_path / 'existing', 'admin', 'bmV3:bmV3', shell)
    assert 'Session\\DefaultSavePath=/data/torrents' in first and 'WebUI\\Port=8080' in first
    assert 'old:old' not in first and 'someone' not in first
    assert first.count('WebUI\\Password_PBKDF2="@ByteArray(bmV3:bmV3)"') == 1
    assert _seed(script, tmp_path / 'existing', 'admin', 'bmV3:bmV3', shell) == first, 'a second start changed the file'


def test_namespace_pod_security(rendered):
    labels = objects(rendered, 'defaults', 'Namespace')[0]['metadata']['labels']
    assert labels['pod-security.kubernetes.io/enforce'] == 'baseline'
    assert labels['pod-security.kubernetes.io/warn'] == 'restricted'
    assert labels['pod-security.kubernetes.io/audit'] == 'restricted'


def test_network_policy(rendered):
    policy = objects(rendered, 'all-apps', 'NetworkPolicy')[0]['spec']
    assert policy['podSelector'] == {} and sorted(policy['policyTypes']) == ['Egress', 'Ingress']
    sources = policy['ingress'][0]['from']
    assert {'podSelector': {}} in sources
    assert {'namespaceSelector': {'matchLabels': {'kubernetes.io/metadata.name': 'kube-system'}}} in sources
    assert {'ipBlock': {'cidr': '192.0.2.0/24'}} in sources
    internet = policy['egress'][-1]['to'][0]['ipBlock']
    assert internet['cidr'] == '0.0.0.0/0' and '10.0.0.0/8' in internet['except']


def test_preferred_affinity_and_ingress_tls(rendered):
    for deployment in objects(rendered, 'all-apps', 'Deployment'):
        terms = deployment['spec']['template']['spec']['affinity']['nodeAffinity'][
            'preferredDuringSchedulingIgnoredDuringExecution']
        assert terms[0]['preference']['matchExpressions'][0]['values'] == ['w1', 'w2']
    https = [i for i in objects(rendered, 'all-apps', 'Ingress') if not i['metadata']['name'].endswith('-http')]
    hosts = sorted(i['spec']['rules'][0]['host'] for i in https)
    assert hosts == sorted('{0}.media.home.arpa'.format(a) for a in ALL_APPS)
    assert all(i['spec']['tls'][0]['secretName'] == 'wildcard-tls' for i in https)
    assert objects(rendered, 'all-apps', 'Certificate') == []  # your own Secret: no Certificate


def test_every_ingress_has_a_certificate_and_plain_http_only_redirects(rendered):
    """Issue 22: per app, an HTTPS-only Ingress (websecure, TLS) whose Secret a cert-manager Certificate for exactly
    its host fills, and an Ingress on the web entrypoint that only applies the redirectScheme middleware."""
    ingresses = {i['metadata']['name']: i for i in objects(rendered, 'defaults', 'Ingress')}
    certificates = {c['metadata']['name']: c['spec'] for c in objects(rendered, 'defaults', 'Certificate')}
    [middleware] = objects(rendered, 'defaults', 'Middleware')
    assert middleware['metadata'] == {'name': 'redirect-https', 'namespace': 'media', 'labels': {
        'app.kubernetes.io/part-of': 'media-stack', 'app.kubernetes.io/managed-by': 'homelab.mediacluster'}}
    assert middleware['spec'] == {'redirectScheme': {'scheme': 'https', 'permanent': True}}
    apps = sorted(d['metadata']['name'] for d in objects(rendered, 'defaults', 'Deployment'))
    assert sorted(ingresses) == sorted(apps + [a + '-http' for a in apps])
    for app in apps:
        host = '{0}.media.home.arpa'.format(app)
        secure, plain = ingresses[app], ingresses[app + '-http']
        assert secure['metadata']['annotations'] == {'traefik.ingress.kubernetes.io/router.entrypoints': 'websecure',
                                                     'traefik.ingress.kubernetes.io/router.tls': 'true'}
        assert secure['spec']['tls'] == [{'hosts': [host], 'secretName': app + '-tls'}]
        assert plain['metadata']['annotations'] == {
            'traefik.ingress.kubernetes.io/router.entrypoints': 'web',
            'traefik.ingress.kubernetes.io/router.middlewares': 'media-redirect-https@kubernetescrd'}
        assert 'tls' not in plain['spec'] and plain['spec']['rules'][0]['host'] == host
        cert = certificates[app + '-tls']
        assert cert['secretName'] == app + '-tls' and cert['dnsNames'] == [host]
        assert cert['issuerRef'] == {'group': 'cert-manager.io', 'kind': 'ClusterIssuer', 'name': 'homelab'}
        assert cert['usages'] == ['server auth', 'digital signature', 'key encipherment']


def test_labels_and_annotations_are_strings(rendered):
    for case in CASES:
        for doc in objects(rendered, case):
            for meta in (doc['metadata'], doc.get('spec', {}).get('template', {}).get('metadata', {})):
                for field in ('labels', 'annotations'):
                    for key, value in (meta.get(field) or {}).items():
                        assert isinstance(value, str), (doc['kind'], doc['metadata']['name'], key, value)


# This Sonarr API key makes the first 16 hex digits of Sonarr's credentials checksum all decimal digits
# (7367876176792243), which YAML reads as an integer unless the template quotes it; the API server then refuses the
# Deployment (annotation values are strings). About one credentials set in 1,850 did this.
DIGITS_ONLY_CHECKSUM_KEY = '0000000000000000000000005eed04d6'


def test_credentials_checksum_of_only_digits_stays_a_string(tmp_path):
    docs = render(tmp_path, 'digit-checksum', {'media_stack_api_keys': dict(KEYS, sonarr=DIGITS_ONLY_CHECKSUM_KEY)})[0]
    deployment = next(d for d in docs.values() if d['kind'] == 'Deployment' and d['metadata']['name'] == 'sonarr')
    value = deployment['spec']['template']['metadata']['annotations']['homelab.mediacluster/credentials']
    assert value == '7367876176792243'


def test_export_needs_given_credentials(tmp_path):
    inventory = tmp_path / 'inventory.yml'
    inventory.write_text(INVENTORY)
    code, output = run_logged('media-stack-export-keys', [
        'ansible-playbook', '-i', str(inventory), str(ROOT / 'playbooks' / '60_media.yml'),
        '-e', json.dumps(dict(EXPORT, media_stack_api_keys={}, k8s_delivery_export_dir=str(tmp_path / 'x')))])
    assert code != 0 and 'keeps no state between runs' in output
    assert not pathlib.Path(tmp_path / 'x').exists()


def test_export_rerun_is_unchanged(tmp_path):
    inventory = tmp_path / 'inventory.yml'
    inventory.write_text(INVENTORY)
    cmd = ['ansible-playbook', '-i', str(inventory), str(ROOT / 'playbooks' / '60_media.yml'),
           '-e', json.dumps(dict(EXPORT, k8s_delivery_export_dir=str(tmp_path / 'x')))]
    code, output = run_logged('media-stack-export-1', cmd)
    assert code == 0, output[-3000:]
    code, output = run_logged('media-stack-export-2', cmd)
    assert code == 0 and 'changed=0' in output, output[-3000:]


def test_bad_inventory_fails_in_preflight(tmp_path):
    inventory = tmp_path / 'inventory.yml'
    inventory.write_text(INVENTORY)
    code, output = run_logged('media-stack-preflight', [
        'ansible-playbook', '-i', str(inventory), str(ROOT / 'playbooks' / '60_media.yml'),
        '-e', json.dumps(dict(EXPORT, media_stack_nfs_server='', k8s_delivery_export_dir=str(tmp_path / 'x')))])
    assert code != 0
    assert "media_stack_nfs_server='' / media_stack_nfs_path='/data' do not name an NFS export" in output
    assert 'set both to the export that holds /data' in output
    assert not pathlib.Path(tmp_path / 'x').exists()


# ---------------------------------------------------------------------------------------------------------------
# media_stack_route: httproute
# ---------------------------------------------------------------------------------------------------------------

PARENT_REFS = [{'name': 'homelab', 'namespace': 'gateway', 'sectionName': 'https'}]
NAMES_ONLY_CRD = ROOT / 'tests' / 'gateway_api' / 'httproute-names-only-crd.yaml'
HTTPROUTE = {'media_stack_route': 'httproute', 'media_stack_gateway_parent_refs': PARENT_REFS,
             'k8s_delivery_crd_paths': [str(NAMES_ONLY_CRD)]}


@pytest.fixture(scope='module')
def routed(tmp_path_factory):
    everything = {'media_stack_{0}_enabled'.format(app): True for app in ALL_APPS}
    docs, kustomization = render(tmp_path_factory.mktemp('httproute'), 'httproute', dict(HTTPROUTE, **everything))
    return docs


def test_httproute_one_route_per_app_to_its_service(routed):
    routes = {d['metadata']['name']: d for d in routed.values() if d['kind'] == 'HTTPRoute'
              and not d['metadata']['name'].endswith('-http')}
    services = {d['metadata']['name']: d for d in routed.values() if d['kind'] == 'Service'}
    assert not [d for d in routed.values() if d['kind'] == 'Ingress']
    assert sorted(routes) == sorted(ALL_APPS)
    for app, route in routes.items():
        assert route['apiVersion'] == 'gateway.networking.k8s.io/v1'
        assert route['metadata']['namespace'] == 'media'
        assert route['spec']['parentRefs'] == PARENT_REFS
        assert route['spec']['hostnames'] == ['{0}.media.home.arpa'.format(app)]
        [rule] = route['spec']['rules']
        assert rule['matches'] == [{'path': {'type': 'PathPrefix', 'value': '/'}}]
        service_port = services[app]['spec']['ports'][0]['port']
        assert rule['backendRefs'] == [{'kind': 'Service', 'name': app, 'port': service_port}]
    assert routes['sonarr']['spec']['rules'][0]['backendRefs'][0]['port'] == 8989


def test_httproutes_pass_the_gateway_api_validators(routed):
    from ..gateway_api.validator import validate_gateway_objects
    routes = [d for d in routed.values() if d['kind'] in ('HTTPRoute', 'ReferenceGrant')]
    assert len(routes) == 2 * len(ALL_APPS) + 1  # HTTPS route and redirect route per app, one ReferenceGrant
    assert validate_gateway_objects(routes) == [[]] * len(routes)


def test_httproute_every_app_gets_tls_and_a_redirect(routed):
    """Issue 22 in Gateway API mode, as in Ingress mode: a cert-manager Certificate per host; the app's HTTPRoute on the
    Gateway's HTTPS listener; a second HTTPRoute on its HTTP listener whose one rule redirects to https with 301 (no
    backend, no port: the spec derives 443 from the scheme); a ReferenceGrant that lets the Gateway in its own
    namespace use exactly those Secrets in its listeners' certificateRefs."""
    by_name = {(d['kind'], d['metadata']['name']): d for d in routed.values()}
    for app in ALL_APPS:
        host = '{0}.media.home.arpa'.format(app)
        cert = by_name[('Certificate', app + '-tls')]
        assert cert['metadata']['namespace'] == 'media'
        assert cert['spec']['dnsNames'] == [host] and cert['spec']['secretName'] == app + '-tls'
        assert cert['spec']['issuerRef'] == {'group': 'cert-manager.io', 'kind': 'ClusterIssuer', 'name': 'homelab'}
        assert by_name[('HTTPRoute', app)]['spec']['parentRefs'] == PARENT_REFS
        redirect = by_name[('HTTPRoute', app + '-http')]['spec']
        assert redirect['parentRefs'] == [{'name': 'homelab', 'namespace': 'gateway', 'sectionName': 'http'}]
        assert redirect['hostnames'] == [host]
        assert redirect['rules'] == [{'filters': [{'type': 'RequestRedirect',
                                                   'requestRedirect': {'scheme': 'https', 'statusCode': 301}}]}]
    grant = by_name[('ReferenceGrant', 'media-stack-gateway-tls')]
    assert grant['apiVersion'] == 'gateway.networking.k8s.io/v1beta1' and grant['metadata']['namespace'] == 'media'
    assert grant['spec']['from'] == [{'group': 'gateway.networking.k8s.io', 'kind': 'Gateway', 'namespace': 'gateway'}]
    assert sorted(to['name'] for to in grant['spec']['to']) == sorted(app + '-tls' for app in ALL_APPS)
    assert all(to['group'] == '' and to['kind'] == 'Secret' for to in grant['spec']['to'])
    assert not [d for d in routed.values() if d['kind'] in ('Ingress', 'Middleware')]


def test_gateway_api_validators_reject_a_bad_route(routed):
    """Proves the schema is really applied: a named backendRef port, a host name with upper case and a parentRef
    without a name are rejected, each at its field."""
    from ..gateway_api.validator import validate_gateway_objects
    good = routed['httproute-sonarr.yaml']
    bad_port = json.loads(json.dumps(good))
    bad_port['spec']['rules'][0]['backendRefs'][0]['port'] = 'http'
    bad_host = json.loads(json.dumps(good))
    bad_host['spec']['hostnames'] = ['Sonarr_UI.media.home.arpa']
    bad_parent = json.loads(json.dumps(good))
    bad_parent['spec']['parentRefs'] = [{'namespace': 'gateway'}]
    port_errors, host_errors, parent_errors = validate_gateway_objects([bad_port, bad_host, bad_parent])
    assert port_errors and all(e.startswith('/spec/rules/0/backendRefs/0/port: type') for e in port_errors)
    assert host_errors and all(e.startswith('/spec/hostnames/0: pattern') for e in host_errors)
    assert parent_errors and any(e.startswith('/spec/parentRefs/0: required') and 'name' in e for e in parent_errors)


def test_delivery_layer_needs_the_gateway_api_crd(routed):
    """Without a CRD for HTTPRoute the delivery layer refuses the routes (before any write) and says what to do."""
    from ansible_collections.homelab.mediacluster.plugins.module_utils import k8s_validation
    shipped = ROOT / 'roles' / 'k8s_delivery' / 'files' / 'crds'
    routes = [d for d in routed.values() if d['kind'] == 'HTTPRoute']
    errors = k8s_validation.validate_manifests(routes, '1.33', [shipped])
    assert len(errors) == len(routes)
    assert all('no schema for gateway.networking.k8s.io/v1 HTTPRoute' in e and 'crd_paths' in e for e in errors)
    assert k8s_validation.validate_manifests(routes, '1.33', [shipped, NAMES_ONLY_CRD]) == []


PARENT_REF_PROBLEM = ('media_stack_gateway_parent_refs: media_stack_route=httproute needs a Gateway with a name; '
                      'set media_stack_gateway_parent_refs: [{name: homelab, namespace: gateway}]')


@pytest.mark.parametrize('extra, expected', [
    ({'media_stack_gateway_parent_refs': []}, [PARENT_REF_PROBLEM]),
    ({'media_stack_gateway_parent_refs': [{'namespace': 'gateway'}]}, [PARENT_REF_PROBLEM]),
    ({'k8s_delivery_crd_paths': []}, [
        'k8s_delivery_crd_paths: media_stack_route=httproute in k8s_delivery_mode=export has no HTTPRoute CRD',
        'set k8s_delivery_crd_paths to the standard-install.yaml of the Gateway API release']),
])
def test_httproute_needs_parent_refs_and_the_crd(tmp_path, extra, expected):
    """Export mode (no cluster to read the HTTPRoute CRD from) needs k8s_delivery_crd_paths; apply mode reads the
    cluster's CRD instead (tests/media_stack/test_httproute_apply.py)."""
    inventory = tmp_path / 'inventory.yml'
    inventory.write_text(INVENTORY)
    variables = dict(EXPORT, k8s_delivery_export_dir=str(tmp_path / 'x'), **dict(HTTPROUTE, **extra))
    code, output = run_logged('media-stack-preflight-httproute-' + str(len(str(extra))), [
        'ansible-playbook', '-i', str(inventory), str(ROOT / 'playbooks' / '60_media.yml'),
        '-e', json.dumps(variables)])
    assert code != 0
    for text in expected:
        assert text in output, output[-3000:]
    assert not (tmp_path / 'x').exists()
    assert not pathlib.Path(tmp_path / 'x').exists()


def test_tags_media_stack_runs_the_whole_role(tmp_path, rendered):
    """`--tags media_stack` (a per-role rerun) renders exactly what a full run renders: the included task files and
    the delivery role run too, not only the tasks tagged media_stack themselves."""
    docs, kustomization = render(tmp_path, 'tags-media-stack', {}, args=('--tags', 'media_stack'))
    assert docs == rendered['defaults'][0]
    assert kustomization == rendered['defaults'][1]
