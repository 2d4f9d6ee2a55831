# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: qbittorrent_password_hash
short_description: The qBittorrent WebUI password hash (WebUI\Password_PBKDF2) of a password
version_added: 0.1.0
description:
  - Returns C(<salt>:<key>) in base64, the value qBittorrent keeps as C(WebUI\Password_PBKDF2="@ByteArray(...)") in
    C(qBittorrent.conf) - PBKDF2-HMAC-SHA512, 100000 iterations, 64-byte key.
  - The salt is given (and stored by the caller), so the same password and salt always give the same hash and the
    rendered configuration stays idempotent.
author: homelab.mediacluster developers
options:
  _input:
    description: The password.
    type: str
    required: true
  salt:
    description: The salt (16 characters or more; its UTF-8 bytes are used).
    type: str
    required: true
"""

EXAMPLES = r"""
qbittorrent_hash: "{{ 'secret' | homelab.mediacluster.qbittorrent_password_hash('0123456789abcdef') }}"
"""

RETURN = r"""
_value:
  description: base64(salt bytes) ':' base64(PBKDF2 key).
  type: str
"""

import base64
import hashlib

from ansible.errors import AnsibleFilterError


def qbittorrent_password_hash(password, salt):
    if not password or not salt or len(salt) < 16:
        raise AnsibleFilterError('qbittorrent_password_hash needs a password and a salt of 16 characters or more')
    salt_bytes = salt.encode('utf-8')
    key = hashlib.pbkdf2_hmac('sha512', password.encode('utf-8'), salt_bytes, 100000, 64)
    return '{0}:{1}'.format(base64.b64encode(salt_bytes).decode('ascii'), base64.b64encode(key).decode('ascii'))


class FilterModule(object):
    def filters(self):
        return {'qbittorrent_password_hash': qbittorrent_password_hash}
