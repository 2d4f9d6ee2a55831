# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: fast_template
short_description: The ansible.builtin.template lookup, without a deep copy of every variable per template
version_added: 0.1.0
description:
  - Renders each template file it is given and returns its text, exactly as
    P(ansible.builtin.template#lookup) does (the same search path, the same C(template_*) and C(ansible_managed)
    variables, the same options); it is that lookup, run with one difference.
  - P(ansible.builtin.template#lookup) deep-copies all the task's variables (gathered facts, registered results,
    rendered manifests) for each template, only to add a few variables on top. With ansible-core 2.19's tagged
    values that copy took a third of the time of the tasks that render manifests, on the 2-core controller. This
    lookup gives the templates a shallow copy of the variables instead, with the same few added on top. Use it for
    templates that only read variables, as the collection's do.
  - The collection's roles render their manifests and node files with it.
author:
  - homelab.mediacluster developers (@homelab-mediacluster)
options:
  _terms:
    description: The template files, found as P(ansible.builtin.template#lookup) finds them (a role's C(templates)).
  template_vars:
    description: More variables for the templates, on top of the task's.
    type: dict
    default: {}
  variable_start_string:
    description: What starts a print statement.
    type: str
    default: '{{'
  variable_end_string:
    description: What ends a print statement.
    type: str
    default: '}}'
  comment_start_string:
    description: What starts a comment.
    type: str
    default: '{#'
  comment_end_string:
    description: What ends a comment.
    type: str
    default: '#}'
  trim_blocks:
    description: Whether the first newline after a block tag is removed.
    type: bool
    default: true
  convert_data:
    description: Kept for the options P(ansible.builtin.template#lookup) reads; it has no effect.
    type: bool
    default: true
  jinja2_native:
    description: Kept for the options P(ansible.builtin.template#lookup) reads; it has no effect.
    type: bool
    default: true
seealso:
  - plugin: ansible.builtin.template
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Render the manifests of an app into objects
  ansible.builtin.set_fact:
    manifests: >-
      {{ lookup('homelab.mediacluster.fast_template', 'manifests/app.yaml.j2') | from_yaml_all | select | list }}
"""

RETURN = r"""
_raw:
  description: The rendered text of each template, in the order given.
  type: list
  elements: str
"""

from ansible.plugins.lookup import template as builtin_template


def _shallow(variables):
    return dict(variables)


class LookupModule(builtin_template.LookupModule):
    """ansible.builtin.template's lookup, whose module-level deepcopy of the variables is a shallow copy while it
    runs (a worker runs one task at a time; the original is put back after)."""

    def run(self, terms, variables=None, **kwargs):
        original = builtin_template.deepcopy
        builtin_template.deepcopy = _shallow
        try:
            return super(LookupModule, self).run(terms, variables, **kwargs)
        finally:
            builtin_template.deepcopy = original
