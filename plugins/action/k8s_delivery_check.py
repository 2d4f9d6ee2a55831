# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""homelab.mediacluster.k8s_delivery_check in the controller's process (plugins/plugin_utils/in_process.py):
it reads only the controller's files (the schemas) and computes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.homelab.mediacluster.plugins.plugin_utils.in_process import InProcessAction


class ActionModule(InProcessAction):
    LOCAL_ONLY = False
