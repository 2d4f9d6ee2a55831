"""Issue 13, defect 5: k3s applies `node-label`/`node-taint` from its config only when a node first registers, so a
node added to gpu_nodes later never gets gpu=true nor the gpu=true:NoSchedule taint. playbooks/30_k3s.yml ends
with a step (tag k3s_node_labels) that reconciles them through the API in apply mode.

Against the kmock emulator: nodes registered before the inventory changed are seeded without the labels and
taints the inventory now gives them (plus a label and a taint of someone else's). --check writes nothing, the
run adds/updates only what the collection owns and keeps the rest, and a rerun makes zero writes."""

import json
import sys
import urllib.request

import yaml

from ..conftest import ROOT
from ..delivery.conftest import kube, recap, run_playbook  # noqa: F401  (fixture re-exported)

PLAYBOOK = ROOT / 'playbooks' / '30_k3s.yml'
FOREIGN_TAINT = {'key': 'dedicated', 'value': 'media', 'effect': 'PreferNoSchedule'}


def _create_node(cluster, name, labels, taints=()):
    body = {'apiVersion': 'v1', 'kind': 'Node', 'metadata': {'name': name, 'labels': labels}}
    if taints:
        body['spec'] = {'taints': list(taints)}
    request = urllib.request.Request(cluster.url + '/api/v1/nodes', data=json.dumps(body).encode(), method='POST',
                                     headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 201)


def _playbook(directory, cluster):
    """An inventory like the example's (servers, agents, a storage node, a GPU node added later); every host is
    this machine over a local connection, and only the emulator on loopback is ever called."""
    directory.mkdir(parents=True, exist_ok=True)
    local = {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}
    inventory = {'all': {
        'vars': {'k8s_kubeconfig': str(cluster.kubeconfig), 'k3s_common_vip': '127.0.0.1'},
        'children': {
            'controller': {'hosts': {'localhost': dict(local)}},
            'k3s_cluster': {'children': {
                'k3s_servers': {'hosts': {'cp1': dict(local)}},
                'k3s_agents': {'hosts': {'w1': dict(local), 'w3': dict(local, k3s_common_node_labels={'zone': 'b'})}},
            }},
            'storage_nodes': {'hosts': {'w1': {}}},
            'gpu_nodes': {'hosts': {'w3': {}}},
        }}}
    (directory / 'inventory.yml').write_text(yaml.safe_dump(inventory))
    # run_playbook reads the inventory next to the playbook: point at the real 30_k3s.yml from there
    path = directory / 'play.yml'
    path.write_text(yaml.safe_dump([{'ansible.builtin.import_playbook': str(PLAYBOOK)}]))
    return path


def _node(cluster, name):
    return cluster.stored('v1', 'nodes', None, name)


def test_label_step_reconciles_labels_and_taints_of_registered_nodes(kube, tmp_path):  # noqa: F811
    _create_node(kube, 'cp1', {'kubernetes.io/hostname': 'cp1'})
    _create_node(kube, 'w1', {'kubernetes.io/hostname': 'w1', 'node.longhorn.io/create-default-disk': 'true'})
    # w3 registered before it was put in gpu_nodes: no gpu label, no gpu taint, a stale value of an owned label,
    # and a label and a taint somebody else set
    _create_node(kube, 'w3', {'kubernetes.io/hostname': 'w3', 'zone': 'a', 'team': 'media'}, [FOREIGN_TAINT])
    playbook = _playbook(tmp_path / 'pb', kube)

    mark = len(kube.calls)
    code, out = run_playbook('k3s-node-labels-check', playbook, '--tags', 'k3s_node_labels', '--check', '--diff')
    assert code == 0, out[-3000:]
    assert kube.writes(mark) == [], kube.writes(mark)
    assert 'gpu' not in _node(kube, 'w3')['metadata']['labels']

    mark = len(kube.calls)
    code, out = run_playbook('k3s-node-labels-apply', playbook, '--tags', 'k3s_node_labels')
    assert code == 0, out[-3000:]
    w3 = _node(kube, 'w3')
    assert w3['metadata']['labels'] == {'kubernetes.io/hostname': 'w3', 'zone': 'b', 'team': 'media', 'gpu': 'true'}
    assert sorted(w3['spec']['taints'], key=lambda t: t['key']) == [
        FOREIGN_TAINT, {'key': 'gpu', 'value': 'true', 'effect': 'NoSchedule'}], w3['spec']
    # the other nodes already had what the collection gives them: not written
    assert {w[3] for w in kube.writes(mark)} == {'w3'}, kube.writes(mark)
    assert _node(kube, 'w1')['metadata']['labels'] == {'kubernetes.io/hostname': 'w1',
                                                       'node.longhorn.io/create-default-disk': 'true'}
    assert 'taints' not in _node(kube, 'cp1').get('spec', {})

    mark = len(kube.calls)
    code, out = run_playbook('k3s-node-labels-rerun', playbook, '--tags', 'k3s_node_labels')
    assert code == 0, out[-3000:]
    assert kube.writes(mark) == [], kube.writes(mark)
    assert all(recap(out, host)['changed'] == 0 for host in ('cp1', 'w1', 'w3')), out[-3000:]
