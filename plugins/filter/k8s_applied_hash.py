# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Documentation: plugins/filter/k8s_applied_hash.yml. The definitions k8s_delivery_check's read left to compare
# (indices into the manifests), given the content-hash annotation the next run's read looks for.
from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.mediacluster.plugins.module_utils.k8s_applied import annotate


def k8s_applied_hash(definitions):
    if not isinstance(definitions, list) or not all(isinstance(item, dict) for item in definitions):
        raise AnsibleFilterError('k8s_applied_hash takes a list of Kubernetes objects (dicts), got {0}'.format(
            type(definitions).__name__))
    return [annotate(definition) for definition in definitions]


class FilterModule(object):
    def filters(self):
        return {'k8s_applied_hash': k8s_applied_hash}
