# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared HTTP client for the media stack's APIs (Sonarr, Radarr, Prowlarr: the "Servarr" family, and qBittorrent).

Everything a module needs to talk to one of these apps lives here: the connection options, one request function with
a bounded wait while the app is still starting, error messages that name the app, the URL, the cause and the fix, and
the read-compare-write logic for the *arr "provider" resources (download clients, Prowlarr applications), which all
share the same shape (``name``, ``implementation``, ``fields: [{name, value}]``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import socket
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import urlencode
from ansible.module_utils.urls import open_url

# What Sonarr v4, Radarr v5 and Prowlarr return instead of a stored password or API key.
MASKED = '********'
SECRET_PRIVACY = ('password', 'apiKey')
RETRY_STATUSES = (502, 503, 504)
APPS = {
    'sonarr': {'title': 'Sonarr', 'api': '/api/v3'},
    'radarr': {'title': 'Radarr', 'api': '/api/v3'},
    'lidarr': {'title': 'Lidarr', 'api': '/api/v1'},
    'readarr': {'title': 'Readarr', 'api': '/api/v1'},
    'prowlarr': {'title': 'Prowlarr', 'api': '/api/v1'},
}


class MediaApiError(Exception):
    """The one error type of the media API modules; main() turns it into fail_json."""


def connection_argument_spec():
    """Options every media API module shares (url, timeouts, TLS)."""
    return dict(
        url=dict(type='str', required=True),
        timeout=dict(type='int', default=30),
        wait_timeout=dict(type='int', default=300),
        wait_interval=dict(type='int', default=5),
        validate_certs=dict(type='bool', default=True),
    )


def servarr_argument_spec():
    spec = connection_argument_spec()
    spec.update(api_key=dict(type='str', required=True, no_log=True))
    return spec


def run_media_module(options, run, title, base=connection_argument_spec):
    """The main() of every media API module: the shared connection options (``base()``) plus the module's own
    ``options``, check mode, and the one error class caught once. ``title(params)`` names the object in the error
    message ("Root folder /data/media/tv: ...")."""
    spec = base()
    spec.update(options)
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    try:
        result = run(module)
    except MediaApiError as exc:
        module.fail_json(msg='{0}: {1}'.format(title(module.params), exc))
    module.exit_json(**result)


class ApiClient:
    """One app's HTTP API: JSON or form bodies, a bounded wait while the app is not ready, clear errors."""

    def __init__(self, title, url, *, timeout=30, wait_timeout=300, wait_interval=5, validate_certs=True,
                 headers=None, fix_hint=''):
        self.title = title
        self.url = url.rstrip('/')
        self.timeout = timeout
        self.wait_timeout = wait_timeout
        self.wait_interval = max(wait_interval, 0)
        self.validate_certs = validate_certs
        self.headers = dict(headers or {})
        self.fix_hint = fix_hint
        self.retries = 0

    def _unauthorized(self, url, status):
        return MediaApiError('{0} at {1} answered HTTP {2}: wrong API key or credentials. {3}'.format(
            self.title, url, status, self.fix_hint).strip())

    def request(self, method, path, *, body=None, form=None, query=None, raw=False, headers=None,
                allow_status=()):
        """Send one request and return (status, parsed body, response headers).

        Connection refused/reset and HTTP 502/503/504 mean "not ready yet": they are retried every wait_interval
        seconds until wait_timeout seconds have passed. A read timeout is not retried (the app is up but hung)."""
        url = self.url + path
        if query:
            url += '?' + urlencode(query)
        send_headers = dict(self.headers)
        send_headers.update(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body)
            send_headers['Content-Type'] = 'application/json'
        elif form is not None:
            data = urlencode(form)
            send_headers['Content-Type'] = 'application/x-www-form-urlencoded'
        send_headers.setdefault('Accept', 'application/json')
        deadline = time.monotonic() + self.wait_timeout
        while True:
            try:
                response = open_url(url, data=data, method=method, headers=send_headers, timeout=self.timeout,
                                    validate_certs=self.validate_certs, follow_redirects='none')
                status = response.getcode()
                text = response.read().decode('utf-8', 'replace')
                return status, (text if raw else _parse_json(text, self.title, url)), response.headers
            except HTTPError as exc:
                status = exc.code
                text = _read_error(exc)
                if status in allow_status:
                    return status, text, exc.headers
                if status in (401, 403):
                    raise self._unauthorized(url, status) from None
                if status in RETRY_STATUSES:
                    cause = 'HTTP {0}'.format(status)
                else:
                    raise MediaApiError('{0} at {1} refused {2} {3}: HTTP {4}: {5}'.format(
                        self.title, self.url, method, path, status, _error_text(text))) from None
            except (socket.timeout, TimeoutError):
                raise MediaApiError(
                    '{0} at {1} did not answer {2} {3} within {4} s (read timeout): the app is up but hung or '
                    'overloaded; check its pod logs, or raise timeout.'.format(
                        self.title, self.url, method, path, self.timeout)) from None
            except URLError as exc:
                reason = exc.reason
                if isinstance(reason, (socket.timeout, TimeoutError)):
                    raise MediaApiError(
                        '{0} at {1} did not answer {2} {3} within {4} s (timeout): check the URL and that the '
                        'app is running, or raise timeout.'.format(self.title, self.url, method, path, self.timeout)
                    ) from None
                cause = str(reason)
            except (ConnectionError, OSError) as exc:
                cause = str(exc)
            if time.monotonic() + self.wait_interval > deadline:
                raise MediaApiError(
                    '{0} at {1} was not ready after {2} s ({3} attempts, last: {4}): check that the pod is running '
                    'and the URL is reachable from where this task runs, or raise wait_timeout.'.format(
                        self.title, self.url, self.wait_timeout, self.retries + 1, cause))
            self.retries += 1
            time.sleep(self.wait_interval)

    def call(self, method, path, **kwargs):
        """request() for callers that only need the parsed body."""
        return self.request(method, path, **kwargs)[1]


def _read_error(exc):
    try:
        return exc.read().decode('utf-8', 'replace')
    except Exception:  # noqa: BLE001 - a body we cannot read is just an empty body
        return ''


def _parse_json(text, title, url):
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise MediaApiError('{0} at {1} answered something that is not JSON ({2!r}): is the URL pointing at '
                            '{0}?'.format(title, url, text[:120])) from None


def _error_text(text):
    """The useful part of an *arr error body: validation failures are a list of {propertyName, errorMessage}."""
    try:
        data = json.loads(text)
    except ValueError:
        return text[:300] or '(no body)'
    if isinstance(data, list):
        parts = []
        for item in data:
            if isinstance(item, dict):
                parts.append('{0}: {1}'.format(item.get('propertyName', '?'), item.get('errorMessage', item)))
        return '; '.join(parts) or text[:300]
    if isinstance(data, dict):
        return data.get('message') or data.get('error') or text[:300]
    return text[:300]


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


def normalize_path(path):
    """*arr apps store folders with a trailing slash; compare without it."""
    if path and len(path) > 1:
        return path.rstrip('/')
    return path


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
