"""Issue 13, defect 5: k3s applies `node-label`/`node-taint` from its config only when a node first registers, so a
node added to gpu_nodes later never gets gpu=true nor the gpu=true:NoSchedule taint. playbooks/30_k3s.yml ends
with a step (tag k3s_node_labels) that reconciles them through the API in apply mode.

Against the kmock emulator: nodes registered before the inventory changed are seeded without the labels and
taints the inventory now gives them (plus a label and a taint of someone else's). --check writes nothing, the
run adds/updates only what the collection owns and keeps the rest, and a rerun makes zero writes."""

import json
import sys
import urllib.request

import pytest
import yaml

from ..conftest import ROOT
from ..delivery.conftest import kube, recap, run_playbook  # noqa: F401 (fixtures)  # pylint: disable=unused-import

PLAYBOOK = ROOT / 'playbooks' / '30_k3s.yml'
if str(ROOT / '.collections') not in sys.path:
    sys.path.insert(0, str(ROOT / '.collections'))
FOREIGN_TAINT = {'key': 'dedicated', 'value': 'media', 'effect': 'PreferNoSchedule'}


def _create_node(cluster, name, labels, taints=()):
    body = {'apiVersion': 'v1', 'kind': 'Node', 'metadata': {'name': name, 'labels': labels}}
    if taints:
        body['spec'] = {'taints': list(taints)}
    request = urllib.request.Request(cluster.url + '/api/v1/nodes', data=json.dumps(body).encode(), method='POST',
                                     headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 201)


LONGHORN = 'mediacluster.homelab/longhorn'  # k3s_common_longhorn_labels: every non-LXC node runs Longhorn's parts


def _playbook(directory, cluster, kubeconfig=None):
    """An inventory like the example's (servers, agents, a storage node, a GPU node added later); every host is
    this machine over a local connection, and only the emulator on loopback is ever called."""
    directory.mkdir(parents=True, exist_ok=True)
    local = {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}
    inventory = {'all': {
        'vars': {'k8s_kubeconfig': str(cluster.kubeconfig) if kubeconfig is None else kubeconfig,
                 'k3s_common_vip': '127.0.0.1'},
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
    # cp1 and w1 already carry what the collection gives them (the Longhorn component label since registration)
    _create_node(kube, 'cp1', {'kubernetes.io/hostname': 'cp1', LONGHORN: 'true'})
    _create_node(kube, 'w1', {'kubernetes.io/hostname': 'w1', 'node.longhorn.io/create-default-disk': 'true',
                              LONGHORN: 'true'})
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
    assert w3['metadata']['labels'] == {'kubernetes.io/hostname': 'w3', 'zone': 'b', 'team': 'media', 'gpu': 'true',
                                        LONGHORN: 'true'}
    assert sorted(w3['spec']['taints'], key=lambda t: t['key']) == [
        FOREIGN_TAINT, {'key': 'gpu', 'value': 'true', 'effect': 'NoSchedule'}], w3['spec']
    # the other nodes already had what the collection gives them: not written
    assert {w[3] for w in kube.writes(mark)} == {'w3'}, kube.writes(mark)
    assert _node(kube, 'w1')['metadata']['labels'] == {'kubernetes.io/hostname': 'w1',
                                                       'node.longhorn.io/create-default-disk': 'true',
                                                       LONGHORN: 'true'}
    assert 'taints' not in _node(kube, 'cp1').get('spec', {})

    mark = len(kube.calls)
    code, out = run_playbook('k3s-node-labels-rerun', playbook, '--tags', 'k3s_node_labels')
    assert code == 0, out[-3000:]
    assert kube.writes(mark) == [], kube.writes(mark)
    assert all(recap(out, host)['changed'] == 0 for host in ('cp1', 'w1', 'w3')), out[-3000:]


def test_no_kubeconfig_in_the_inventory_leaves_the_modules_their_own_default(kube, tmp_path):  # noqa: F811
    """The connection is set once for kubernetes.core's group (roles/k3s_common/vars/main.yml): an empty
    k8s_kubeconfig is left out of the calls, so the modules use their own default - here K8S_AUTH_KUBECONFIG - and
    do not receive an empty path."""
    _create_node(kube, 'w3', {'kubernetes.io/hostname': 'w3'})
    playbook = _playbook(tmp_path / 'pb', kube, kubeconfig='')
    mark = len(kube.calls)
    code, out = run_playbook('k3s-node-labels-env-kubeconfig', playbook, '--tags', 'k3s_node_labels', '--limit', 'w3',
                             K8S_AUTH_KUBECONFIG=str(kube.kubeconfig))
    assert code == 0, out[-3000:]
    assert {w[3] for w in kube.writes(mark)} == {'w3'}, kube.writes(mark)
    assert _node(kube, 'w3')['metadata']['labels']['gpu'] == 'true'


# ------------------------------------------------------------------------------ the patch, as a pure function
def _patch(node, labels, taints):
    from ansible_collections.homelab.mediacluster.plugins.filter.k3s import k3s_node_patch

    return k3s_node_patch(node, labels, taints)


GPU = {'key': 'gpu', 'value': 'true', 'effect': 'NoSchedule'}


@pytest.mark.parametrize('node, labels, taints, expected', [
    # nothing to do: no write
    ({'metadata': {'labels': {'gpu': 'true'}}, 'spec': {'taints': [GPU]}}, {'gpu': 'true'}, ['gpu=true:NoSchedule'],
     {}),
    ({'metadata': {'name': 'n'}}, {}, [], {}),
    # a missing label is added, an owned one updated; the patch names only those (merge patch keeps the rest)
    ({'metadata': {'labels': {'a': '1', 'zone': 'a'}}}, {'zone': 'b', 'gpu': True}, [],
     {'metadata': {'labels': {'zone': 'b', 'gpu': 'True'}}}),
    # a missing taint is appended after the node's own, with the resourceVersion it was computed from
    ({'metadata': {'resourceVersion': '42'}, 'spec': {'taints': [{'key': 'x', 'effect': 'NoExecute'}]}}, {},
     ['gpu=true:NoSchedule'],
     {'metadata': {'resourceVersion': '42'}, 'spec': {'taints': [{'key': 'x', 'effect': 'NoExecute'}, GPU]}}),
    # an owned taint (same key and effect) with another value is updated where it stands
    ({'spec': {'taints': [{'key': 'gpu', 'value': 'false', 'effect': 'NoSchedule'},
                          {'key': 'y', 'effect': 'NoExecute'}]}},
     {}, ['gpu=true:NoSchedule'], {'spec': {'taints': [GPU, {'key': 'y', 'effect': 'NoExecute'}]}}),
    # same key, another effect: a different taint, both kept
    ({'spec': {'taints': [{'key': 'gpu', 'value': 'true', 'effect': 'PreferNoSchedule'}]}}, {},
     ['gpu=true:NoSchedule'],
     {'spec': {'taints': [{'key': 'gpu', 'value': 'true', 'effect': 'PreferNoSchedule'}, GPU]}}),
    # key:Effect without a value (the quorum-only control-plane taint)
    ({'spec': {}}, {}, ['node-role.kubernetes.io/control-plane:NoSchedule'],
     {'spec': {'taints': [{'key': 'node-role.kubernetes.io/control-plane', 'effect': 'NoSchedule'}]}}),
    ({'spec': {'taints': [{'key': 'node-role.kubernetes.io/control-plane', 'effect': 'NoSchedule'}]}}, {},
     ['node-role.kubernetes.io/control-plane:NoSchedule'], {}),
])
def test_node_patch(node, labels, taints, expected):
    before = json.dumps(node, sort_keys=True)
    assert _patch(node, labels, taints) == expected
    assert json.dumps(node, sort_keys=True) == before, 'the node read from the API was modified'


@pytest.mark.parametrize('taint', ['gpu=true', 'gpu=true:NoSchedul', ':NoSchedule', 'gpu=true:'])
def test_bad_taint_is_named(taint):
    from ansible.errors import AnsibleFilterError

    with pytest.raises(AnsibleFilterError, match='is not key=value:Effect or key:Effect'):
        _patch({}, {}, [taint])
