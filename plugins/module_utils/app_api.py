# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The generic HTTP API client of the media stack's app modules (Sonarr, Radarr, Prowlarr, qBittorrent, Jellyfin,
SABnzbd, Bazarr).

What every app module needs to talk to its app: the connection options, one request function with a bounded wait
while the app is still starting, error messages that name the app, the URL, the cause and the fix, the one error
type, and the module's main(). What only the *arr ("Servarr") apps share - their API key header and versions, and
their "provider" resources - is in module_utils/servarr.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import time

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import urlencode
from ansible.module_utils.urls import open_url

from ansible_collections.homelab.mediacluster.plugins.module_utils.module_body import ModuleBody, ModuleFailure

RETRY_STATUSES = (502, 503, 504)


class MediaApiError(Exception):
    """The one error type of the media API modules; their body turns it into a failure naming the object."""


def connection_argument_spec():
    """Options every media API module shares (url, timeouts, TLS)."""
    return dict(
        url=dict(type='str', required=True),
        timeout=dict(type='int', default=30),
        wait_timeout=dict(type='int', default=300),
        wait_interval=dict(type='int', default=5),
        validate_certs=dict(type='bool', default=True),
    )


class _ModuleView:
    """What a media module's run(module) reads of AnsibleModule: params, check_mode and _diff."""

    def __init__(self, params, check_mode, diff):
        self.params = params
        self.check_mode = check_mode
        self._diff = diff


def media_module(options, run, title, base=connection_argument_spec):
    """The ModuleBody (module_utils/module_body.py) of every media API module: the shared connection options
    (``base()``) plus the module's own ``options``, check mode, the one error class caught once, and the result's
    ``diff`` only in diff mode. ``title(params)`` names the object in the error message ("Root folder
    /data/media/tv: ..."). ``BODY.main()`` runs it as a module, the action plugin of the same name in process."""
    spec = base()
    spec.update(options)

    def body(params, check_mode, diff):
        try:
            result = run(_ModuleView(params, check_mode, diff))
        except MediaApiError as exc:
            raise ModuleFailure('{0}: {1}'.format(title(params), exc)) from exc
        if not diff:
            result.pop('diff', None)
        return result

    return ModuleBody(spec, body)


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


def normalize_path(path):
    """Apps store folders with or without a trailing slash; compare without it ('/' stays '/')."""
    if path and len(path) > 1:
        return path.rstrip('/')
    return path
