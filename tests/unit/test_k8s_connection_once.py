"""Issue 20, "settings set once": the Kubernetes connection of a role lives in one place. Its tasks/main.yml wraps the
role in one block whose module_defaults pass vars/main.yml's _<role>_k8s_connection to kubernetes.core's `k8s`
group and to this collection's `kubernetes` group (meta/runtime.yml), and no task repeats kubeconfig or context.
The roles converted so far are listed here; the others join as they are converted."""

import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLES = ['longhorn', 'cert_manager', 'verify', 'k8s_delivery', 'media_stack', 'plex']
CONNECTION_KEYS = {'kubeconfig', 'context', 'host', 'api_key'}


def _modules_with_kubernetes_auth():
    return sorted(p.stem for p in (ROOT / 'plugins' / 'modules').glob('*.py')
                  if 'homelab.mediacluster.kubernetes_auth' in p.read_text())


def test_the_kubernetes_action_group_lists_every_kubernetes_module():
    runtime = yaml.safe_load((ROOT / 'meta' / 'runtime.yml').read_text())
    group = runtime['action_groups']['kubernetes']
    assert sorted(group) == _modules_with_kubernetes_auth() and group, group
    for module in group:
        assert (ROOT / 'plugins' / 'modules' / (module + '.py')).exists(), module


def _tasks(items):
    """Every task of a task list, into blocks, rescue and always."""
    for item in items or []:
        yield item
        for key in ('block', 'rescue', 'always'):
            yield from _tasks(item.get(key))


def _k8s_module(task):
    for key in task:
        if re.match(r'^(kubernetes\.core\.k8s|homelab\.mediacluster\.longhorn_share_manager_info)', key):
            return key
    return None


@pytest.mark.parametrize('role', ROLES)
def test_role_sets_the_connection_once(role):
    base = ROOT / 'roles' / role
    main = yaml.safe_load((base / 'tasks' / 'main.yml').read_text())
    assert len(main) == 1 and 'block' in main[0], 'tasks/main.yml is one outer block'
    defaults = main[0].get('module_defaults') or {}
    wanted = '{{ _' + role + '_k8s_connection }}'
    assert defaults.get('group/kubernetes.core.k8s') == wanted, defaults
    assert defaults.get('group/homelab.mediacluster.kubernetes') == wanted, defaults
    connection = yaml.safe_load((base / 'vars' / 'main.yml').read_text())['_' + role + '_k8s_connection']
    # unset or empty inventory values become none, i.e. the module's own default (K8S_AUTH_*, ~/.kube/config)
    assert connection == {'kubeconfig': '{{ k8s_kubeconfig | default(none, true) }}',
                          'context': '{{ k8s_context | default(none, true) }}'}


@pytest.mark.parametrize('role', ROLES)
def test_no_task_repeats_the_connection(role):
    found = []
    for path in sorted((ROOT / 'roles' / role / 'tasks').glob('*.yml')):
        for task in _tasks(yaml.safe_load(path.read_text())):
            module = _k8s_module(task)
            args = task.get(module) if module else None
            if isinstance(args, dict):
                repeated = sorted(CONNECTION_KEYS & set(args))
                # the VIP check asks the API through another address on purpose (host), nothing else may
                if repeated and not (repeated == ['host'] and 'verify_vip_url' in str(args['host'])):
                    found.append('{0}: {1} sets {2}'.format(path.name, task.get('name'), repeated))
    assert found == [], found
