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
    uses one of this collection's filters, tests or lookups, or one of its in-process action plugins, imports that
    plugin and the Python it needs (the preflight rules, the manifest schemas, C(cryptography)) for itself, and
    forgets it when the task ends. Measured on the 2-core controller, that import costs 0.1 to 0.4 s per task and host.
  - When a task starts, this callback imports in the main process the plugins of this collection the task names
    (C(homelab.mediacluster.<name>) in the task, in its role's defaults and vars, or in its play's vars), with the
    Python they need, so that the task's workers and every later one find them loaded. What a playbook never names
    it never loads; each plugin is loaded once.
  - A task that runs P(homelab.mediacluster.k8s_manifest_validate#module) or
    P(homelab.mediacluster.k8s_delivery_check#module) also finds the CRD schemas the collection ships
    (C(roles/k8s_delivery/files/crds)) read.
  - The Kubernetes client (kubernetes.core's, about 0.3 s to import) is loaded for the tasks that read a cluster in
    their worker's own process (the C(kubernetes.core.k8s) lookup, in the task or its role's variables, or
    P(homelab.mediacluster.k8s_applied_info#module)), when the first such task starts that no condition can skip
    (none of its own, of its blocks or of its static imports; a dynamic include's tasks start only once the include
    ran), or else when the next task starts after one such task ran. A run whose cluster reads are all skipped (the
    export mode) never loads it.
  - It changes nothing a task does or prints; it only moves the imports. A plugin whose import fails here (a missing
    Python package) is left alone, and the task that uses it reports the error as it would without this callback.
    A plugin named only where this callback does not look (the inventory's variables) is loaded by the task's
    worker, as without it.
  - Enable it with C(callbacks_enabled = homelab.mediacluster.preload) in C(ansible.cfg) (the checkout's own
    C(ansible.cfg) does).
requirements:
  - enabled in C(callbacks_enabled)
author:
  - homelab.mediacluster developers (@homelab-mediacluster)
"""

import importlib
import os
import re
import sys

from ansible.plugins.callback import CallbackBase
from ansible.plugins.loader import filter_loader, lookup_loader, test_loader
from ansible.utils.display import Display

display = Display()
COLLECTION = 'homelab.mediacluster'
PACKAGE = 'ansible_collections.homelab.mediacluster.plugins'
PLUGINS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CRDS = os.path.join(os.path.dirname(PLUGINS), 'roles', 'k8s_delivery', 'files', 'crds')
# what a task names: homelab.mediacluster.<name> (a filter, a test, an action, a module or a role)
MENTION = re.compile(r'homelab\.mediacluster\.([a-z_][a-z0-9_]*)')
# Read the cluster through kubernetes.core's API client in the worker's own process: this collection's in-process
# Kubernetes readers, and kubernetes.core's k8s lookup.
KUBERNETES_ACTIONS = frozenset(['homelab.mediacluster.k8s_applied_info'])
KUBERNETES_LOOKUP = re.compile(r"""(?:query|lookup)\(\s*['"]kubernetes\.core\.k8s['"]""")
KUBERNETES_CLIENT = 'ansible_collections.kubernetes.core.plugins.module_utils.k8s.client'
# the tasks whose own tasks start only once they ran
DYNAMIC_INCLUDES = frozenset(prefix + name for prefix in ('', 'ansible.builtin.', 'ansible.legacy.')
                             for name in ('include_tasks', 'include_role'))
# the action plugins that validate manifests, and so read the CRD schemas
VALIDATE = frozenset(['k8s_manifest_validate', 'k8s_delivery_check'])


def _names(kind, suffix='.py'):
    try:
        return frozenset(name[:-len(suffix)] for name in os.listdir(os.path.join(PLUGINS, kind))
                         if name.endswith(suffix) and name != '__init__.py')
    except OSError:
        return frozenset()


# An in-process action plugin (plugins/action) runs the body of the module of the same name in the worker. A module
# without one runs in a process of its own, and a name that is neither (a role) has nothing to load.
ACTIONS = _names('action')
MODULES = _names('modules')
LOOKUPS = _names('lookup')


def _import(name):
    try:
        return importlib.import_module(name)
    except Exception as exc:  # pylint: disable=broad-except  # the task that needs it reports its own error
        display.vvvv('homelab.mediacluster.preload: {0} left to the task that uses it: {1}'.format(name, exc))
        return None


def _strings(data):
    """Every string in data, dictionary keys included (a task's action is its key)."""
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(data, (list, tuple, set, frozenset)):
        for value in data:
            yield from _strings(value)


def mentions(data):
    """The names of this collection's plugins data names, and whether it reads a cluster through the k8s lookup."""
    names, lookup = set(), False
    for text in _strings(data):
        if 'mediacluster' in text:
            names.update(MENTION.findall(text))
        if not lookup and 'kubernetes.core.k8s' in text:
            lookup = KUBERNETES_LOOKUP.search(text) is not None
    return names, lookup


def load(name):
    """Load in this process what a task that names homelab.mediacluster.<name> needs: an in-process action plugin
    and the module body it runs (for the manifest validation, the CRD schemas too), a lookup, or the filters and
    tests of that name through the plugin loaders, as a task's template resolves them. Returns the Python modules
    imported."""
    before = set(sys.modules)
    if name in ACTIONS:
        if _import('{0}.action.{1}'.format(PACKAGE, name)) is not None and name in MODULES:
            _import('{0}.modules.{1}'.format(PACKAGE, name))
        if name in VALIDATE:
            validation = sys.modules.get(PACKAGE + '.module_utils.k8s_validation')
            if validation is not None and validation.HAS_VALIDATION_LIBS:
                validation.supported_versions()  # the schema sets kubernetes-validate ships, listed once here
            if validation is not None and os.path.isdir(CRDS):
                try:
                    validation.load_crd_schemas([CRDS])  # kept per file (module_utils/k8s_validation.py, _CRD_FILES)
                except validation.K8sValidationError:
                    pass  # the validation task reports the unreadable file itself
    elif name not in MODULES:
        # a lookup of that name, or else the filter or test plugin of that name
        for loader in (lookup_loader,) if name in LOOKUPS else (filter_loader, test_loader):
            try:
                if loader.get('{0}.{1}'.format(COLLECTION, name)) is not None:
                    break
            except Exception as exc:  # pylint: disable=broad-except  # the task that uses it reports its own error
                display.vvvv('homelab.mediacluster.preload: {0} left to the task that uses it: {1}'.format(
                    name, exc))
                break
    return sorted(module for module in set(sys.modules) - before if module.startswith(PACKAGE + '.'))


def _conditional(task):
    """Whether a condition may still skip the task: its own, or one on a block or static import it is in. A dynamic
    include's tasks start only after the include ran, its conditions and those above it held."""
    node = task
    while node is not None:
        if node is not task and getattr(node, 'action', None) in DYNAMIC_INCLUDES:
            return False
        if getattr(node, 'when', None):
            return True
        node = getattr(node, '_parent', None)
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
        self._kubernetes_readers = set()  # the tasks that would read a cluster, started before the client was loaded
        self._kubernetes_read = False  # one of them ran (was not skipped)
        self._loaded = set()
        self._roles_seen = {}
        self._play = (set(), False)

    def v2_playbook_on_play_start(self, play):
        self._play = mentions(getattr(play, 'vars', None) or {})

    def _named(self, task):
        """(names, reads a cluster) for a task: its own data, its role's variables, its play's."""
        # both the task as written and its parsed attributes: the written form alone missed names (the export of the
        # example stack took 8.6-9.0 s with it against 8.0-8.5 s with both, two runs each, alternately)
        names, lookup = mentions([task.get_ds() or {}, task.args, task.vars, task.when, getattr(task, 'loop', None)])
        if getattr(task, 'resolved_action', None) in KUBERNETES_ACTIONS or task.action in KUBERNETES_ACTIONS:
            lookup = True
        role = getattr(task, '_role', None)
        if role is not None:
            if id(role) not in self._roles_seen:
                self._roles_seen[id(role)] = mentions(_role_data(role))
            role_names, role_lookup = self._roles_seen[id(role)]
            names, lookup = names | role_names, lookup or role_lookup
        action = getattr(task, 'resolved_action', None) or task.action or ''
        if action.startswith(COLLECTION + '.'):
            names.add(action[len(COLLECTION) + 1:])
        return names | self._play[0], lookup or self._play[1]

    def v2_playbook_on_task_start(self, task, is_conditional):
        names, reads_kubernetes = self._named(task)
        for name in sorted(names - self._loaded):
            self._loaded.add(name)
            imported = load(name)
            if imported:
                self._display.vvvv('homelab.mediacluster.preload: {0} loaded before task {1} ({2} Python modules)'
                                   .format(name, task.get_name(), len(imported)))
        # The Kubernetes client (about 0.3 s to import) is loaded once, for the workers of the task that starts and of
        # every later one: when a task that reads a cluster in its worker's own process starts and nothing can skip
        # it, or when any task starts after such a task ran. A conditional read may be skipped (every read is in
        # export mode): its worker, when it runs, loads the client for itself. A playbook that never talks to a
        # cluster (20_nodes.yml) never pays for it.
        if self._kubernetes_loaded:
            return
        unconditional_read = reads_kubernetes and not _conditional(task)
        if reads_kubernetes and not unconditional_read:
            self._kubernetes_readers.add(task._uuid)
        if not (unconditional_read or self._kubernetes_read):
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

    def _ran(self, result):
        # the results thread: only note it; the import waits for the next task start, in the main thread
        if result._task._uuid in self._kubernetes_readers:
            self._kubernetes_read = True

    def v2_runner_on_ok(self, result):
        self._ran(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._ran(result)

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)
