# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""htpasswd lines for Traefik's basicAuth middleware, in pure Python (no bcrypt library on the controller).

Traefik reads htpasswd lines with MD5 (Apache's C($apr1$)), SHA1 or bcrypt hashes. This module writes C($apr1$)
(Apache's MD5 crypt: 1000 rounds of MD5 over password, salt and magic; the algorithm of ``htpasswd -m`` and
``openssl passwd -apr1``), verifies any of them it can (apr1, {SHA}) and keeps an existing line whose hash still
matches the password, so rendering the same credentials twice gives the same Secret (idempotent) while a new
password gets a fresh random salt. Users who want bcrypt give ready lines (``htpasswd -nbB user password``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import hmac
import secrets

ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
APR1 = '$apr1$'


class HtpasswdError(ValueError):
    pass


def _to64(value, count):
    out = ''
    for _unused in range(count):
        out += ITOA64[value & 0x3f]
        value >>= 6
    return out


def apr1(password, salt):
    """Apache's MD5 crypt of password with salt (at most 8 characters of ITOA64): '$apr1$<salt>$<22 chars>'."""
    salt = salt[:8]
    if not salt or any(c not in ITOA64 for c in salt):
        raise HtpasswdError('an apr1 salt is 1 to 8 characters of [./0-9A-Za-z], got {0!r}'.format(salt))
    pw = password.encode('utf-8')
    sb = salt.encode('ascii')
    magic = APR1.encode('ascii')
    # Apache's MD5 crypt is MD5 by definition (the format Traefik reads without a bcrypt library here); the hash
    # stays in a Secret in the cluster. Stronger: give bcrypt lines in longhorn_ui_auth_htpasswd.
    ctx = hashlib.md5(pw + magic + sb)  # noqa: S324
    final = hashlib.md5(pw + sb + pw).digest()  # noqa: S324
    length = len(pw)
    while length > 0:
        ctx.update(final[:min(16, length)])
        length -= 16
    i = len(pw)
    while i:
        ctx.update(b'\x00' if i & 1 else pw[:1])
        i >>= 1
    final = ctx.digest()
    for rnd in range(1000):
        step = hashlib.md5()  # noqa: S324
        step.update(pw if rnd & 1 else final)
        if rnd % 3:
            step.update(sb)
        if rnd % 7:
            step.update(pw)
        step.update(final if rnd & 1 else pw)
        final = step.digest()
    encoded = ''
    for a, b, c in ((0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)):
        encoded += _to64((final[a] << 16) | (final[b] << 8) | final[c], 4)
    encoded += _to64(final[11], 2)
    return APR1 + salt + '$' + encoded


def verify(hashed, password):
    """True when hashed ($apr1$ or {SHA}) is the hash of password; False for any other or unknown format."""
    if hashed.startswith(APR1):
        salt = hashed[len(APR1):].split('$', 1)[0]
        try:
            return hmac.compare_digest(apr1(password, salt), hashed)
        except HtpasswdError:
            return False
    if hashed.startswith('{SHA}'):
        # verifying a {SHA} line someone gave; never written by this module
        digest = base64.b64encode(hashlib.sha1(password.encode('utf-8')).digest()).decode('ascii')  # noqa: S324
        return hmac.compare_digest('{SHA}' + digest, hashed)
    return False


def parse(text):
    """{user: hash} of htpasswd text (blank lines and # comments skipped)."""
    users = {}
    for raw in (text or '').splitlines():
        entry = raw.strip()
        if entry and not entry.startswith('#') and ':' in entry:
            user, hashed = entry.split(':', 1)
            users[user] = hashed
    return users


def line(username, password, existing=''):
    """'<username>:<hash>' for Traefik. The hash in `existing` (htpasswd text, e.g. the Secret already in the
    cluster) is kept when it still matches the password; otherwise a new apr1 hash with a random salt."""
    if not username or ':' in username or any(c.isspace() for c in username):
        raise HtpasswdError('htpasswd user name {0!r} must be non-empty, without ":" or spaces'.format(username))
    if not password:
        raise HtpasswdError('htpasswd user {0}: the password is empty; set one (in the vault)'.format(username))
    old = parse(existing).get(username)
    if old and verify(old, password):
        return '{0}:{1}'.format(username, old)
    salt = ''.join(secrets.choice(ITOA64) for _unused in range(8))
    return '{0}:{1}'.format(username, apr1(password, salt))
