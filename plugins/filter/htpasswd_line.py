# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The htpasswd_line filter; its documentation is plugins/filter/htpasswd_line.yml."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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
