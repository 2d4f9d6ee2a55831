# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""qBittorrent WebUI API v2 client: cookie login on top of the shared ApiClient (bounded wait, clear errors).

Login is POST /api/v2/auth/login with a form (username, password). qBittorrent answers "Ok." (200, or 204 without a
body since 5.2) and a session cookie (named SID, or QBT_SID_<port> since 5.2), or "Fails." for wrong credentials;
an address with too many failed logins is banned (403)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.homelab.mediacluster.plugins.module_utils.app_api import ApiClient, MediaApiError


def _cookie(headers):
    """name=value of the session cookie in the login answer, whatever qBittorrent calls it."""
    values = headers.get_all('Set-Cookie') if hasattr(headers, 'get_all') else [headers.get('Set-Cookie')]
    for value in values or []:
        if not value:
            continue
        pair = value.split(';', 1)[0].strip()
        name = pair.split('=', 1)[0]
        if name == 'SID' or name.startswith('QBT_SID'):
            return pair
    return None


class QbittorrentClient:
    def __init__(self, params):
        self.api = ApiClient(
            'qBittorrent', params['url'], timeout=params['timeout'], wait_timeout=params['wait_timeout'],
            wait_interval=params['wait_interval'], validate_certs=params['validate_certs'],
            headers={'Referer': params['url'].rstrip('/')},
            fix_hint='Log in again with the right WebUI credentials; an address banned after failed logins is '
                     'let in again when qBittorrent restarts.')
        self.cookie = None

    @property
    def retries(self):
        return self.api.retries

    def login(self, username, password):
        """True when qBittorrent accepts the credentials, False when it answers Fails."""
        status, text, headers = self.api.request(
            'POST', '/api/v2/auth/login', form={'username': username, 'password': password}, raw=True,
            allow_status=(401, 403))
        if status == 403:
            raise MediaApiError('qBittorrent at {0} banned this address after too many failed logins (HTTP 403): '
                                'restart the qBittorrent pod, then run again with the right password.'.format(
                                    self.api.url))
        if status == 401 or (status == 200 and text.strip() != 'Ok.') or status not in (200, 204):
            return False
        self.cookie = _cookie(headers)
        if not self.cookie:
            raise MediaApiError('qBittorrent at {0} accepted the login but sent no session cookie: is a proxy '
                                'in front of it dropping Set-Cookie?'.format(self.api.url))
        return True

    def call(self, method, path, form=None, raw=False):
        return self.api.call(method, '/api/v2/' + path, form=form, raw=raw, headers={'Cookie': self.cookie})
