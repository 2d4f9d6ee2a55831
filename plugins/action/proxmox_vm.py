# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""homelab.mediacluster.proxmox_vm in the controller's process (plugins/plugin_utils/in_process.py): the Proxmox API is
called from the task's host (its network, its CA files), so in process over the local connection (the controller)
and as the module elsewhere."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.homelab.mediacluster.plugins.plugin_utils.in_process import InProcessAction


class ActionModule(InProcessAction):
    LOCAL_ONLY = True
