#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: servarr_host_auth
short_description: Set the login of Sonarr, Radarr or Prowlarr (authentication method, requirement, user)
version_added: 0.1.0
description:
  - Sets the app's own authentication through its API (C(config/host), Settings > General > Security), that is the
    method (C(forms) by default, the app's login page), whether it is required for every address (C(enabled)) or not for
    local ones, and the user name and password.
  - Reads C(config/host) first and writes only what differs. The app returns only a salted hash of the password, so
    with O(update_password=on_create) the password is sent when the app has no user yet or the user name changes, and
    left alone otherwise (a rerun makes no write call); O(update_password=always) sends it on every run.
author:
  - homelab.mediacluster developers (@homelab-mediacluster)
extends_documentation_fragment:
  - homelab.mediacluster.app_api
  - homelab.mediacluster.servarr
attributes:
  diff_mode:
    description: Returns the authentication settings before and after (never a password or its hash).
options:
  app:
    description: Which app O(url) points at; it selects the API version.
    type: str
    choices: [sonarr, radarr, prowlarr, lidarr, readarr]
    required: true
  method:
    description: C(forms) (login page, a session cookie), C(basic) (the browser's prompt) or C(external) (a proxy
      in front authenticates; only behind forward-auth).
    type: str
    choices: [forms, basic, external]
    default: forms
  required:
    description: C(enabled) asks every client to log in; C(disabledForLocalAddresses) lets LAN and pod addresses in
      without a login, which behind an ingress controller means everybody (every request arrives from a pod
      address).
    type: str
    choices: [enabled, disabledForLocalAddresses]
    default: enabled
  username:
    description: The login.
    type: str
    required: true
  password:
    description: The password (keep it in the vault).
    type: str
    required: true
  update_password:
    description: C(on_create) sets the password only with a new user (or a new user name); C(always) on every run.
    type: str
    choices: [on_create, always]
    default: on_create
"""

EXAMPLES = r"""
- name: Sonarr asks every client to log in
  homelab.mediacluster.servarr_host_auth:
    app: sonarr
    url: http://10.43.12.7:8989
    api_key: "{{ sonarr_api_key }}"
    username: admin
    password: "{{ vault_sonarr_password }}"
"""

RETURN = r"""
settings:
  description: The authentication settings after the run (no password).
  returned: always
  type: dict
  sample: {authenticationMethod: forms, authenticationRequired: enabled, username: admin}
retries:
  description: How many times the module waited for the app to become ready.
  returned: always
  type: int
  sample: 0
"""

from ansible_collections.homelab.mediacluster.plugins.module_utils.app_api import MediaApiError, media_module
from ansible_collections.homelab.mediacluster.plugins.module_utils.servarr import servarr_argument_spec, servarr_client

SHOWN = ('authenticationMethod', 'authenticationRequired', 'username')


def run(module):
    params = module.params
    client = servarr_client(params, params['app'])
    base = client.api + '/config/host'
    current = client.call('GET', base)
    if not isinstance(current, dict) or 'id' not in current:
        raise MediaApiError('GET {0} did not return the host settings ({1!r}); is this a {2} API?'.format(
            base, current, params['app']))
    before = {k: current.get(k) for k in SHOWN}
    after = {'authenticationMethod': params['method'], 'authenticationRequired': params['required'],
             'username': params['username']}
    new_user = not current.get('username') or current.get('username') != params['username']
    send_password = new_user or params['update_password'] == 'always'  # noqa: S105 (a choice, not a password)
    changed = before != after or send_password
    result = dict(changed=changed, settings=after if changed else before)
    if changed and not module.check_mode:
        body = dict(current)
        body.update(after)
        if send_password:
            body.update(password=params['password'], passwordConfirmation=params['password'])
        else:
            # the stored hash, as the app's own UI sends it back: the app keeps the password as it is
            body.update(password=current.get('password') or '', passwordConfirmation='')
        client.call('PUT', '{0}/{1}'.format(base, current['id']), body=body)
    if changed and module._diff:
        result['diff'] = dict(before=before, after=dict(after, password='(set)' if send_password else '(kept)'))
    result['retries'] = client.retries
    return result


BODY = media_module(dict(
    app=dict(type='str', required=True, choices=['sonarr', 'radarr', 'prowlarr', 'lidarr', 'readarr']),
    method=dict(type='str', default='forms', choices=['forms', 'basic', 'external']),
    required=dict(type='str', default='enabled', choices=['enabled', 'disabledForLocalAddresses']),
    username=dict(type='str', required=True),
    password=dict(type='str', required=True, no_log=True),
    update_password=dict(type='str', default='on_create', choices=['on_create', 'always'], no_log=False),
), run, lambda p: '{0} login {1}'.format(p['app'], p['username']), base=servarr_argument_spec)


def main():
    BODY.main()


if __name__ == '__main__':
    main()
