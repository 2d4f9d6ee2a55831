# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One manifest as readable YAML: keys in the given order, lists indented under their key, multi-line strings as
literal blocks. Shared by the k8s_yaml filter and the k8s_export_tree module, so both write the same bytes.

Also the collection's one PyYAML import guard for module_utils: ``yaml`` is None and YAML_IMPORT_ERROR holds the
traceback when PyYAML is missing (cluster_scheduling.py takes ``yaml`` from here; the modules k8s_export_tree and
k8s_semantics_check report it with missing_required_lib)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import traceback

try:
    import yaml
except ImportError:  # the modules report it (missing_required_lib)
    yaml = None
    YAML_IMPORT_ERROR = traceback.format_exc()
else:
    YAML_IMPORT_ERROR = None


def _str(dumper, value):
    if '\n' in value:
        # Literal blocks cannot carry trailing spaces on a line; fall back to quoting for those.
        if not any(line != line.rstrip() for line in value.split('\n')):
            return dumper.represent_scalar('tag:yaml.org,2002:str', value, style='|')
    return dumper.represent_scalar('tag:yaml.org,2002:str', value)


if yaml is not None:
    class _Dumper(yaml.SafeDumper):
        def increase_indent(self, flow=False, indentless=False):
            return super().increase_indent(flow, False)  # indent lists under their key, as kubectl does

    _Dumper.add_representer(str, _str)


def dump(data):
    plain = json.loads(json.dumps(data))  # drop Ansible's tagged/lazy types: plain dicts, lists and scalars
    return yaml.dump(plain, Dumper=_Dumper, default_flow_style=False, sort_keys=False, allow_unicode=True, width=120)
