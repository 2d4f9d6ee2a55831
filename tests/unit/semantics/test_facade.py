"""The facade module_utils/cluster_semantics.check(): the three rule sets together, namespace labels merged (rendered
Namespaces win), context objects used but not reported, and Pod Security admission deciding whether a device plugin
counts, with the real Pod Security rules (module_utils/pod_security.py)."""

from ansible_collections.homelab.mediacluster.plugins.module_utils import cluster_semantics

NODES = [{'name': 'w1', 'labels': {'kubernetes.io/hostname': 'w1'}, 'taints': []},
         {'name': 'w3', 'labels': {'kubernetes.io/hostname': 'w3', 'gpu': 'true'},
          'taints': [{'key': 'gpu', 'value': 'true', 'effect': 'NoSchedule'}]}]
PLUGIN = {'apiVersion': 'apps/v1', 'kind': 'DaemonSet', 'metadata': {'name': 'intel-gpu-plugin', 'namespace': 'gpu'},
          'spec': {'template': {'spec': {
              'nodeSelector': {'gpu': 'true'}, 'tolerations': [{'key': 'gpu', 'operator': 'Exists'}],
              'containers': [{'name': 'p', 'image': 'intel/intel-gpu-plugin:0.32.0'}],
              'volumes': [{'name': 'dri', 'hostPath': {'path': '/dev/dri'}}]}}}}
PLEX = {'apiVersion': 'apps/v1', 'kind': 'StatefulSet', 'metadata': {'name': 'plex', 'namespace': 'media'},
        'spec': {'template': {'metadata': {'labels': {'app': 'plex'}}, 'spec': {
            'tolerations': [{'key': 'gpu', 'operator': 'Exists'}],
            'containers': [{'name': 'plex', 'image': 'plex',
                            'resources': {'limits': {'gpu.intel.com/i915': '1'}}}]}}}}


def namespace(name, level):
    return {'apiVersion': 'v1', 'kind': 'Namespace',
            'metadata': {'name': name, 'labels': {'pod-security.kubernetes.io/enforce': level}}}


def test_merged_namespace_labels_rendered_win_and_carry_the_name_label():
    labels = cluster_semantics.merged_namespace_labels([namespace('gpu', 'privileged')],
                                                       {'gpu': {'x': 'y'}, 'kube-system': {}})
    assert labels['gpu'] == {'pod-security.kubernetes.io/enforce': 'privileged', 'kubernetes.io/metadata.name': 'gpu'}
    assert labels['kube-system'] == {'kubernetes.io/metadata.name': 'kube-system'}


def test_device_plugin_in_a_privileged_namespace_gives_plex_its_gpu():
    result = cluster_semantics.check([PLEX], NODES, [], context_manifests=[namespace('gpu', 'privileged'), PLUGIN])
    assert result['errors'] == []


def test_device_plugin_refused_by_pod_security_leaves_plex_without_a_node():
    result = cluster_semantics.check([PLEX], NODES, [], context_manifests=[namespace('gpu', 'baseline'), PLUGIN])
    assert len(result['errors']) == 1
    assert 'StatefulSet media/plex' in result['errors'][0] and 'hostPath volumes' in result['errors'][0]


def test_context_objects_are_not_reported():
    stranded = dict(PLUGIN, spec={'template': {'spec': dict(PLUGIN['spec']['template']['spec'],
                                                            nodeSelector={'none': 'x'})}})
    assert cluster_semantics.check([], NODES, [], context_manifests=[stranded])['errors'] == []
    assert len(cluster_semantics.check([stranded], NODES, [])['errors']) == 1


def test_no_nodes_skips_scheduling_but_not_flows():
    policy = {'kind': 'NetworkPolicy', 'metadata': {'name': 'deny', 'namespace': 'media'},
              'spec': {'podSelector': {}, 'policyTypes': ['Ingress']}}
    flow = {'name': 'f', 'source': {'kind': 'external', 'cidr': '192.0.2.0/24'},
            'destination': {'namespace': 'media', 'labels': {'app': 'plex'}, 'port': 32400}}
    result = cluster_semantics.check([PLEX, policy], [], [flow])
    assert len(result['errors']) == 1 and "flow 'f': denied" in result['errors'][0]


def test_pod_security_messages_name_the_namespace_level():
    refused = cluster_semantics.check([PLEX], NODES, [], context_manifests=[namespace('gpu', 'baseline'), PLUGIN])
    assert any('StatefulSet media/plex' in e for e in refused['errors'])
    assert any('Pod Security' in e for e in refused['errors'])
    admitted = cluster_semantics.check([PLEX], NODES, [], context_manifests=[namespace('gpu', 'privileged'), PLUGIN])
    assert not any('scheduling' in e for e in admitted['errors'])
