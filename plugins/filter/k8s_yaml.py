# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Documentation: plugins/filter/k8s_yaml.yml. The writer is shared with the k8s_export_tree module.
from ansible_collections.homelab.mediacluster.plugins.module_utils.k8s_yaml import dump


def k8s_yaml(data):
    return dump(data)


class FilterModule(object):
    def filters(self):
        return {'k8s_yaml': k8s_yaml}
