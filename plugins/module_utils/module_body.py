# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One module body, two ways to run it.

A module that runs on the controller (validation, the cluster-semantics check, writing the exported tree, the media
apps' API modules) keeps its body as ``run(params, check_mode, diff) -> result`` raising ModuleFailure for an error,
and names it with its options in ``BODY = ModuleBody(argument_spec, run)``. ``BODY.main()`` runs it as an ordinary
module (AnsibleModule); the action plugin of the same name (plugins/plugin_utils/in_process.py) runs it inside the
controller's worker process instead, which spares the interpreter start and the payload of a module run (about
0.3 s a task on the 2-core controller).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule


class ModuleFailure(Exception):
    """The task fails with msg; result holds the other return values (errors found, and so on)."""

    def __init__(self, msg, **result):
        super(ModuleFailure, self).__init__(msg)
        self.msg = msg
        self.result = result


class ModuleBody:
    """A module's options and body, runnable as a module (main) or in process (plugin_utils/in_process.py)."""

    def __init__(self, argument_spec, run):
        self.argument_spec = argument_spec
        self.run = run

    def main(self):
        module = AnsibleModule(argument_spec=self.argument_spec, supports_check_mode=True)
        try:
            result = self.run(module.params, module.check_mode, module._diff)
        except ModuleFailure as exc:
            module.fail_json(msg=exc.msg, **exc.result)
        module.exit_json(**result)
