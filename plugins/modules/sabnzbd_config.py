#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: sabnzbd_config
short_description: Manage SABnzbd's categories and general settings through its API
version_added: 0.1.0
description:
  - Reads SABnzbd's categories (C(mode=get_config&section=categories)) and the given C([misc]) settings
    (C(mode=get_config&section=misc&keyword=...)), and writes only what differs (C(mode=set_config)). The same
    settings again make no write call.
  - Categories not named in O(categories) and settings not named in O(misc) are left alone.
  - Every call is a form POST carrying the API key in its body, so the key never appears in a URL or an error.
  - With O(username) and O(password), SABnzbd's web interface asks for that login on its login form
    (C([misc] username), C(password), C(html_login=1)) from every address; the API key keeps working for API calls.
    SABnzbd shows a stored password only as asterisks, so the module proves it by logging in (C(POST /login/), a read
    that changes nothing) and sends the password only when the login fails, the user name changes or none is set.
    After a change it logs in again and fails when the login does not work.
author:
  - homelab.mediacluster developers (@homelab-mediacluster)
extends_documentation_fragment:
  - homelab.mediacluster.app_api
attributes:
  diff_mode:
    description: Returns the managed categories and settings before and after; secrets are masked.
options:
  api_key:
    description:
      - SABnzbd's API key (C([misc] api_key) in C(sabnzbd.ini)), sent in the request body. A wrong key fails with a
        message saying so.
    type: str
    required: true
  categories:
    description:
      - Categories and their folders, a mapping such as C(tv) to C(/data/usenet/complete/tv). A folder is absolute
        or relative to C(complete_dir). Names are compared without case (SABnzbd stores them in lower case).
    type: dict
    default: {}
  username:
    description:
      - The web interface's user (C([misc] username)). Give it with O(password).
    type: str
  password:
    description:
      - The web interface's password (C([misc] password)), sent in the request body only, never returned. Give it
        with O(username). SABnzbd ignores a value made only of C(*) (the placeholder its UI shows); the login check
        after the write then fails the task.
    type: str
  misc:
    description:
      - C([misc]) settings by their SABnzbd keyword, such as C(download_dir) or C(complete_dir). A keyword SABnzbd
        does not know fails (a typo would otherwise be ignored). Booleans are sent as 0/1, lists as
        comma-separated values.
      - SABnzbd may refuse a value (for example a folder it cannot create); the module reads the value back and
        fails when it did not take.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: SABnzbd downloads into the /data/usenet tree, one category per *arr app
  homelab.mediacluster.sabnzbd_config:
    url: http://10.43.12.11:8080
    api_key: "{{ sabnzbd_api_key }}"
    misc:
      download_dir: /data/usenet/incomplete
      complete_dir: /data/usenet/complete
    categories:
      tv: /data/usenet/complete/tv
      movies: /data/usenet/complete/movies

- name: SABnzbd's web interface asks for a login
  homelab.mediacluster.sabnzbd_config:
    url: http://10.43.12.11:8080
    api_key: "{{ sabnzbd_api_key }}"
    username: admin
    password: "{{ vault_sabnzbd_password }}"
"""

RETURN = r"""
changed_categories:
  description: Categories that were (or in check mode would be) created or changed.
  returned: always
  type: list
  elements: str
  sample: [tv]
changed_settings:
  description: The C([misc]) keywords that differed (C(username), C(password) and C(html_login) for the login).
  returned: always
  type: list
  elements: str
  sample: [complete_dir]
retries:
  description: How many times the module waited for SABnzbd to become ready.
  returned: always
  type: int
  sample: 0
"""


from ansible_collections.homelab.mediacluster.plugins.module_utils.app_api import (
    MediaApiError,
    media_module,
)
from ansible_collections.homelab.mediacluster.plugins.module_utils.sabnzbd import (
    SECRET_MISC,
    SabnzbdClient,
    form_value,
    same_value,
)

MASK = '********'


def _shown(keyword, value):
    return MASK if keyword in SECRET_MISC and value not in (None, '') else value


def _login_changes(client, params, current_misc):
    """The [misc] values of the web login that differ: username and html_login are compared as read, the password
    (shown only as asterisks) by logging in with it."""
    if params['username'] is None and params['password'] is None:
        return {}
    if not params['username'] or not params['password']:
        raise MediaApiError('the web login needs both username and password (one of them is missing or empty)')
    changes = {}
    for keyword, wanted in (('username', params['username']), ('html_login', 1)):
        section = client.get_config('misc', keyword)
        current_misc[keyword] = (section or {}).get(keyword)
        if not same_value(current_misc[keyword], wanted):
            changes[keyword] = wanted
    stored = client.get_config('misc', 'password') or {}
    current_misc['password'] = stored.get('password')
    if not current_misc['password'] or 'username' in changes or 'html_login' in changes \
            or not client.login_works(params['username'], params['password']):
        changes['password'] = params['password']
    return changes


def run(module):
    params = module.params
    client = SabnzbdClient(params)

    current_misc, misc_changes = {}, {}
    for keyword, wanted in params['misc'].items():
        section = client.get_config('misc', keyword)
        if not isinstance(section, dict) or keyword not in section:
            raise MediaApiError('misc.{0} is not a SABnzbd [misc] setting (SABnzbd at {1} does not report it); '
                                'check the keyword in sabnzbd.ini'.format(keyword, client.api.url))
        current_misc[keyword] = section[keyword]
        if not same_value(section[keyword], wanted):
            misc_changes[keyword] = wanted

    existing = dict(((c.get('name') or '').lower(), c) for c in client.get_config('categories') or [])
    category_changes = {}
    for name, folder in params['categories'].items():
        current = existing.get(name.lower())
        if current is None or not same_value(current.get('dir') or '', folder or ''):
            category_changes[name.lower()] = folder

    login = _login_changes(client, params, current_misc)
    misc_changes.update(login)

    changed = bool(misc_changes or category_changes)
    result = dict(changed=changed, changed_settings=sorted(misc_changes),
                  changed_categories=sorted(category_changes))
    if module._diff and changed:
        result['diff'] = dict(
            before=dict(misc=dict((k, _shown(k, current_misc[k])) for k in misc_changes),
                        categories=dict((n, existing[n].get('dir')) for n in category_changes if n in existing)),
            after=dict(misc=dict((k, _shown(k, v)) for k, v in misc_changes.items()),
                       categories=dict(category_changes)))
    if changed and not module.check_mode:
        for keyword, wanted in misc_changes.items():
            answer = client.call('set_config', section='misc', keyword=keyword, value=form_value(wanted))
            stored = ((answer or {}).get('config') or {}).get('misc', {}).get(keyword)
            if keyword != 'password' and not same_value(stored, wanted):  # a password reads back as asterisks
                raise MediaApiError('SABnzbd at {0} did not accept misc.{1}={2!r} (it kept {3!r}); for a folder, '
                                    'check that SABnzbd can create and write it'.format(
                                        client.api.url, keyword, _shown(keyword, wanted), _shown(keyword, stored)))
        if login and not client.login_works(params['username'], params['password']):
            raise MediaApiError(
                'SABnzbd at {0}: the login of user {1} does not work after setting it (SABnzbd did not keep the '
                'password: it ignores one made only of * characters, and refuses changes while its config is '
                'locked); give another password (media_stack: media_stack_arr_password)'.format(
                    client.api.url, params['username']))
        for name, folder in category_changes.items():
            answer = client.call('set_config', section='categories', name=name, dir=folder)
            stored = [c for c in ((answer or {}).get('config') or {}).get('categories') or []
                      if (c.get('name') or '').lower() == name]
            if not stored or not same_value(stored[0].get('dir') or '', folder):
                raise MediaApiError('SABnzbd at {0} did not store category {1!r} with folder {2!r}'.format(
                    client.api.url, name, folder))
    result['retries'] = client.retries
    return result


BODY = media_module(dict(
    api_key=dict(type='str', required=True, no_log=True),
    categories=dict(type='dict', default={}),
    misc=dict(type='dict', default={}),
    username=dict(type='str'),
    password=dict(type='str', no_log=True),
), run, lambda p: 'SABnzbd config')


def main():
    BODY.main()


if __name__ == '__main__':
    main()
