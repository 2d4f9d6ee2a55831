"""What the k8s_delivery role reads from the API server, against the kmock emulator: a rerun of several apps in one
run reads the cluster's namespaces once (not once per app) and, finding every object as it applied it, dry-runs
nothing, and a delivery that writes makes the next one read the namespaces again, so a Pod Security level it just set
is the one the next app is checked against."""

import copy

from .conftest import recap, run_playbook, write_playbook
from .sample import manifests

DELIVER = 'homelab.mediacluster.k8s_delivery'
STRICT = {'apiVersion': 'v1', 'kind': 'Namespace',
          'metadata': {'name': 'strict', 'labels': {'pod-security.kubernetes.io/enforce': 'restricted'}}}
# A plain container: runs as root with privilege escalation allowed, which the restricted level refuses.
WORKLOAD = {'apiVersion': 'apps/v1', 'kind': 'Deployment', 'metadata': {'name': 'tool', 'namespace': 'strict'},
            'spec': {'replicas': 1, 'selector': {'matchLabels': {'app': 'tool'}},
                     'template': {'metadata': {'labels': {'app': 'tool'}},
                                  'spec': {'containers': [{'name': 'tool', 'image': 'busybox:1.37'}]}}}}


def deliveries(*apps):
    """One play delivering each (app, manifests) in turn through the role."""
    return [{'name': 'Deliver the apps', 'hosts': 'localhost', 'gather_facts': False,
             'tasks': [{'name': 'Deliver ' + app, 'ansible.builtin.include_role': {'name': DELIVER},
                        'vars': {'k8s_delivery_app': app, 'k8s_delivery_manifests': docs}} for app, docs in apps]}]


def namespace_lists(kube, since):
    return [c for c in kube.calls[since:] if c[0] == 'LIST' and "plural='namespaces'" in c[1]]


def compare_runs(output, app):
    return output.count('TASK [{0} : Compare with the cluster in one server-side dry run, {1}]'.format(DELIVER, app))


def test_a_rerun_reads_the_namespaces_once_and_dry_runs_nothing(kube, tmp_path):
    other = [copy.deepcopy(d) for d in manifests() if d['kind'] in ('ConfigMap', 'Service')]
    for doc in other:
        doc['metadata']['name'] += '-two'
    playbook = write_playbook(tmp_path / 'pb', deliveries(('demo', manifests()), ('demo-two', other)))
    extra = {'k8s_kubeconfig': str(kube.kubeconfig), 'k8s_delivery_wait': False}

    code, out = run_playbook('delivery-reads-first', playbook, extra_vars=extra)
    assert code == 0, out[-3000:]
    # The namespace demo does not exist yet: it is dry-run and applied before the objects that live in it.
    assert compare_runs(out, 'demo') == 2, out[-3000:]

    mark = len(kube.calls)
    code, out = run_playbook('delivery-reads-rerun', playbook, extra_vars=extra)
    assert code == 0, out[-3000:]
    assert recap(out)['changed'] == 0, out[-3000:]
    assert kube.writes(mark) == []
    assert len(namespace_lists(kube, mark)) == 1, kube.calls[mark:]
    # Each app is one batch (its namespace exists), read back and found unchanged: no dry run at all, not even a
    # skipped one (tests/delivery/test_delivery_applied.py: what does reach the dry run).
    assert (compare_runs(out, 'demo'), compare_runs(out, 'demo-two')) == (0, 0), out[-3000:]
    assert [c for c in kube.calls[mark:] if c[4]] == [], kube.calls[mark:]
    # The Namespace is still read back: drift in it is found.
    assert any(c[0] == 'FETCH' and "plural='namespaces'" in c[1] and c[3] == 'demo' for c in kube.calls[mark:]), \
        kube.calls[mark:]


def test_a_delivery_that_writes_makes_the_next_one_read_the_namespaces_again(kube, tmp_path):
    playbook = write_playbook(tmp_path / 'pb', deliveries(('ns', [STRICT]), ('tool', [WORKLOAD])))
    code, out = run_playbook('delivery-reads-stale', playbook,
                             extra_vars={'k8s_kubeconfig': str(kube.kubeconfig), 'k8s_delivery_wait': False})
    assert code != 0, out[-3000:]
    assert len(namespace_lists(kube, 0)) == 2, kube.calls
    assert 'tool, nothing was applied or written' in out, out[-3000:]
    assert 'restricted' in out and 'Deployment strict/tool' in out, out[-3000:]
    assert kube.stored('apps/v1', 'deployments', 'strict', 'tool') is None


def test_the_step_tags_reach_the_steps_inside_the_includes(kube, tmp_path):
    # reach_cluster.yml and compare.yml are includes inside the mode's include: --tags k8s_delivery still runs every
    # step, and a step's own tag runs that step alone
    playbook = write_playbook(tmp_path / 'pb', [{
        'name': 'Deliver the demo app', 'hosts': 'localhost', 'gather_facts': False,
        'roles': [{'role': DELIVER, 'vars': {'k8s_delivery_app': 'demo', 'k8s_delivery_manifests': manifests()}}]}])
    extra = {'k8s_kubeconfig': str(kube.kubeconfig), 'k8s_delivery_wait': False}
    code, out = run_playbook('delivery-tags-all', playbook, '--tags', 'k8s_delivery', extra_vars=extra)
    assert code == 0, out[-3000:]
    assert 'TASK [{0} : Ask the API server for its version]'.format(DELIVER) in out, out[-3000:]
    assert 'TASK [{0} : Compare with the cluster in one server-side dry run, demo]'.format(DELIVER) in out
    assert kube.stored('v1', 'configmaps', 'demo', 'settings') is not None, 'the step tags skipped the apply'

    mark = len(kube.calls)
    code, out = run_playbook('delivery-tags-reach', playbook, '--tags', 'k8s_delivery_reach_cluster',
                             extra_vars=extra)
    assert code == 0, out[-3000:]
    assert 'TASK [{0} : Ask the API server for its version]'.format(DELIVER) in out, out[-3000:]
    assert 'Check the manifests' not in out and 'Compare with the cluster' not in out, out[-3000:]
    assert kube.writes(mark) == []
