#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: k8s_manifest_validate
short_description: Validate Kubernetes manifests against the official schemas and CRD schemas, offline
version_added: 0.1.0
description:
  - Checks a list of manifests before anything is applied or exported, without talking to a cluster.
  - Built-in kinds are validated with the strict schemas that C(kubernetes-validate) bundles for the target
    Kubernetes version, so unknown fields, wrong types and bad enum values are errors.
  - Custom resources are validated against the C(openAPIV3Schema) of their CRD version (from O(crd_paths) or from
    CRDs among the manifests), strict like the API server's C(fieldValidation=Strict).
  - Kinds that have no schema at all are also returned in RV(missing_schemas), so that a caller can fetch their
    CRDs elsewhere (the k8s_delivery role reads them from the cluster in apply mode) and validate again.
  - Also returns the order to apply the manifests in and the file name each one gets in an exported kustomize tree.
  - Used by the P(homelab.mediacluster.k8s_delivery#role) role; see C(docs/delivery.md).
author:
  - homelab.mediacluster developers (@homelab-mediacluster)
extends_documentation_fragment:
  - homelab.mediacluster.attributes.read_only
options:
  manifests:
    description:
      - The manifests, one dict per Kubernetes object.
    type: list
    elements: raw
    required: true
  kubernetes_version:
    description:
      - The Kubernetes version to validate against, C(major.minor) or a full version such as C(v1.33.4+k3s1).
    type: str
    required: true
  crd_paths:
    description:
      - CRD files, or directories of C(*.yaml) CRD files, that define the custom resources in O(manifests).
    type: list
    elements: path
    default: []
  fail_on_error:
    description:
      - Fail when a manifest is invalid. With V(false) the module succeeds and returns RV(errors), so that a play
        can report them itself (e.g. when the task is C(no_log) because the manifests hold Secrets).
    type: bool
    default: true
attributes:
  check_mode:
    details: Validation reads nothing but local files and changes nothing; it runs the same in check mode.
  diff_mode:
    details: There is nothing to diff; the apply or export step shows the diff.
requirements:
  - kubernetes-validate
  - jsonschema
  - referencing
  - PyYAML
notes:
  - Error messages of Secrets never contain the offending value.
"""

EXAMPLES = r"""
- name: Validate the manifests of an app for the cluster's Kubernetes version
  homelab.mediacluster.k8s_manifest_validate:
    kubernetes_version: "1.33"
    crd_paths:
      - "{{ role_path }}/files/crds"
    manifests:
      - apiVersion: v1
        kind: ConfigMap
        metadata:
          name: sonarr-env
          namespace: media
        data:
          TZ: Etc/UTC
      - apiVersion: longhorn.io/v1beta2
        kind: RecurringJob
        metadata:
          name: nightly-backup
          namespace: longhorn-system
        spec:
          task: backup
          cron: "0 3 * * *"
          retain: 7
          concurrency: 1
          groups: [default]

- name: Collect the errors instead of failing (the manifests contain a Secret)
  homelab.mediacluster.k8s_manifest_validate:
    kubernetes_version: "{{ cluster_version }}"
    manifests: "{{ app_manifests }}"
    fail_on_error: false
  register: validation
  no_log: true
"""

RETURN = r"""
errors:
  description: One line per problem, naming kind, namespace/name and the field. Empty when all are valid.
  returned: always
  type: list
  elements: str
  sample: ["RecurringJob longhorn-system/nightly-backup: spec.retain: 'seven' is not of type 'integer'"]
missing_schemas:
  description:
    - One entry per C(apiVersion)/C(kind) that neither C(kubernetes-validate) nor any CRD (from O(crd_paths) or
      the manifests) has a schema for, sorted by apiVersion and kind. Empty when every manifest had a schema.
    - Each of these manifests is also reported in RV(errors); give the CRD (for example read from the cluster with
      M(kubernetes.core.k8s_info)) in O(crd_paths) and validate again.
  returned: always
  type: list
  elements: dict
  contains:
    api_version:
      description: The manifests' C(apiVersion).
      type: str
      sample: gateway.networking.k8s.io/v1
    group:
      description: The API group (empty for the core group); a CRD's C(spec.group).
      type: str
      sample: gateway.networking.k8s.io
    version:
      description: The API version within the group; one of the CRD's C(spec.versions[].name).
      type: str
      sample: v1
    kind:
      description: The kind; a CRD's C(spec.names.kind).
      type: str
      sample: HTTPRoute
    objects:
      description: C(Kind namespace/name) of the manifests of this kind.
      type: list
      elements: str
      sample: ["HTTPRoute media/sonarr", "HTTPRoute media/radarr"]
  sample:
    - api_version: gateway.networking.k8s.io/v1
      group: gateway.networking.k8s.io
      version: v1
      kind: HTTPRoute
      objects: ["HTTPRoute media/sonarr"]
valid:
  description: Whether every manifest validated.
  returned: always
  type: bool
objects:
  description: C(Kind namespace/name) of each manifest, in input order.
  returned: always
  type: list
  elements: str
  sample: ["Namespace media", "ConfigMap media/sonarr-env"]
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
  sample: ["1.25", "1.26", "1.37"]
"""

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.homelab.mediacluster.plugins.module_utils import k8s_validation
from ansible_collections.homelab.mediacluster.plugins.module_utils.module_body import ModuleBody, ModuleFailure

ARGUMENT_SPEC = {
    'manifests': {'type': 'list', 'elements': 'raw', 'required': True},
    'kubernetes_version': {'type': 'str', 'required': True},
    'crd_paths': {'type': 'list', 'elements': 'path', 'default': []},
    'fail_on_error': {'type': 'bool', 'default': True},
}


def run(params, check_mode=False, diff=False):  # pylint: disable=unused-argument
    """The module's body, also run in the controller's process (plugins/action/k8s_manifest_validate.py)."""
    if not k8s_validation.HAS_VALIDATION_LIBS:
        raise ModuleFailure(missing_required_lib('kubernetes-validate, jsonschema and PyYAML'),
                            exception=k8s_validation.VALIDATION_IMPORT_ERROR)
    try:
        result = k8s_validation.report(params['manifests'], params['kubernetes_version'], params['crd_paths'])
    except k8s_validation.K8sValidationError as exc:
        raise ModuleFailure(str(exc)) from exc
    if result['errors'] and params['fail_on_error']:
        raise ModuleFailure('{0}; fix them before anything is applied:\n{1}'.format(
            k8s_validation.failure_summary(result, len(params['manifests'])), '\n'.join(result['errors'])), **result)
    return result


BODY = ModuleBody(ARGUMENT_SPEC, run)


def main():
    BODY.main()


if __name__ == '__main__':
    main()
