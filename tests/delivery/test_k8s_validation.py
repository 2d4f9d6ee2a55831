"""plugins/module_utils/k8s_validation.py: built-in kinds against kubernetes-validate's strict schemas, custom
resources against their CRD schema (strict), version support, apply order and export file names."""

import copy
import sys

import pytest

from ansible_collections.homelab.mediacluster.plugins.module_utils import k8s_validation as kv

from .conftest import ROOT
from .sample import SECRET_VALUE, manifests

CRDS = [ROOT / 'tests' / 'schemas' / 'crds']
SHIPPED_CRDS = [ROOT / 'roles' / 'k8s_delivery' / 'files' / 'crds']


def _errors(docs, version='1.33', crds=None):
    return kv.validate_manifests(docs, version, CRDS if crds is None else crds)


def test_sample_app_is_valid_for_every_supported_version():
    for version in kv.supported_versions():
        assert _errors(manifests(), version) == [], version


def test_shipped_crds_match_the_reference_copies():
    shipped = kv.load_crd_schemas(SHIPPED_CRDS)
    reference = kv.load_crd_schemas(CRDS)
    assert set(shipped) == set(reference)
    for key in reference:
        assert shipped[key]['schema'] == reference[key]['schema'], key
    assert ('longhorn.io/v1beta2', 'RecurringJob') in shipped and ('helm.cattle.io/v1', 'HelmChart') in shipped


def _set(doc, path, value):
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value


BROKEN = [
    # (manifest index, path, value, expected error text)
    (1, ['data', 'TZ'], 5, "ConfigMap demo/settings: data.TZ: 5 is not of type 'string', 'null'"),
    (1, ['extra'], 'x', "ConfigMap demo/settings: (top level): Additional properties are not allowed ('extra'"),
    (4, ['spec', 'replicas'], 'one', "Deployment demo/web: spec.replicas: 'one' is not of type 'integer', 'null'"),
    (4, ['spec', 'template', 'spec', 'containers', 0, 'imagePullPolcy'], 'Always',
     "Deployment demo/web: spec.template.spec.containers[0]: Additional properties are not allowed "
     "('imagePullPolcy' was unexpected)"),
    (6, ['spec', 'retain'], 'seven', "RecurringJob longhorn-system/demo-backup: spec.retain: 'seven' is not of type "
                                     "'integer'"),
    (6, ['spec', 'task'], 'backupp', "RecurringJob longhorn-system/demo-backup: spec.task: 'backupp' is not one of"),
    (6, ['spec', 'schedule'], '0 3 * * *', "RecurringJob longhorn-system/demo-backup: spec: Additional properties "
                                           "are not allowed ('schedule' was unexpected)"),
    (6, ['metadata', 'labels'], {'a': 1}, "RecurringJob longhorn-system/demo-backup: metadata.labels.a: 1 is not of "
                                          "type 'string', 'null'"),
]


@pytest.mark.parametrize('index, path, value, expected', BROKEN, ids=[b[3][:60] for b in BROKEN])
def test_broken_values_are_named(index, path, value, expected):
    docs = manifests()
    _set(docs[index], path, value)
    errors = _errors(docs)
    assert len(errors) == 1, errors
    assert errors[0].startswith(expected), errors


def test_secret_values_never_appear_in_errors():
    docs = manifests()
    docs[2]['stringData']['API_KEY'] = {'nested': SECRET_VALUE}
    errors = _errors(docs)
    assert len(errors) == 1 and errors[0].startswith('Secret demo/api-key: stringData.API_KEY: ')
    assert SECRET_VALUE not in errors[0]


def test_structural_problems():
    docs = manifests()
    docs.append(copy.deepcopy(docs[1]))                                  # duplicate
    docs.append({'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {}})  # no name
    docs.append({'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'Bad_Name'}})
    docs.append({'apiVersion': 'example.com/v1', 'kind': 'Widget', 'metadata': {'name': 'w'}})
    docs.append('not a dict')
    errors = _errors(docs)
    assert any(e.startswith('ConfigMap demo/settings: appears twice (manifests #1 and #7)') for e in errors)
    assert any('metadata.name: missing' in e for e in errors)
    assert any("metadata.name: 'Bad_Name' is not a valid name" in e for e in errors)
    assert any(e.startswith('Widget w: no schema for example.com/v1 Widget in Kubernetes 1.33') for e in errors)
    assert any(e.startswith('manifest #11: is a str, not a mapping') for e in errors)
    assert len(errors) == 5, errors


def test_crd_among_the_manifests_is_used_for_its_custom_resources():
    crd = {'apiVersion': 'apiextensions.k8s.io/v1', 'kind': 'CustomResourceDefinition',
           'metadata': {'name': 'widgets.example.com'},
           'spec': {'group': 'example.com', 'scope': 'Namespaced',
                    'names': {'kind': 'Widget', 'plural': 'widgets', 'singular': 'widget'},
                    'versions': [{'name': 'v1', 'served': True, 'storage': True, 'schema': {'openAPIV3Schema': {
                        'type': 'object', 'properties': {'spec': {'type': 'object', 'properties': {
                            'size': {'x-kubernetes-int-or-string': True},
                            'note': {'type': 'string', 'nullable': True},
                            'free': {'type': 'object', 'x-kubernetes-preserve-unknown-fields': True}}}}}}},
                        {'name': 'v0', 'served': False, 'storage': False}]}}
    good = {'apiVersion': 'example.com/v1', 'kind': 'Widget', 'metadata': {'name': 'w', 'namespace': 'x'},
            'spec': {'size': '10Gi', 'note': None, 'free': {'anything': [1, 2]}}}
    assert _errors([crd, good], crds=[]) == []
    good['spec']['size'] = 3
    assert _errors([crd, good], crds=[]) == []
    bad = copy.deepcopy(good)
    bad['spec']['size'] = [1]
    bad['spec']['colour'] = 'red'
    errors = _errors([crd, bad], crds=[])
    assert errors == ["Widget x/w: spec: Additional properties are not allowed ('colour' was unexpected)",
                      'Widget x/w: spec.size: [1] is not valid under any of the given schemas'], errors
    old = dict(good, apiVersion='example.com/v0')
    assert _errors([crd, old], crds=[])[0].startswith('Widget x/w: example.com/v0 is not a served version')


def test_kinds_without_any_schema_are_listed_as_missing(monkeypatch):
    """validate() names each (apiVersion, kind) with no schema once, with its objects; the module returns it as
    missing_schemas. A served-false version or a schema error is not "missing"."""
    route = {'apiVersion': 'gateway.networking.k8s.io/v1', 'kind': 'HTTPRoute',
             'metadata': {'name': 'a', 'namespace': 'media'}, 'spec': {}}
    other = copy.deepcopy(route)
    other['metadata']['name'] = 'b'
    widget = {'apiVersion': 'example.com/v1', 'kind': 'Widget', 'metadata': {'name': 'w'}}
    docs = manifests() + [route, other, widget]
    errors, missing = kv.validate(docs, '1.33', CRDS)
    assert missing == [
        {'api_version': 'example.com/v1', 'group': 'example.com', 'version': 'v1', 'kind': 'Widget',
         'objects': ['Widget w']},
        {'api_version': 'gateway.networking.k8s.io/v1', 'group': 'gateway.networking.k8s.io', 'version': 'v1',
         'kind': 'HTTPRoute', 'objects': ['HTTPRoute media/a', 'HTTPRoute media/b']}]
    assert len(errors) == 3 and all('no schema for' in e for e in errors)
    assert kv.validate(manifests(), '1.33', CRDS) == ([], [])

    from ansible.module_utils import basic
    from ansible.module_utils.testing import patch_module_args

    from ansible_collections.homelab.mediacluster.plugins.modules import k8s_manifest_validate

    results = []
    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', lambda self, **kw: results.append(kw) or sys.exit(0))
    with patch_module_args({'manifests': docs, 'kubernetes_version': '1.33', 'crd_paths': [str(CRDS[0])],  # pylint: disable=unreachable
                            'fail_on_error': False}), pytest.raises(SystemExit):
        k8s_manifest_validate.main()
    assert results[0]['missing_schemas'] == missing and results[0]['valid'] is False


@pytest.mark.parametrize('version, short', [('1.33', '1.33'), ('v1.31.4+k3s1', '1.31'), ('1.25.0', '1.25'),
                                            ('v1.37', '1.37')])
def test_supported_versions(version, short):
    assert kv.check_version(version) == short


@pytest.mark.parametrize('version, text', [('1.24', 'Kubernetes 1.24 is not supported'),
                                           ('1.38', 'Kubernetes 1.38 is not supported'),
                                           ('latest', "'latest' is not a version")])
def test_unsupported_versions(version, text):
    with pytest.raises(kv.K8sValidationError, match=text.replace('.', r'\.').replace('(', r'\(')):
        kv.check_version(version)


def test_missing_crd_path_is_an_input_error(tmp_path):
    with pytest.raises(kv.K8sValidationError, match='does not exist'):
        kv.validate_manifests(manifests(), '1.33', [tmp_path / 'nope'])


def test_apply_order_puts_dependencies_first():
    docs = list(reversed(manifests()))
    kinds = [docs[i]['kind'] for i in kv.apply_order(docs)]
    assert kinds == ['Namespace', 'Secret', 'ConfigMap', 'PersistentVolumeClaim', 'Service', 'Deployment',
                     'RecurringJob']


def test_export_filenames_are_unique():
    docs = manifests()
    twin = copy.deepcopy(docs[1])
    twin['metadata']['namespace'] = 'other'
    names = kv.export_filenames(docs + [twin])
    assert names[0] == 'namespace-demo.yaml'
    assert names[1] == 'configmap-demo-settings.yaml' and names[-1] == 'configmap-other-settings.yaml'
    assert len(set(names)) == len(names)
