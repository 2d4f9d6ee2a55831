"""Scheduling rules of plugins/module_utils/cluster_scheduling.py: nodeSelector, required node affinity (every
operator, matchFields), taints and tolerations, extended resources from device plugins, DaemonSets, preferred
affinity. Each rule has a case that passes and one that fails."""

import pytest

from ansible_collections.homelab.mediacluster.plugins.module_utils import cluster_scheduling as cs


def node(name, labels=None, taints=None):
    base = {'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux'}
    base.update(labels or {})
    return {'name': name, 'labels': base, 'taints': taints or []}


NODES = [
    node('cp1', {'node-role.kubernetes.io/control-plane': 'true', 'cores': '2'}),
    node('w1', {'disk': 'ssd', 'cores': '4'}),
    node('w3', {'gpu': 'true', 'cores': '8'}, [{'key': 'gpu', 'value': 'true', 'effect': 'NoSchedule'}]),
]


def deployment(spec, name='app', kind='Deployment'):
    spec = dict(spec)
    spec.setdefault('containers', [{'name': 'c', 'image': 'busybox'}])
    return {'apiVersion': 'apps/v1', 'kind': kind, 'metadata': {'name': name, 'namespace': 'media'},
            'spec': {'template': {'metadata': {'labels': {'app': name}}, 'spec': spec}}}


def where(spec, nodes=None, kind='Deployment'):
    errors, warnings, placed = cs.placements([deployment(spec, kind=kind)], NODES if nodes is None else nodes)
    return errors, warnings, placed['{0} media/app'.format(kind)]


def affinity(*terms):
    return {'affinity': {'nodeAffinity': {'requiredDuringSchedulingIgnoredDuringExecution': {
        'nodeSelectorTerms': list(terms)}}}}


def expr(key, operator, *values):
    out = {'key': key, 'operator': operator}
    if values:
        out['values'] = list(values)
    return out


def test_no_constraints_runs_on_every_untainted_node():
    errors, _unused, placed = where({})
    assert errors == [] and placed == ['cp1', 'w1']


@pytest.mark.parametrize('selector,expected', [
    ({'disk': 'ssd'}, ['w1']),
    ({'kubernetes.io/hostname': 'cp1'}, ['cp1']),
])
def test_node_selector_matches(selector, expected):
    errors, _unused, placed = where({'nodeSelector': selector})
    assert errors == [] and placed == expected


def test_node_selector_matching_nothing_is_an_error_naming_the_label():
    errors, _unused, placed = where({'nodeSelector': {'disk': 'nvme'}})
    assert placed == []
    assert len(errors) == 1 and 'Deployment media/app' in errors[0] and 'disk=nvme' in errors[0]
    assert 'no node can run it' in errors[0]


@pytest.mark.parametrize('expression,expected', [
    (expr('disk', 'In', 'ssd', 'hdd'), ['w1']),
    (expr('disk', 'NotIn', 'ssd'), ['cp1']),
    (expr('disk', 'Exists'), ['w1']),
    (expr('disk', 'DoesNotExist'), ['cp1']),
    (expr('cores', 'Gt', '3'), ['w1']),
    (expr('cores', 'Lt', '3'), ['cp1']),
    (expr('cores', 'Gt', 'x'), []),
    (expr('disk', 'In', 'nvme'), []),
])
def test_required_affinity_operators(expression, expected):
    errors, _unused, placed = where(affinity({'matchExpressions': [expression]}))
    assert placed == expected
    assert (errors == []) == bool(expected)


def test_required_affinity_terms_are_ored_expressions_anded():
    placed = where(affinity({'matchExpressions': [expr('disk', 'Exists'), expr('cores', 'Lt', '3')]},
                            {'matchExpressions': [expr('node-role.kubernetes.io/control-plane', 'Exists')]}))[2]
    assert placed == ['cp1']


@pytest.mark.parametrize('operator,values,expected', [
    ('In', ['w1'], ['w1']),
    ('NotIn', ['w1'], ['cp1']),
    ('In', ['w9'], []),
])
def test_match_fields_metadata_name(operator, values, expected):
    _unused, _unused, placed = where(affinity({'matchFields': [{'key': 'metadata.name', 'operator': operator,
                                                                'values': values}]}))
    assert placed == expected


def test_match_fields_other_than_metadata_name_is_an_error():
    errors, _unused, _unused = where(affinity({'matchFields': [expr('spec.unschedulable', 'In', 'false')]}))
    assert errors and 'metadata.name' in errors[0]


def test_empty_term_matches_no_node():
    errors, _unused, placed = where(affinity({}))
    assert placed == [] and errors


@pytest.mark.parametrize('toleration,fits_gpu', [
    ({'key': 'gpu', 'operator': 'Equal', 'value': 'true', 'effect': 'NoSchedule'}, True),
    ({'key': 'gpu', 'value': 'true'}, True),  # operator defaults to Equal, empty effect matches all
    ({'key': 'gpu', 'operator': 'Exists'}, True),
    ({'operator': 'Exists'}, True),  # empty key with Exists tolerates everything
    ({'key': 'gpu', 'operator': 'Equal', 'value': 'false', 'effect': 'NoSchedule'}, False),
    ({'key': 'gpu', 'operator': 'Exists', 'effect': 'NoExecute'}, False),
    ({'key': 'other', 'operator': 'Exists'}, False),
])
def test_tolerations_against_the_gpu_taint(toleration, fits_gpu):
    _unused, _unused, placed = where({'nodeSelector': {'gpu': 'true'}, 'tolerations': [toleration]})
    assert placed == (['w3'] if fits_gpu else [])


def test_untolerated_taint_error_names_the_taint():
    errors, _unused, _unused = where({'nodeSelector': {'gpu': 'true'}})
    assert 'gpu=true:NoSchedule not tolerated' in errors[0]


def test_no_execute_taint_filters_and_prefer_no_schedule_does_not():
    nodes = [node('a', taints=[{'key': 'k', 'effect': 'NoExecute'}]),
             node('b', taints=[{'key': 'k', 'effect': 'PreferNoSchedule'}])]
    _unused, _unused, placed = where({}, nodes)
    assert placed == ['b']


GPU_PLUGIN = {'apiVersion': 'apps/v1', 'kind': 'DaemonSet',
              'metadata': {'name': 'intel-gpu-plugin', 'namespace': 'intel-gpu-plugin'},
              'spec': {'template': {'spec': {
                  'nodeSelector': {'gpu': 'true'},
                  'tolerations': [{'key': 'gpu', 'operator': 'Exists', 'effect': 'NoSchedule'}],
                  'containers': [{'name': 'p', 'image': 'docker.io/intel/intel-gpu-plugin:0.32.0'}]}}}}
PLEX = deployment({'tolerations': [{'key': 'gpu', 'operator': 'Exists'}],
                   'containers': [{'name': 'plex', 'image': 'plex',
                                   'resources': {'limits': {'gpu.intel.com/i915': '1'}}}]}, name='plex')


def test_extended_resource_lands_where_the_device_plugin_runs():
    errors, _unused, placed = cs.placements([GPU_PLUGIN, PLEX], NODES)
    assert errors == []
    assert placed['Deployment media/plex'] == ['w3']
    assert placed['DaemonSet intel-gpu-plugin/intel-gpu-plugin'] == ['w3']


def test_extended_resource_without_any_plugin_is_an_error():
    errors, _unused, _unused = cs.placements([PLEX], NODES)
    assert len(errors) == 1 and 'gpu.intel.com/i915' in errors[0] and 'device plugin' in errors[0]


def test_extended_resource_with_a_refused_plugin_is_an_error_naming_the_refusal():
    errors, _unused, _unused = cs.placements([GPU_PLUGIN, PLEX], NODES, admitted=lambda obj: 'hostPath volumes')
    assert len(errors) == 1 and 'Deployment media/plex' in errors[0] and 'hostPath volumes' in errors[0]


def test_extended_resource_plugin_on_other_nodes_than_the_pod_is_an_error():
    pinned = deployment({'nodeSelector': {'disk': 'ssd'},
                         'containers': [{'name': 'p', 'image': 'x',
                                         'resources': {'requests': {'gpu.intel.com/i915': '1'}}}]}, name='plex')
    errors, _unused, _unused = cs.placements([GPU_PLUGIN, pinned], NODES)
    assert errors and 'no admitted device plugin advertising gpu.intel.com/i915 runs there' in errors[0]


def test_device_plugin_annotation_declares_the_resource():
    plugin = {'kind': 'DaemonSet', 'metadata': {'name': 'p', 'namespace': 'x',
                                                'annotations': {cs.PROVIDES_ANNOTATION: 'example.com/dongle'}},
              'spec': {'template': {'spec': {'containers': [{'name': 'p', 'image': 'acme/p'}]}}}}
    pod = deployment({'containers': [{'name': 'c', 'image': 'c',
                                      'resources': {'limits': {'example.com/dongle': '1'}}}]})
    errors, _unused, placed = cs.placements([plugin, pod], NODES)
    assert errors == [] and placed['Deployment media/app'] == ['cp1', 'w1']


def test_standard_resources_are_not_extended():
    assert cs.extended_resources({'containers': [{'resources': {'requests': {
        'cpu': '1', 'memory': '1Gi', 'hugepages-2Mi': '1', 'ephemeral-storage': '1G'}}}]}) == []


def test_daemonset_with_no_node_is_an_error():
    errors, _unused, placed = where({'nodeSelector': {'nothing': 'here'}}, kind='DaemonSet')
    assert placed == [] and 'a DaemonSet with no node runs nothing' in errors[0]


def test_daemonset_runs_on_every_matching_node():
    errors, _unused, placed = where({'tolerations': [{'operator': 'Exists'}]}, kind='DaemonSet')
    assert errors == [] and placed == ['cp1', 'w1', 'w3']


def test_preferred_affinity_matching_no_node_is_a_warning():
    spec = {'affinity': {'nodeAffinity': {'preferredDuringSchedulingIgnoredDuringExecution': [
        {'weight': 50, 'preference': {'matchExpressions': [expr('kubernetes.io/hostname', 'In', 'w9')]}}]}}}
    errors, warnings, placed = where(spec)
    assert errors == [] and placed == ['cp1', 'w1']
    assert len(warnings) == 1 and 'preferred node affinity' in warnings[0]


def test_preferred_affinity_matching_a_node_is_quiet():
    spec = {'affinity': {'nodeAffinity': {'preferredDuringSchedulingIgnoredDuringExecution': [
        {'weight': 50, 'preference': {'matchExpressions': [expr('kubernetes.io/hostname', 'In', 'w1')]}}]}}}
    errors, warnings, _unused = where(spec)
    assert errors == [] and warnings == []


@pytest.mark.parametrize('kind', ['Pod', 'StatefulSet', 'ReplicaSet', 'Job', 'CronJob'])
def test_every_workload_kind_is_evaluated(kind):
    spec = {'nodeSelector': {'disk': 'nvme'}, 'containers': [{'name': 'c', 'image': 'c'}]}
    if kind == 'Pod':
        obj = {'kind': 'Pod', 'metadata': {'name': 'app', 'namespace': 'media'}, 'spec': spec}
    elif kind == 'CronJob':
        obj = {'kind': 'CronJob', 'metadata': {'name': 'app', 'namespace': 'media'},
               'spec': {'jobTemplate': {'spec': {'template': {'spec': spec}}}}}
    else:
        obj = deployment(spec, kind=kind)
    errors, _unused, _unused = cs.placements([obj], NODES)
    assert len(errors) == 1 and errors[0].startswith('{0} media/app'.format(kind))


def test_longhorn_chart_values_become_workloads():
    chart = {'kind': 'HelmChart', 'metadata': {'name': 'longhorn', 'namespace': 'kube-system'},
             'spec': {'chart': 'longhorn', 'targetNamespace': 'longhorn-system', 'valuesContent':
                      'longhornManager:\n  nodeSelector: {disk: ssd}\n'
                      'defaultSettings:\n  systemManagedComponentsNodeSelector: "disk:ssd"\n'
                      '  taintToleration: "gpu=true:NoSchedule"\n'}}
    errors, _unused, placed = cs.placements([chart], NODES)
    assert placed['DaemonSet longhorn-system/longhorn-manager'] == ['w1']
    assert placed['DaemonSet longhorn-system/longhorn-csi-plugin'] == ['w1']
    assert placed['Deployment longhorn-system/longhorn-ui'] == ['cp1', 'w1']
    assert errors == []
    chart['spec']['valuesContent'] = 'longhornManager:\n  nodeSelector: {disk: nvme}\n'
    errors, _unused, _unused = cs.placements([chart], NODES)
    assert len(errors) == 1 and 'longhorn-manager' in errors[0] and 'HelmChart kube-system/longhorn' in errors[0]
