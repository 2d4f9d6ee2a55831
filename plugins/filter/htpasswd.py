# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: htpasswd_line
short_description: An htpasswd line (Apache MD5, C($apr1$)) for Traefik's basicAuth middleware
version_added: 0.1.0
description:
  - Returns C(<user>:$apr1$<salt>$<hash>), a line Traefik's basicAuth middleware accepts.
  - When O(existing) already holds a line for the user whose hash matches the password, that line is returned
    unchanged, so the rendered Secret stays the same from run to run; otherwise the salt is random.
author: homelab.mediacluster developers
options:
  _input:
    description: The user name.
    type: str
    required: true
  password:
    description: The password (keep it in the vault).
    type: str
    required: true
  existing:
    description: htpasswd text already deployed (for example the C(users) key of the Secret in the cluster).
    type: str
    default: ''
"""

EXAMPLES = r"""
users: "{{ 'admin' | homelab.mediacluster.htpasswd_line(vault_longhorn_ui_password, existing=previous_users) }}"
"""

RETURN = r"""
_value:
  description: One htpasswd line.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.mediacluster.plugins.module_utils.htpasswd import HtpasswdError, line


def htpasswd_line(username, password, existing=''):
    try:
        return line(username, password, existing or '')
    except HtpasswdError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule(object):
    def filters(self):
        return {'htpasswd_line': htpasswd_line}
