# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster-semantics checker: what a real k3s cluster would do with the rendered objects, evaluated offline.

check() runs three rule sets over the manifests of one delivery and returns {'errors': [...], 'warnings': [...]}:
- Pod Security admission (module_utils/pod_security.py): every pod template against its namespace's levels;
- scheduling (module_utils/cluster_scheduling.py): the nodes each workload can run on, from the node model;
- NetworkPolicy paths (module_utils/network_policy.py): the declared flows against the rendered policies.
Each message names the object (or flow), the rule and the fix. Used by the k8s_semantics_check module (the delivery
layer's validate step, in apply and export modes) and by the tests.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.homelab.mediacluster.plugins.module_utils import (
    cluster_scheduling,
    network_policy,
    pod_security,
)

# The semantics inputs of a module (k8s_semantics_check, k8s_delivery_check; documented once in
# plugins/doc_fragments/cluster_semantics.py), besides its manifests.
OPTIONS = {
    'context_manifests': {'type': 'list', 'elements': 'raw', 'default': []},
    'nodes': {'type': 'list', 'elements': 'dict', 'default': []},
    'flows': {'type': 'list', 'elements': 'dict', 'default': []},
    'namespace_labels': {'type': 'dict', 'default': {}},
    'cluster_cidr': {'type': 'str', 'default': network_policy.DEFAULT_CLUSTER_CIDR},
    'service_cidr': {'type': 'str', 'default': network_policy.DEFAULT_SERVICE_CIDR},
}


def merged_namespace_labels(manifests, namespace_labels):
    """{namespace: labels}: the cluster's (or the caller's) labels, the rendered Namespace objects winning, and the
    kubernetes.io/metadata.name label every namespace carries."""
    result = dict((k, dict(v or {})) for k, v in (namespace_labels or {}).items())
    for obj in manifests:
        if isinstance(obj, dict) and obj.get('kind') == 'Namespace':
            meta = obj.get('metadata') or {}
            result[meta.get('name')] = dict(meta.get('labels') or {})
    for name, labels in result.items():
        labels.setdefault('kubernetes.io/metadata.name', name)
    return result


def _admission(namespace_labels):
    """admitted(obj) for the device-plugin rule: None when the pods of obj pass their namespace's enforce level."""
    def admitted(obj):
        namespace = (obj.get('metadata') or {}).get('namespace')
        level = pod_security.namespace_levels(namespace_labels.get(namespace) or {}).get('enforce')
        spec = cluster_scheduling.pod_spec_of(obj) or {}
        template = (obj.get('spec') or {}).get('template') or {}
        violations = pod_security.check_pod_spec(spec, level, template.get('metadata'))
        if violations:
            return 'Pod Security "{0}" of namespace {1}: {2}'.format(level, namespace, '; '.join(violations))
        return None
    return admitted


def check(manifests, nodes, flows, namespace_labels=None, *, cluster_cidr=network_policy.DEFAULT_CLUSTER_CIDR,
          service_cidr=network_policy.DEFAULT_SERVICE_CIDR, context_manifests=None):
    """Check manifests (one delivery) against the cluster's semantics.

    nodes: the node model (homelab.mediacluster.k3s_node_model); empty skips the scheduling rules.
    flows: the flows the caller needs (network_policy.evaluate). namespace_labels: the cluster's namespaces' labels
    (apply mode); the rendered Namespaces win. context_manifests: objects delivered by another step that these
    depend on (a device plugin, Namespaces, NetworkPolicies); they are not themselves checked.
    """
    manifests = [m for m in manifests or [] if isinstance(m, dict)]
    context = [m for m in context_manifests or [] if isinstance(m, dict)]
    everything = context + manifests
    labels = merged_namespace_labels(everything, namespace_labels)
    errors, warnings = [], []

    psa_errors, psa_warnings = pod_security.check_objects(manifests, labels)
    errors.extend(psa_errors)
    warnings.extend(psa_warnings)

    placements = {}
    if nodes:
        own = set(cluster_scheduling.object_name(w) for w in cluster_scheduling.workloads(manifests))
        sched_errors, sched_warnings, placements = cluster_scheduling.placements(
            everything, nodes, admitted=_admission(labels), report=own)
        errors.extend(sched_errors)
        warnings.extend(sched_warnings)

    errors.extend(network_policy.evaluate(flows or [], everything, nodes or [], labels, cluster_cidr=cluster_cidr,
                                          service_cidr=service_cidr, placements=placements))
    return {'errors': errors, 'warnings': warnings}


class SemanticsInputError(ValueError):
    """The rules could not evaluate the node model, the flows or the CIDRs given."""


def check_options(params):
    """check() with the semantics options of a module (manifests, context_manifests, nodes, flows, namespace_labels,
    cluster_cidr, service_cidr). Secrets play no part in it and are left out. An input the rules cannot evaluate
    raises SemanticsInputError, whose message says what to check."""
    def plain(docs):
        return [doc for doc in docs or [] if isinstance(doc, dict) and doc.get('kind') != 'Secret']
    try:
        return check(plain(params['manifests']), params['nodes'], params['flows'], params['namespace_labels'],
                     cluster_cidr=params['cluster_cidr'], service_cidr=params['service_cidr'],
                     context_manifests=plain(params['context_manifests']))
    except (ValueError, TypeError, KeyError) as exc:
        raise SemanticsInputError('The cluster-semantics check could not evaluate the input: {0}; check the nodes, '
                                  'flows and CIDRs given to the delivery layer.'.format(exc)) from exc
