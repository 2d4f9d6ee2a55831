# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""homelab.mediacluster.servarr_host_auth in the controller's process (plugins/plugin_utils/in_process.py).

The app's API is called from the task's host, so in process over the local connection (the controller) and as the
module elsewhere (a task delegated to a host that reaches the app)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.homelab.mediacluster.plugins.plugin_utils.in_process import InProcessAction


class ActionModule(InProcessAction):
    LOCAL_ONLY = True
