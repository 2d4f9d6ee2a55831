# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jellyfin HTTP API client on top of the shared ApiClient (bounded wait while the server starts, clear errors).

Jellyfin identifies every client with an ``Authorization: MediaBrowser Client=..., Device=..., DeviceId=...,
Version=...`` header, plus ``Token=...`` once logged in (POST /Users/AuthenticateByName). A fixed DeviceId means a new
login replaces the previous session of this client instead of adding a device on every run.
Field names follow the models the Jellyfin TypeScript SDK (@jellyfin/sdk 0.11.0) generates from Jellyfin 10.10's
OpenAPI document."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.homelab.mediacluster.plugins.module_utils.app_api import (
    ApiClient,
    MediaApiError,
    normalize_path,
)

CLIENT = 'homelab.mediacluster'
DEVICE = 'Ansible'
DEVICE_ID = 'homelab-mediacluster-jellyfin-setup'
VERSION = '1.0.0'
# CollectionTypeOptions of Jellyfin 10.10 (what POST /Library/VirtualFolders accepts as collectionType).
COLLECTION_TYPES = ('movies', 'tvshows', 'music', 'musicvideos', 'homevideos', 'boxsets', 'books', 'mixed')
LOGIN_REFUSED_HINT = ('the wizard was completed by someone else or the password changed; set '
                      'media_stack_jellyfin_admin_password to the current one (the module\'s admin_password), and '
                      'media_stack_jellyfin_admin_username to that administrator\'s name. Jellyfin '
                      'disables an administrator after 5 failed logins in a row (unlock it in Dashboard > Users)')


def _quote(value):
    return '"{0}"'.format(str(value).replace('"', "'"))


def authorization(token=None):
    parts = [('Client', CLIENT), ('Device', DEVICE), ('DeviceId', DEVICE_ID), ('Version', VERSION)]
    if token:
        parts.append(('Token', token))
    return 'MediaBrowser ' + ', '.join('{0}={1}'.format(k, _quote(v)) for k, v in parts)


class JellyfinClient:
    def __init__(self, params):
        self.api = ApiClient(
            'Jellyfin', params['url'], timeout=params['timeout'], wait_timeout=params['wait_timeout'],
            wait_interval=params['wait_interval'], validate_certs=params['validate_certs'],
            headers={'Authorization': authorization()}, fix_hint=LOGIN_REFUSED_HINT)
        self.token = None
        self.user = None

    @property
    def url(self):
        return self.api.url

    @property
    def retries(self):
        return self.api.retries

    def call(self, method, path, **kwargs):
        return self.api.call(method, path, **kwargs)

    def public_info(self):
        """GET /System/Info/Public: answers without login; retried while the server is still starting."""
        info = self.call('GET', '/System/Info/Public')
        if not isinstance(info, dict) or 'StartupWizardCompleted' not in info:
            raise MediaApiError('{0}/System/Info/Public answered {1!r}, not Jellyfin\'s public system info: does url '
                                'point at Jellyfin (port 8096)?'.format(self.url, info))
        return info

    def login(self, username, password):
        """Log in as username; returns the user (UserDto). A refused login raises the clear error."""
        status, body, _headers = self.api.request(
            'POST', '/Users/AuthenticateByName', body={'Username': username, 'Pw': password}, allow_status=(401, 403))
        if status in (401, 403):
            raise MediaApiError('Jellyfin at {0} refused the login of {1!r} (HTTP {2}): {3}.'.format(
                self.url, username, status, LOGIN_REFUSED_HINT))
        if not isinstance(body, dict) or not body.get('AccessToken'):
            raise MediaApiError('Jellyfin at {0} accepted the login of {1!r} but returned no AccessToken: is a proxy '
                                'in front of it rewriting the answer?'.format(self.url, username))
        self.token = body['AccessToken']
        self.user = body.get('User') or {}
        self.api.headers['Authorization'] = authorization(self.token)
        if not (self.user.get('Policy') or {}).get('IsAdministrator'):
            raise MediaApiError('Jellyfin user {0!r} at {1} is not an administrator: give the name and password of an '
                                'administrator (Dashboard > Users > Profile > "Allow this user to manage the server")'
                                .format(username, self.url))
        return self.user


def library_view(folder):
    """A VirtualFolderInfo as {type, paths}; a library without CollectionType is a mixed one."""
    return {'type': folder.get('CollectionType') or 'mixed',
            'paths': [normalize_path(p) for p in folder.get('Locations') or []]}


def plan_libraries(current, wanted):
    """Compare the server's libraries with the wanted ones.

    current: the list of VirtualFolderInfo; wanted: [{name, type, paths}]. Returns (new libraries, [(library name,
    path)] to add). Names compare case-insensitively; libraries and paths that are not wanted are never touched."""
    by_name = {}
    for folder in current or []:
        by_name.setdefault((folder.get('Name') or '').lower(), folder)
    create, add_paths = [], []
    for library in wanted:
        folder = by_name.get(library['name'].lower())
        paths = list(dict.fromkeys(normalize_path(p) for p in library['paths']))
        if folder is None:
            create.append(dict(library, paths=paths))
            continue
        view = library_view(folder)
        if view['type'] != library['type']:
            raise MediaApiError(
                'library {0!r} exists with type {1}, not {2}: Jellyfin cannot change a library\'s type; give the '
                'library another name in libraries (media_stack_jellyfin_libraries), or delete it in Dashboard > '
                'Libraries first'.format(folder.get('Name'), view['type'], library['type']))
        for path in paths:
            if path not in view['paths']:
                add_paths.append((folder.get('Name'), path))
    return create, add_paths
