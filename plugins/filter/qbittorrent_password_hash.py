# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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
