# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """The API key of the *arr apps (Sonarr, Radarr, Lidarr, Readarr, Prowlarr), next to the app_api fragment."""

    DOCUMENTATION = r"""
options:
  api_key:
    description: The app's API key, sent as the C(X-Api-Key) header. A wrong key fails with a message saying so.
    type: str
    required: true
"""
