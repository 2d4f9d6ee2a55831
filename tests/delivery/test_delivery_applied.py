"""The no-op rerun of the k8s_delivery role makes no server-side dry run (module_utils/k8s_applied.py): each object
is read back and left out of the dry run only when it carries the content hash of its very definition and holds every
field that definition sets. Against the kmock emulator: what a rerun sends, and that a change made behind the
collection's back, a changed definition and an object applied without the hash still reach the dry run and are
applied."""

import base64

import pytest

from .conftest import COLLECTIONS, applied, demo_play, demo_vars, recap, run_playbook, write_playbook
from .sample import SECRET_VALUE, manifests

HASH = 'homelab.mediacluster/applied-hash'
COMPARE = 'TASK [homelab.mediacluster.k8s_delivery : Compare with the cluster in one server-side dry run, demo]'
# the include of what follows the check's read (tasks/apply.yml: the validation with the cluster's CRDs, the dry runs)
COMPARE_STEP = ("TASK [homelab.mediacluster.k8s_delivery : Validate with the cluster's CRDs what needs them, compare "
                'and apply what differs, demo]')


def client_for(kube):
    """kubernetes.core's own API client (the one the collection reads with) on the emulator."""
    assert str(COLLECTIONS)  # the collection's tree is on sys.path (conftest)
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    return get_api_client(kubeconfig=str(kube.kubeconfig))


def change_behind_the_back(kube, api_version, kind, name, patch):
    """A merge patch by someone else (kubectl edit, another tool), in the namespace demo."""
    client = client_for(kube)
    resource = client.resource(kind, api_version)
    resource.patch(body=patch, name=name, namespace='demo', content_type='application/merge-patch+json')


def requests_with_body(kube, since):
    """Every request that sends an object, dry runs included."""
    return [c for c in kube.calls[since:] if c[0] in ('CREATE', 'UPDATE', 'DELETE')]


@pytest.fixture
def delivered(kube, tmp_path):
    playbook = write_playbook(tmp_path / 'pb', demo_play(manifests()))
    code, out = run_playbook('delivery-applied-first', playbook, extra_vars=demo_vars(kube))
    assert code == 0, out[-3000:]
    return playbook


def test_a_rerun_reads_each_kind_once_and_makes_no_dry_run(kube, delivered):
    objects = (('v1', 'configmaps', 'demo', 'settings'), ('v1', 'secrets', 'demo', 'api-key'),
               ('v1', 'namespaces', None, 'demo'), ('apps/v1', 'deployments', 'demo', 'web'))
    for api_version, plural, namespace, name in objects:
        stored = kube.stored(api_version, plural, namespace, name)
        assert len(stored['metadata']['annotations'][HASH]) == 64, stored
    mark = len(kube.calls)
    code, out = run_playbook('delivery-applied-rerun', delivered, extra_vars=demo_vars(kube))
    assert code == 0, out[-3000:]
    assert recap(out)['changed'] == 0, out[-3000:]
    assert requests_with_body(kube, mark) == [], kube.calls[mark:]
    # the include of the dry runs is the one task that follows the check's read, skipped: no dry-run task runs or is
    # skipped
    assert COMPARE not in out and out.count(COMPARE_STEP) == 1, out[-3000:]
    assert 'skipping' in out.split(COMPARE_STEP, 1)[1].split('TASK [', 1)[0], out[-3000:]
    reads = [c for c in kube.calls[mark:] if c[0] in ('LIST', 'FETCH') and 'plural=None' not in c[1]]  # not discovery
    # the namespaces' labels once, for the semantics check; then one GET per (kind, namespace) group of the batch:
    # its 7 objects are 7 groups of one
    assert len(reads) == 8 and [c[0] for c in reads].count('LIST') == 1, reads


def test_the_hash_of_a_secret_leaves_its_values_out(kube, delivered):
    from ansible_collections.homelab.mediacluster.plugins.module_utils.k8s_applied import content_hash
    secret = [d for d in manifests() if d['kind'] == 'Secret'][0]
    other_value = dict(secret, stringData={'API_KEY': 'another-value'})
    stored = kube.stored('v1', 'secrets', 'demo', 'api-key')
    assert stored['metadata']['annotations'][HASH] == content_hash(secret) == content_hash(other_value)
    assert SECRET_VALUE not in str(stored['metadata'])


CHANGES = {
    'configmap-value': (('v1', 'ConfigMap', 'settings', {'data': {'LOG_LEVEL': 'debug'}}),
                        lambda s: s['data']['LOG_LEVEL'] == 'info'),
    'deployment-replicas': (('apps/v1', 'Deployment', 'web', {'spec': {'replicas': 3}}),
                            lambda s: s['spec']['replicas'] == 1),
    'secret-value': (('v1', 'Secret', 'api-key', {'data': {'API_KEY': base64.b64encode(b'changed').decode()}}),
                     lambda s: base64.b64decode(s['data']['API_KEY']).decode() == SECRET_VALUE),
    'hash-removed': (('v1', 'ConfigMap', 'settings', {'metadata': {'annotations': {HASH: None}}}),
                     lambda s: len(s['metadata']['annotations'][HASH]) == 64),
}
PLURALS = {'ConfigMap': 'configmaps', 'Deployment': 'deployments', 'Secret': 'secrets'}


@pytest.mark.parametrize('change', sorted(CHANGES))
def test_a_change_behind_the_collections_back_is_dry_run_and_applied(kube, delivered, change):
    (api_version, kind, name, patch), restored = CHANGES[change]
    change_behind_the_back(kube, api_version, kind, name, patch)
    mark = len(kube.calls)
    code, out = run_playbook('delivery-applied-drift', delivered, extra_vars=demo_vars(kube))
    assert code == 0, out[-3000:]
    assert applied(out) == ['{0} demo/{1}'.format(kind, name)], out[-3000:]
    assert [c[3] for c in kube.writes(mark)] == [name], kube.calls[mark:]
    # only the changed object went to the dry run
    dry_runs = [c for c in kube.calls[mark:] if c[4]]
    assert [(c[2], c[3]) for c in dry_runs] == [('demo', name)], dry_runs
    stored = kube.stored(api_version, PLURALS[kind], 'demo', name)
    assert restored(stored), stored


def test_a_field_the_definition_no_longer_sets_changes_the_hash(kube, delivered, tmp_path):
    # Containment alone cannot see a field dropped from the definition (the cluster still has it); the hash can, and
    # a real API server's server-side apply then removes the field this field manager owned. (kmock merges applies,
    # so here only the apply itself is checked.)
    docs = manifests()
    del docs[1]['data']['LOG_LEVEL']
    playbook = write_playbook(tmp_path / 'pb2', demo_play(docs))
    mark = len(kube.calls)
    code, out = run_playbook('delivery-applied-dropped', playbook, extra_vars=demo_vars(kube))
    assert code == 0, out[-3000:]
    assert applied(out) == ['ConfigMap demo/settings'], out[-3000:]
    assert len(kube.writes(mark)) == 1
    from ansible_collections.homelab.mediacluster.plugins.module_utils.k8s_applied import content_hash
    assert kube.stored('v1', 'configmaps', 'demo', 'settings')['metadata']['annotations'][HASH] == content_hash(docs[1])
