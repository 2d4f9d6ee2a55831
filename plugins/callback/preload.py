# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: preload
type: aggregate
short_description: Load this collection's plugins once in the controller's main process
version_added: 0.1.0
description:
  - ansible-playbook runs each task of each host in a worker process forked from its main process. A worker that
    uses one of this collection's filters or tests, or one of its in-process action plugins, imports that plugin and
    the Python it needs (the preflight rules, the manifest schemas, C(cryptography)) for itself, and forgets it when
    the task ends. Measured on the 2-core controller, that import costs 0.1 to 0.4 s per task and host.
  - When the playbook starts, this callback imports those plugins and their Python once in the main process, so every
    worker forked from it finds them loaded. It also reads the CRD schemas the collection ships
    (C(roles/k8s_delivery/files/crds)), which every manifest validation uses.
  - The Kubernetes client (kubernetes.core's, about 0.3 s to import) is loaded later, when the first task starts that
    reads a cluster in its worker's own process (the C(kubernetes.core.k8s) lookup, in the task or its role's
    variables, or P(homelab.mediacluster.k8s_applied_info#module)), so that a playbook that never talks to a cluster
    does not pay for it.
  - It changes nothing a task does or prints; it only moves the imports. A plugin whose import fails here (a missing
    Python package) is left alone, and the task that uses it reports the error as it would without this callback.
  - Enable it with C(callbacks_enabled = homelab.mediacluster.preload) in C(ansible.cfg) (the checkout's own
    C(ansible.cfg) does).
requirements:
  - enabled in C(callbacks_enabled)
author:
  - homelab.mediacluster developers (@homelab-mediacluster)
"""

import importlib
import os
import pkgutil
import re

from ansible.plugins.callback import CallbackBase
from ansible.plugins.loader import filter_loader, lookup_loader, test_loader
from ansible.utils.display import Display

display = Display()
COLLECTION = 'homelab.mediacluster'
PACKAGE = 'ansible_collections.homelab.mediacluster.plugins'
# plugin directories whose Python a task's worker imports in the controller's process; the module_utils and
# plugin_utils they use come with them. The other module_utils serve modules, which run in a process of their own.
IMPORTED = ('filter', 'test', 'action')
# Read the cluster through kubernetes.core's API client in the worker's own process: this collection's in-process
# Kubernetes readers, and kubernetes.core's k8s lookup.
KUBERNETES_ACTIONS = frozenset(['homelab.mediacluster.k8s_applied_info'])
KUBERNETES_LOOKUP = re.compile(r"""(?:query|lookup)\(\s*['"]kubernetes\.core\.k8s['"]""")
KUBERNETES_CLIENT = 'ansible_collections.kubernetes.core.plugins.module_utils.k8s.client'
CRDS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                    'roles', 'k8s_delivery', 'files', 'crds')


def _modules(kind):
    """The Python module names of this collection's plugins of one kind."""
    try:
        package = importlib.import_module('{0}.{1}'.format(PACKAGE, kind))
    except ImportError:
        return []
    return ['{0}.{1}.{2}'.format(PACKAGE, kind, info.name) for info in pkgutil.iter_modules(package.__path__)]


def _import(name):
    try:
        return importlib.import_module(name)
    except Exception as exc:  # pylint: disable=broad-except  # the task that needs it reports its own error
        display.vvvv('homelab.mediacluster.preload: {0} left to the task that uses it: {1}'.format(name, exc))
        return None


def _resolve(module):
    """Look a filter or test plugin file's plugins up through the plugin loaders, as a task's template does."""
    for attribute, loader, method in (('FilterModule', filter_loader, 'filters'), ('TestModule', test_loader, 'tests')):
        plugin = getattr(module, attribute, None)
        if plugin is None:
            continue
        try:
            for plugin_name in getattr(plugin(), method)():
                loader.get('{0}.{1}'.format(COLLECTION, plugin_name))
        except Exception as exc:  # pylint: disable=broad-except  # the task that uses it reports its own error
            display.vvvv('homelab.mediacluster.preload: {0} left to the task that uses it: {1}'.format(
                module.__name__, exc))


def preload():
    """Import this collection's controller-side Python and resolve its filters and tests through the plugin loaders,
    the way a task's worker would; returns the names of the Python modules imported."""
    imported = []
    for kind in IMPORTED:
        for name in _modules(kind):
            module = _import(name)
            if module is None:
                continue
            imported.append(name)
            _resolve(module)
            if kind == 'action':
                # an in-process action plugin runs the body of the module of the same name in the worker
                twin = '{0}.modules.{1}'.format(PACKAGE, name.rsplit('.', 1)[1])
                if _import(twin) is not None:
                    imported.append(twin)
    validation = _import(PACKAGE + '.module_utils.k8s_validation')
    if validation is not None and os.path.isdir(CRDS):
        try:
            validation.load_crd_schemas([CRDS])  # kept per file (module_utils/k8s_validation.py, _CRD_FILES)
        except validation.K8sValidationError:
            pass  # the validation task reports the unreadable file itself
    return imported


def _mentions_lookup(data):
    """Whether a task's (or role's) raw data calls kubernetes.core's k8s lookup."""
    if isinstance(data, str):
        return KUBERNETES_LOOKUP.search(data) is not None
    if isinstance(data, dict):
        return any(_mentions_lookup(value) for value in data.values())
    if isinstance(data, (list, tuple)):
        return any(_mentions_lookup(value) for value in data)
    return False


def _role_data(role):
    """The variables a role's tasks may template: its defaults and vars."""
    data = []
    for getter in ('get_default_vars', 'get_vars'):
        try:
            data.append(getattr(role, getter)())
        except Exception as exc:  # pylint: disable=broad-except  # only a hint: no data, no preload
            display.vvvv('homelab.mediacluster.preload: cannot read the variables of role {0}: {1}'.format(role, exc))
    return data


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'homelab.mediacluster.preload'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._kubernetes_loaded = False
        self._roles_seen = {}

    def v2_playbook_on_start(self, playbook):
        imported = preload()
        self._display.vvvv('homelab.mediacluster.preload: {0} Python modules loaded before the first task'
                           .format(len(imported)))

    def _reads_kubernetes(self, task):
        if getattr(task, 'resolved_action', None) in KUBERNETES_ACTIONS or task.action in KUBERNETES_ACTIONS:
            return True
        if _mentions_lookup([task.args, task.vars, task.when, getattr(task, 'loop', None)]):
            return True
        role = getattr(task, '_role', None)
        if role is None:
            return False
        if id(role) not in self._roles_seen:
            self._roles_seen[id(role)] = _mentions_lookup(_role_data(role))
        return self._roles_seen[id(role)]

    def v2_playbook_on_task_start(self, task, is_conditional):
        # The Kubernetes client (about 0.3 s to import) is loaded once, when the first task that reads a cluster in
        # its worker's own process starts: the workers of that task and of every later one find it loaded, and a
        # playbook that never talks to a cluster (20_nodes.yml) never pays for it.
        if self._kubernetes_loaded or not self._reads_kubernetes(task):
            return
        self._kubernetes_loaded = True
        if _import(KUBERNETES_CLIENT) is not None:
            try:
                lookup_loader.get('kubernetes.core.k8s')
            except Exception as exc:  # pylint: disable=broad-except  # the task that uses it reports its own error
                display.vvvv('homelab.mediacluster.preload: kubernetes.core.k8s lookup left to the task: {0}'
                             .format(exc))
            self._display.vvvv('homelab.mediacluster.preload: Kubernetes client loaded before task {0}'.format(
                task.get_name()))
