# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Documentation: plugins/filter/k8s_yaml.yml and k8s_manifests.yml. The writer is shared with the k8s_export_tree
# module.
from ansible_collections.homelab.mediacluster.plugins.module_utils.k8s_yaml import dump, yaml


def k8s_yaml(data):
    return dump(data)


def k8s_manifests(text):
    """The objects of a rendered YAML stream, empty documents left out, as plain dicts, lists and scalars (libyaml's
    safe loader when PyYAML has it). Unlike from_yaml_all, no value carries Ansible's data tags (the origin of each
    value): copying, pickling and validating plain manifests costs a fiftieth as much."""
    loader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
    return [document for document in yaml.load_all(str(text), Loader=loader) if document]


class FilterModule(object):
    def filters(self):
        return {'k8s_yaml': k8s_yaml, 'k8s_manifests': k8s_manifests}
