# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Would the flows the collection needs pass the NetworkPolicies it renders? Kubernetes semantics, plus what k3s's
embedded kube-router (its network policy controller) and flannel do with host-network traffic.

Kubernetes (networking.k8s.io/v1):
- a pod is isolated for ingress (egress) only when some policy in its namespace selects it and lists Ingress (Egress)
  in policyTypes (default: Ingress, plus Egress when the policy has an egress section); policies are additive;
- a pod-to-pod flow needs the destination's ingress AND the source's egress to allow it;
- a rule with no from/to allows every peer, with no ports every port; a peer is a podSelector (pods of the policy's
  namespace), a namespaceSelector (every pod of the selected namespaces), both (those pods in those namespaces) or
  an ipBlock (cidr minus except); ports are numbers or container port names of the destination pod, with an
  optional endPort range; protocol defaults to TCP.

k3s (kube-router, pkg/controllers/netpol/pod.go, rule "from local node": `-m addrtype --src-type LOCAL -d <pod IP>
-j ACCEPT`): traffic whose source address belongs to the destination pod's own node is always accepted. A host-network
source on another node reaches a pod (directly or through a ClusterIP, which kube-proxy masquerades for sources outside
the cluster CIDR) over flannel's VXLAN with the source node's flannel.1 address: an address in the cluster CIDR
(the network address of that node's pod CIDR), never the node IP, and neither a podSelector nor a namespaceSelector
matches it. Only an ipBlock covering it admits it; when the node's pod CIDR is not known, the ipBlock must cover the
whole cluster CIDR.

Pod IPs are not known offline: an ipBlock matches a pod peer only when it covers the whole cluster CIDR.
Traffic is evaluated after kube-proxy's DNAT, so a flow to a Service is declared to the pods behind it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.homelab.mediacluster.plugins.module_utils import cluster_scheduling

DEFAULT_CLUSTER_CIDR = '10.42.0.0/16'
DEFAULT_SERVICE_CIDR = '10.43.0.0/16'


class FlowError(ValueError):
    """A flow declared wrongly (not a denial)."""


# --- selectors ----------------------------------------------------------------------------------------------------

def label_selector_matches(selector, labels):
    """metav1.LabelSelector: matchLabels AND matchExpressions; {} matches everything; None matches nothing."""
    if selector is None:
        return False
    labels = labels or {}
    for key, value in (selector.get('matchLabels') or {}).items():
        if key not in labels or str(labels[key]) != str(value):
            return False
    for expr in selector.get('matchExpressions') or []:
        key, operator = expr.get('key'), expr.get('operator')
        values = [str(v) for v in expr.get('values') or []]
        present = key in labels
        if operator == 'In' and not (present and str(labels[key]) in values):
            return False
        if operator == 'NotIn' and present and str(labels[key]) in values:
            return False
        if operator == 'Exists' and not present:
            return False
        if operator == 'DoesNotExist' and present:
            return False
        if operator not in ('In', 'NotIn', 'Exists', 'DoesNotExist'):
            raise FlowError('unknown label selector operator {0!r}'.format(operator))
    return True


def policy_types(policy):
    spec = policy.get('spec') or {}
    if spec.get('policyTypes'):
        return list(spec['policyTypes'])
    return ['Ingress'] + (['Egress'] if 'egress' in spec else [])


def _network(text):
    return ipaddress.ip_network(str(text), strict=False)


def ip_block_covers(block, network):
    """Every address of network is inside the block's cidr and outside each of its excepts."""
    cidr = _network(block.get('cidr'))
    if network.version != cidr.version or not network.subnet_of(cidr):
        return False
    for excluded in block.get('except') or []:
        if network.overlaps(_network(excluded)):
            return False
    return True


# --- endpoints ----------------------------------------------------------------------------------------------------

class Endpoint(object):
    """A source or destination: a pod (namespace, labels, container ports), an address (network), or both unknown."""

    def __init__(self, kind, *, namespace=None, labels=None, network=None, ports=None, desc=''):
        self.kind = kind  # 'pod' or 'ip'
        self.namespace = namespace
        self.labels = labels or {}
        self.network = network
        self.ports = ports or []  # [{'name':..., 'containerPort':..., 'protocol':...}]
        self.desc = desc


def _peer_matches(peer, endpoint, policy_ns, namespace_labels, cluster_cidr):
    if 'ipBlock' in peer:
        if endpoint.kind == 'ip':
            return ip_block_covers(peer['ipBlock'], endpoint.network)
        # a pod: its IP is somewhere in the cluster CIDR
        return ip_block_covers(peer['ipBlock'], cluster_cidr)
    if endpoint.kind != 'pod':
        return False
    pod_selector = peer.get('podSelector')
    ns_selector = peer.get('namespaceSelector')
    if ns_selector is None:
        if endpoint.namespace != policy_ns:
            return False
    else:
        labels = dict(namespace_labels.get(endpoint.namespace) or {})
        labels.setdefault('kubernetes.io/metadata.name', endpoint.namespace)
        if not label_selector_matches(ns_selector, labels):
            return False
    if pod_selector is not None and not label_selector_matches(pod_selector, endpoint.labels):
        return False
    return True


def _port_matches(entry, port, protocol, dest_ports):
    if (entry.get('protocol') or 'TCP') != protocol:
        return False
    if 'port' not in entry or entry.get('port') is None:
        return True
    wanted = entry['port']
    if isinstance(wanted, str) and not wanted.isdigit():
        # a named port: the destination container port of that name and protocol
        numbers = [p.get('containerPort') for p in dest_ports
                   if p.get('name') == wanted and (p.get('protocol') or 'TCP') == protocol]
        return port in numbers or port == wanted
    if isinstance(port, str):
        numbers = [p.get('containerPort') for p in dest_ports if p.get('name') == port]
        if not numbers:
            return False
        port = numbers[0]
    low = int(wanted)
    high = int(entry.get('endPort') or low)
    return low <= int(port) <= high


class Traffic(object):
    """What one direction is asked to allow: the peer, the destination port and protocol, the destination's
    container ports (for named ports), the namespaces' labels and the cluster CIDR."""

    def __init__(self, peer, port, protocol, *, dest_ports, namespace_labels, cluster_cidr):
        self.peer = peer
        self.port = port
        self.protocol = protocol
        self.dest_ports = dest_ports
        self.namespace_labels = namespace_labels
        self.cluster_cidr = cluster_cidr


def _rule_allows(rule, peers_key, policy_ns, traffic):
    peers = rule.get(peers_key)
    if peers and not any(_peer_matches(p, traffic.peer, policy_ns, traffic.namespace_labels, traffic.cluster_cidr)
                         for p in peers):
        return False
    ports = rule.get('ports')
    if ports and not any(_port_matches(p, traffic.port, traffic.protocol, traffic.dest_ports) for p in ports):
        return False
    return True


def _selecting(policies, endpoint, direction):
    return [p for p in policies if (p.get('metadata') or {}).get('namespace') == endpoint.namespace
            and direction in policy_types(p)
            and label_selector_matches((p.get('spec') or {}).get('podSelector') or {}, endpoint.labels)]


def _name(policy):
    return 'NetworkPolicy {0}/{1}'.format((policy.get('metadata') or {}).get('namespace'),
                                          (policy.get('metadata') or {}).get('name'))


def direction_allows(policies, direction, pod, traffic):
    """(allowed, reason) for one direction of the pod `pod` (ingress: traffic.peer is the source; egress: the
    destination)."""
    selecting = _selecting(policies, pod, direction)
    if not selecting:
        return True, None
    key, section = ('from', 'ingress') if direction == 'Ingress' else ('to', 'egress')
    for policy in selecting:
        for rule in (policy.get('spec') or {}).get(section) or []:
            if _rule_allows(rule, key, pod.namespace, traffic):
                return True, None
    return False, '{0} of {1} is isolated by {2} and no rule admits {3} on {4}/{5}'.format(
        direction.lower(), pod.desc, ', '.join(_name(p) for p in selecting), traffic.peer.desc, traffic.protocol,
        traffic.port)


# --- flows --------------------------------------------------------------------------------------------------------

def _templates(manifests, namespace, labels):
    """Workloads in namespace whose pod template carries every label in labels."""
    found = []
    for obj in cluster_scheduling.workloads(manifests):
        meta = obj.get('metadata') or {}
        if meta.get('namespace') != namespace:
            continue
        spec = obj.get('spec') or {}
        template = (spec.get('jobTemplate') or {}).get('spec', {}).get('template') if obj.get('kind') == 'CronJob' \
            else (spec.get('template') if obj.get('kind') != 'Pod' else obj)
        template_labels = ((template or {}).get('metadata') or {}).get('labels') or {}
        if all(str(template_labels.get(k)) == str(v) for k, v in labels.items()):
            found.append((obj, template_labels))
    return found


def _container_ports(obj):
    ports = []
    for container in (cluster_scheduling.pod_spec_of(obj) or {}).get('containers') or []:
        ports.extend(container.get('ports') or [])
    return ports


def _node_flannel_network(node, cluster_cidr):
    """The source network of a host on `node` seen across nodes: its flannel.1 address when the pod CIDR is known,
    else the whole cluster CIDR."""
    if node and node.get('pod_cidr'):
        return ipaddress.ip_network('{0}/32'.format(_network(node['pod_cidr']).network_address))
    return cluster_cidr


def evaluate(flows, manifests, nodes, namespace_labels=None, *, cluster_cidr=DEFAULT_CLUSTER_CIDR,
             service_cidr=DEFAULT_SERVICE_CIDR, placements=None):
    """Errors for the flows the rendered NetworkPolicies deny. placements: {object name: [node names]} from
    cluster_scheduling.placements (where each destination pod can land); missing means any node."""
    errors = []
    cluster = _network(cluster_cidr or DEFAULT_CLUSTER_CIDR)
    services = _network(service_cidr or DEFAULT_SERVICE_CIDR)
    namespace_labels = dict(namespace_labels or {})
    policies = [m for m in manifests if isinstance(m, dict) and m.get('kind') == 'NetworkPolicy']
    for obj in manifests:
        if isinstance(obj, dict) and obj.get('kind') == 'Namespace':
            name = (obj.get('metadata') or {}).get('name')
            namespace_labels[name] = dict((obj.get('metadata') or {}).get('labels') or {})
    world = {'manifests': manifests, 'policies': policies, 'nodes': dict((n.get('name'), n) for n in nodes or []),
             'namespace_labels': namespace_labels, 'cluster': cluster, 'services': services,
             'placements': placements or {}}
    for flow in flows or []:
        try:
            errors.extend(_evaluate_flow(flow, world))
        except (FlowError, ValueError, KeyError, TypeError) as exc:
            errors.append('flow {0!r}: cannot be evaluated: {1}; fix the flow declaration.'.format(
                flow.get('name') if isinstance(flow, dict) else flow, exc))
    return errors


def _evaluate_flow(flow, world):
    manifests, policies, by_name = world['manifests'], world['policies'], world['nodes']
    cluster, services, placements = world['cluster'], world['services'], world['placements']
    name = flow.get('name') or '(unnamed)'
    source, dest = flow.get('source') or {}, flow.get('destination') or {}
    protocol = dest.get('protocol') or 'TCP'
    port = dest.get('port')
    if port is None:
        raise FlowError('the destination has no port')
    denials = []

    def deny(reason):
        denials.append('flow {0!r}: denied: {1}'.format(name, reason))

    # the destination
    if dest.get('cidr') or dest.get('address'):
        network = _network(dest.get('cidr') or dest.get('address'))
        if network.subnet_of(services) if network.version == services.version else False:
            raise FlowError('{0} is in the service CIDR {1}: policies see the pods behind a Service, declare the '
                            'destination pod (namespace and labels)'.format(network, services))
        dest_endpoint = Endpoint('ip', network=network, desc=str(network))
        dest_nodes = []
    else:
        namespace = dest.get('namespace')
        labels = dest.get('labels') or {}
        if not namespace:
            raise FlowError('the destination needs a namespace and labels, or an address')
        templates = _templates(manifests, namespace, labels)
        dest_ports = []
        node_set = set()
        for obj, _labels in templates:
            dest_ports.extend(_container_ports(obj))
            object_nodes = placements.get(cluster_scheduling.object_name(obj))
            node_set.update(object_nodes if object_nodes is not None else by_name)
        if not templates:
            node_set.update(by_name)
        full_labels = dict(templates[0][1]) if templates else dict(labels)
        dest_endpoint = Endpoint('pod', namespace=namespace, labels=full_labels, ports=dest_ports,
                                 desc='pods {0} in {1}'.format(
                                     ','.join('{0}={1}'.format(k, v) for k, v in sorted(labels.items())), namespace))
        dest_nodes = sorted(node_set)

    def traffic(peer):
        return Traffic(peer, port, protocol, dest_ports=dest_endpoint.ports, namespace_labels=world['namespace_labels'],
                       cluster_cidr=cluster)

    kind = source.get('kind')
    if kind == 'pod':
        src = Endpoint('pod', namespace=source.get('namespace'), labels=source.get('labels') or {},
                       desc='pods {0} in {1}'.format(
                           ','.join('{0}={1}'.format(k, v) for k, v in sorted((source.get('labels') or {}).items())),
                           source.get('namespace')))
        ok, why = direction_allows(policies, 'Egress', src, traffic(dest_endpoint))
        if not ok:
            deny(why + '; fix: add an egress rule for it')
        if dest_endpoint.kind == 'pod':
            ok, why = direction_allows(policies, 'Ingress', dest_endpoint, traffic(src))
            if not ok:
                deny(why + '; fix: add an ingress rule admitting it')
        return denials
    if kind == 'external':
        network = _network(source.get('cidr'))
        src = Endpoint('ip', network=network, desc='external {0}'.format(network))
        if dest_endpoint.kind == 'pod':
            ok, why = direction_allows(policies, 'Ingress', dest_endpoint, traffic(src))
            if not ok:
                deny(why + '; fix: admit it with an ipBlock covering {0}'.format(network))
        return denials
    if kind != 'host':
        raise FlowError('source kind must be pod, host or external, not {0!r}'.format(kind))
    if dest_endpoint.kind != 'pod':
        return denials  # host to an outside address: no NetworkPolicy involved
    where = source.get('node') or 'any'
    if where == 'same':
        return denials  # kube-router accepts traffic from the pod's own node
    if where == 'any':
        sources = sorted(by_name)
    elif where in by_name:
        sources = [where]
    else:
        raise FlowError('source node {0!r} is not in the node model ({1})'.format(where, ', '.join(sorted(by_name))))
    for source_node in sources:
        remote = [n for n in dest_nodes if n != source_node]
        if not remote:
            continue  # the pod can only be on the source's own node: exempt
        network = _node_flannel_network(by_name.get(source_node), cluster)
        src = Endpoint('ip', network=network,
                       desc='host {0} seen from another node as its flannel.1 address ({1})'.format(
                           source_node, network))
        ok, why = direction_allows(policies, 'Ingress', dest_endpoint, traffic(src))
        if not ok:
            deny('{0} when the pod runs on {1} (kube-router exempts only the pod\'s own node); fix: make the call '
                 'from the node that runs the pod, or from inside the namespace, or admit {2} with an '
                 'ipBlock'.format(why, ', '.join(remote), network))
    return denials
