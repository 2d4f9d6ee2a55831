# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""k3s join tokens: the short form is the secret alone; the secure form is ``K10<CA hash>::<user>:<secret>`` (k3s
compares the secret with its passwd entry). Shared by the k3s filters and the input rules."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def split_token(token):
    """(ca_hash or '', secret) of a short or secure k3s token ('K10<hash>::<user>:<secret>')."""
    token = str(token or '').strip()
    if not token.startswith('K10'):
        return '', token
    ca_hash, sep, creds = token[3:].partition('::')
    if not sep:
        return '', token
    _user, sep, secret = creds.partition(':')
    return ca_hash, (secret if sep else creds)
