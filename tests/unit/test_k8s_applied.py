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
