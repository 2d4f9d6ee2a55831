# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Check and diff mode support, written once. A module extends one of these and may add its own details (or a
    # more precise description) under attributes; its keys win over the fragment's. The blocks are string literals:
    # ansible-test sanity reads doc fragments without running them.

    # A module that changes something and supports both modes fully.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Runs in check mode and predicts the result without changing anything on the target.
    support: full
  diff_mode:
    description: Returns the state before and after (what would change, in check mode) when run with --diff.
    support: full
"""

    # A module that only reads (an info module, a validator): the same in check mode, nothing to diff.
    READ_ONLY = r"""
options: {}
attributes:
  check_mode:
    description: Runs in check mode and predicts the result without changing anything on the target.
    support: full
    details: Read-only; runs the same in check mode.
  diff_mode:
    description: Returns the state before and after (what would change, in check mode) when run with --diff.
    support: none
    details: Read-only; there is nothing to diff.
"""
