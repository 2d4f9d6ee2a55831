"""What the k8s_delivery role may leave out of the server-side dry run (plugins/module_utils/k8s_applied.py): only an
object that carries the content hash of its very definition and holds every field the definition sets. The reads
themselves run against the kmock emulator in tests/delivery/test_delivery_applied.py."""

import base64
import importlib.util

import pytest

from ..conftest import ROOT

_spec = importlib.util.spec_from_file_location('k8s_applied', ROOT / 'plugins' / 'module_utils' / 'k8s_applied.py')
applied = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(applied)

CONFIGMAP = {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'settings', 'namespace': 'demo'},
             'data': {'TZ': 'Etc/UTC'}}
SECRET = {'apiVersion': 'v1', 'kind': 'Secret', 'metadata': {'name': 'api-key', 'namespace': 'demo'},
          'type': 'Opaque', 'stringData': {'API_KEY': 'hunter2'}}


def as_stored(definition, **extra_metadata):
    """What the API server hands back after applying the annotated definition: its own fields added."""
    stored = applied.annotate(definition)
    stored['metadata'].update(uid='1', resourceVersion='7', managedFields=[{'manager': 'homelab.mediacluster'}],
                              **extra_metadata)
    if stored['kind'] == 'Secret':
        stored['data'] = {k: base64.b64encode(v.encode()).decode() for k, v in stored.pop('stringData').items()}
    return stored


def test_an_object_as_applied_is_unchanged():
    for definition in (CONFIGMAP, SECRET):
        assert applied.unchanged(applied.annotate(definition), as_stored(definition))


def test_the_annotation_is_the_hash_of_the_definition_and_annotating_twice_changes_nothing():
    once = applied.annotate(CONFIGMAP)
    assert once['metadata']['annotations'][applied.HASH_ANNOTATION] == applied.content_hash(CONFIGMAP)
    assert applied.annotate(once) == once
    assert 'annotations' not in CONFIGMAP['metadata']  # the caller's definition is left alone


@pytest.mark.parametrize('live', [
    None,
    dict(as_stored(CONFIGMAP), data={'TZ': 'Europe/Paris'}),  # changed behind the collection's back
    dict(as_stored(CONFIGMAP), data={}),  # a field removed
    dict(as_stored(CONFIGMAP), metadata={'name': 'settings', 'namespace': 'demo'}),  # applied without the hash
    dict(as_stored(CONFIGMAP), metadata={'name': 'settings', 'namespace': 'demo',
                                         'annotations': {applied.HASH_ANNOTATION: '0' * 64}}),  # another definition
], ids=['absent', 'value-changed', 'field-removed', 'no-hash', 'other-hash'])
def test_anything_else_goes_to_the_dry_run(live):
    assert not applied.unchanged(applied.annotate(CONFIGMAP), live)


def test_a_field_dropped_from_the_definition_changes_the_hash():
    # the cluster still holds the dropped field, so containment alone would call it unchanged
    wider = dict(CONFIGMAP, data={'TZ': 'Etc/UTC', 'LOG_LEVEL': 'info'})
    assert applied.contains(applied.annotate(CONFIGMAP)['data'], as_stored(wider)['data'])
    assert not applied.unchanged(applied.annotate(CONFIGMAP), as_stored(wider))


def test_the_hash_of_a_secret_leaves_its_values_out_and_its_values_are_still_compared():
    other = dict(SECRET, stringData={'API_KEY': 'correct horse'})
    assert applied.content_hash(SECRET) == applied.content_hash(other)
    assert applied.content_hash(SECRET) != applied.content_hash(dict(SECRET, stringData={'OTHER_KEY': 'hunter2'}))
    assert not applied.unchanged(applied.annotate(SECRET), as_stored(other))


@pytest.mark.parametrize('desired,live,expected', [
    ({'a': 1}, {'a': 1, 'b': 2}, True),
    ({'a': [1, 2]}, {'a': [1, 2, 3]}, False),  # a list must match item by item
    ({'a': [{'x': 1}]}, {'a': [{'x': 1, 'y': 2}]}, True),  # defaults the server adds inside list items
    ({'a': True}, {'a': 1}, False),
    ({'a': 1}, {'a': True}, False),
    ({'a': None}, {}, False),
    ({'a': '1'}, {'a': 1}, False),
    ({'a': {}}, {'a': {'k': 'v'}}, True),
])
def test_containment(desired, live, expected):
    assert applied.contains(desired, live) is expected


class _Refused(Exception):
    def __init__(self, status, text):
        super().__init__(text)
        self.status = status


class _Client:
    """kubernetes.core's API client as read_live uses it: resource() resolves a kind, get() reads (a name: GET, else
    LIST). `held` is {(kind, namespace): {name: object}}; a kind in `refused` answers with that status."""

    def __init__(self, held, refused=None):
        self.held, self.refused, self.calls = held, refused or {}, []

    def resource(self, kind, api_version):
        if kind == 'Widget':
            raise _Refused(None, 'Failed to find exact match for example.com/v1.Widget')
        return type('Resource', (), {'kind': kind, 'namespaced': kind != 'Namespace'})()

    def get(self, resource, name=None, namespace=None):
        self.calls.append((resource.kind, namespace, name))
        if resource.kind in self.refused:
            raise _Refused(self.refused[resource.kind], 'refused')
        found = self.held.get((resource.kind, namespace), {})
        if name is not None:
            if name not in found:
                raise _Refused(404, 'not found')
            return type('Instance', (), {'to_dict': lambda self: found[name]})()
        return type('Instance', (), {'to_dict': lambda self: {'items': list(found.values())}})()


def _object(kind, name, namespace='demo'):
    return {'apiVersion': 'example.com/v1' if kind == 'Widget' else 'v1', 'kind': kind,
            'metadata': {'name': name, 'namespace': namespace}}


def test_each_group_is_read_once_and_each_object_gets_its_own_live_copy():
    wanted = [_object('ConfigMap', 'a'), _object('Secret', 's'), _object('ConfigMap', 'b'),
              _object('ConfigMap', 'c', 'other'), _object('Service', 'gone'), _object('Widget', 'w'),
              _object('Role', 'r')]
    held = {('ConfigMap', 'demo'): {'a': {'metadata': {'name': 'a'}, 'data': 1},
                                    'b': {'metadata': {'name': 'b'}, 'data': 2}},
            ('Secret', 'demo'): {'s': {'metadata': {'name': 's'}}},
            ('ConfigMap', 'other'): {'c': {'metadata': {'name': 'c'}}}}
    client = _Client(held, refused={'Role': 403})
    live, requests, unread = applied.read_live(client, wanted)
    assert [item and item['metadata']['name'] for item in live] == ['a', 's', 'b', 'c', None, None, None]
    assert live[2]['data'] == 2
    # one LIST for the two ConfigMaps of demo, a GET for each group of one; the Widget kind is not served
    assert sorted(client.calls, key=str) == sorted([('ConfigMap', 'demo', None), ('Secret', 'demo', 's'),
                                                    ('ConfigMap', 'other', 'c'), ('Service', 'demo', 'gone'),
                                                    ('Role', 'demo', 'r')], key=str)
    assert requests == 5
    # absent (404) is not a failure to read; a refusal and an unserved kind are, and say so
    assert [line.split(':')[0] for line in unread] == ['Widget example.com/v1 in demo', 'Role v1 in demo']


def test_compare_hands_back_only_what_the_cluster_does_not_hold_as_applied():
    wanted = [CONFIGMAP, dict(CONFIGMAP, metadata={'name': 'new', 'namespace': 'demo'})]
    client = _Client({('ConfigMap', 'demo'): {'settings': as_stored(CONFIGMAP)}})
    result = applied.compare(client, wanted)
    assert result['unchanged'] == [True, False]
    assert [item['metadata']['name'] for item in result['to_compare']] == ['new']
    assert applied.HASH_ANNOTATION in result['to_compare'][0]['metadata']['annotations']
    assert result['requests'] == 1 and result['unread'] == []


def test_the_filter_gives_each_definition_its_hash_and_refuses_what_is_not_a_list_of_objects():
    from ansible.errors import AnsibleFilterError

    from ansible_collections.homelab.mediacluster.plugins.filter.k8s_applied_hash import k8s_applied_hash

    annotated = k8s_applied_hash([CONFIGMAP, SECRET])
    assert annotated == [applied.annotate(CONFIGMAP), applied.annotate(SECRET)]
    assert annotated[1]['stringData'] == SECRET['stringData']  # the values are applied; only the hash leaves them out
    with pytest.raises(AnsibleFilterError, match='a list of Kubernetes objects'):
        k8s_applied_hash({'kind': 'ConfigMap'})
