#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: servarr_root_folder
short_description: Manage a root folder of Sonarr or Radarr (or another *arr app) through its API
version_added: 0.1.0
description:
  - Makes sure a library root folder (for example C(/data/media/tv) in Sonarr) exists, or does not exist.
  - Reads the root folders first and writes only when the folder is missing (or present with O(state=absent)).
  - Waits, within O(wait_timeout), while the app is not ready yet (connection refused, HTTP 502/503/504).
author:
  - homelab.mediacluster developers (@homelab-mediacluster)
extends_documentation_fragment:
  - homelab.mediacluster.app_api
  - homelab.mediacluster.servarr
attributes:
  diff_mode:
    description: Returns the root folder before and after.
options:
  app:
    description: Which app O(url) points at; it selects the API version (v3 for Sonarr and Radarr, v1 otherwise).
    type: str
    choices: [sonarr, radarr, lidarr, readarr]
    required: true
  path:
    description:
      - Absolute path of the root folder as the app sees it (inside its container).
      - A trailing slash makes no difference.
    type: path
    required: true
  state:
    description: Whether the root folder should exist.
    type: str
    choices: [present, absent]
    default: present
notes:
  - The app checks that the folder exists and is writable when it is added; create it (and mount the volume) first.
"""

EXAMPLES = r"""
- name: Sonarr stores TV shows under /data/media/tv
  homelab.mediacluster.servarr_root_folder:
    app: sonarr
    url: http://10.43.12.7:8989
    api_key: "{{ sonarr_api_key }}"
    path: /data/media/tv

- name: Radarr's old root folder is gone
  homelab.mediacluster.servarr_root_folder:
    app: radarr
    url: http://10.43.12.8:7878
    api_key: "{{ radarr_api_key }}"
    path: /movies
    state: absent
"""

RETURN = r"""
id:
  description: The root folder's id in the app (null when absent, or when check mode would create it).
  returned: always
  type: int
  sample: 1
path:
  description: The root folder path as given.
  returned: always
  type: str
  sample: /data/media/tv
retries:
  description: How many times the module waited for the app to become ready.
  returned: always
  type: int
  sample: 0
"""


from ansible_collections.homelab.mediacluster.plugins.module_utils.app_api import media_module, normalize_path
from ansible_collections.homelab.mediacluster.plugins.module_utils.servarr import servarr_argument_spec, servarr_client


def run(module):
    params = module.params
    client = servarr_client(params, params['app'])
    base = client.api + '/rootfolder'
    wanted = normalize_path(params['path'])
    folders = client.call('GET', base)
    current = None
    for folder in folders or []:
        if normalize_path(folder.get('path')) == wanted:
            current = folder
            break
    result = dict(changed=False, path=params['path'], id=current.get('id') if current else None)
    if params['state'] == 'present' and current is None:
        result.update(changed=True, diff=dict(before={}, after={'path': params['path']}))
        if not module.check_mode:
            created = client.call('POST', base, body={'path': params['path']})
            result['id'] = (created or {}).get('id')
    elif params['state'] == 'absent' and current is not None:
        result.update(changed=True, diff=dict(before={'path': current.get('path')}, after={}))
        if not module.check_mode:
            client.request('DELETE', '{0}/{1}'.format(base, current['id']), raw=True)
        result['id'] = None
    result['retries'] = client.retries
    return result


BODY = media_module(dict(
    app=dict(type='str', required=True, choices=['sonarr', 'radarr', 'lidarr', 'readarr']),
    path=dict(type='path', required=True),
    state=dict(type='str', default='present', choices=['present', 'absent']),
), run, lambda p: 'Root folder {0}'.format(p['path']), base=servarr_argument_spec)


def main():
    BODY.main()


if __name__ == '__main__':
    main()
