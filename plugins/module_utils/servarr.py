# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the *arr ("Servarr") apps share - Sonarr, Radarr, Lidarr, Readarr, Prowlarr - on top of the generic client
in module_utils/app_api.py: their API versions and X-Api-Key header, and the read-compare-write logic for their
"provider" resources (download clients, Prowlarr applications), which all share the same shape (``name``,
``implementation``, ``fields: [{name, value}]``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.homelab.mediacluster.plugins.module_utils.app_api import (
    ApiClient,
    MediaApiError,
    connection_argument_spec,
)

# What Sonarr v4, Radarr v5 and Prowlarr return instead of a stored password or API key.
MASKED = '********'
SECRET_PRIVACY = ('password', 'apiKey')
APPS = {
    'sonarr': {'title': 'Sonarr', 'api': '/api/v3'},
    'radarr': {'title': 'Radarr', 'api': '/api/v3'},
    'lidarr': {'title': 'Lidarr', 'api': '/api/v1'},
    'readarr': {'title': 'Readarr', 'api': '/api/v1'},
    'prowlarr': {'title': 'Prowlarr', 'api': '/api/v1'},
}


def servarr_argument_spec():
    spec = connection_argument_spec()
    spec.update(api_key=dict(type='str', required=True, no_log=True))
    return spec


def servarr_client(params, app):
    if app not in APPS:
        raise MediaApiError('app={0} is not supported; use one of {1}'.format(app, ', '.join(sorted(APPS))))
    title = APPS[app]['title']
    client = ApiClient(
        title, params['url'], timeout=params['timeout'], wait_timeout=params['wait_timeout'],
        wait_interval=params['wait_interval'], validate_certs=params['validate_certs'],
        headers={'X-Api-Key': params['api_key']},
        fix_hint='Give the API key of this {0} instance (Settings > General, or the {1}__AUTH__APIKEY variable the '
                 'media_stack role injects).'.format(title, title.upper()))
    client.api = APPS[app]['api']
    return client


# ---------------------------------------------------------------------------------------------------------------
# Providers: download clients and Prowlarr applications


def _field_map(resource):
    return dict((f.get('name'), f) for f in resource.get('fields') or [])


def _is_secret(field):
    return field.get('privacy') in SECRET_PRIVACY or field.get('value') == MASKED


def redact(resource):
    """A copy of a provider resource that is safe to return and diff: secrets shown as MASKED."""
    result = copy.deepcopy(resource)
    for field in result.get('fields') or []:
        if field.get('privacy') in SECRET_PRIVACY and field.get('value') not in (None, ''):
            field['value'] = MASKED
    for key in ('presets', 'message', 'infoLink'):
        result.pop(key, None)
    return result


def _summary(resource):
    """What the user sees in diff: the top-level settings and fields as name: value."""
    if not resource:
        return {}
    shown = redact(resource)
    fields = dict((f.get('name'), f.get('value')) for f in shown.pop('fields', None) or [])
    shown['fields'] = fields
    return shown


def sync_provider(client, kind, *, name, implementation, settings, fields, update_secrets, state, check_mode):
    """Make the provider `name` at <api>/<kind> match; return the module result (changed, diff, id, writes).

    settings: top-level keys (enable, priority, syncLevel, ...); fields: {field name: value}.
    A secret field (password, API key) whose stored value the app hides is only sent when the provider is created
    or update_secrets is 'always': the app never shows it back, so it cannot be compared."""
    base = '{0}/{1}'.format(client.api, kind)
    label = '{0} {1} {2!r}'.format(client.title, 'download client' if kind == 'downloadclient' else 'application',
                                   name)
    existing_all = client.call('GET', base)
    matches = [r for r in existing_all or [] if (r.get('name') or '').lower() == name.lower()]
    if len(matches) > 1:
        raise MediaApiError('{0}: {1} entries share this name; remove the duplicates in {2} first'.format(
            label, len(matches), client.title))
    current = matches[0] if matches else None
    result = dict(changed=False, name=name)

    if state == 'absent':
        if current is None:
            return result
        result.update(changed=True, id=current.get('id'), diff=dict(before=_summary(current), after={}))
        if not check_mode:
            client.request('DELETE', '{0}/{1}'.format(base, current['id']), raw=True)
        return result

    if current is None:
        templates = client.call('GET', base + '/schema')
        template = None
        for candidate in templates or []:
            if (candidate.get('implementation') or '').lower() == implementation.lower():
                template = candidate
                break
        if template is None:
            known = sorted(set(c.get('implementation') for c in templates or []))
            raise MediaApiError('{0}: implementation {1!r} is unknown to {2}; use one of {3}'.format(
                label, implementation, client.title, ', '.join(str(k) for k in known)))
        desired = copy.deepcopy(template)
        desired.pop('presets', None)
        desired.pop('id', None)
        desired['name'] = name
    else:
        if (current.get('implementation') or '').lower() != implementation.lower():
            raise MediaApiError('{0} exists with implementation {1!r}, not {2!r}; rename one of them or delete '
                                'the existing entry in {3}'.format(label, current.get('implementation'),
                                                                   implementation, client.title))
        desired = copy.deepcopy(current)

    differences = []
    for key, value in settings.items():
        if value is None:
            continue
        if desired.get(key) != value:
            differences.append(key)
            desired[key] = value
    desired_fields = _field_map(desired)
    for field_name, value in fields.items():
        if value is None:
            continue
        field = desired_fields.get(field_name)
        if field is None:
            raise MediaApiError('{0}: field {1!r} is not a setting of {2} in {3}; known fields: {4}'.format(
                label, field_name, implementation, client.title, ', '.join(sorted(desired_fields))))
        if current is not None and _is_secret(field) and field.get('value') == MASKED:
            if update_secrets == 'always':
                differences.append('fields.' + field_name)
                field['value'] = value
            continue
        if field.get('value') != value:
            differences.append('fields.' + field_name)
            field['value'] = value

    if current is not None and not differences:
        result['id'] = current.get('id')
        return result

    result.update(changed=True, differences=differences,
                  diff=dict(before=_summary(current), after=_summary(desired)))
    if check_mode:
        result['id'] = current.get('id') if current else None
        return result
    if current is None:
        created = client.call('POST', base, body=desired)
        result['id'] = (created or {}).get('id')
    else:
        client.call('PUT', '{0}/{1}'.format(base, current['id']), body=desired)
        result['id'] = current['id']
    return result
