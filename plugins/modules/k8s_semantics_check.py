#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: k8s_semantics_check
short_description: Check manifests against what a real k3s cluster enforces, offline
version_added: 0.2.0
description:
  - Evaluates the manifests of one delivery the way a k3s cluster would, without a cluster.
  - Pod Security admission of every pod template against the C(enforce) level of its namespace (C(warn) and
    C(audit) violations are warnings).
  - Scheduling of every workload on the node model (O(nodes)), the Longhorn HelmChart's components included; a
    workload no node can run (a DaemonSet on no node) is an error, a preferred affinity matching no node a warning.
  - NetworkPolicy paths of the declared O(flows) with Kubernetes semantics and k3s's kube-router/flannel treatment of
    host-network sources.
  - Used by the P(homelab.mediacluster.k8s_delivery#role) role's validate step in apply and export modes, before
    anything is applied or written; see C(docs/delivery.md).
author:
  - homelab.mediacluster developers (@homelab-mediacluster)
extends_documentation_fragment:
  - homelab.mediacluster.attributes.read_only
  - homelab.mediacluster.cluster_semantics
requirements:
  - PyYAML (on the host the module runs on)
options:
  manifests:
    description: The manifests of the delivery, one dict per object. Secrets play no part in the check.
    type: list
    elements: raw
    required: true
  fail_on_error:
    description: Fail when there are errors. With V(false) the module succeeds and returns RV(errors).
    type: bool
    default: true
attributes:
  check_mode:
    details: Reads nothing but its arguments and changes nothing; it runs the same in check mode.
  diff_mode:
    details: There is nothing to diff.
"""

EXAMPLES = r"""
- name: Check the media stack as the cluster would
  homelab.mediacluster.k8s_semantics_check:
    manifests: "{{ manifests }}"
    nodes: "{{ hostvars | homelab.mediacluster.k3s_node_model(groups, 'export') }}"
    flows:
      - name: "wiring: Prowlarr reaches Sonarr"
        source: {kind: pod, namespace: media, labels: {app.kubernetes.io/name: prowlarr}}
        destination: {namespace: media, labels: {app.kubernetes.io/name: sonarr}, port: 8989}
"""

RETURN = r"""
errors:
  description: One line per problem, naming the object or flow, the rule and the fix.
  returned: always
  type: list
  elements: str
  sample: ["DaemonSet longhorn-system/longhorn-manager: scheduling: no node can run it (...)"]
warnings_found:
  description: Warnings (Pod Security warn/audit levels, preferred affinities matching no node).
  returned: always
  type: list
  elements: str
valid:
  description: Whether there were no errors.
  returned: always
  type: bool
"""

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.homelab.mediacluster.plugins.module_utils import cluster_semantics
from ansible_collections.homelab.mediacluster.plugins.module_utils.k8s_yaml import YAML_IMPORT_ERROR
from ansible_collections.homelab.mediacluster.plugins.module_utils.module_body import ModuleBody, ModuleFailure

ARGUMENT_SPEC = dict(cluster_semantics.OPTIONS, **{
    'manifests': {'type': 'list', 'elements': 'raw', 'required': True},
    'fail_on_error': {'type': 'bool', 'default': True},
})


def run(params, check_mode=False, diff=False):  # pylint: disable=unused-argument
    """The module's body, also run in the controller's process (plugins/action/k8s_semantics_check.py)."""
    if YAML_IMPORT_ERROR:
        raise ModuleFailure(missing_required_lib('PyYAML'), exception=YAML_IMPORT_ERROR)
    try:
        result = cluster_semantics.check_options(params)
    except cluster_semantics.SemanticsInputError as exc:
        raise ModuleFailure(str(exc)) from exc
    out = {'changed': False, 'errors': result['errors'], 'warnings_found': result['warnings'],
           'valid': not result['errors']}
    if result['errors'] and params['fail_on_error']:
        raise ModuleFailure('; '.join(result['errors']), **out)
    return out


BODY = ModuleBody(ARGUMENT_SPEC, run)


def main():
    BODY.main()


if __name__ == '__main__':
    main()
