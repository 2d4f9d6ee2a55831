"""The collection builds, ships no tests/venvs/caches, installs, and ansible-doc renders its modules and roles."""

import ast
import pathlib
import re
import shutil
import tarfile

import pytest
import yaml

from .conftest import ROOT, VENV_BIN, first_json, run_logged, tail

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
    tarball, _unused = installed
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
    tarball, _unused = installed
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


def test_shipped_longhorn_crds_are_the_upstream_documents():
    """The Longhorn CRDs ship one file per CRD (multi-document YAML fails ansible-test's yamllint); together they are
    exactly the documents of the upstream chart file kept in tests/schemas/crds/, none missing, none added."""
    upstream_file = ROOT / 'tests' / 'schemas' / 'crds' / 'longhorn-v1.12.1-crds.yaml'
    upstream = list(yaml.safe_load_all(upstream_file.read_text()))
    shipped = [yaml.safe_load(p.read_text())
               for p in sorted((ROOT / 'roles' / 'k8s_delivery' / 'files' / 'crds').glob('longhorn.io_*.yaml'))]
    assert sorted(shipped, key=lambda d: d['metadata']['name']) == \
        sorted([d for d in upstream if d], key=lambda d: d['metadata']['name'])


def test_installed_collection_has_runtime_metadata(installed):
    _unused, dest = installed
    runtime = yaml.safe_load((dest / 'ansible_collections' / 'homelab' / 'mediacluster' / 'meta' /
                              'runtime.yml').read_text())
    assert 'proxmox' in runtime['action_groups']
    installed_modules = sorted(p.stem for p in (dest / 'ansible_collections' / 'homelab' / 'mediacluster' /
                                                'plugins' / 'modules').glob('*.py'))
    assert installed_modules == MODULES


@pytest.mark.parametrize('module', MODULES)
def test_ansible_doc_renders_module(installed, module):
    _unused, dest = installed
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
    _unused, dest = installed
    assert names, 'no {0} plugin found in plugins/{0}/'.format(kind)
    code, output = run_logged('doc-{0}s'.format(kind), [str(VENV_BIN / 'ansible-doc'), '-t', kind, '--json'] +
                              ['homelab.mediacluster.' + n for n in names], ANSIBLE_COLLECTIONS_PATH=str(dest))
    assert code == 0, tail(output)
    docs = first_json(output)
    wrong = {name: (docs.get('homelab.mediacluster.' + name) or {}).get('doc', {}).get('name') for name in names}
    wrong = {name: shown for name, shown in wrong.items() if shown != name}
    assert not wrong, '{0} plugin -> the docs ansible-doc shows for it instead of its own: {1}'.format(kind, wrong)
    incomplete = sorted(name for name in names if not docs['homelab.mediacluster.' + name].get('examples')
                        or not docs['homelab.mediacluster.' + name].get('return'))
    assert not incomplete, '{0} plugins without EXAMPLES or RETURN: {1}'.format(kind, incomplete)


CALLBACKS = sorted(p.stem for p in (ROOT / 'plugins' / 'callback').glob('*.py') if p.stem != '__init__')


def test_ansible_doc_lists_and_renders_each_callback(installed):
    """The listing galaxy-importer asks for (ansible-doc --list --json) and each callback's page."""
    _unused, dest = installed
    assert CALLBACKS, 'no callback plugin found in plugins/callback/'
    code, output = run_logged('doc-callbacks', [str(VENV_BIN / 'ansible-doc'), '-t', 'callback', '--list', '--json',
                                                'homelab.mediacluster'], ANSIBLE_COLLECTIONS_PATH=str(dest))
    assert code == 0, tail(output)
    listed = first_json(output)
    assert sorted(listed) == ['homelab.mediacluster.' + name for name in CALLBACKS], listed
    assert all(isinstance(text, str) and text for text in listed.values()), listed  # the short descriptions
    for name in CALLBACKS:
        code, output = run_logged('doc-callback-' + name, [str(VENV_BIN / 'ansible-doc'), '-t', 'callback',
                                                           'homelab.mediacluster.' + name],
                                  ANSIBLE_COLLECTIONS_PATH=str(dest))
        assert code == 0, tail(output)


@pytest.mark.parametrize('role', ROLES)
def test_ansible_doc_renders_role(installed, role):
    _unused, dest = installed
    code, output = run_logged('doc-role-' + role, [str(VENV_BIN / 'ansible-doc'), '-t', 'role',
                                                   'homelab.mediacluster.' + role],
                              ANSIBLE_COLLECTIONS_PATH=str(dest))
    assert code == 0, tail(output)
    assert 'ENTRY POINT: *main*' in output and 'Options' in output


def loopback_inventory(where, change=None):
    """inventory/example with every 192.168.1.x address moved to 127.0.1.x: the same valid inventory, whose hosts are
    all on this machine's loopback."""
    inv = where / 'inventory'
    shutil.copytree(ROOT / 'inventory' / 'example', inv)
    for path in inv.rglob('*.yml'):
        path.write_text(path.read_text().replace('192.168.1.', '127.0.1.'))
    if change:
        change(inv)
    return inv


def run_installed_playbook(name, installed, playbook, inventory, workdir):
    """ansible-playbook <FQCN> as a user of the installed tarball runs it: from an empty directory, no project
    ansible.cfg, the collection found only through ANSIBLE_COLLECTIONS_PATH; offline (loopback only)."""
    _unused, dest = installed
    config = workdir.parent / 'ansible.cfg'  # empty: Ansible's defaults, not the project's ansible.cfg
    config.write_text('')
    cmd = ' '.join(['ip link set lo up &&', str(VENV_BIN / 'ansible-playbook'), playbook, '-i', str(inventory),
                    '-e', 'mediacluster_preflight_probes=false'])
    return run_logged(name, ['unshare', '--net', '--map-root-user', 'sh', '-c', cmd], cwd=workdir,
                      ANSIBLE_CONFIG=str(config), ANSIBLE_HOME=str(workdir / '.ansible'), HOME=str(workdir),
                      ANSIBLE_COLLECTIONS_PATH=str(dest))


def test_installed_preflight_by_fqcn_passes_a_valid_inventory(installed, tmp_path):
    inventory = loopback_inventory(tmp_path)
    empty = tmp_path / 'empty'
    empty.mkdir()
    code, output = run_installed_playbook('fqcn-preflight-valid', installed, 'homelab.mediacluster.00_preflight',
                                          inventory, empty)
    assert code == 0, tail(output)
    assert 'The inventory passed every check.' in output
    assert re.findall(r'^(\S+)\s+: ok=\d+\s+changed=(\d+)', output, re.M) == [('localhost', '0')]
    assert sorted(p.name for p in empty.iterdir() if p.name != '.ansible') == []


def test_installed_preflight_by_fqcn_fails_a_broken_inventory(installed, tmp_path):
    def vip_on_a_node(inv):
        cluster = inv / 'group_vars' / 'all' / 'cluster.yml'
        data = yaml.safe_load(cluster.read_text())
        data['k3s_common_vip'] = '127.0.1.12'  # k3s-w1's address
        cluster.write_text(yaml.safe_dump(data, sort_keys=False))

    inventory = loopback_inventory(tmp_path, vip_on_a_node)
    empty = tmp_path / 'empty'
    empty.mkdir()
    code, output = run_installed_playbook('fqcn-preflight-broken', installed, 'homelab.mediacluster.00_preflight',
                                          inventory, empty)
    assert code != 0, tail(output)
    assert 'k3s_common_vip=127.0.1.12 is the IP of k3s-w1' in output, tail(output)
    assert re.search(r'The inventory has \d+ problem\(s\)', output), tail(output)


def test_root_site_yml_imports_the_playbooks_site():
    plays = yaml.safe_load((ROOT / 'site.yml').read_text())
    assert [p.get('ansible.builtin.import_playbook') for p in plays] == ['playbooks/site.yml']


def test_every_module_is_in_the_proxmox_group_or_not_a_proxmox_module():
    runtime = yaml.safe_load((ROOT / 'meta' / 'runtime.yml').read_text())
    group = set(runtime['action_groups']['proxmox'])
    proxmox_modules = {m for m in MODULES if m.startswith('proxmox_')}
    assert proxmox_modules == group, 'meta/runtime.yml action_groups.proxmox must list exactly {0}'.format(
        sorted(proxmox_modules))


def test_modules_and_roles_are_found():
    assert ROLES, 'no role has meta/argument_specs.yml'
    assert pathlib.Path(ROOT / 'galaxy.yml').exists()
