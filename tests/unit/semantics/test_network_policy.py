"""NetworkPolicy semantics of plugins/module_utils/network_policy.py: isolation per direction, ingress AND egress,
every peer form, ports (named, endPort, protocol), and k3s's kube-router/flannel treatment of host-network sources.
Each case has an allowed and a denied variant."""

import pytest

from ansible_collections.homelab.mediacluster.plugins.module_utils import network_policy as np

NODES = [{'name': 'cp1', 'address': '192.168.1.11'}, {'name': 'w1', 'address': '192.168.1.12'},
         {'name': 'w2', 'address': '192.168.1.22'}]


def app(name, namespace='media', port=8989, port_name='http'):
    return {'apiVersion': 'apps/v1', 'kind': 'Deployment', 'metadata': {'name': name, 'namespace': namespace},
            'spec': {'template': {'metadata': {'labels': {'app': name}}, 'spec': {'containers': [
                {'name': name, 'image': name, 'ports': [{'name': port_name, 'containerPort': port}]}]}}}}


def policy(spec, namespace='media', name='p'):
    return {'apiVersion': 'networking.k8s.io/v1', 'kind': 'NetworkPolicy',
            'metadata': {'name': name, 'namespace': namespace}, 'spec': spec}


def flow(source, labels=None, namespace='media', port=8989, protocol='TCP'):
    return {'name': 'f', 'source': source,
            'destination': {'namespace': namespace, 'labels': labels or {'app': 'sonarr'}, 'port': port,
                            'protocol': protocol}}


POD_PROWLARR = {'kind': 'pod', 'namespace': 'media', 'labels': {'app': 'prowlarr'}}
BASE = [app('sonarr'), app('prowlarr', port=9696)]
NAMESPACES = {'media': {}, 'kube-system': {}, 'other': {'team': 'x'}}


def denied(manifests, flows, nodes=None, **kw):
    return np.evaluate(flows, BASE + manifests, NODES if nodes is None else nodes, NAMESPACES, **kw)


def test_no_policy_allows_everything():
    assert denied([], [flow(POD_PROWLARR), flow({'kind': 'external', 'cidr': '203.0.113.0/24'})]) == []


def test_policy_selecting_other_pods_does_not_isolate():
    p = policy({'podSelector': {'matchLabels': {'app': 'prowlarr'}}, 'ingress': []})
    assert denied([p], [flow(POD_PROWLARR)]) == []


def test_ingress_isolation_denies_without_a_rule():
    errors = denied([policy({'podSelector': {}, 'policyTypes': ['Ingress']})], [flow(POD_PROWLARR)])
    assert len(errors) == 1 and "flow 'f': denied: ingress" in errors[0] and 'NetworkPolicy media/p' in errors[0]


def test_egress_only_policy_does_not_isolate_ingress():
    p = policy({'podSelector': {'matchLabels': {'app': 'sonarr'}}, 'policyTypes': ['Egress']})
    assert denied([p], [flow(POD_PROWLARR)]) == []


def test_policy_types_default_to_ingress_plus_egress_when_egress_given():
    p = policy({'podSelector': {'matchLabels': {'app': 'prowlarr'}}, 'egress': []})
    errors = denied([p], [flow(POD_PROWLARR)])
    assert len(errors) == 1 and 'egress of pods app=prowlarr' in errors[0]


def test_ingress_and_source_egress_must_both_allow():
    allow_in = policy({'podSelector': {}, 'policyTypes': ['Ingress', 'Egress'],
                       'ingress': [{'from': [{'podSelector': {}}]}]})
    errors = denied([allow_in], [flow(POD_PROWLARR)])
    assert len(errors) == 1 and 'egress' in errors[0]
    allow_out = policy({'podSelector': {}, 'policyTypes': ['Egress'], 'egress': [{'to': [{'podSelector': {}}]}]},
                       name='out')
    assert denied([allow_in, allow_out], [flow(POD_PROWLARR)]) == []


def test_policies_are_additive():
    deny = policy({'podSelector': {}, 'policyTypes': ['Ingress']}, name='deny')
    allow = policy({'podSelector': {'matchLabels': {'app': 'sonarr'}},
                    'ingress': [{'from': [{'podSelector': {'matchLabels': {'app': 'prowlarr'}}}]}]}, name='allow')
    assert denied([deny, allow], [flow(POD_PROWLARR)]) == []


def test_rule_without_from_allows_every_source():
    p = policy({'podSelector': {}, 'ingress': [{}]})
    assert denied([p], [flow({'kind': 'external', 'cidr': '0.0.0.0/0'})]) == []


@pytest.mark.parametrize('selector,allowed', [
    ({'matchLabels': {'app': 'prowlarr'}}, True),
    ({'matchLabels': {'app': 'radarr'}}, False),
    ({'matchExpressions': [{'key': 'app', 'operator': 'In', 'values': ['prowlarr', 'x']}]}, True),
    ({'matchExpressions': [{'key': 'app', 'operator': 'NotIn', 'values': ['prowlarr']}]}, False),
    ({'matchExpressions': [{'key': 'app', 'operator': 'Exists'}]}, True),
    ({'matchExpressions': [{'key': 'app', 'operator': 'DoesNotExist'}]}, False),
])
def test_pod_selector_peer(selector, allowed):
    p = policy({'podSelector': {}, 'ingress': [{'from': [{'podSelector': selector}]}]})
    assert (denied([p], [flow(POD_PROWLARR)]) == []) is allowed


def test_pod_selector_peer_is_limited_to_the_policy_namespace():
    p = policy({'podSelector': {}, 'ingress': [{'from': [{'podSelector': {}}]}]})
    other = {'kind': 'pod', 'namespace': 'other', 'labels': {'app': 'prowlarr'}}
    assert len(denied([p], [flow(other)])) == 1


@pytest.mark.parametrize('ns_selector,allowed', [
    ({'matchLabels': {'kubernetes.io/metadata.name': 'other'}}, True),
    ({'matchLabels': {'team': 'x'}}, True),
    ({'matchLabels': {'kubernetes.io/metadata.name': 'kube-system'}}, False),
    ({}, True),
])
def test_namespace_selector_peer(ns_selector, allowed):
    p = policy({'podSelector': {}, 'ingress': [{'from': [{'namespaceSelector': ns_selector}]}]})
    other = {'kind': 'pod', 'namespace': 'other', 'labels': {'app': 'x'}}
    assert (denied([p], [flow(other)]) == []) is allowed


@pytest.mark.parametrize('pod_labels,allowed', [({'app': 'traefik'}, True), ({'app': 'coredns'}, False)])
def test_namespace_and_pod_selector_in_one_peer(pod_labels, allowed):
    p = policy({'podSelector': {}, 'ingress': [{'from': [{
        'namespaceSelector': {'matchLabels': {'kubernetes.io/metadata.name': 'kube-system'}},
        'podSelector': {'matchLabels': {'app': 'traefik'}}}]}]})
    src = {'kind': 'pod', 'namespace': 'kube-system', 'labels': pod_labels}
    assert (denied([p], [flow(src)]) == []) is allowed


def test_namespace_labels_from_a_rendered_namespace_win():
    p = policy({'podSelector': {}, 'ingress': [{'from': [{'namespaceSelector': {'matchLabels': {'gw': 'yes'}}}]}]})
    ns = {'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'other', 'labels': {'gw': 'yes'}}}
    other = {'kind': 'pod', 'namespace': 'other', 'labels': {}}
    assert denied([p, ns], [flow(other)]) == []
    assert len(denied([p], [flow(other)])) == 1


@pytest.mark.parametrize('block,cidr,allowed', [
    ({'cidr': '192.168.1.0/24'}, '192.168.1.50/32', True),
    ({'cidr': '192.168.1.0/24'}, '192.168.2.50/32', False),
    ({'cidr': '192.168.1.0/24', 'except': ['192.168.1.50/32']}, '192.168.1.50/32', False),
    ({'cidr': '192.168.1.0/24'}, '192.168.0.0/16', False),
])
def test_ip_block_peer_with_except(block, cidr, allowed):
    p = policy({'podSelector': {}, 'ingress': [{'from': [{'ipBlock': block}]}]})
    assert (denied([p], [flow({'kind': 'external', 'cidr': cidr})]) == []) is allowed


def test_ip_block_matches_a_pod_only_when_it_covers_the_cluster_cidr():
    narrow = policy({'podSelector': {}, 'ingress': [{'from': [{'ipBlock': {'cidr': '10.42.1.0/24'}}]}]})
    wide = policy({'podSelector': {}, 'ingress': [{'from': [{'ipBlock': {'cidr': '10.42.0.0/16'}}]}]})
    assert len(denied([narrow], [flow(POD_PROWLARR)])) == 1
    assert denied([wide], [flow(POD_PROWLARR)]) == []


@pytest.mark.parametrize('ports,allowed', [
    ([{'port': 8989}], True),
    ([{'port': 9000}], False),
    ([{'port': 'http'}], True),
    ([{'port': 'metrics'}], False),
    ([{'port': 8000, 'endPort': 9000}], True),
    ([{'port': 9000, 'endPort': 9100}], False),
    ([{'protocol': 'UDP', 'port': 8989}], False),
    ([{'protocol': 'TCP'}], True),
])
def test_ports(ports, allowed):
    p = policy({'podSelector': {}, 'ingress': [{'ports': ports}]})
    assert (denied([p], [flow(POD_PROWLARR)]) == []) is allowed


def test_egress_to_an_external_address_by_ip_block():
    p = policy({'podSelector': {}, 'policyTypes': ['Egress'], 'egress': [
        {'to': [{'ipBlock': {'cidr': '0.0.0.0/0', 'except': ['192.168.0.0/16']}}]}]})
    nfs = {'name': 'nfs', 'source': POD_PROWLARR,
           'destination': {'address': '192.168.1.29', 'port': 2049, 'protocol': 'TCP'}}
    errors = denied([p], [nfs])
    assert len(errors) == 1 and "flow 'nfs'" in errors[0]
    p['spec']['egress'].append({'to': [{'ipBlock': {'cidr': '192.168.1.29/32'}}], 'ports': [{'port': 2049}]})
    assert denied([p], [nfs]) == []


def test_a_service_address_as_destination_is_a_declaration_error():
    bad = {'name': 'svc', 'source': POD_PROWLARR, 'destination': {'address': '10.43.0.10', 'port': 53}}
    errors = denied([], [bad])
    assert len(errors) == 1 and 'service CIDR' in errors[0]


WIRING_POLICY = policy({'podSelector': {}, 'policyTypes': ['Ingress'], 'ingress': [
    {'from': [{'podSelector': {}}, {'ipBlock': {'cidr': '192.168.1.11/32'}}]}]})


def test_host_source_on_the_pods_node_is_exempt():
    deny_all = policy({'podSelector': {}, 'policyTypes': ['Ingress']})
    assert denied([deny_all], [flow({'kind': 'host', 'node': 'same'})]) == []
    placements = {'Deployment media/sonarr': ['cp1']}
    assert denied([deny_all], [flow({'kind': 'host', 'node': 'cp1'})], placements=placements) == []


def test_host_source_on_another_node_is_not_its_node_ip():
    """Defect 2's shape: the node IP /32 admits nothing once the pod is elsewhere (flannel.1 source)."""
    errors = denied([WIRING_POLICY], [flow({'kind': 'host', 'node': 'cp1'})])
    assert len(errors) == 1
    assert 'flannel.1' in errors[0] and 'w1, w2' in errors[0] and 'own node' in errors[0]


def test_host_source_on_another_node_admitted_by_its_flannel_address():
    nodes = [dict(n, pod_cidr='10.42.{0}.0/24'.format(i)) for i, n in enumerate(NODES)]
    p = policy({'podSelector': {}, 'ingress': [{'from': [{'ipBlock': {'cidr': '10.42.0.0/32'}}]}]})
    assert denied([p], [flow({'kind': 'host', 'node': 'cp1'})], nodes=nodes) == []
    assert len(denied([p], [flow({'kind': 'host', 'node': 'w1'})], nodes=nodes)) == 1


def test_host_source_with_unknown_pod_cidr_needs_the_whole_cluster_cidr():
    p = policy({'podSelector': {}, 'ingress': [{'from': [{'ipBlock': {'cidr': '10.42.0.0/16'}}]}]})
    assert denied([p], [flow({'kind': 'host', 'node': 'any'})]) == []
    assert len(denied([p], [flow({'kind': 'host', 'node': 'any'})], cluster_cidr='10.52.0.0/16')) == 3


def test_host_source_never_matches_pod_or_namespace_selectors():
    p = policy({'podSelector': {}, 'ingress': [{'from': [{'namespaceSelector': {}}]}]})
    assert len(denied([p], [flow({'kind': 'host', 'node': 'w1'})])) == 1


def test_unknown_source_node_is_a_declaration_error():
    errors = denied([], [flow({'kind': 'host', 'node': 'w9'})])
    assert len(errors) == 1 and 'not in the node model' in errors[0]
