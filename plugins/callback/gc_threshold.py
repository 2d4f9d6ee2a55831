# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: gc_threshold
type: aggregate
short_description: Run Python's cyclic garbage collector less often in the controller's ansible-playbook
version_added: 0.1.0
description:
  - Python runs its cyclic garbage collector each time 700 more objects have been allocated than freed, and every
    tenth of those runs also walks older objects. Templating a task in ansible-core 2.19 allocates far more than that,
    so the collector runs many times per task, in ansible-playbook's main process and in the worker it forks for each
    task and host; a worker's collection walks the objects it inherited from the main process and touches their
    memory pages, which the fork then has to copy.
  - When ansible-playbook loads this callback, it sets the collector's first threshold to O(threshold) (the older
    generations' thresholds stay Python's), for the main process and the workers forked after it.
    Measured on the 2-core controller (docs/benchmark.md), the apply-mode no-op compare of the whole stack against
    the lab's API emulator took 5.0-5.6 s with it and 5.8-6.0 s without (runs alternating, the same code).
  - It changes nothing a task does or prints. Objects are still freed as soon as nothing refers to them; only objects
    that refer to each other in a cycle wait a little longer for the collector. Modules run in processes of their own
    and keep Python's default.
  - Enable it with C(callbacks_enabled = homelab.mediacluster.gc_threshold) in C(ansible.cfg) (the checkout's own
    C(ansible.cfg) does).
requirements:
  - enabled in C(callbacks_enabled)
options:
  threshold:
    description:
      - The collector's first threshold (Python's default is 700). C(0) would turn the cyclic collector off, and the
        main process of a long run would then keep every cycle it ever made, so this callback refuses it and any value
        below 1; ansible-playbook then warns that it could not load the callback and runs with Python's default.
    type: int
    default: 100000
    ini:
      - section: callback_gc_threshold
        key: threshold
    env:
      - name: MEDIACLUSTER_GC_THRESHOLD
author:
  - homelab.mediacluster developers (@homelab-mediacluster)
"""

import gc

from ansible.errors import AnsibleError
from ansible.plugins.callback import CallbackBase


def apply_threshold(threshold):
    """Set the collector's first threshold, keeping the older generations' own; the thresholds before."""
    if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 1:
        raise AnsibleError('homelab.mediacluster.gc_threshold: threshold={0!r} is not a positive number of objects; '
                           'set it to at least 700, Python\'s default (0 would turn the collector off)'
                           .format(threshold))
    before = gc.get_threshold()
    gc.set_threshold(threshold, *before[1:])
    return before


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'homelab.mediacluster.gc_threshold'
    CALLBACK_NEEDS_ENABLED = True

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super(CallbackModule, self).set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        before = apply_threshold(self.get_option('threshold'))
        self._display.vvvv('homelab.mediacluster.gc_threshold: first threshold {0} (was {1})'.format(
            gc.get_threshold()[0], before[0]))
