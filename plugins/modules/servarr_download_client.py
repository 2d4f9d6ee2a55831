#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: servarr_download_client
short_description: Manage a download client of Sonarr, Radarr or Prowlarr through its API
version_added: 0.1.0
description:
  - Makes sure a download client (such as qBittorrent with the C(tv) category in Sonarr) exists with the given
    settings, or does not exist. The download client is found by O(name).
  - A new client starts from the app's own template for O(implementation) (C(GET /api/v3/downloadclient/schema)),
    so every field the app expects is sent; only the fields given in O(fields) are changed.
  - Reads first and writes only what differs; the same settings again make no write call.
  - Passwords and API keys are hidden by the apps in their answers, so they cannot be compared. They are sent when
    the client is created, and on later runs only with O(update_secrets=always).
author:
  - homelab.mediacluster developers (@homelab-mediacluster)
extends_documentation_fragment:
  - homelab.mediacluster.app_api
  - homelab.mediacluster.servarr
attributes:
  diff_mode:
    description: Returns the client's settings before and after, with secrets masked.
options:
  app:
    description: Which app O(url) points at; it selects the API version (v3 for Sonarr and Radarr, v1 otherwise).
    type: str
    choices: [sonarr, radarr, lidarr, readarr, prowlarr]
    required: true
  name:
    description: Name of the download client in the app (unique, compared without case).
    type: str
    required: true
  implementation:
    description: The app's implementation name of the client, as in its C(/schema) answer.
    type: str
    default: QBittorrent
  enable:
    description: Whether the app uses this client.
    type: bool
    default: true
  priority:
    description: Client priority (1 is highest). Left as it is when not given.
    type: int
  remove_completed_downloads:
    description: Let the app remove completed downloads from the client (not in Prowlarr). Left as it is when not given.
    type: bool
  remove_failed_downloads:
    description: Let the app remove failed downloads from the client (not in Prowlarr). Left as it is when not given.
    type: bool
  fields:
    description:
      - Provider fields by name, such as C(host), C(port), C(username), C(tvCategory) (Sonarr) or C(movieCategory)
        (Radarr) for qBittorrent. Names come from the app's C(/schema); an unknown name fails and lists the known
        ones.
      - Put passwords and API keys in O(secret_fields) instead, so that they stay out of logs.
    type: dict
    default: {}
  secret_fields:
    description:
      - Fields that hold secrets, such as C(password) or C(apiKey); merged into O(fields) and never logged.
    type: dict
    default: {}
  update_secrets:
    description:
      - C(on_create) sends passwords and API keys only when the client is created (the app hides them, so a rerun
        cannot tell whether they differ). C(always) sends them on every run and therefore always reports a change.
    type: str
    choices: [on_create, always]
    default: on_create
  state:
    description: Whether the download client should exist.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: Sonarr sends TV downloads to qBittorrent's tv category
  homelab.mediacluster.servarr_download_client:
    app: sonarr
    url: http://10.43.12.7:8989
    api_key: "{{ sonarr_api_key }}"
    name: qBittorrent
    fields:
      host: qbittorrent.media.svc.cluster.local
      port: 8080
      username: admin
      tvCategory: tv
    secret_fields:
      password: "{{ qbittorrent_password }}"
"""

RETURN = r"""
id:
  description: The download client's id (null when absent, or when check mode would create it).
  returned: always
  type: int
  sample: 1
differences:
  description: The settings and fields that differed and were (or in check mode would be) written.
  returned: changed
  type: list
  elements: str
  sample: [fields.tvCategory]
retries:
  description: How many times the module waited for the app to become ready.
  returned: always
  type: int
  sample: 0
"""


from ansible_collections.homelab.mediacluster.plugins.module_utils.app_api import media_module
from ansible_collections.homelab.mediacluster.plugins.module_utils.servarr import (
    servarr_argument_spec,
    servarr_client,
    sync_provider,
)


def run(module):
    params = module.params
    client = servarr_client(params, params['app'])
    settings = dict(enable=params['enable'], priority=params['priority'])
    if params['app'] != 'prowlarr':
        settings.update(removeCompletedDownloads=params['remove_completed_downloads'],
                        removeFailedDownloads=params['remove_failed_downloads'])
    fields = dict(params['fields'])
    fields.update(params['secret_fields'])
    result = sync_provider(client, 'downloadclient', name=params['name'], implementation=params['implementation'],
                           settings=settings, fields=fields, update_secrets=params['update_secrets'],
                           state=params['state'], check_mode=module.check_mode)
    result['retries'] = client.retries
    return result


BODY = media_module(dict(
    app=dict(type='str', required=True, choices=['sonarr', 'radarr', 'lidarr', 'readarr', 'prowlarr']),
    name=dict(type='str', required=True),
    implementation=dict(type='str', default='QBittorrent'),
    enable=dict(type='bool', default=True),
    priority=dict(type='int'),
    remove_completed_downloads=dict(type='bool'),
    remove_failed_downloads=dict(type='bool'),
    fields=dict(type='dict', default={}),
    secret_fields=dict(type='dict', default={}, no_log=True),
    update_secrets=dict(type='str', default='on_create', choices=['on_create', 'always']),
    state=dict(type='str', default='present', choices=['present', 'absent']),
), run, lambda p: 'Download client {0}'.format(p['name']), base=servarr_argument_spec)


def main():
    BODY.main()


if __name__ == '__main__':
    main()
