#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cgroup_info
short_description: Tell whether the memory cgroup controller k3s needs is available on a node
version_added: 0.1.0
description:
  - Reads C(/sys/fs/cgroup/cgroup.controllers) first. On the unified cgroup v2 hierarchy the controllers offered
    there decide, as k3s decides. Only on cgroup v1 and hybrid hierarchies does C(/proc/cgroups) decide.
  - Kernels 6.11 and later built without C(CONFIG_MEMCG_V1) (Raspberry Pi OS 6.12 kernels among them) list no
    C(memory) row in C(/proc/cgroups) even when the v2 memory controller is enabled; this module accepts them.
  - Read-only. It does not fail when memory is missing; the caller decides (C(node_prep) asserts on RV(available)).
author:
  - homelab.mediacluster developers (@homelab-mediacluster)
extends_documentation_fragment:
  - homelab.mediacluster.attributes.read_only
options: {}
"""

EXAMPLES = r"""
- name: Read the cgroup controllers
  homelab.mediacluster.cgroup_info:
  register: cgroups

- name: Stop when the kubelet would not start
  ansible.builtin.assert:
    that: cgroups.available
    fail_msg: "{{ cgroups.reason }}"
"""

RETURN = r"""
mode:
  description: The cgroup hierarchy the node booted with.
  returned: always
  type: str
  choices: [v1, hybrid, v2]
available:
  description: Whether the memory controller is available to the kubelet.
  returned: always
  type: bool
source:
  description: The file that decided.
  returned: always
  type: str
  sample: /sys/fs/cgroup/cgroup.controllers
controllers:
  description: The controllers that file offers (enabled ones, for C(/proc/cgroups)).
  returned: always
  type: list
  elements: str
reason:
  description: Why memory is missing; empty when it is available.
  returned: always
  type: str
cmdline_fix:
  description: True when C(cgroup_enable=memory) on the kernel command line can switch the controller on.
  returned: always
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.homelab.mediacluster.plugins.module_utils.cgroups import read_memory_cgroup


def main():
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    try:
        result = read_memory_cgroup()
    except (IOError, OSError) as exc:
        module.fail_json(msg='cannot read the cgroup files ({0}): {1}; is /sys/fs/cgroup or /proc mounted?'.format(
            exc.filename, exc.strerror))
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
