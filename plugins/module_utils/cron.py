# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cron schedule check Longhorn's RecurringJob (robfig/cron) applies. Pure Python, shared by the
cron_expression test plugin and the preflight rules (module_utils may not import plugins)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

FIELDS = (  # (low, high, names)
    (0, 59, None),
    (0, 23, None),
    (1, 31, None),
    (1, 12, ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC']),
    (0, 7, ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT']),
)
DESCRIPTORS = {'@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'}
EVERY = re.compile(r'^@every\s+(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$')


def _number(token, low, high, names):
    if names and token.upper() in names:
        return True
    return token.isdigit() and low <= int(token) <= high


def _field(text, low, high, names, wildcard_question):
    for part in text.split(','):
        base, _unused, step = part.partition('/')
        if step and (not step.isdigit() or int(step) < 1):
            return False
        if base == '*' or (wildcard_question and base == '?'):
            continue
        start, dash, end = base.partition('-')
        if not _number(start, low, high, names):
            return False
        if dash and not (_number(end, low, high, names) and
                         (not start.isdigit() or not end.isdigit() or int(start) <= int(end))):
            return False
    return True


def cron_expression(value):
    """True when Longhorn accepts value as a RecurringJob cron schedule."""
    if not isinstance(value, str):
        return False
    text = value.strip()
    if text.startswith('@'):
        return text in DESCRIPTORS or bool(EVERY.match(text))
    parts = text.split()
    if len(parts) != 5:
        return False
    return all(_field(part, low, high, names, index in (2, 4))
               for index, (part, (low, high, names)) in enumerate(zip(parts, FIELDS, strict=True)))
