#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: k8s_applied_info
short_description: Find which objects of an apply batch the cluster holds exactly as this collection last applied them
version_added: 0.1.0
description:
  - Gives each definition of O(definitions) an annotation, C(homelab.mediacluster/applied-hash), holding the sha256
    of the definition (a Secret's values left out, its keys kept), and reads the objects back from the cluster, one
    LIST per kind and namespace (one GET when the group has one object), up to four requests at a time.
  - An object is RV(unchanged) when the cluster's copy carries that same hash (this definition was applied last, so
    applying it again removes no field) and has every field the definition sets, with the same value (nobody changed
    it since). The P(homelab.mediacluster.k8s_delivery#role) role sends only the other objects to the server-side dry
    run, so a rerun that changes nothing makes no dry run at all.
  - Anything this module cannot prove unchanged (a new object, a changed definition, drift, a kind the cluster does
    not serve, a failed read, a value the API server stores in another form) is left to the dry run, which decides;
    being wrong here can cost a dry run, never skip a change.
  - Read-only. All calls go through kubernetes.core's API client, so the usual C(kubeconfig)/C(context) options and
    C(K8S_AUTH_*) environment variables apply.
author:
  - homelab.mediacluster developers (@homelab-mediacluster)
options:
  definitions:
    description:
      - The objects to be applied, one dict per Kubernetes object, each with C(apiVersion), C(kind) and
        C(metadata.name) (and C(metadata.namespace) for a namespaced kind).
    type: list
    elements: dict
    required: true
extends_documentation_fragment:
  - homelab.mediacluster.attributes.read_only
  - homelab.mediacluster.kubernetes_auth
requirements:
  - kubernetes >= 24.2.0
notes:
  - Make the task C(no_log) when O(definitions) holds Secrets, as the k8s_delivery role does.
"""

EXAMPLES = r"""
- name: Find what the cluster already holds
  homelab.mediacluster.k8s_applied_info:
    kubeconfig: "{{ k8s_kubeconfig }}"
    definitions: "{{ manifests }}"
  register: applied

- name: Dry-run only the rest
  kubernetes.core.k8s:
    definition: "{{ applied.to_compare }}"
    apply: true
    server_side_apply:
      field_manager: homelab.mediacluster
  check_mode: true
"""

RETURN = r"""
to_compare:
  description:
    - The definitions the cluster does not hold as applying them would leave them (those whose RV(unchanged) flag is
      false), in the order given, each with its C(homelab.mediacluster/applied-hash) annotation. Dry-run and apply
      these, so that the next run finds the hash. Empty when the cluster holds every object as applied.
  returned: success
  type: list
  elements: dict
unchanged:
  description: One flag per definition, true when the cluster holds that object exactly as applying it would leave it.
  returned: success
  type: list
  elements: bool
requests:
  description: How many API requests the reads took.
  returned: success
  type: int
unread:
  description:
    - The groups (kind, API version, namespace) that could not be read, and why; their objects go to the dry run,
      which reports a real refusal. A kind the cluster does not serve yet (its CRD comes with this run) is one.
  returned: success
  type: list
  elements: str
"""

import copy

from ansible_collections.homelab.mediacluster.plugins.module_utils.k8s_applied import api_client, compare
from ansible_collections.homelab.mediacluster.plugins.module_utils.module_body import ModuleBody
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC

ARGUMENT_SPEC = copy.deepcopy(AUTH_ARG_SPEC)
ARGUMENT_SPEC.update(definitions=dict(type='list', elements='dict', required=True))


def run(params, check_mode=False, diff=False):  # pylint: disable=unused-argument
    """The module's body, also run in the controller's process (plugins/action/k8s_applied_info.py)."""
    return dict(compare(api_client(params), params['definitions']), changed=False)


BODY = ModuleBody(ARGUMENT_SPEC, run)


if __name__ == '__main__':
    BODY.main()
