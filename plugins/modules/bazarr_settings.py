#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: bazarr_settings
short_description: Manage Bazarr settings (such as its Sonarr and Radarr connections) through its API
version_added: 0.1.0
description:
  - Reads Bazarr's settings (C(GET /api/system/settings)), compares the given ones and posts only those that differ
    (C(POST /api/system/settings), form fields C(settings-<section>-<key>)). The same settings again make no write
    call.
  - Bazarr returns its stored API keys and passwords in clear to an authenticated caller, so secrets are compared
    like any other value; they are masked in the result and the diff. C(auth.password), Bazarr's own login, is
    stored as the MD5 digest of the password, so the module compares the digest and sends the password only when
    it differs.
  - Bazarr's login (C(auth.type) C(form) or C(basic), C(auth.username), C(auth.password)) does not affect the API,
    which only checks the API key.
  - After a write the settings are read back; a value Bazarr did not keep fails the task.
author:
  - homelab.mediacluster developers (@homelab-mediacluster)
extends_documentation_fragment:
  - homelab.mediacluster.app_api
attributes:
  diff_mode:
    description: Returns the managed settings before and after, with secrets masked.
options:
  api_key:
    description: Bazarr's API key (C(auth.apikey) in C(config/config.yaml)), sent as the C(X-API-KEY) header.
    type: str
    required: true
  settings:
    description:
      - Settings by section and key, as in Bazarr's C(config.yaml), for example C(general.use_sonarr),
        C(sonarr.ip), C(sonarr.port), C(sonarr.base_url), C(sonarr.ssl). A section or key Bazarr does not report
        fails (a typo would otherwise be stored as a new, unused key).
      - Values are booleans, integers or strings; lists are not supported.
    type: dict
    default: {}
  secret_settings:
    description:
      - Settings that hold secrets, such as C(sonarr.apikey); merged into O(settings) and never logged.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Bazarr's web UI asks for a login (its login form)
  homelab.mediacluster.bazarr_settings:
    url: http://10.43.12.12:6767
    api_key: "{{ bazarr_api_key }}"
    settings:
      auth:
        type: form
        username: admin
    secret_settings:
      auth:
        password: "{{ vault_bazarr_password }}"

- name: Bazarr takes its series from Sonarr
  homelab.mediacluster.bazarr_settings:
    url: http://10.43.12.12:6767
    api_key: "{{ bazarr_api_key }}"
    settings:
      general:
        use_sonarr: true
      sonarr:
        ip: sonarr.media.svc.cluster.local
        port: 8989
        base_url: /
        ssl: false
    secret_settings:
      sonarr:
        apikey: "{{ sonarr_api_key }}"
"""

RETURN = r"""
changed_settings:
  description: The settings that differed, as C(section.key).
  returned: always
  type: list
  elements: str
  sample: [general.use_sonarr, sonarr.ip]
retries:
  description: How many times the module waited for Bazarr to become ready.
  returned: always
  type: int
  sample: 0
"""


from ansible_collections.homelab.mediacluster.plugins.module_utils.app_api import (
    MediaApiError,
    media_module,
)
from ansible_collections.homelab.mediacluster.plugins.module_utils.bazarr import (
    SETTINGS,
    bazarr_client,
    check_form_safe,
    form_value,
    is_secret,
    normalize,
    stored_form,
)

MASK = '********'


def _merge(settings, secrets):
    wanted = {}
    for source in (settings, secrets):
        for section, values in (source or {}).items():
            if not isinstance(values, dict):
                raise MediaApiError('settings.{0} must be a mapping of keys to values'.format(section))
            wanted.setdefault(section, {}).update(values)
    return wanted


def _shown(key, value):
    return MASK if is_secret(key) and value not in (None, '') else value


def _differences(current, wanted, url):
    changes = {}
    for section, values in wanted.items():
        stored = current.get(section)
        if not isinstance(stored, dict):
            raise MediaApiError('settings.{0} is not a Bazarr settings section (Bazarr at {1} reports {2})'.format(
                section, url, ', '.join(sorted(k for k, v in current.items() if isinstance(v, dict)))))
        for key, value in values.items():
            if value is None:
                continue
            if key not in stored:
                raise MediaApiError('settings.{0}.{1} is not a setting Bazarr at {2} reports; check the key in '
                                    'config/config.yaml'.format(section, key, url))
            check_form_safe(section, key, value)
            if stored_form(section, key, value) != stored[key]:
                changes[(section, key)] = value
    return changes


def run(module):
    params = module.params
    client = bazarr_client(params)
    wanted = _merge(params['settings'], params['secret_settings'])
    current = client.call('GET', SETTINGS)
    if not isinstance(current, dict):
        raise MediaApiError('Bazarr at {0} answered {1} with something that is not a settings object: is the URL '
                            'pointing at Bazarr?'.format(client.url, SETTINGS))
    changes = _differences(current, wanted, client.url)
    names = sorted('{0}.{1}'.format(s, k) for s, k in changes)
    result = dict(changed=bool(changes), changed_settings=names)
    if module._diff and changes:
        before, after = {}, {}
        for (section, key), value in changes.items():
            before.setdefault(section, {})[key] = _shown(key, current[section][key])
            after.setdefault(section, {})[key] = _shown(key, normalize(key, value))
        result['diff'] = dict(before=before, after=after)
    if changes and not module.check_mode:
        form = dict(('settings-{0}-{1}'.format(s, k), form_value(v)) for (s, k), v in changes.items())
        client.request('POST', SETTINGS, form=form, raw=True)
        recheck = {}
        for (section, key), value in changes.items():
            recheck.setdefault(section, {})[key] = value
        stored = client.call('GET', SETTINGS) or {}
        left = sorted('{0}.{1}'.format(s, k) for s, k in _differences(stored, recheck, client.url))
        if left:
            raise MediaApiError('Bazarr at {0} accepted the settings but did not keep {1}; check its log for a '
                                'validation error'.format(client.url, ', '.join(left)))
    result['retries'] = client.retries
    return result


BODY = media_module(dict(
    api_key=dict(type='str', required=True, no_log=True),
    settings=dict(type='dict', default={}),
    secret_settings=dict(type='dict', default={}, no_log=True),
), run, lambda p: 'Bazarr settings')


def main():
    BODY.main()


if __name__ == '__main__':
    main()
