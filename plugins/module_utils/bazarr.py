# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bazarr settings API (Bazarr 1.x with its YAML config) on top of the shared ApiClient.

``GET /api/system/settings`` returns every setting by section (``general``, ``sonarr``, ``radarr``, ``auth`` ...),
API keys included, in clear, so a wanted value can always be compared. ``POST /api/system/settings`` takes a form
whose fields are named ``settings-<section>-<key>``; Bazarr changes only the keys it is given, converts the strings
back (``true``/``false`` to booleans, digit strings to integers except its ``str_keys`` such as ``password``, slashes
in ``base_url`` squeezed), validates the whole config, writes ``config.yaml`` and answers 204. ``auth.password`` is
stored, and returned, as the MD5 hex digest of the posted password (Bazarr's own login scheme), so it is compared as
that digest. The API key is the ``X-API-KEY`` header; a wrong one gives 401, whatever ``auth.type`` is."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

from ansible_collections.homelab.mediacluster.plugins.module_utils.app_api import ApiClient, MediaApiError

SETTINGS = '/api/system/settings'
# Keys whose values are secrets in Bazarr's settings: masked in results and diffs.
SECRET_KEYS = ('apikey', 'password', 'passkey', 'token', 'hashed_password', 'anti_captcha_key', 'flask_secret_key')
# Keys Bazarr never turns into numbers (config.py str_keys).
STR_KEYS = ('chmod', 'log_include_filter', 'log_exclude_filter', 'password', 'f_password', 'hashed_password')
# Settings Bazarr stores as the MD5 hex digest of the posted value (config.py save_settings).
HASHED = (('auth', 'password'),)


def bazarr_client(params):
    client = ApiClient(
        'Bazarr', params['url'], timeout=params['timeout'], wait_timeout=params['wait_timeout'],
        wait_interval=params['wait_interval'], validate_certs=params['validate_certs'],
        headers={'X-API-KEY': params['api_key']},
        fix_hint='Give the API key of this Bazarr (Settings > General > Security, or auth.apikey in '
                 'config/config.yaml; the media_stack role writes it there from its Secret before Bazarr starts).')
    return client


def squeeze_slashes(value):
    while '//' in value:
        value = value.replace('//', '/')
    return value


def stored_form(section, key, value):
    """A wanted value as Bazarr stores it: the MD5 digest for a hashed setting, else normalize()."""
    if (section, key) in HASHED and value not in (None, ''):
        return hashlib.md5(str(value).encode('utf-8')).hexdigest()  # noqa: S324 - Bazarr's own scheme
    return normalize(key, value)


def normalize(key, value):
    """A value as Bazarr stores it after its own conversions of a form field."""
    if isinstance(value, bool) or value is None:
        return value
    if key in STR_KEYS:
        return str(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        if key == 'base_url':
            return squeeze_slashes(value)
        if value in ('true', 'false'):
            return value == 'true'
        try:
            return int(value)
        except ValueError:
            return value
    return value


def form_value(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def is_secret(key):
    return key in SECRET_KEYS


def check_form_safe(section, key, value):
    """Bazarr turns a form value that looks like an integer into an integer: a string setting (an API key made of
    digits only) would then fail its type check. Refuse such values instead of letting Bazarr drop them."""
    if isinstance(value, (list, dict)):
        raise MediaApiError('{0}.{1}: lists and mappings are not supported; give a single value'.format(section, key))
    if isinstance(value, str) and key not in STR_KEYS and value.strip().lstrip('-').isdigit():
        raise MediaApiError('{0}.{1}: Bazarr stores a form value made of digits only as a number; give a number '
                            'if Bazarr expects one, otherwise this value cannot be set through its API'.format(
                                section, key))
