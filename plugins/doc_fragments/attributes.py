# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def _attributes(check_mode, diff_mode):
    """The attributes block: the two modes' descriptions (written once) with each mode's support and details."""
    return '\n'.join([
        'options: {}',
        'attributes:',
        '  check_mode:',
        '    description: Runs in check mode and predicts the result without changing anything on the target.',
        check_mode,
        '  diff_mode:',
        '    description: Returns the state before and after (what would change, in check mode) when run with --diff.',
        diff_mode,
        '',
    ])


class ModuleDocFragment(object):
    """Check and diff mode support, written once. A module extends one of these and may add its own details (or a
    more precise description) under attributes; its keys win over the fragment's."""

    # A module that changes something and supports both modes fully.
    DOCUMENTATION = _attributes('    support: full', '    support: full')

    # A module that only reads (an info module, a validator): the same in check mode, nothing to diff.
    READ_ONLY = _attributes('    support: full\n    details: Read-only; runs the same in check mode.',
                            '    support: none\n    details: Read-only; there is nothing to diff.')
