#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: qbittorrent_preferences
short_description: Manage qBittorrent's preferences, categories and WebUI password through the WebUI API v2
version_added: 0.1.0
description:
  - Logs in to the qBittorrent WebUI API v2, reads the preferences (C(app/preferences)) and the categories
    (C(torrents/categories)), and writes only what differs (C(app/setPreferences), C(torrents/createCategory),
    C(torrents/editCategory)). The same settings again make no write call.
  - Sets the WebUI password. When O(password) is refused and O(bootstrap_password) (for example the temporary
    password the image printed on first start) is accepted, the password is changed to O(password).
author:
  - homelab.mediacluster developers (@homelab-mediacluster)
extends_documentation_fragment:
  - homelab.mediacluster.app_api
attributes:
  check_mode:
    description: Reports what would change and writes nothing (it still logs in, which changes no setting).
  diff_mode:
    description: Returns the managed preferences and categories before and after; passwords are never shown.
options:
  username:
    description: WebUI user name.
    type: str
    default: admin
  password:
    description: The WebUI password qBittorrent should have.
    type: str
    required: true
  bootstrap_password:
    description:
      - The password to log in with when O(password) is refused; qBittorrent's password is then changed to
        O(password). Without it, a refused O(password) fails.
    type: str
  preferences:
    description:
      - qBittorrent preferences by their API name, such as C(save_path), C(auto_tmm_enabled),
        C(category_changed_tmm_enabled). A name qBittorrent does not report fails (a typo would otherwise be
        ignored by qBittorrent).
      - Each value is compared as the type qBittorrent reports for that preference, so C(yes) or C("true") for a
        boolean, C("7") for a number and C(/data/torrents/) for a folder that qBittorrent has as C(/data/torrents) are
        the same setting and make no write. A value that cannot be of that type fails before anything is written.
      - Do not put C(web_ui_password) here; use O(password).
    type: dict
    default: {}
  categories:
    description:
      - Categories and their save paths, a mapping such as C(tv) to C(/data/torrents/tv). Other categories are
        left alone.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: qBittorrent saves into the /data/torrents tree, one category per *arr app
  homelab.mediacluster.qbittorrent_preferences:
    url: http://10.43.12.9:8080
    username: admin
    password: "{{ qbittorrent_password }}"
    preferences:
      save_path: /data/torrents
      auto_tmm_enabled: true
      torrent_changed_tmm_enabled: true
      save_path_changed_tmm_enabled: true
      category_changed_tmm_enabled: true
    categories:
      tv: /data/torrents/tv
      movies: /data/torrents/movies
"""

RETURN = r"""
changed_preferences:
  description: Names of the preferences that differed (C(web_ui_password) when the password was changed).
  returned: always
  type: list
  elements: str
  sample: [save_path]
changed_categories:
  description: Categories that were (or in check mode would be) created or changed.
  returned: always
  type: list
  elements: str
  sample: [tv]
retries:
  description: How many times the module waited for qBittorrent to become ready.
  returned: always
  type: int
  sample: 0
"""

import json

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.homelab.mediacluster.plugins.module_utils.app_api import (
    MediaApiError,
    media_module,
    normalize_path,
)
from ansible_collections.homelab.mediacluster.plugins.module_utils.qbittorrent import QbittorrentClient

# Preferences that hold a folder: compared without trailing slashes (qBittorrent may report /data/torrents/).
PATH_PREFERENCES = frozenset(['save_path', 'temp_path', 'export_dir', 'export_dir_fin'])
TYPE_NAMES = {bool: 'a boolean', int: 'an integer', float: 'a number', str: 'a string'}


def _is_path(key):
    return key in PATH_PREFERENCES or key.endswith('_path') or key.endswith('_dir')


def _typed(key, value, current, url):
    """value as the type qBittorrent reports for key (booleans and numbers may be given as strings, as Ansible
    users write them); a value that is not of that type fails before anything is written."""
    try:
        if isinstance(current, bool):
            return boolean(value, strict=True)
        if isinstance(current, (int, float)):
            if isinstance(value, bool):
                raise ValueError(value)
            if isinstance(value, str):
                text = value.strip()
                try:
                    return int(text)
                except ValueError:
                    return float(text)
            if isinstance(value, (int, float)):
                return value
            raise ValueError(value)
        if isinstance(current, str):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return str(value)
            if not isinstance(value, str):
                raise ValueError(value)
            return value
    except (TypeError, ValueError):
        raise MediaApiError('preference {0!r} is {1} in qBittorrent at {2} (now {3!r}), and {4!r} is not one: give {1} '
                            'for it'.format(key, TYPE_NAMES[type(current)], url, current, value)) from None
    return value  # lists and mappings: as given


def _same(key, value, current):
    """Whether the typed desired value is what qBittorrent has (folders without trailing slashes)."""
    if isinstance(value, str) and isinstance(current, str) and _is_path(key):
        return normalize_path(value) == normalize_path(current)
    if isinstance(value, bool) or isinstance(current, bool):
        return value is current
    return value == current


def run(module):
    params = module.params
    client = QbittorrentClient(params)
    change_password = False
    if not client.login(params['username'], params['password']):
        if not params['bootstrap_password'] or not client.login(params['username'], params['bootstrap_password']):
            raise MediaApiError(
                'qBittorrent at {0} refused user {1!r} with the given password{2}: give the WebUI password '
                'qBittorrent has now (the media_stack role keeps it in its Secret), or set bootstrap_password to '
                'the current one so that it can be changed.'.format(
                    client.api.url, params['username'],
                    ' and with bootstrap_password' if params['bootstrap_password'] else ''))
        change_password = True

    if 'web_ui_password' in params['preferences']:
        raise MediaApiError('preferences.web_ui_password is not compared (qBittorrent never shows it); use the '
                            'password option instead')
    current = client.call('GET', 'app/preferences') or {}
    changes = {}
    for key, value in params['preferences'].items():
        if key not in current:
            raise MediaApiError('preference {0!r} is not one qBittorrent {1} reports; check its name in the WebUI '
                                'API v2 documentation (app/preferences)'.format(key, client.api.url))
        typed = _typed(key, value, current[key], client.api.url)
        if not _same(key, typed, current[key]):
            changes[key] = typed
    if change_password:
        changes['web_ui_password'] = params['password']

    categories = client.call('GET', 'torrents/categories') or {}
    create, edit = [], []
    for name, path in params['categories'].items():
        if name not in categories:
            create.append(name)
        elif normalize_path(categories[name].get('savePath') or '') != normalize_path(path or ''):
            edit.append(name)

    changed = bool(changes or create or edit)
    result = dict(changed=changed, changed_preferences=sorted(changes), changed_categories=sorted(create + edit))
    if module._diff and changed:
        hidden = dict((k, '********' if k == 'web_ui_password' else v) for k, v in changes.items())
        result['diff'] = dict(
            before=dict(preferences=dict((k, current.get(k, '********')) for k in changes),
                        categories=dict((n, categories[n].get('savePath')) for n in edit)),
            after=dict(preferences=hidden, categories=dict((n, params['categories'][n]) for n in create + edit)))
    if changed and not module.check_mode:
        if changes:
            client.call('POST', 'app/setPreferences', form={'json': json.dumps(changes)}, raw=True)
        for action, names in (('createCategory', create), ('editCategory', edit)):
            for name in names:
                client.call('POST', 'torrents/' + action,
                            form={'category': name, 'savePath': params['categories'][name]}, raw=True)
    result['retries'] = client.retries
    return result


BODY = media_module(dict(
    username=dict(type='str', default='admin'),
    password=dict(type='str', required=True, no_log=True),
    bootstrap_password=dict(type='str', no_log=True),
    preferences=dict(type='dict', default={}),
    categories=dict(type='dict', default={}),
), run, lambda p: 'qBittorrent preferences')


def main():
    BODY.main()


if __name__ == '__main__':
    main()
