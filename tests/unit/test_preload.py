"""Issue 18: the callback homelab.mediacluster.preload (plugins/callback/preload.py) imports the collection's
controller-side plugins in ansible-playbook's main process, once, when the first task that names one starts, so the
worker each task runs in (forked from it) finds them loaded instead of importing them again; what a playbook never
names is never loaded."""

import json
import pathlib
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT, VENV_BIN, run_logged, tool_env

PACKAGE = 'ansible_collections.homelab.mediacluster.plugins'


def _python(code):
    """Run code in a fresh interpreter that sees the collection; return what it printed as JSON."""
    prelude = textwrap.dedent("""
        import json, sys
        from ansible.plugins.loader import init_plugin_loader
        init_plugin_loader()
        from ansible_collections.homelab.mediacluster.plugins.callback import preload
    """)
    result = subprocess.run([sys.executable, '-c', prelude + textwrap.dedent(code)], env=tool_env(), cwd=str(ROOT),
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _expected_modules():
    names = set()
    for kind in ('filter', 'test', 'action', 'lookup'):
        names.update('{0}.{1}.{2}'.format(PACKAGE, kind, path.stem)
                     for path in (ROOT / 'plugins' / kind).glob('*.py') if path.stem != '__init__')
    # the module body each in-process action plugin runs
    names.update('{0}.modules.{1}'.format(PACKAGE, path.stem) for path in (ROOT / 'plugins' / 'action').glob('*.py')
                 if (ROOT / 'plugins' / 'modules' / path.name).exists())
    return names


def _plugin_names():
    """Every name a task can give this collection's controller-side plugins: actions, lookups, filters, tests."""
    actions = sorted(path.stem for path in (ROOT / 'plugins' / 'action').glob('*.py') if path.stem != '__init__')
    lookups = sorted(path.stem for path in (ROOT / 'plugins' / 'lookup').glob('*.py') if path.stem != '__init__')
    # each filter has its documentation in a file of its name; each test plugin is a file of its name
    filters = sorted(path.stem for path in (ROOT / 'plugins' / 'filter').glob('*.yml'))
    tests = sorted(path.stem for path in (ROOT / 'plugins' / 'test').glob('*.py') if path.stem != '__init__')
    return actions + lookups + filters + tests


def test_loading_every_plugin_name_imports_every_controller_side_plugin_then_resolving_loads_nothing_more():
    seen = _python("""
        names = {names!r}
        imported = [module for name in names for module in preload.load(name)]
        from ansible.plugins.loader import filter_loader, test_loader
        before = set(sys.modules)
        filter_loader.get('homelab.mediacluster.role_problems')
        filter_loader.get('homelab.mediacluster.k3s_ca_hash')
        test_loader.get('homelab.mediacluster.cron_expression')
        print(json.dumps({{'imported': imported, 'new': sorted(set(sys.modules) - before),
                          'loaded': sorted(name for name in sys.modules if name.startswith(preload.PACKAGE))}}))
    """.format(names=_plugin_names()))
    kinds = ('filter', 'test', 'action', 'lookup', 'modules')
    plugin_modules = {name for name in seen['imported'] if name.split('.')[-2] in kinds}
    assert plugin_modules == _expected_modules()
    assert len(seen['imported']) == len(set(seen['imported'])), 'a module counted as loaded twice'
    assert seen['new'] == [], 'resolving a preloaded filter imported more: {0}'.format(seen['new'])
    # what they use comes with them; what only modules use (they run in a process of their own) is not imported
    assert {PACKAGE + '.module_utils.preflight_rules', PACKAGE + '.module_utils.k8s_validation',
            PACKAGE + '.plugin_utils.in_process'} <= set(seen['loaded'])
    assert PACKAGE + '.module_utils.proxmox' in seen['loaded']  # proxmox_lxc and proxmox_vm run in process
    assert PACKAGE + '.module_utils.nfs_exports' not in seen['loaded']  # nfs_export runs on the NAS only


def test_a_name_loads_only_what_it_names():
    seen = _python("""
        first = preload.load('quantity_to_bytes')
        print(json.dumps({'first': first, 'role': preload.load('k8s_delivery'), 'module': preload.load('node_facts'),
                          'again': preload.load('quantity_to_bytes'),
                          'loaded': sorted(name for name in sys.modules if name.startswith(preload.PACKAGE))}))
    """)
    assert PACKAGE + '.filter.quantity_to_bytes' in seen['first']
    # a role's or a remote module's name loads nothing; a name loaded before loads nothing more
    assert seen['module'] == [] and seen['again'] == []
    assert not [name for name in seen['role'] if '.action.' in name or '.modules.' in name], seen['role']
    # no action plugin, no manifest schemas: nothing named them
    assert not [name for name in seen['loaded'] if '.action.' in name or name.endswith('k8s_validation')], seen


def test_a_plugin_that_cannot_be_imported_is_left_to_the_task_that_uses_it():
    # None in sys.modules makes any import of that name raise ImportError, as a missing Python package would
    seen = _python("""
        sys.modules['ansible_collections.homelab.mediacluster.plugins.module_utils.k8s_validation'] = None
        print(json.dumps(preload.load('k8s_manifest_validate') + preload.load('role_problems')
                         + preload.load('k8s_export_tree')))
    """)
    assert PACKAGE + '.module_utils.k8s_validation' not in seen
    assert PACKAGE + '.modules.k8s_manifest_validate' not in seen  # the module body imports k8s_validation
    assert PACKAGE + '.filter.preflight' in seen and PACKAGE + '.action.k8s_export_tree' in seen


PROBE_ACTION = '''
import sys
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        result['loaded'] = sorted(name for name in sys.modules if name.startswith('{0}.'))
        result['kubernetes'] = 'kubernetes.dynamic' in sys.modules
        return result
'''.format(PACKAGE)


def _probe_run(tmp_path, name, tasks, callbacks):
    """Run a playbook of tasks (YAML text) on localhost, with the action probe_loaded (what the task's worker finds
    imported); returns (the JSON the tasks wrote to loaded.json, the output)."""
    (tmp_path / 'action').mkdir()
    (tmp_path / 'action' / 'probe_loaded.py').write_text(PROBE_ACTION)
    playbook = tmp_path / 'probe.yml'
    playbook.write_text('- hosts: localhost\n  gather_facts: false\n  tasks:\n'
                        + textwrap.indent(textwrap.dedent(tasks), '    '))
    code, output = run_logged(name, [str(VENV_BIN / 'ansible-playbook'), '-i', 'localhost,', '-c', 'local', '-vvvv',
                                     '-e', 'ansible_python_interpreter=' + sys.executable, str(playbook)],
                              ANSIBLE_ACTION_PLUGINS=str(tmp_path / 'action'), ANSIBLE_CALLBACKS_ENABLED=callbacks)
    assert code == 0, output[-3000:]
    return json.loads((tmp_path / 'loaded.json').read_text()), output


def _loaded_in_the_worker(tmp_path, callbacks):
    """The collection's Python modules the workers of two tasks find loaded when they start their action: the first
    names a filter (in a variable it never uses), the second an action plugin."""
    return _probe_run(tmp_path, 'preload-' + callbacks, """
        - name: Name a filter
          probe_loaded:
          vars:
            unused: "{{ '1Ki' | homelab.mediacluster.quantity_to_bytes }}"
          register: first
        - name: Name an action
          probe_loaded:
          vars:
            unused: homelab.mediacluster.k8s_export_tree
          register: second
        - ansible.builtin.copy:
            content: "{{ [first.loaded, second.loaded] | to_json }}"
            dest: "{{ playbook_dir }}/loaded.json"
            mode: '0600'
    """, callbacks)


def test_with_the_checkout_config_a_task_worker_starts_with_what_the_task_names_loaded(tmp_path):
    (tmp_path / 'on').mkdir()
    (tmp_path / 'off').mkdir()
    (first, second), output = _loaded_in_the_worker(tmp_path / 'on', 'homelab.mediacluster.preload')
    assert 'homelab.mediacluster.preload: quantity_to_bytes loaded before task Name a filter' in output
    assert 'homelab.mediacluster.preload: k8s_export_tree loaded before task Name an action' in output
    assert PACKAGE + '.filter.quantity_to_bytes' in first
    assert PACKAGE + '.action.k8s_export_tree' not in first  # not named yet
    assert {PACKAGE + '.filter.quantity_to_bytes', PACKAGE + '.action.k8s_export_tree',
            PACKAGE + '.modules.k8s_export_tree'} <= set(second)
    assert PACKAGE + '.action.k8s_manifest_validate' not in second  # never named
    # without the callback the worker imports them itself, when a task uses one
    (first, second), output = _loaded_in_the_worker(tmp_path / 'off', 'ansible.posix.profile_tasks')
    assert not (set(first) | set(second)) & _expected_modules(), (first, second)


def test_the_checkout_config_and_molecule_enable_the_callback():
    config = (ROOT / 'ansible.cfg').read_text()
    assert 'homelab.mediacluster.preload' in [name.strip() for line in config.splitlines()
                                              if line.startswith('callbacks_enabled')
                                              for name in line.split('=', 1)[1].split(',')]
    assert 'homelab.mediacluster.preload' in (ROOT / '.config' / 'molecule' / 'config.yml').read_text()
    assert pathlib.Path(ROOT / 'plugins' / 'callback' / 'preload.py').exists()


def test_naming_the_validation_reads_the_collections_crd_files_once_for_every_later_validation():
    seen = _python("""
        preload.load('k8s_manifest_validate')
        from ansible_collections.homelab.mediacluster.plugins.module_utils import k8s_validation
        files = sorted(k8s_validation._CRD_FILES)
        first = k8s_validation.load_crd_schemas([preload.CRDS])
        again = k8s_validation.load_crd_schemas([preload.CRDS])
        print(json.dumps({'files': files, 'kinds': len(first),
                          'shared': all(first[key] is again[key] for key in first),
                          'cached': sorted(k8s_validation._CRD_FILES) == files}))
    """)
    crds = sorted(str(path) for path in (ROOT / 'roles' / 'k8s_delivery' / 'files' / 'crds').glob('*.y*ml'))
    assert [pathlib.Path(name).name for name in seen['files']] == [pathlib.Path(name).name for name in crds]
    assert seen['kinds'] > 0 and seen['shared'] and seen['cached'], seen


def test_a_changed_crd_file_is_read_again(tmp_path):
    crd = tmp_path / 'crd.yaml'
    document = ('apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {{name: x}}\n'
                'spec: {{group: example.com, names: {{kind: Thing}}, versions: [{{name: {0}, served: true}}]}}\n')
    seen = _python("""
        import os
        from ansible_collections.homelab.mediacluster.plugins.module_utils import k8s_validation
        path = {path!r}
        open(path, 'w').write({v1!r})
        before = sorted(k8s_validation.load_crd_schemas([path]))
        open(path, 'w').write({v2!r})
        os.utime(path, ns=(1, 1))  # a different mtime even within the clock's resolution
        after = sorted(k8s_validation.load_crd_schemas([path]))
        print(json.dumps({{'before': before, 'after': after}}))
    """.format(path=str(crd), v1=document.format('v1'), v2=document.format('v2beta1')))
    assert seen == {'before': [['example.com/v1', 'Thing']], 'after': [['example.com/v2beta1', 'Thing']]}


READ_NAMESPACES = """\
- name: Read the namespaces
  ansible.builtin.set_fact:
    namespaces: "{{ query('kubernetes.core.k8s', kind='Namespace') }}"
"""
PROBE_BEFORE = """\
- name: Before
  probe_loaded:
  register: before
"""
PROBE_AFTER = """\
- name: After
  probe_loaded:
  register: after
- name: Record
  ansible.builtin.copy:
    content: "{{ [before.kubernetes, after.kubernetes] | to_json }}"
    dest: "{{ playbook_dir }}/loaded.json"
    mode: '0600'
"""


@pytest.mark.parametrize('case, reader, loaded_before', [
    # the export mode: every read of a cluster is skipped, and the client (about 0.3 s) is never imported
    ('skipped', READ_NAMESPACES + '  when: false\n', None),
    # a conditional read that ran (it fails, ignored: no cluster here) loads it for the next tasks
    ('ran', READ_NAMESPACES + '  when: true\n  ignore_errors: true\n', 'After'),
    # in a dynamic include whose condition held, the read starts only because it will run: loaded before it
    ('include', '- name: Read the cluster\n  ansible.builtin.include_tasks: read.yml\n  when: true\n',
     'Read the namespaces'),
])
def test_the_kubernetes_client_is_loaded_for_the_cluster_reads_that_run(tmp_path, case, reader, loaded_before):
    (tmp_path / 'read.yml').write_text(READ_NAMESPACES + '  ignore_errors: true\n')
    loaded, output = _probe_run(tmp_path, 'preload-kubernetes-' + case, PROBE_BEFORE + reader + PROBE_AFTER,
                                'homelab.mediacluster.preload')
    assert loaded == [False, loaded_before is not None]
    if loaded_before is None:
        assert 'Kubernetes client loaded' not in output
    else:
        assert output.count('homelab.mediacluster.preload: Kubernetes client loaded before task {0}'.format(
            loaded_before)) == 1


def test_what_a_task_names_in_its_data_its_role_and_its_play():
    seen = _python("""
        from types import SimpleNamespace
        callback = preload.CallbackModule()
        role = SimpleNamespace(get_default_vars=lambda: {
            'nodes': "{{ lookup( 'kubernetes.core.k8s' , kind='Node') }}"},
            get_vars=lambda: {'problems': "{{ x | homelab.mediacluster.role_problems('r') }}"})
        plain = SimpleNamespace(get_default_vars=lambda: {'x': 1}, get_vars=lambda: {'k': 'kubernetes.core.k8s_info'})
        def task(action, role=None, args=None, ds=None):
            return SimpleNamespace(action=action, resolved_action=action, args=args or {}, vars={}, when=[],
                                   loop=None, _role=role, get_ds=lambda: ds)
        def named(t):
            names, reads = callback._named(t)
            return [sorted(names), reads]
        out = [
            named(task('homelab.mediacluster.k8s_applied_info')),
            named(task('ansible.builtin.debug', role=role)),
            named(task('ansible.builtin.debug', role=plain)),
            named(task('kubernetes.core.k8s_info')),  # a module: runs in a process of its own
            named(task('ansible.builtin.debug', args={'msg': "{{ query('kubernetes.core.k8s') }}"})),
            # only in the task's own data: failed_when is not among its args, vars, when or loop
            named(task('ansible.builtin.command', ds={'ansible.builtin.command': 'true',
                                                      'failed_when': "x is homelab.mediacluster.cron_expression"})),
        ]
        class Play:
            vars = {'problems': "{{ hostvars | homelab.mediacluster.inventory_problems }}"}
        callback.v2_playbook_on_play_start(Play())
        out.append(named(task('ansible.builtin.debug')))
        print(json.dumps(out))
    """)
    assert seen == [
        [['k8s_applied_info'], True],
        [['role_problems'], True],
        [[], False],
        [[], False],
        [[], True],
        [['cron_expression'], False],
        [['inventory_problems'], False],
    ]
