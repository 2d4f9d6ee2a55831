"""Issue 22: cert-manager through the k3s helm-controller (pinned chart, failurePolicy abort) and the ClusterIssuer
the routes name, for both issuer kinds; the rendered objects validate against the cert-manager and Traefik CRDs; the
homelab CA and a route's Certificate, issued with Python `cryptography` from the rendered specs, form a chain a TLS
client accepts for the route's host."""

import datetime
import sys

import pytest
import yaml
from cryptography import x509
from cryptography.x509 import verification
from cryptography.x509.oid import ExtendedKeyUsageOID

from ansible_collections.homelab.mediacluster.plugins.module_utils import k8s_validation

from ..conftest import ROOT
from ..k8s_models.validator import validate_objects
from ..longhorn.conftest import read_tree, recap, run_playbook
from .issue import issue

CRDS = [ROOT / 'tests' / 'schemas' / 'crds']
TOKEN = 'cf-token-Zm9vYmFyYmF6'


def _playbook(directory, roles):
    directory.mkdir(parents=True, exist_ok=True)
    inventory = {'all': {
        'hosts': {'localhost': {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}},
        'children': {'controller': {'hosts': {'localhost': {}}}, 'storage_nodes': {'hosts': {'w1': {}}}}}}
    (directory / 'inventory.yml').write_text(yaml.safe_dump(inventory))
    play = [{'name': role, 'hosts': 'localhost', 'gather_facts': False,
             'roles': [{'role': 'homelab.mediacluster.' + role}]} for role in roles]
    path = directory / 'play.yml'
    path.write_text(yaml.safe_dump(play, sort_keys=False))
    return path


def _export(tmp_path, name, roles=('cert_manager',), **extra):
    tree = tmp_path / 'tree'
    variables = {'k8s_delivery_mode': 'export', 'k8s_delivery_export_dir': str(tree),
                 'k8s_delivery_kubernetes_version': '1.33', 'longhorn_replica_count': 1,
                 'longhorn_backup_target': 'nfs://192.0.2.29:/srv/longhorn_backup'}
    variables.update(extra)
    playbook = _playbook(tmp_path / 'pb', roles)
    code, out = run_playbook(name, playbook, extra_vars=variables)
    return code, out, tree, playbook, variables


def _docs(tree, app):
    files = read_tree(tree)[app]
    kustomization = files.pop('kustomization.yaml')[0]
    assert sorted(kustomization['resources']) == sorted(files)
    return {name: docs[0] for name, docs in files.items()}


@pytest.fixture(scope='module')
def homelab_ca(tmp_path_factory):
    """cert_manager (homelab CA) and longhorn (UI on an Ingress) exported together, as site.yml runs them."""
    tmp_path = tmp_path_factory.mktemp('homelab-ca')
    code, out, tree, playbook, variables = _export(
        tmp_path, 'cert-manager-homelab-ca', roles=('cert_manager', 'longhorn'), longhorn_ui_expose='ingress',
        longhorn_ui_host='longhorn.home.arpa', longhorn_ui_auth_password='correct horse')
    assert code == 0, out[-3000:]
    return tree, playbook, variables


def test_helmchart_is_pinned_and_aborts_on_failure(homelab_ca):
    tree = homelab_ca[0]
    docs = _docs(tree, 'cert-manager')
    chart = docs['helmchart-cert-manager.yaml']
    assert chart['metadata'] == {'name': 'cert-manager', 'namespace': 'kube-system'}
    assert chart['spec']['chart'] == 'cert-manager' and chart['spec']['version'] == 'v1.21.1'
    assert chart['spec']['repo'] == 'https://charts.jetstack.io'
    assert chart['spec']['failurePolicy'] == 'abort' and chart['spec']['targetNamespace'] == 'cert-manager'
    values = yaml.safe_load(chart['spec']['valuesContent'])
    assert values['crds'] == {'enabled': True, 'keep': True}
    assert docs['namespace-cert-manager.yaml']['metadata']['labels']['pod-security.kubernetes.io/enforce'] == \
        'restricted'
    assert k8s_validation.validate_manifests(list(docs.values()), '1.33', CRDS) == []


def test_homelab_ca_issuers_validate_against_the_crds(homelab_ca):
    docs = _docs(homelab_ca[0], 'cert-manager-issuers')
    assert sorted(docs) == ['certificate-homelab-ca.yaml', 'clusterissuer-homelab-selfsigned.yaml',
                            'clusterissuer-homelab.yaml']
    assert docs['clusterissuer-homelab-selfsigned.yaml']['spec'] == {'selfSigned': {}}
    ca = docs['certificate-homelab-ca.yaml']
    assert ca['metadata']['namespace'] == 'cert-manager' and ca['spec']['isCA'] is True
    assert ca['spec']['issuerRef']['name'] == 'homelab-selfsigned'
    assert docs['clusterissuer-homelab.yaml']['spec'] == {'ca': {'secretName': ca['spec']['secretName']}}
    assert k8s_validation.validate_manifests(list(docs.values()), '1.33', CRDS) == []
    broken = dict(ca, spec=dict(ca['spec'], usages=['cert sign', 'sign everything']))
    [error] = k8s_validation.validate_manifests([broken], '1.33', CRDS)
    assert error.startswith("Certificate cert-manager/homelab-ca: spec.usages[1]: 'sign everything' is not one of")


def test_homelab_ca_chain_from_the_rendered_specs(homelab_ca):
    """The CA Certificate and the Longhorn UI's Certificate, issued with `cryptography` exactly as specified, give a
    chain that a TLS client trusting only the exported CA accepts for longhorn.home.arpa, and for no other host."""
    ca_spec = _docs(homelab_ca[0], 'cert-manager-issuers')['certificate-homelab-ca.yaml']['spec']
    leaf_spec = _docs(homelab_ca[0], 'longhorn-config')['certificate-longhorn-ui-tls.yaml']['spec']
    assert leaf_spec['issuerRef'] == {'group': 'cert-manager.io', 'kind': 'ClusterIssuer', 'name': 'homelab'}
    ca_cert, ca_key = issue(ca_spec)
    leaf, _unused = issue(leaf_spec, ca_cert, ca_key)

    leaf.verify_directly_issued_by(ca_cert)
    assert ca_cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert ca_cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign is True
    assert ca_cert.subject.rfc4514_string() == 'O=homelab,CN=homelab.mediacluster CA'
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ['longhorn.home.arpa']
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.key_encipherment and not usage.key_cert_sign
    assert list(leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == \
        [ExtendedKeyUsageOID.SERVER_AUTH]
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc <= datetime.timedelta(days=90, minutes=1)

    store = verification.Store([ca_cert])
    verifier = verification.PolicyBuilder().store(store).build_server_verifier(x509.DNSName('longhorn.home.arpa'))
    chain = verifier.verify(leaf, [])
    assert chain[0] == leaf and chain[-1] == ca_cert
    other = verification.PolicyBuilder().store(store).build_server_verifier(x509.DNSName('sonarr.home.arpa'))
    with pytest.raises(verification.VerificationError):
        other.verify(leaf, [])
    stranger, stranger_key = issue(ca_spec)  # another CA with the same parameters is not trusted
    with pytest.raises(verification.VerificationError):
        verification.PolicyBuilder().store(verification.Store([stranger])).build_server_verifier(
            x509.DNSName('longhorn.home.arpa')).verify(leaf, [])


def test_custom_resources_pass_the_kubernetes_models_validators(homelab_ca):
    """Second opinion: the issuers, the CA and route Certificates and the Traefik Middlewares (redirect, basicAuth)
    pass the validators of @kubernetes-models/cert-manager and @kubernetes-models/traefik, which reject a broken
    usage and a wrongly typed redirect."""
    tree = homelab_ca[0]
    docs = [d for app in ('cert-manager-issuers', 'longhorn-config') for d in _docs(tree, app).values()
            if d['apiVersion'].startswith(('cert-manager.io/', 'traefik.io/'))]
    assert sorted(d['kind'] for d in docs) == ['Certificate', 'Certificate', 'ClusterIssuer', 'ClusterIssuer',
                                               'Middleware', 'Middleware']
    assert validate_objects(docs) == [[]] * len(docs)
    cert = next(d for d in docs if d['kind'] == 'Certificate')
    redirect = next(d for d in docs if d['kind'] == 'Middleware' and 'redirectScheme' in d['spec'])
    broken = [dict(cert, spec=dict(cert['spec'], usages=['server auth', 'sign everything'])),
              dict(redirect, spec={'redirectScheme': {'scheme': 'https', 'permanent': 'yes'}})]
    usage_errors, redirect_errors = validate_objects(broken)
    assert usage_errors and all(e.startswith('/spec/usages/1: enum') for e in usage_errors)
    assert redirect_errors and all(e.startswith('/spec/redirectScheme/permanent: type') for e in redirect_errors)


def test_export_rerun_is_unchanged(homelab_ca):
    tree, playbook, variables = homelab_ca
    code, out = run_playbook('cert-manager-homelab-ca-rerun', playbook, extra_vars=variables)
    assert code == 0 and recap(out)['changed'] == 0, out[-3000:]


def test_acme_dns01_issuer_with_the_token_in_a_secret(tmp_path):
    code, out, tree, *_unused = _export(tmp_path, 'cert-manager-acme', cert_manager_issuer='acme_dns01',
                                        cert_manager_acme_email='admin@example.org',
                                        cert_manager_acme_dns01_api_token=TOKEN)
    assert code == 0, out[-3000:]
    assert TOKEN not in out, 'the DNS API token reached the log'
    docs = _docs(tree, 'cert-manager-issuers')
    assert sorted(docs) == ['clusterissuer-homelab.yaml', 'secret-cert-manager-acme-dns01.yaml']
    secret = docs['secret-cert-manager-acme-dns01.yaml']
    assert secret['metadata']['namespace'] == 'cert-manager' and secret['stringData'] == {'api-token': TOKEN}
    acme = docs['clusterissuer-homelab.yaml']['spec']['acme']
    assert acme['email'] == 'admin@example.org'
    assert acme['server'] == 'https://acme-v02.api.letsencrypt.org/directory'
    assert acme['solvers'] == [{'dns01': {'cloudflare': {'apiTokenSecretRef': {
        'name': 'cert-manager-acme-dns01', 'key': 'api-token'}}}}]
    assert k8s_validation.validate_manifests(list(docs.values()), '1.33', CRDS) == []
    assert validate_objects([docs['clusterissuer-homelab.yaml']]) == [[]]
    values = yaml.safe_load(_docs(tree, 'cert-manager')['helmchart-cert-manager.yaml']['spec']['valuesContent'])
    assert values['dns01RecursiveNameserversOnly'] is True


def test_acme_without_email_or_token_is_refused_before_anything_is_written(tmp_path):
    code, out, tree, *_unused = _export(tmp_path, 'cert-manager-acme-bad', cert_manager_issuer='acme_dns01')
    assert code != 0
    assert 'cert_manager_issuer=acme_dns01 needs an account e-mail' in out
    assert 'cert_manager_issuer=acme_dns01 has no DNS API token' in out
    assert not tree.exists()
