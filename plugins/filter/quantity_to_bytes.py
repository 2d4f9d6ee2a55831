# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""quantity_to_bytes: a Kubernetes resource quantity ("10Gi", "500M", "1.5Ti", "10737418240") as an integer."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from decimal import Decimal, InvalidOperation

from ansible.errors import AnsibleFilterError

_SUFFIXES = {
    '': 1, 'k': 10 ** 3, 'K': 10 ** 3, 'M': 10 ** 6, 'G': 10 ** 9, 'T': 10 ** 12, 'P': 10 ** 15, 'E': 10 ** 18,
    'Ki': 2 ** 10, 'Mi': 2 ** 20, 'Gi': 2 ** 30, 'Ti': 2 ** 40, 'Pi': 2 ** 50, 'Ei': 2 ** 60,
}
_QUANTITY = re.compile(r'^\s*([0-9]+(?:\.[0-9]+)?)\s*([kKMGTPE]i?|)\s*$')


def quantity_to_bytes(value):
    match = _QUANTITY.match(str(value))
    if match is None or match.group(2) == 'ki':
        raise AnsibleFilterError('{0!r} is not a Kubernetes quantity; use a number with Ki/Mi/Gi/Ti (binary) or '
                                 'k/M/G/T (decimal), e.g. 10Gi.'.format(value))
    try:
        return int(Decimal(match.group(1)) * _SUFFIXES[match.group(2)])
    except (InvalidOperation, KeyError) as err:
        raise AnsibleFilterError('{0!r} is not a Kubernetes quantity.'.format(value)) from err


class FilterModule(object):
    def filters(self):
        return {'quantity_to_bytes': quantity_to_bytes}
