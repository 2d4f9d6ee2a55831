"""plugins/modules/k8s_delivery_check.py, the delivery layer's gate: the schemas first (any invalid manifest stops it
there), then the cluster's semantics (their errors stop it, their warnings become the task's); missing schemas are
only reported when asked to; nothing it returns or says holds a Secret's values."""

import base64
import copy

import pytest

from ansible_collections.homelab.mediacluster.plugins.module_utils import cluster_semantics, k8s_applied
from ansible_collections.homelab.mediacluster.plugins.module_utils.module_body import ModuleFailure
from ansible_collections.homelab.mediacluster.plugins.modules import k8s_delivery_check

from .conftest import ROOT
from .sample import SECRET_VALUE, manifests

SHIPPED_CRDS = str(ROOT / 'roles' / 'k8s_delivery' / 'files' / 'crds')
ROUTE = {'apiVersion': 'gateway.networking.k8s.io/v1', 'kind': 'HTTPRoute',
         'metadata': {'name': 'web', 'namespace': 'demo'},
         'spec': {'parentRefs': [{'name': 'homelab', 'namespace': 'gateway'}], 'hostnames': ['web.home.arpa'],
                  'rules': [{'backendRefs': [{'name': 'web', 'port': 80}]}]}}


def _params(docs, **overrides):
    params = {name: copy.deepcopy(spec.get('default')) for name, spec in k8s_delivery_check.ARGUMENT_SPEC.items()}
    params.update(name='demo', manifests=docs, kubernetes_version='1.33', crd_paths=[SHIPPED_CRDS])
    params.update(overrides)
    return params


def _run(docs, **overrides):
    return k8s_delivery_check.run(_params(docs, **overrides))


def _privileged(docs):
    web = docs[4]['spec']['template']['spec']
    web['containers'][0]['securityContext'] = {'privileged': True}
    docs[0]['metadata']['labels'] = {'pod-security.kubernetes.io/enforce': 'baseline'}
    return docs


def test_valid_manifests_come_back_in_apply_order_with_their_file_names():
    docs = manifests()
    result = _run(docs)
    assert result['valid'] is True and result['errors'] == [] and result['semantic_errors'] == []
    assert docs[result['order'][0]]['kind'] == 'Namespace'
    assert sorted(result['order']) == list(range(len(docs)))
    assert result['files'][2] == 'secret-api-key.yaml'
    assert result['kubernetes_version'] == '1.33' and 'warnings' not in result
    assert SECRET_VALUE not in repr(result)


def test_an_invalid_manifest_stops_before_the_semantics_and_never_quotes_a_secret():
    docs = _privileged(manifests())  # the semantics would refuse it too: the schemas speak first
    docs[6]['spec']['retain'] = 'seven'
    docs[2]['stringData']['API_KEY'] = [SECRET_VALUE]  # a Secret's value of the wrong type
    with pytest.raises(ModuleFailure) as failure:
        _run(docs)
    msg = failure.value.msg
    assert msg.startswith('demo: 2 of 7 manifest(s) failed validation against Kubernetes 1.33; nothing was '
                          'applied or written. '), msg
    assert "RecurringJob longhorn-system/demo-backup: spec.retain: 'seven' is not of type 'integer'" in msg
    assert 'Secret demo/api-key: stringData.API_KEY' in msg and 'the value is not shown' in msg
    assert failure.value.result['semantic_errors'] == []
    assert SECRET_VALUE not in msg and SECRET_VALUE not in repr(failure.value.result)


def test_an_unsupported_version_names_the_delivery():
    with pytest.raises(ModuleFailure, match=r'^demo: Kubernetes 1\.20 is not supported'):
        _run(manifests(), kubernetes_version='1.20')


def test_what_the_cluster_would_refuse_stops_it():
    with pytest.raises(ModuleFailure) as failure:
        _run(_privileged(manifests()))
    msg = failure.value.msg
    assert msg.startswith('demo, nothing was applied or written: a real cluster would not run it as rendered. ')
    assert 'Deployment demo/web' in msg and 'privileged' in msg
    assert failure.value.result['valid'] is True and failure.value.result['semantic_errors']


def test_semantic_warnings_become_the_tasks_warnings():
    docs = manifests()
    docs[0]['metadata']['labels'] = {'pod-security.kubernetes.io/warn': 'restricted'}
    result = _run(docs)
    assert result['warnings_found'] and result['semantic_errors'] == []
    assert result['warnings'] == ['demo: ' + warning for warning in result['warnings_found']]


def test_secrets_play_no_part_in_the_semantics(monkeypatch):
    seen = []
    real = cluster_semantics.check

    def recording(docs, *args, **kwargs):
        seen.append([doc['kind'] for doc in docs + kwargs['context_manifests']])
        return real(docs, *args, **kwargs)

    monkeypatch.setattr(cluster_semantics, 'check', recording)
    _run(manifests(), context_manifests=[manifests()[2]])
    assert seen == [['Namespace', 'ConfigMap', 'PersistentVolumeClaim', 'Deployment', 'Service', 'RecurringJob']]


@pytest.mark.parametrize('mode', ['fail', 'report'])
def test_kinds_without_a_schema_fail_or_are_reported(mode):
    docs = manifests() + [ROUTE]
    if mode == 'fail':
        with pytest.raises(ModuleFailure, match='HTTPRoute demo/web: no schema for'):
            _run(docs, missing_schemas=mode)
        return
    result = _run(docs, missing_schemas=mode)
    assert result['valid'] is False and 'order' not in result
    assert [entry['objects'] for entry in result['missing_schemas']] == [['HTTPRoute demo/web']]


def test_a_report_of_missing_schemas_does_not_hide_other_errors():
    docs = manifests() + [ROUTE]
    docs[6]['spec']['retain'] = 'seven'
    with pytest.raises(ModuleFailure, match='2 of 8 manifest'):
        _run(docs, missing_schemas='report')


class _Held:
    """kubernetes.core's API client as the read uses it (module_utils/k8s_applied.py): `held` is {(kind, namespace):
    {name: object as the API server hands it back}}; every request is recorded."""

    def __init__(self, held):
        self.held, self.calls = held, []

    def resource(self, kind, api_version):
        return type('Resource', (), {'kind': kind, 'namespaced': kind != 'Namespace'})()

    def get(self, resource, name=None, namespace=None):
        self.calls.append((resource.kind, namespace, name))
        found = self.held.get((resource.kind, namespace), {})
        if name is not None:
            if name not in found:
                raise type('NotFound', (Exception,), {'status': 404})('not found')
            return type('Instance', (), {'to_dict': lambda self: found[name]})()
        return type('Instance', (), {'to_dict': lambda self: {'items': list(found.values())}})()


def _as_applied(doc):
    """What the API server holds after the role applied doc: the hash annotation, a Secret's values base64 data."""
    stored = k8s_applied.annotate(doc)
    stored['metadata'].update(uid='1', resourceVersion='7')
    if stored['kind'] == 'Secret':
        stored['data'] = {key: base64.b64encode(value.encode()).decode()
                          for key, value in stored.pop('stringData').items()}
    return stored


def test_with_read_applied_only_what_the_cluster_does_not_hold_as_applied_is_left_to_compare(monkeypatch):
    docs = manifests()
    secret, service = docs[2], docs[5]
    held = {}
    for doc in docs:
        if doc is not service:  # never applied
            stored = _as_applied(doc)
            held.setdefault((doc['kind'], doc['metadata'].get('namespace')), {})[doc['metadata']['name']] = stored
    held[('Secret', 'demo')]['api-key']['data']['API_KEY'] = base64.b64encode(b'changed by hand').decode()
    client = _Held(held)
    seen = {}

    def api_client(params):
        seen['kubeconfig'] = params['kubeconfig']
        return client

    monkeypatch.setattr(k8s_delivery_check.k8s_applied, 'api_client', api_client)
    result = _run(docs, read_applied=True, kubeconfig='/etc/rancher/k3s/k3s.yaml')
    assert seen == {'kubeconfig': '/etc/rancher/k3s/k3s.yaml'}
    # indices into the manifests, in apply order: the drifted Secret comes before the Service
    assert result['to_compare'] == [docs.index(secret), docs.index(service)], result['to_compare']
    assert result['requests'] == 7 and result['unread'] == []
    assert SECRET_VALUE not in repr(result)


@pytest.mark.parametrize('read_applied', [False, True])
def test_nothing_is_read_unless_asked_and_every_manifest_passed(monkeypatch, read_applied):
    def no_client(params):
        raise AssertionError('the cluster was read')

    monkeypatch.setattr(k8s_delivery_check.k8s_applied, 'api_client', no_client)
    # a kind without a schema, reported: valid is false, and the role validates it with the cluster's CRDs first
    result = _run(manifests() + [ROUTE], read_applied=read_applied, missing_schemas='report')
    assert result['valid'] is False and 'to_compare' not in result
    if not read_applied:
        assert 'to_compare' not in _run(manifests())
