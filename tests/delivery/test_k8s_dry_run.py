"""The k8s_dry_run filter: how the k8s_delivery role reads one batched kubernetes.core dry run per object."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.mediacluster.plugins.filter.k8s_dry_run import k8s_dry_run

CM = {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'settings', 'namespace': 'demo'}}
NS = {'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'demo'}}
SECRET = {'apiVersion': 'v1', 'kind': 'Secret', 'metadata': {'name': 'keys', 'namespace': 'demo'},
          'stringData': {'key': 'hunter2'}}
CHANGED = {'before': {'data': {'TZ': 'UTC'}}, 'after': {'data': {'TZ': 'Etc/UTC'}}}


def test_several_objects_are_read_from_result_results_in_order():
    preview = {'changed': False, 'result': {'results': [
        {'changed': False, 'result': {}, 'method': 'apply', 'diff': {}},
        {'changed': True, 'result': {}, 'method': 'apply', 'diff': CHANGED},
    ]}}
    out = k8s_dry_run(preview, [NS, CM])
    assert [(o['label'], o['differs'], o['error']) for o in out] == [
        ('Namespace /demo', False, None), ('ConfigMap demo/settings', True, None)]
    assert out[1]['object'] is CM


def test_one_object_is_read_from_the_top_level_even_when_changed_was_overridden():
    # changed_when: false on the task replaces the top-level changed; the diff still tells.
    assert k8s_dry_run({'changed': False, 'diff': CHANGED, 'result': {}}, [CM])[0]['differs'] is True
    assert k8s_dry_run({'changed': False, 'diff': {}, 'result': {}}, [CM])[0]['differs'] is False


def test_a_diff_of_only_generation_and_resource_version_is_no_difference():
    bookkeeping = {'before': {'metadata': {'resourceVersion': '1', 'generation': 1}},
                   'after': {'metadata': {'resourceVersion': '2', 'generation': 2}}}
    labels = {'before': {'metadata': {'labels': {}}}, 'after': {'metadata': {'labels': {'a': 'b'}}}}
    assert k8s_dry_run({'diff': bookkeeping, 'result': {}}, [CM])[0]['differs'] is False
    assert k8s_dry_run({'diff': labels, 'result': {}}, [CM])[0]['differs'] is True


def test_refusals_carry_the_message_but_a_secrets_is_withheld():
    preview = {'result': {'results': [
        {'changed': False, 'result': {}, 'error': {'msg': 'Failed to apply object: namespaces "demo" not found'}},
        {'changed': False, 'result': {}, 'error': {'msg': 'Secret "keys" is invalid: hunter2'}},
    ]}}
    cm, secret = k8s_dry_run(preview, [CM, SECRET])
    assert cm['differs'] is False and 'namespaces "demo" not found' in cm['error']
    assert cm['refusal'] == cm['error']
    assert 'hunter2' in secret['error'] and 'hunter2' not in secret['refusal']
    assert 'withheld' in secret['refusal']


def test_a_call_that_failed_as_a_whole_gives_every_object_its_message():
    preview = {'changed': False, 'failed': False, 'failed_when_result': False,
               'msg': 'Could not create API client: Invalid kube-config file.'}
    out = k8s_dry_run(preview, [NS, CM])
    assert [o['error'] for o in out] == ['Could not create API client: Invalid kube-config file.'] * 2
    assert not any(o['differs'] for o in out)


def test_a_skipped_or_empty_batch_gives_nothing():
    assert k8s_dry_run({'skipped': True, 'changed': False}, [CM]) == []
    assert k8s_dry_run({'changed': False}, []) == []


def test_a_result_count_that_does_not_match_is_an_error():
    with pytest.raises(AnsibleFilterError, match='2 definitions but 1 results'):
        k8s_dry_run({'result': {'results': [{'diff': {}}]}}, [NS, CM])
    with pytest.raises(AnsibleFilterError, match='no result.results'):
        k8s_dry_run({'result': {}, 'changed': False}, [NS, CM])
