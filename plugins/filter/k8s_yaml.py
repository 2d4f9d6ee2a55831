# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: k8s_yaml
short_description: A Kubernetes manifest as readable YAML, multi-line strings as literal blocks
version_added: 0.1.0
description:
  - Dumps one manifest the way people write them by hand, with keys in the given order, two-space indentation, and
    multi-line strings (a HelmChart's C(valuesContent), a ConfigMap's files) as C(|) literal blocks instead of one
    quoted line.
  - Used by the k8s_delivery role's export mode, so the GitOps tree reads well in review.
options:
  _input:
    description: The manifest.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Write a manifest
  ansible.builtin.copy:
    content: "{{ manifest | homelab.mediacluster.k8s_yaml }}"
    dest: /srv/gitops/app/configmap-settings.yaml
    mode: "0640"
"""

RETURN = r"""
_value:
  description: The YAML text.
  type: str
"""

from ansible_collections.homelab.mediacluster.plugins.module_utils.k8s_yaml import dump


def k8s_yaml(data):
    return dump(data)


class FilterModule(object):
    def filters(self):
        return {'k8s_yaml': k8s_yaml}
