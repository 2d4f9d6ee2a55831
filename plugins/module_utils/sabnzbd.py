# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SABnzbd API client on top of the shared ApiClient (bounded wait, clear errors).

SABnzbd has one endpoint, ``/api``, selected by ``mode``; its only credential is the ``apikey`` parameter. This client
sends every call as a form POST (SABnzbd reads query and form parameters alike), so the key never appears in a URL,
an access log or an error message. Refusals come back as HTTP 403 with a plain-text reason ("API Key Incorrect",
"Access denied - Hostname verification failed ...", "External internet access denied ..."), and failed API calls as
``{"status": false, "error": ...}`` with HTTP 200."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.homelab.mediacluster.plugins.module_utils.app_api import ApiClient, MediaApiError

# Values SABnzbd keeps secret in [misc]: never returned by the modules, masked in diffs.
SECRET_MISC = ('api_key', 'nzb_key', 'password', 'email_pwd')


class SabnzbdClient:
    def __init__(self, params):
        self.api_key = params['api_key']
        self.api = ApiClient(
            'SABnzbd', params['url'], timeout=params['timeout'], wait_timeout=params['wait_timeout'],
            wait_interval=params['wait_interval'], validate_certs=params['validate_certs'])

    @property
    def retries(self):
        return self.api.retries

    def call(self, mode, **params):
        """One API call; returns the parsed JSON answer or raises MediaApiError naming the cause and the fix."""
        form = dict(params, mode=mode, output='json', apikey=self.api_key)
        status, text, _unused = self.api.request('POST', '/api', form=form, raw=True, allow_status=(401, 403))
        if status in (401, 403):
            reason = (text or '').strip()
            if 'API Key' in reason:
                raise MediaApiError(
                    'SABnzbd at {0} answered HTTP {1} ({2}): wrong API key. Give the api_key of this SABnzbd '
                    '(Config > General > Security, or [misc] api_key in sabnzbd.ini; the media_stack role writes '
                    'it there from its Secret before SABnzbd starts).'.format(self.api.url, status, reason))
            if 'Hostname' in reason:
                raise MediaApiError(
                    'SABnzbd at {0} answered HTTP {1} ({2}): the host name in the URL is not in its [misc] '
                    'host_whitelist. Call it by IP address, or add the name to host_whitelist (media_stack: '
                    'media_stack_sabnzbd_host_whitelist).'.format(self.api.url, status, reason))
            raise MediaApiError(
                'SABnzbd at {0} answered HTTP {1} ({2}): it refuses API calls from this address. Run the task '
                'from a local/private address or widen [misc] local_ranges / inet_exposure.'.format(
                    self.api.url, status, reason or 'no reason given'))
        data = _json(text, self.api.url)
        if isinstance(data, dict) and data.get('status') is False:
            raise MediaApiError('SABnzbd at {0} refused mode={1}: {2}'.format(
                self.api.url, mode, data.get('error') or 'no reason given'))
        return data

    def login_works(self, username, password):
        """Whether SABnzbd's web login (interface.LoginPage, the form behind html_login) accepts the pair: a right
        pair answers a redirect that sets login_cookie, a wrong one the login page again. A read, not a write: this is
        how a password SABnzbd only shows as asterisks is compared. The password travels in the POST body only."""
        status, _unused, headers = self.api.request(
            'POST', '/login/', form=dict(username=username, password=password), raw=True,
            allow_status=(301, 302, 303, 307, 401, 403))
        if status == 403:
            raise MediaApiError('SABnzbd at {0} refused its login page (HTTP 403): this address or host name is not '
                                'allowed to use the web interface (host_whitelist, local_ranges)'.format(self.api.url))
        cookies = (headers.get_all('Set-Cookie') if headers is not None else None) or []
        return status in (301, 302, 303, 307) and any(c.strip().startswith('login_cookie=') for c in cookies)

    def get_config(self, section, keyword=None):
        params = dict(section=section)
        if keyword:
            params['keyword'] = keyword
        data = self.call('get_config', **params)
        config = (data or {}).get('config')
        if not isinstance(config, dict):
            raise MediaApiError('SABnzbd at {0} answered get_config without a "config" object: is the URL '
                                'pointing at SABnzbd?'.format(self.api.url))
        return config.get(section)


def _json(text, url):
    try:
        return json.loads(text) if text and text.strip() else None
    except ValueError:
        raise MediaApiError('SABnzbd at {0} answered something that is not JSON ({1!r}): is the URL pointing at '
                            'SABnzbd?'.format(url, (text or '')[:120])) from None


def same_value(current, desired):
    """Compare a [misc] value as SABnzbd reports it (0/1 for booleans, lists for list options, paths) with the
    wanted one."""
    if isinstance(desired, bool):
        desired = int(desired)
    if isinstance(current, list) or isinstance(desired, list):
        return _as_list(current) == _as_list(desired)
    if isinstance(current, (int, float)) and not isinstance(current, bool):
        try:
            return float(current) == float(desired)
        except (TypeError, ValueError):
            return False
    return _path(str(current if current is not None else '')) == _path(str(desired))


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split(',') if v.strip()]


def _path(value):
    value = value.strip()
    return value.rstrip('/') if len(value) > 1 and value.startswith('/') else value


def form_value(value):
    """A wanted value in the form SABnzbd's set_config takes."""
    if isinstance(value, bool):
        return '1' if value else '0'
    if isinstance(value, list):
        return ', '.join(str(v) for v in value)
    return str(value)
