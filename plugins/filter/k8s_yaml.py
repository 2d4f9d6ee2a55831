# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import yaml


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)  # indent lists under their key, as kubectl does


def _str(dumper, value):
    if '\n' in value:
        # Literal blocks cannot carry trailing spaces on a line; fall back to quoting for those.
        if not any(line != line.rstrip() for line in value.split('\n')):
            return dumper.represent_scalar('tag:yaml.org,2002:str', value, style='|')
    return dumper.represent_scalar('tag:yaml.org,2002:str', value)


_Dumper.add_representer(str, _str)


def k8s_yaml(data):
    plain = json.loads(json.dumps(data))  # drop Ansible's tagged/lazy types: plain dicts, lists and scalars
    return yaml.dump(plain, Dumper=_Dumper, default_flow_style=False, sort_keys=False, allow_unicode=True, width=120)


class FilterModule(object):
    def filters(self):
        return {'k8s_yaml': k8s_yaml}
