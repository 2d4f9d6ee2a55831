# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: cron_expression
short_description: Is the value a cron schedule Longhorn (robfig/cron) accepts?
version_added: 0.1.0
description:
  - True for five-field cron expressions (minute hour day-of-month month day-of-week) whose fields use numbers in
    range, C(*), C(,), C(-), C(/), month and weekday names (C(JAN), C(MON)) or C(?), and for the descriptors
    C(@yearly), C(@annually), C(@monthly), C(@weekly), C(@daily), C(@midnight), C(@hourly) and C(@every <duration>).
options:
  _input:
    description: The schedule.
    type: str
    required: true
author:
  - homelab.mediacluster developers (@homelab-mediacluster)
"""

EXAMPLES = r"""
- name: Check a RecurringJob schedule
  ansible.builtin.assert:
    that: "'0 3 * * *' is homelab.mediacluster.cron_expression"
"""

RETURN = r"""
_value:
  description: Whether the schedule is valid.
  type: bool
"""

from ansible_collections.homelab.mediacluster.plugins.module_utils.cron import cron_expression


class TestModule(object):
    def tests(self):
        return {'cron_expression': cron_expression}
