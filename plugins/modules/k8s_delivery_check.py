#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: k8s_delivery_check
short_description: Validate one delivery's manifests and check them against the cluster's semantics in one step
version_added: 0.1.0
description:
  - The gate of the P(homelab.mediacluster.k8s_delivery#role) role, in apply and export modes, before anything is
    applied or written. It does in one task what P(homelab.mediacluster.k8s_manifest_validate#module) and
    P(homelab.mediacluster.k8s_semantics_check#module) do in two, and fails with their findings.
  - First the schemas, as P(homelab.mediacluster.k8s_manifest_validate#module) validates them. Any invalid
    manifest stops it there, with every error found.
  - Then what a real cluster would do with the objects (Pod Security admission, scheduling on the node model, the
    declared flows through the NetworkPolicies), as P(homelab.mediacluster.k8s_semantics_check#module) checks
    them. Its errors stop it; its warnings are returned as the task's warnings.
  - With O(read_applied) (apply mode), when every manifest passed, it also reads the objects back from the cluster
    and finds which ones it holds exactly as this collection last applied them, as
    P(homelab.mediacluster.k8s_applied_info#module) does; RV(to_compare) names the others, the only ones the role
    dry-runs and applies.
  - What it returns names objects, rules and fields, never the values of a Secret, so its task needs no C(no_log)
    to keep them out of the output, even when the manifests hold Secrets.
author:
  - homelab.mediacluster developers (@homelab-mediacluster)
extends_documentation_fragment:
  - homelab.mediacluster.attributes.read_only
  - homelab.mediacluster.cluster_semantics
  - homelab.mediacluster.kubernetes_auth
requirements:
  - kubernetes-validate, jsonschema and PyYAML (on the host the module runs on)
  - kubernetes >= 24.2.0, with O(read_applied)
options:
  name:
    description: What the manifests are (the app's name); the failure messages start with it.
    type: str
    default: manifests
  manifests:
    description: The manifests of the delivery, one dict per object. Secrets play no part in the semantics check.
    type: list
    elements: raw
    required: true
  kubernetes_version:
    description: The Kubernetes version to validate for, C(major.minor) or a full version (C(v1.33.4+k3s1)).
    type: str
    required: true
  crd_paths:
    description: CRD files or folders that describe the custom resources among O(manifests).
    type: list
    elements: path
    default: []
  missing_schemas:
    description:
      - What to do with objects whose kind no schema describes (no CRD among O(crd_paths) or the manifests).
      - V(fail) counts them as invalid.
      - V(report) lists them in RV(missing_schemas) and goes on when they are the only problem, with RV(valid)
        false; the caller validates them again with the CRDs the cluster serves.
    type: str
    choices: [fail, report]
    default: fail
  read_applied:
    description:
      - Once every manifest passed (RV(valid) true, the semantics without error), read the objects back from the
        cluster through kubernetes.core's client (one LIST per kind and namespace, one GET for a group of one, up to
        four requests at a time) and return in RV(to_compare) the ones the cluster does not hold exactly as applying
        them would leave them.
      - The connection options (O(kubeconfig), O(context), ...) are used only then.
    type: bool
    default: false
attributes:
  check_mode:
    details: Reads nothing but its arguments, the CRD files and, with O(read_applied), the cluster; it runs the same
      in check mode.
  diff_mode:
    details: There is nothing to diff.
"""

EXAMPLES = r"""
- name: Check the media stack before it is exported
  homelab.mediacluster.k8s_delivery_check:
    name: media-stack
    manifests: "{{ manifests }}"
    kubernetes_version: "1.33"
    nodes: "{{ hostvars | homelab.mediacluster.k3s_node_model(groups, 'export') }}"
    flows:
      - name: "wiring: Prowlarr reaches Sonarr"
        source: {kind: pod, namespace: media, labels: {app.kubernetes.io/name: prowlarr}}
        destination: {namespace: media, labels: {app.kubernetes.io/name: sonarr}, port: 8989}
  register: checked

- name: Write them in apply order
  ansible.builtin.debug:
    msg: "{{ checked.order | map('extract', manifests) | map(attribute='metadata.name') | list }}"
"""

RETURN = r"""
valid:
  description: Whether every manifest passed its schema (false only with O(missing_schemas=report)).
  returned: always
  type: bool
errors:
  description: The schema errors, one line per problem, naming the object and the field.
  returned: always
  type: list
  elements: str
  sample: ["RecurringJob longhorn-system/nightly: spec.retain: 'seven' is not of type 'integer'"]
missing_schemas:
  description: One entry per kind without a schema, with the objects of that kind.
  returned: always
  type: list
  elements: dict
  sample: [{"api_version": "gateway.networking.k8s.io/v1", "group": "gateway.networking.k8s.io",
            "version": "v1", "kind": "HTTPRoute", "objects": ["HTTPRoute media/sonarr"]}]
objects:
  description: C(Kind namespace/name) of each manifest, in input order.
  returned: always
  type: list
  elements: str
order:
  description: Indices into O(manifests) in the order to apply them (namespaces, CRDs, storage classes first).
  returned: when every manifest is valid
  type: list
  elements: int
  sample: [1, 0]
files:
  description: The file name of each manifest in an exported kustomize tree, in input order.
  returned: when every manifest is valid
  type: list
  elements: str
  sample: ["namespace-media.yaml", "configmap-sonarr-env.yaml"]
kubernetes_version:
  description: The C(major.minor) schema version used.
  returned: always
  type: str
  sample: "1.33"
supported_versions:
  description: The Kubernetes versions whose schemas are available.
  returned: always
  type: list
  elements: str
semantic_errors:
  description: What a real cluster would refuse or strand (empty unless the schemas passed).
  returned: always
  type: list
  elements: str
warnings_found:
  description: The semantics check's warnings (Pod Security warn/audit levels, preferred affinities matching no
    node), also shown as the task's warnings.
  returned: always
  type: list
  elements: str
to_compare:
  description:
    - Indices into O(manifests), in apply order, of the objects the cluster does not hold as applying them would
      leave them (new, changed, drifted, or unread); the others carry the C(homelab.mediacluster/applied-hash) of
      this very definition and every field it sets. Give the definitions the annotation
      (P(homelab.mediacluster.k8s_applied_hash#filter)) and dry-run and apply them.
  returned: with O(read_applied), when every manifest passed
  type: list
  elements: int
  sample: [0, 4]
requests:
  description: How many API requests the read took.
  returned: with O(read_applied), when every manifest passed
  type: int
unread:
  description: The groups (kind, API version, namespace) that could not be read, and why; their objects are in
    RV(to_compare).
  returned: with O(read_applied), when every manifest passed
  type: list
  elements: str
"""

import copy

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.homelab.mediacluster.plugins.module_utils import cluster_semantics, k8s_applied, k8s_validation
from ansible_collections.homelab.mediacluster.plugins.module_utils.module_body import ModuleBody, ModuleFailure
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC

ARGUMENT_SPEC = dict(copy.deepcopy(AUTH_ARG_SPEC), **cluster_semantics.OPTIONS, **{
    'name': {'type': 'str', 'default': 'manifests'},
    'manifests': {'type': 'list', 'elements': 'raw', 'required': True},
    'kubernetes_version': {'type': 'str', 'required': True},
    'crd_paths': {'type': 'list', 'elements': 'path', 'default': []},
    'missing_schemas': {'type': 'str', 'choices': ['fail', 'report'], 'default': 'fail'},
    'read_applied': {'type': 'bool', 'default': False},
})


def _schemas_stop(result, missing_schemas):
    """Whether the schema errors stop the check: any, or with missing_schemas=report any besides the one line each
    object of a kind without a schema gets."""
    if missing_schemas == 'fail':
        return bool(result['errors'])
    return len(result['errors']) > sum(len(entry['objects']) for entry in result['missing_schemas'])


def run(params, check_mode=False, diff=False):  # pylint: disable=unused-argument
    """The module's body, also run in the controller's process (plugins/action/k8s_delivery_check.py)."""
    if not k8s_validation.HAS_VALIDATION_LIBS:
        raise ModuleFailure(missing_required_lib('kubernetes-validate, jsonschema and PyYAML'),
                            exception=k8s_validation.VALIDATION_IMPORT_ERROR)
    name, manifests = params['name'], params['manifests']
    try:
        result = k8s_validation.report(manifests, params['kubernetes_version'], params['crd_paths'])
    except k8s_validation.K8sValidationError as exc:
        raise ModuleFailure('{0}: {1}; nothing was applied or written.'.format(name, exc)) from exc
    result.update(semantic_errors=[], warnings_found=[])
    if _schemas_stop(result, params['missing_schemas']):
        raise ModuleFailure('{0}: {1}; nothing was applied or written. {2}'.format(
            name, k8s_validation.failure_summary(result, len(manifests)), ' | '.join(result['errors'])), **result)
    try:
        semantics = cluster_semantics.check_options(params)
    except cluster_semantics.SemanticsInputError as exc:
        raise ModuleFailure('{0}: {1}'.format(name, exc), **result) from exc
    result.update(semantic_errors=semantics['errors'], warnings_found=semantics['warnings'])
    if semantics['errors']:
        raise ModuleFailure('{0}, nothing was applied or written: a real cluster would not run it as rendered. {1}'
                            .format(name, ' | '.join(semantics['errors'])), **result)
    if semantics['warnings']:
        result['warnings'] = ['{0}: {1}'.format(name, warning) for warning in semantics['warnings']]
    if params['read_applied'] and result['valid']:
        read = k8s_applied.compare(k8s_applied.api_client(params), [manifests[index] for index in result['order']])
        result.update(to_compare=[index for index, same in zip(result['order'], read['unchanged'], strict=True)
                                  if not same],
                      requests=read['requests'], unread=read['unread'])
    return result


BODY = ModuleBody(ARGUMENT_SPEC, run)


def main():
    BODY.main()


if __name__ == '__main__':
    main()
