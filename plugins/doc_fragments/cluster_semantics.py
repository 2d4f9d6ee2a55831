# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The inputs of the offline cluster-semantics check (module_utils/cluster_semantics.py, OPTIONS), written once
    # for k8s_semantics_check and k8s_delivery_check.
    DOCUMENTATION = r"""
options:
  context_manifests:
    description:
      - Objects delivered by another step that these depend on (a device-plugin DaemonSet, Namespaces,
        NetworkPolicies). Used for the evaluation; their own problems are not reported here.
    type: list
    elements: raw
    default: []
  nodes:
    description:
      - The node model, C(hostvars | homelab.mediacluster.k3s_node_model(groups, mode)). Empty skips the
        scheduling rules (and host flows can then only be evaluated as C(same) or C(any) of nothing).
    type: list
    elements: dict
    default: []
  flows:
    description:
      - The traffic the caller needs, each C({name, source, destination}); see C(docs/delivery.md).
    type: list
    elements: dict
    default: []
  namespace_labels:
    description:
      - Labels of the namespaces that exist on the cluster (apply mode), by name. Rendered Namespace objects win.
    type: dict
    default: {}
  cluster_cidr:
    description: The cluster's pod CIDR (k3s C(cluster-cidr)).
    type: str
    default: 10.42.0.0/16
  service_cidr:
    description: The cluster's Service CIDR (k3s C(service-cidr)).
    type: str
    default: 10.43.0.0/16
"""
