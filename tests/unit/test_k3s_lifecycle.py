"""The day-2 k3s logic in plugins/filter/k3s_lifecycle.py: the replace-a-server plan (quorum, single server,
unhealthy cluster, first server rejoining as a joiner), the etcd member check, and the one-minor-at-a-time upgrade
check; plus the shape of playbooks/replace_server.yml and upgrade.yml that use them (issue 14, items 8 and 10)."""

import importlib
import sys

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / '.collections'))
LIFE = importlib.import_module('ansible_collections.homelab.mediacluster.plugins.filter.k3s_lifecycle')

SERVERS = ['cp1', 'cp2', 'cp3']
NAMES = {'cp1': 'k3s-cp1', 'cp2': 'k3s-cp2', 'cp3': 'k3s-cp3'}


def node(name, ready=True):
    return {'metadata': {'name': name},
            'status': {'conditions': [{'type': 'MemoryPressure', 'status': 'False'},
                                      {'type': 'Ready', 'status': 'True' if ready else 'False'}]}}


ALL_READY = [node('k3s-cp1'), node('k3s-cp2'), node('k3s-cp3')]
OK = {'cp1': 'ok', 'cp2': 'ok', 'cp3': 'ok'}


def plan(replace, nodes=None, readyz=None, servers=None, names=None):
    return LIFE.k3s_replace_plan(SERVERS if servers is None else servers, replace, NAMES if names is None else names,
                                 ALL_READY if nodes is None else nodes, OK if readyz is None else readyz)


def test_replacing_the_first_server_rejoins_it_as_a_joining_server():
    result = plan('cp1')
    assert result['first_server'] is True and result['rejoin_role'] == 'join'
    assert result['node_name'] == 'k3s-cp1' and result['node_present'] is True
    assert result['helper'] == 'cp2' and result['healthy'] == ['cp2', 'cp3'] and result['quorum'] == 2


def test_a_dead_server_without_its_node_object_can_be_replaced():
    result = plan('cp2', nodes=[node('k3s-cp1'), node('k3s-cp3')], readyz={'cp1': 'ok', 'cp3': 'ok'})
    assert result['node_present'] is False and result['helper'] == 'cp1' and result['first_server'] is False


def test_the_target_itself_may_be_down():
    assert plan('cp3', nodes=[node('k3s-cp1'), node('k3s-cp2'), node('k3s-cp3', ready=False)])['helper'] == 'cp1'


@pytest.mark.parametrize('nodes, readyz, unhealthy', [
    ([node('k3s-cp1'), node('k3s-cp2', ready=False), node('k3s-cp3')], OK, 'cp2 (node k3s-cp2 not Ready)'),
    ([node('k3s-cp1'), node('k3s-cp3')], OK, 'cp2 (no etcd Node object)'),
    (ALL_READY, {'cp1': 'ok', 'cp2': '[-]etcd failed', 'cp3': 'ok'}, 'cp2 (/readyz: [-]etcd failed)'),
    (ALL_READY, {'cp1': 'ok', 'cp3': 'ok'}, 'cp2 (/readyz: no answer)'),
])
def test_refuses_when_the_removal_would_cost_quorum(nodes, readyz, unhealthy):
    with pytest.raises(AnsibleFilterError) as err:
        plan('cp3', nodes=nodes, readyz=readyz)
    assert 'quorum' in str(err.value) and unhealthy in str(err.value) and 'cp3' in str(err.value)


def test_five_servers_tolerate_one_unhealthy_other():
    servers = ['cp1', 'cp2', 'cp3', 'cp4', 'cp5']
    names = {s: 'k3s-' + s for s in servers}
    nodes = [node('k3s-' + s, ready=(s != 'cp4')) for s in servers]
    readyz = {s: 'ok' for s in servers}
    assert plan('cp5', nodes=nodes, readyz=readyz, servers=servers, names=names)['healthy'] == ['cp1', 'cp2', 'cp3']
    nodes[1] = node('k3s-cp2', ready=False)
    with pytest.raises(AnsibleFilterError, match='needs 3 healthy members besides'):
        plan('cp5', nodes=nodes, readyz=readyz, servers=servers, names=names)


def test_refuses_the_only_server():
    with pytest.raises(AnsibleFilterError, match='cp1 is the only k3s server'):
        plan('cp1', servers=['cp1'], nodes=[node('k3s-cp1')], readyz={})


def test_refuses_a_host_that_is_not_a_server():
    with pytest.raises(AnsibleFilterError, match="replace_server='w1' is not in the server group"):
        plan('w1')


def test_refuses_an_etcd_node_the_inventory_does_not_know():
    with pytest.raises(AnsibleFilterError, match='does not list: old-cp4'):
        plan('cp1', nodes=ALL_READY + [node('old-cp4')])


def test_etcd_members_of_a_node_by_k3s_member_name():
    info = {'members': [{'name': 'k3s-cp1-1a2b3c4d', 'peerURLs': ['https://10.0.0.11:2380']},
                        {'name': 'k3s-cp10-99aa88bb'}, {'name': 'k3s-cp2-0f0f0f0f'}, {'isLearner': True}]}
    assert LIFE.k3s_etcd_members_of(info, 'k3s-cp1') == ['k3s-cp1-1a2b3c4d']
    assert LIFE.k3s_etcd_members_of(info, 'k3s-cp3') == []
    assert LIFE.k3s_etcd_members_of({}, 'k3s-cp1') == []


@pytest.mark.parametrize('text, version', [
    ('k3s version v1.33.5+k3s1 (abcdef12)\ngo version go1.24.6', (1, 33, 5)),
    ('v1.34.1+k3s1', (1, 34, 1)),
    ('v1.32.0-rc1+k3s1', (1, 32, 0)),
    ('not a version', None),
])
def test_version_parsing(text, version):
    assert LIFE.k3s_version(text) == version


def test_upgrade_one_minor_or_patch_is_fine_and_fresh_nodes_are_skipped():
    current = {'cp1': 'k3s version v1.33.5+k3s1 (x)', 'w1': 'k3s version v1.34.0+k3s1 (x)', 'w2': ''}
    assert LIFE.k3s_upgrade_errors(current, 'v1.34.1+k3s1') == []
    assert LIFE.k3s_upgrade_errors({'cp1': 'v1.33.5+k3s1'}, 'v1.33.6+k3s1') == []


def test_upgrade_skipping_minor_versions_names_both_and_the_steps_between():
    errors = LIFE.k3s_upgrade_errors({'cp1': 'k3s version v1.31.4+k3s1 (x)', 'cp2': 'v1.33.5+k3s1'},
                                     'v1.34.1+k3s1')
    assert len(errors) == 1
    assert errors[0].startswith('cp1 runs v1.31.4+k3s1; v1.34.1+k3s1 would skip v1.32, v1.33')
    assert 'latest v1.32 release' in errors[0]


def test_upgrade_refuses_a_minor_downgrade_another_major_and_garbage():
    assert 'does not support downgrades' in LIFE.k3s_upgrade_errors({'cp1': 'v1.34.1+k3s1'}, 'v1.33.5+k3s1')[0]
    assert 'another major version' in LIFE.k3s_upgrade_errors({'cp1': 'v1.34.1+k3s1'}, 'v2.0.0+k3s1')[0]
    assert 'cannot read the installed k3s version' in LIFE.k3s_upgrade_errors({'cp1': 'segfault'}, 'v1.34.1')[0]
    assert 'is not a version' in LIFE.k3s_upgrade_errors({'cp1': 'v1.34.1+k3s1'}, 'latest')[0]


def _plays(name):
    return yaml.safe_load((ROOT / 'playbooks' / name).read_text())


def _names(tasks):
    out = []
    for task in tasks:
        out.append(task.get('name'))
        for key in ('block', 'rescue', 'always'):
            out.extend(_names(task.get(key, [])))
    return out


def test_replace_server_plays_in_order():
    plays = _plays('replace_server.yml')
    assert plays[-1]['ansible.builtin.import_playbook'] == '30_k3s.yml'  # the normal k3s roles rejoin it
    text = (ROOT / 'playbooks' / 'replace_server.yml').read_text()
    # the plan comes first, the Node object is deleted (never --force) before the host is wiped
    assert text.index('k3s_replace_plan') < text.index('kubectl delete node') < text.index('k3s_reset_node.yml')
    delete = next(t for p in plays for t in p.get('tasks', []) if 'kubectl delete node' in str(t))
    assert '--force' not in delete['ansible.builtin.command']  # a forced deletion skips k3s's etcd cleanup
    assert text.index('k3s_etcd_members_of') < text.index('k3s_reset_node.yml')
    wipe = next(p for p in plays if 'k3s_reset_node.yml' in str(p.get('tasks')))
    assert wipe['tasks'][0]['when'] == 'inventory_hostname == replace_server'


def test_upgrade_checks_the_versions_before_any_server_is_touched():
    plays = _plays('upgrade.yml')
    assert 'k3s_upgrade_errors' in yaml.safe_dump(plays[0]) and plays[0]['any_errors_fatal'] is True
    assert all('k3s_upgrade_errors' not in yaml.safe_dump(p) for p in plays[1:])
