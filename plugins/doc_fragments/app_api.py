# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Connection options and check/diff support shared by the media stack's app modules (module_utils/app_api.py).

    Each module describes its own diff (what it shows) under attributes.diff_mode."""

    DOCUMENTATION = r"""
options:
  url:
    description: Base URL of the app, such as C(http://10.43.12.7:8989), without C(/api).
    type: str
    required: true
  timeout:
    description: Seconds to wait for one HTTP answer before failing (a hung app is not retried).
    type: int
    default: 30
  wait_timeout:
    description: Seconds to keep retrying while the app is not ready (connection refused, HTTP 502/503/504).
    type: int
    default: 300
  wait_interval:
    description: Seconds between two attempts while waiting for the app.
    type: int
    default: 5
  validate_certs:
    description: Verify the TLS certificate when O(url) is HTTPS.
    type: bool
    default: true
attributes:
  check_mode:
    description: Reports what would change and writes nothing.
    support: full
  diff_mode:
    support: full
"""
