"""The collection builds, ships no tests/venvs/caches, installs, and ansible-doc renders its modules and roles."""

import ast
import json
import pathlib
import tarfile

import pytest
import yaml

from .conftest import ROOT, VENV_BIN, run_logged, tail

pytestmark = pytest.mark.build

FORBIDDEN = ('tests/', '.venv/', '.lab/', '.cache/', '.collections/', 'molecule/', '.git/', 'scripts/', '.ci/',
             '__pycache__', '.pytest_cache', '.hypothesis/', 'bench/')
MODULES = sorted(p.stem for p in (ROOT / 'plugins' / 'modules').glob('*.py') if p.stem != '__init__')


def jinja_plugins(kind):
    """Every filter (kind 'filter') or test ('test') the collection's plugin files register, read from the dict their
    FilterModule.filters() / TestModule.tests() returns - the code, not the doc files."""
    method = 'filters' if kind == 'filter' else 'tests'
    names = []
    for path in sorted((ROOT / 'plugins' / kind).glob('*.py')):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name == method:
                returned = [n.value for n in ast.walk(node) if isinstance(n, ast.Return)]
                names.extend(key.value for ret in returned if isinstance(ret, ast.Dict) for key in ret.keys)
    return sorted(names)


FILTERS = jinja_plugins('filter')
TESTS = jinja_plugins('test')
ROLES = sorted(p.parent.parent.name for p in (ROOT / 'roles').glob('*/meta/argument_specs.yml'))


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    out = tmp_path_factory.mktemp('build')
    code, output = run_logged('build', [str(VENV_BIN / 'ansible-galaxy'), 'collection', 'build', '--force',
                                        '--output-path', str(out), str(ROOT)])
    assert code == 0, tail(output)
    tarballs = list(out.glob('homelab-mediacluster-*.tar.gz'))
    assert len(tarballs) == 1, 'expected one tarball, found {0}'.format(tarballs)
    dest = tmp_path_factory.mktemp('collections')
    code, output = run_logged('install', [str(VENV_BIN / 'ansible-galaxy'), 'collection', 'install', '--offline',
                                          '--no-deps', '--force', '-p', str(dest), str(tarballs[0])])
    assert code == 0, tail(output)
    return tarballs[0], dest


def test_tarball_ships_no_tests_or_caches(installed):
    tarball, _ = installed
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    leaked = sorted(n for n in names if any(bad in n + '/' for bad in FORBIDDEN))
    assert not leaked, 'the build ships files it must not: {0}'.format(leaked[:20])
    assert 'galaxy.yml' not in names and 'MANIFEST.json' in names
    version = yaml.safe_load((ROOT / 'galaxy.yml').read_text())['version']
    assert tarball.name == 'homelab-mediacluster-{0}.tar.gz'.format(version)


def test_tarball_ships_every_crd_the_delivery_layer_validates_with(installed):
    """roles/k8s_delivery/files/crds/ is the delivery layer's built-in schema set: all of it ships, byte for byte,
    and the test-only Gateway API stand-in (tests/gateway_api/) does not."""
    tarball, _ = installed
    crd_dir = ROOT / 'roles' / 'k8s_delivery' / 'files' / 'crds'
    wanted = sorted(p.name for p in crd_dir.glob('*.yaml'))
    assert wanted, 'no CRD files in {0}'.format(crd_dir)
    with tarfile.open(tarball) as archive:
        shipped = {pathlib.PurePosixPath(n).name: n for n in archive.getnames()
                   if n.startswith('roles/k8s_delivery/files/crds/')}
        assert sorted(shipped) == wanted
        for name, member in shipped.items():
            assert archive.extractfile(member).read() == (crd_dir / name).read_bytes(), name
        assert not [n for n in archive.getnames() if 'names-only' in n or 'gateway_api' in n]


def test_installed_collection_has_runtime_metadata(installed):
    _, dest = installed
    runtime = yaml.safe_load((dest / 'ansible_collections' / 'homelab' / 'mediacluster' / 'meta' /
                              'runtime.yml').read_text())
    assert 'proxmox' in runtime['action_groups']
    installed_modules = sorted(p.stem for p in (dest / 'ansible_collections' / 'homelab' / 'mediacluster' /
                                                'plugins' / 'modules').glob('*.py'))
    assert installed_modules == MODULES


@pytest.mark.parametrize('module', MODULES)
def test_ansible_doc_renders_module(installed, module):
    _, dest = installed
    code, output = run_logged('doc-' + module, [str(VENV_BIN / 'ansible-doc'), 'homelab.mediacluster.' + module],
                              ANSIBLE_COLLECTIONS_PATH=str(dest))
    assert code == 0, tail(output)
    assert 'homelab.mediacluster.' + module in output and 'EXAMPLES' in output
    # a module without options (cgroup_info only reads) has no OPTIONS section; every other one must show it
    if 'options: {}' not in (ROOT / 'plugins' / 'modules' / (module + '.py')).read_text():
        assert 'OPTIONS' in output, tail(output)


@pytest.mark.parametrize('kind, names', [('filter', FILTERS), ('test', TESTS)])
def test_ansible_doc_shows_each_jinja_plugins_own_docs(installed, kind, names):
    """ansible-doc -t filter/test of each plugin shows that plugin's own documentation (name, examples, return value),
    not the docs of another filter that happens to live in the same file."""
    _, dest = installed
    assert names, 'no {0} plugin found in plugins/{0}/'.format(kind)
    code, output = run_logged('doc-{0}s'.format(kind), [str(VENV_BIN / 'ansible-doc'), '-t', kind, '--json'] +
                              ['homelab.mediacluster.' + n for n in names], ANSIBLE_COLLECTIONS_PATH=str(dest))
    assert code == 0, tail(output)
    docs = json.loads(output[output.index('{'):])
    wrong = {name: (docs.get('homelab.mediacluster.' + name) or {}).get('doc', {}).get('name') for name in names}
    wrong = {name: shown for name, shown in wrong.items() if shown != name}
    assert not wrong, '{0} plugin -> the docs ansible-doc shows for it instead of its own: {1}'.format(kind, wrong)
    incomplete = sorted(name for name in names if not docs['homelab.mediacluster.' + name].get('examples')
                        or not docs['homelab.mediacluster.' + name].get('return'))
    assert not incomplete, '{0} plugins without EXAMPLES or RETURN: {1}'.format(kind, incomplete)


@pytest.mark.parametrize('role', ROLES)
def test_ansible_doc_renders_role(installed, role):
    _, dest = installed
    code, output = run_logged('doc-role-' + role, [str(VENV_BIN / 'ansible-doc'), '-t', 'role',
                                                   'homelab.mediacluster.' + role],
                              ANSIBLE_COLLECTIONS_PATH=str(dest))
    assert code == 0, tail(output)
    assert 'ENTRY POINT: *main*' in output and 'Options' in output


def test_every_module_is_in_the_proxmox_group_or_not_a_proxmox_module():
    runtime = yaml.safe_load((ROOT / 'meta' / 'runtime.yml').read_text())
    group = set(runtime['action_groups']['proxmox'])
    proxmox_modules = {m for m in MODULES if m.startswith('proxmox_')}
    assert proxmox_modules == group, 'meta/runtime.yml action_groups.proxmox must list exactly {0}'.format(
        sorted(proxmox_modules))


def test_modules_and_roles_are_found():
    assert ROLES, 'no role has meta/argument_specs.yml'
    assert pathlib.Path(ROOT / 'galaxy.yml').exists()
