# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one of this collection's controller-side modules inside the worker process (module_utils/module_body.py).

The options are checked against the module's own argument spec, the body gets plain JSON data, and the values of
no_log options are masked in what it returns, as in a module run. A module whose body touches the task host (its
files, or the network as seen from there: LOCAL_ONLY) runs in process only over the local connection without become;
anywhere else it runs as the ordinary module it also is. A task with an environment (the keyword) runs as the
module too: that environment is the module's, and the options' environment fallbacks read it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import json

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase

from ansible_collections.homelab.mediacluster.plugins.module_utils.module_body import ModuleFailure


class InProcessAction(ActionBase):
    """The action plugin plugins/action/<name>.py runs the module plugins/modules/<name>.py of the same collection,
    whose BODY is a module_body.ModuleBody; both are found from the plugin's own name, so a subclass only says
    whether it is LOCAL_ONLY."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False
    LOCAL_ONLY = False

    def _module(self):
        """(the module's Python import path, its fully qualified name)."""
        package, _sep, name = type(self).__module__.rpartition('.plugins.action.')
        collection = package.split('.', 1)[1]  # ansible_collections.<namespace>.<name>
        return package + '.plugins.modules.' + name, collection + '.' + name

    def _in_process(self):
        environment = {}
        self._compute_environment_string(environment)
        if environment:
            return False  # the task's environment (an option's fallback, a proxy) reaches a module run only
        if not self.LOCAL_ONLY:
            return True  # reads nothing but the controller's own files
        return getattr(self._connection, 'transport', None) == 'local' and not self._connection.become

    def run(self, tmp=None, task_vars=None):
        result = super(InProcessAction, self).run(tmp, task_vars)
        module_path, module_name = self._module()
        if not self._in_process():
            result.update(self._execute_module(module_name=module_name, module_args=self._task.args,
                                               task_vars=task_vars))
            return result
        # plain dicts, lists and scalars, exactly what a module gets after its arguments' JSON round trip
        args = json.loads(json.dumps(self._task.args))
        body = importlib.import_module(module_path).BODY  # only here: a module run on a node needs no import
        checked = ArgumentSpecValidator(body.argument_spec).validate(args)
        if checked.error_messages:
            # worded as AnsibleModule words them
            messages = [('Unsupported parameters for ({0}) module: {1}' if isinstance(error, UnsupportedError)
                         else '{1}').format(module_name, error) for error in checked.errors]
            result.update(failed=True, msg='; '.join(messages))
            return result
        try:
            outcome = body.run(checked.validated_parameters, bool(self._task.check_mode), bool(self._task.diff))
        except ModuleFailure as exc:
            outcome = dict(exc.result, failed=True, msg=exc.msg)
        # pylint: disable-next=protected-access
        result.update(remove_values(outcome, checked._no_log_values))  # what AnsibleModule.exit_json does too
        return result
