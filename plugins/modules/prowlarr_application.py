#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: prowlarr_application
short_description: Connect Sonarr, Radarr or another *arr app to Prowlarr as an application
version_added: 0.1.0
description:
  - O(url) and O(api_key) are Prowlarr's own; O(app_url) and O(app_api_key) are the app's.
  - Makes sure Prowlarr has an application (Settings > Apps) named O(name) that syncs its indexers into an *arr
    app, or does not have it.
  - A new application starts from Prowlarr's template for O(implementation) (C(GET /api/v1/applications/schema)).
  - Reads first and writes only what differs; the same settings again make no write call.
  - The *arr app's API key is hidden by Prowlarr in its answers when authentication is on, so it is sent when the
    application is created, and on later runs only with O(update_secrets=always) (or when Prowlarr shows it and it
    differs).
author:
  - homelab.mediacluster developers (@homelab-mediacluster)
extends_documentation_fragment:
  - homelab.mediacluster.app_api
  - homelab.mediacluster.servarr
attributes:
  diff_mode:
    description: Returns the application's settings before and after, with secrets masked.
options:
  name:
    description: Name of the application in Prowlarr (unique, compared without case).
    type: str
    required: true
  implementation:
    description: The kind of app, as Prowlarr names it (C(Sonarr), C(Radarr), C(Lidarr), C(Readarr), ...).
    type: str
    required: true
  sync_level:
    description:
      - C(fullSync) adds, updates and removes indexers in the app; C(addOnly) only adds; C(disabled) stops syncing.
    type: str
    choices: [disabled, addOnly, fullSync]
    default: fullSync
  prowlarr_url:
    description: How the app reaches Prowlarr, such as C(http://prowlarr.media.svc.cluster.local:9696).
    type: str
    required: true
  app_url:
    description: How Prowlarr reaches the app (the C(baseUrl) field), such as C(http://sonarr.media.svc.cluster.local:8989).
    type: str
    required: true
  app_api_key:
    description: The app's API key (the C(apiKey) field).
    type: str
    required: true
  sync_categories:
    description: Newznab categories to sync (the C(syncCategories) field). Left as it is when not given.
    type: list
    elements: int
  fields:
    description:
      - Further provider fields by name (see the app's C(/schema)); an unknown name fails and lists the known ones.
    type: dict
    default: {}
  update_secrets:
    description:
      - C(on_create) sends O(app_api_key) only on creation when Prowlarr hides the stored one; C(always) sends it
        on every run and therefore always reports a change.
    type: str
    choices: [on_create, always]
    default: on_create
  state:
    description: Whether the application should exist.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: Prowlarr syncs its indexers into Sonarr
  homelab.mediacluster.prowlarr_application:
    url: http://10.43.12.6:9696
    api_key: "{{ prowlarr_api_key }}"
    name: Sonarr
    implementation: Sonarr
    sync_level: fullSync
    prowlarr_url: http://prowlarr.media.svc.cluster.local:9696
    app_url: http://sonarr.media.svc.cluster.local:8989
    app_api_key: "{{ sonarr_api_key }}"
"""

RETURN = r"""
id:
  description: The application's id (null when absent, or when check mode would create it).
  returned: always
  type: int
  sample: 1
differences:
  description: The settings and fields that differed and were (or in check mode would be) written.
  returned: changed
  type: list
  elements: str
  sample: [syncLevel]
retries:
  description: How many times the module waited for Prowlarr to become ready.
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
    client = servarr_client(params, 'prowlarr')
    fields = dict(params['fields'])
    fields.update(prowlarrUrl=params['prowlarr_url'].rstrip('/'), baseUrl=params['app_url'].rstrip('/'),
                  apiKey=params['app_api_key'])
    if params['sync_categories'] is not None:
        fields['syncCategories'] = params['sync_categories']
    result = sync_provider(client, 'applications', name=params['name'], implementation=params['implementation'],
                           settings=dict(syncLevel=params['sync_level']), fields=fields,
                           update_secrets=params['update_secrets'], state=params['state'],
                           check_mode=module.check_mode)
    result['retries'] = client.retries
    return result


BODY = media_module(dict(
    name=dict(type='str', required=True),
    implementation=dict(type='str', required=True),
    sync_level=dict(type='str', default='fullSync', choices=['disabled', 'addOnly', 'fullSync']),
    prowlarr_url=dict(type='str', required=True),
    app_url=dict(type='str', required=True),
    app_api_key=dict(type='str', required=True, no_log=True),
    sync_categories=dict(type='list', elements='int'),
    fields=dict(type='dict', default={}),
    update_secrets=dict(type='str', default='on_create', choices=['on_create', 'always']),
    state=dict(type='str', default='present', choices=['present', 'absent']),
), run, lambda p: 'Prowlarr application {0}'.format(p['name']), base=servarr_argument_spec)


def main():
    BODY.main()


if __name__ == '__main__':
    main()
