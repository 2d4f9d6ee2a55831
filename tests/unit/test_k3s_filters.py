"""The k3s ordering and safety logic in plugins/filter/k3s.py: join plan, restart quorum, cluster checks,
architecture mapping and the key-by-key kernel command line edit."""

import importlib.util
import sys

import pytest

from ..conftest import ROOT

sys.path.insert(0, str(ROOT / '.collections'))  # the filter imports its module_utils from there
_spec = importlib.util.spec_from_file_location('k3s_filters', ROOT / 'plugins' / 'filter' / 'k3s.py')
k3s = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(k3s)


# --- join plan -------------------------------------------------------------------------------------------------

def test_fresh_cluster_first_server_bootstraps_others_join_in_order():
    plan = k3s.k3s_join_plan(['cp1', 'cp2', 'cp3'])
    assert plan['bootstrap'] == 'cp1' and plan['seed'] == 'cp1'
    assert plan['joiners'] == ['cp2', 'cp3']
    assert plan['roles'] == {'cp1': 'init', 'cp2': 'join', 'cp3': 'join'}
    assert plan['existing'] is False and plan['quorum'] == 2


def test_rerun_on_existing_cluster_keeps_every_role_and_bootstraps_nobody():
    plan = k3s.k3s_join_plan(['cp1', 'cp2', 'cp3'], ['cp3', 'cp1', 'cp2'])
    assert plan['bootstrap'] is None and plan['joiners'] == []
    # the same config as the first run: cp1 keeps cluster-init, so a rerun renders identical files
    assert plan['roles'] == {'cp1': 'init', 'cp2': 'join', 'cp3': 'join'}
    assert plan['existing'] is True and plan['members'] == ['cp1', 'cp2', 'cp3']


def test_wiped_first_server_rejoins_instead_of_forking_a_new_cluster():
    plan = k3s.k3s_join_plan(['cp1', 'cp2', 'cp3'], ['cp2', 'cp3'])
    assert plan['bootstrap'] is None
    assert plan['seed'] == 'cp2'
    assert plan['roles']['cp1'] == 'join'
    assert plan['joiners'] == ['cp1']


def test_added_server_joins_after_existing_members():
    plan = k3s.k3s_join_plan(['cp1', 'cp2', 'cp3', 'cp4', 'cp5'], ['cp1', 'cp2', 'cp3'])
    assert plan['joiners'] == ['cp4', 'cp5'] and plan['quorum'] == 3


def test_single_server():
    plan = k3s.k3s_join_plan(['only'])
    assert plan['roles'] == {'only': 'init'} and plan['joiners'] == [] and plan['quorum'] == 1


@pytest.mark.parametrize('servers', [[], ['cp1', 'cp1']])
def test_join_plan_rejects_empty_or_duplicate_groups(servers):
    with pytest.raises(Exception, match='k3s_join_plan'):
        k3s.k3s_join_plan(servers)


# --- restart quorum --------------------------------------------------------------------------------------------

@pytest.mark.parametrize('healthy,total,allowed', [
    (3, 3, True),    # one restart leaves 2 of 3
    (2, 3, False),   # one member is already down: restarting another loses quorum
    (5, 5, True), (4, 5, True), (3, 5, False),
    (1, 1, True),    # a single server has no quorum to keep
    (0, 3, False),
])
def test_restart_allowed(healthy, total, allowed):
    assert k3s.k3s_restart_allowed(healthy, total) is allowed


# --- cluster checks --------------------------------------------------------------------------------------------

def _node(name, ip, *, arch='x86_64', gpu=False, labels=None, taints=None, node_name=None, cidr=None):
    return {'name': name, 'node_name': node_name or name, 'ip': ip, 'cidr': cidr or ip + '/24', 'arch': arch,
            'gpu': gpu, 'labels': labels or {}, 'taints': taints or []}


def _cluster(**changes):
    cluster = {
        'vip': '192.168.1.100',
        'servers': [_node('cp1', '192.168.1.11'), _node('cp2', '192.168.1.21'), _node('cp3', '192.168.1.30',
                                                                                      arch='aarch64')],
        'agents': [_node('w1', '192.168.1.12'),
                   _node('w3', '192.168.1.13', gpu=True, labels={'gpu': 'true'}, taints=['gpu=true:NoSchedule'])],
    }
    cluster.update(changes)
    return cluster


def test_seed_topology_passes():
    assert k3s.k3s_cluster_errors(_cluster()) == []


def test_even_server_count_is_rejected():
    cluster = _cluster()
    cluster['servers'] = cluster['servers'][:2]
    errors = k3s.k3s_cluster_errors(cluster)
    assert len(errors) == 1 and '2 servers' in errors[0] and 'odd number' in errors[0]


def test_even_count_uses_the_group_when_some_hosts_are_not_described():
    errors = k3s.k3s_cluster_errors(_cluster(server_names=['cp1', 'cp2', 'cp3', 'cp4']))
    assert any('4 servers' in e for e in errors)


@pytest.mark.parametrize('vip,fragment', [
    ('10.0.0.100', 'outside the subnet'),
    ('192.168.1.21', 'is the IP of cp2'),
    ('not-an-ip', 'is not an IP address'),
])
def test_bad_vip_is_rejected(vip, fragment):
    errors = k3s.k3s_cluster_errors(_cluster(vip=vip))
    assert errors and all('k3s_common_vip' in e for e in errors)
    assert any(fragment in e for e in errors)


def test_duplicate_node_names_are_rejected():
    cluster = _cluster()
    cluster['agents'][0]['node_name'] = 'CP1'
    errors = k3s.k3s_cluster_errors(cluster)
    assert len(errors) == 1 and 'duplicate node name' in errors[0] and 'cp1 and w1' in errors[0]


@pytest.mark.parametrize('labels,taints,fragment', [
    ({'gpu': 'true'}, [], 'no gpu=…:NoSchedule taint'),
    ({}, ['gpu=true:NoSchedule'], 'no gpu label'),
])
def test_gpu_node_needs_label_and_taint(labels, taints, fragment):
    cluster = _cluster()
    cluster['agents'][1].update(labels=labels, taints=taints)
    errors = k3s.k3s_cluster_errors(cluster)
    assert len(errors) == 1 and fragment in errors[0] and errors[0].startswith('w3')


def test_unsupported_architecture_is_rejected():
    cluster = _cluster()
    cluster['agents'][0]['arch'] = 's390x'
    errors = k3s.k3s_cluster_errors(cluster)
    assert len(errors) == 1 and "'s390x' is not supported" in errors[0]


@pytest.mark.parametrize('machine,arch', [('x86_64', 'amd64'), ('aarch64', 'arm64'), ('armv7l', 'armhf'),
                                          ('riscv64', None), ('', None)])
def test_arch_mapping(machine, arch):
    assert k3s.k3s_arch(machine) == arch


# --- kernel command line ---------------------------------------------------------------------------------------

PI = {'cgroup_memory': 1, 'cgroup_enable': ['memory', 'cpuset']}
BASE = 'console=serial0,115200 console=tty1 root=PARTUUID=6c586e13-02 rootfstype=ext4 fsck.repair=yes rootwait'


def test_cmdline_adds_missing_keys_once():
    assert k3s.kernel_cmdline_set(BASE, PI) == BASE + ' cgroup_memory=1 cgroup_enable=memory cgroup_enable=cpuset'


def test_cmdline_is_idempotent():
    once = k3s.kernel_cmdline_set(BASE, PI)
    assert k3s.kernel_cmdline_set(once, PI) == once


def test_cmdline_removes_duplicates_and_fixes_values_in_place():
    line = BASE + ' cgroup_enable=memory cgroup_memory=0 cgroup_enable=memory quiet cgroup_memory=1'
    result = k3s.kernel_cmdline_set(line, PI).split()
    assert result.count('cgroup_enable=memory') == 1 and result.count('cgroup_enable=cpuset') == 1
    assert [w for w in result if w.startswith('cgroup_memory')] == ['cgroup_memory=1']
    assert 'quiet' in result and result[:6] == BASE.split()


def test_cmdline_keeps_unmanaged_values_of_a_repeatable_key_and_bare_flags():
    result = k3s.kernel_cmdline_set(BASE + ' cgroup_enable=blkio', dict(PI, nosplash=None)).split()
    assert 'cgroup_enable=blkio' in result and result.count('nosplash') == 1


def test_cmdline_absent_keys_go_everywhere_and_a_one_value_list_is_repeatable():
    line = BASE + ' cgroup_memory=1 cgroup_enable=cpuset cgroup_memory=1'
    result = k3s.kernel_cmdline_set(line, {'cgroup_enable': ['memory']}, ['cgroup_memory']).split()
    assert 'cgroup_memory=1' not in result
    assert result == BASE.split() + ['cgroup_enable=cpuset', 'cgroup_enable=memory']


def test_cmdline_key_both_wanted_and_absent_is_refused():
    with pytest.raises(k3s.AnsibleFilterError, match='both wanted and absent'):
        k3s.kernel_cmdline_set(BASE, {'cgroup_memory': 1}, ['cgroup_memory'])


# --- container guests ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('facts, expected', [
    ({'virtualization_role': 'guest', 'virtualization_type': 'lxc'}, True),  # a Proxmox LXC GPU node
    ({'virtualization_role': 'guest', 'virtualization_type': 'podman'}, True),  # the lab's nodes
    ({'virtualization_role': 'guest', 'virtualization_type': 'openvz'}, True),
    ({'virtualization_role': 'guest', 'virtualization_type': 'kvm'}, False),  # a Proxmox VM keeps its own kernel
    ({'virtualization_role': 'host', 'virtualization_type': 'lxc'}, False),  # the Proxmox host itself
    ({'virtualization_role': 'NA', 'virtualization_type': 'NA'}, False),  # bare metal, a Raspberry Pi
    ({}, False),
])
def test_node_is_container(facts, expected):
    assert k3s.node_is_container(facts) is expected
