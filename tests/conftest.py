"""Shared pytest fixtures and helpers for homelab.mediacluster's test suite."""

import contextlib
import fcntl
import functools
import json
import os
import pathlib
import subprocess
import sys

import pytest
from kubernetes_validate import utils as kubernetes_validate_utils

ROOT = pathlib.Path(__file__).resolve().parent.parent
# kubernetes-validate's validate() reads its schema files from disk on every call, the definitions file (megabytes of
# JSON) included, and the independent manifest checks call it hundreds of times per test process (5 s of one worker's
# manifest tests): the same files, read once per process. The validation itself is the library's, unchanged.
kubernetes_validate_utils.schema_contents = functools.lru_cache(maxsize=None)(kubernetes_validate_utils.schema_contents)
VENV_BIN = pathlib.Path(sys.executable).parent
# the machine's cache for test tools installed from a registry (npm validators, ansible-test's sanity environments):
# outside the work tree, kept across checkouts as pip's and npm's caches are, each entry keyed by what it installs
MACHINE_CACHE = pathlib.Path(os.environ.get('XDG_CACHE_HOME') or pathlib.Path.home() / '.cache', 'homelab-mediacluster')
LOG_DIR = ROOT / '.cache' / 'test-logs'


def tool_env(**extra):
    """Environment for running the toolchain: the venv's bin first, the repo's ansible.cfg, no colours."""
    env = dict(os.environ)
    env['PATH'] = '{0}{1}{2}'.format(VENV_BIN, os.pathsep, env.get('PATH', ''))
    env['ANSIBLE_CONFIG'] = str(ROOT / 'ansible.cfg')
    env['ANSIBLE_HOME'] = str(ROOT / '.ansible')  # caches stay in the checkout, never a stale copy in ~/.ansible
    env['ANSIBLE_CACHE_PLUGIN'] = 'memory'  # no facts carried from one test's run into another's
    env.update({'ANSIBLE_NOCOLOR': '1', 'NO_COLOR': '1', 'PY_COLORS': '0', 'ANSIBLE_FORCE_COLOR': '0'})
    env.update(extra)
    return env


def run_logged(name, cmd, timeout=1800, cwd=ROOT, **env):
    """Run cmd, keep its whole output in .cache/test-logs/<name>.log and return (returncode, output)."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(cmd, cwd=str(cwd), env=tool_env(**env), capture_output=True, text=True,
                            timeout=timeout, check=False)
    output = result.stdout + result.stderr
    (LOG_DIR / (name + '.log')).write_text(output)
    return result.returncode, output


def first_json(output):
    """The JSON document a tool printed, from the first '{' on; what follows it (run_logged appends stderr, such as
    a dependency's deprecation warning) is ignored."""
    return json.JSONDecoder().raw_decode(output, output.index('{'))[0]


def tail(text, lines=60):
    return '\n'.join(text.splitlines()[-lines:])


@pytest.fixture(scope='session')
def repo_root():
    return ROOT


@pytest.fixture(scope='session')
def example_media_plex_export(tmp_path_factory):
    """Every object 60_media.yml and 70_plex.yml export for inventory/example (offline), rendered once per test
    session for the Pod Security tests (tests/plex) and the checkov agreement test (tests/unit/semantics). Callers
    must not change the list."""
    from tests.plex.test_plex_pod_security import export_trees

    return export_trees(tmp_path_factory.mktemp('example'), 'psa-example-export', ROOT / 'inventory' / 'example', {})


@contextlib.contextmanager
def cache_lock(name):
    """An exclusive lock on .cache/<name>.lock for the time of a one-off install into a cache shared by the test
    processes (scripts/test.sh runs pytest-xdist workers side by side): the second waits, then finds it done."""
    path = ROOT / '.cache' / (name + '.lock')
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, 'w') as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- running in parallel (pytest-xdist, scripts/test.sh: -n 2 --dist loadgroup) -----------------------------------
# Tests run side by side unless they share something: every test of the lab (fixed container names, addresses and
# ports) runs on one worker, and tests that share a module- or session-scoped fixture of this suite (a node
# container, a rendered tree, the checkov venv) run on one worker so that the fixture is set up once. The molecule
# scenarios (each with its own container names and network) are the longest single tests: they are handed out first,
# then the groups, then the rest, so that no long unit of work starts last.
CHEAP_SHARED_FIXTURES = {'repo_root'}
FIRST = ('tests/molecule/', 'tests/lab/')


def xdist_group_of(item):
    """The group an item must share a worker with, or None: 'lab' for the lab tests; for a test that uses a
    session-scoped fixture of this suite, that fixture (the first by name); for one that uses a module-scoped one,
    its test module (each module has its own instance)."""
    if item.get_closest_marker('lab'):
        return 'lab'
    info = getattr(item, '_fixtureinfo', None)
    session, module = [], False
    for argname, defs in (info.name2fixturedefs.items() if info else ()):
        fixturedef = defs[-1]
        source = getattr(getattr(fixturedef, 'func', None), '__module__', '') or ''
        if fixturedef.scope == 'function' or argname in CHEAP_SHARED_FIXTURES or not source.startswith('tests'):
            continue
        if fixturedef.scope in ('module', 'class'):
            module = True
        else:
            session.append('{0}.{1}'.format(source, argname))
    if session:
        return sorted(session)[0]
    return item.nodeid.split('::', 1)[0] if module else None


# pytest 9 keeps a node id in Node._id, so xdist 3.8's --dist loadgroup (which appends "@group" to Item._nodeid)
# groups nothing here. Instead, the workers write {node id: group} to a file while they collect, and the controller's
# scheduler (a LoadScopeScheduling whose scope is that group, or the test itself) reads it.
GROUPS_ENV = 'MEDIACLUSTER_XDIST_GROUPS'


def pytest_configure(config):
    if not hasattr(config, 'workerinput') and getattr(config.option, 'dist', 'no') == 'loadgroup':
        (ROOT / '.cache').mkdir(parents=True, exist_ok=True)
        os.environ[GROUPS_ENV] = str(ROOT / '.cache' / 'xdist-groups-{0}.json'.format(os.getpid()))


def pytest_unconfigure(config):
    path = os.environ.get(GROUPS_ENV)
    if path and not hasattr(config, 'workerinput'):
        pathlib.Path(path).unlink(missing_ok=True)


def pytest_collection_modifyitems(config, items):
    if not hasattr(config, 'workerinput'):  # a plain pytest run keeps its order
        return
    groups = {item.nodeid: group for item in items for group in [xdist_group_of(item)] if group}
    # scripts/test.sh passes --no-loadscope-reorder, so xdist hands out work in this order: molecule and the lab,
    # then the groups (each a long unit of work), then single tests; stable sort, collection order otherwise
    items.sort(key=lambda item: 0 if item.nodeid.startswith(FIRST) else 1 if item.nodeid in groups else 2)
    path = os.environ.get(GROUPS_ENV)
    if path:
        fresh = pathlib.Path('{0}.{1}'.format(path, os.getpid()))
        fresh.write_text(json.dumps(groups))
        os.replace(fresh, path)  # every worker writes the same map; the scheduler reads it once all have collected


try:
    from xdist.scheduler import LoadScopeScheduling
except ImportError:  # pragma: no cover - pytest-xdist is in requirements.txt; without it pytest runs in one process
    LoadScopeScheduling = None

if LoadScopeScheduling is not None:
    class GroupScheduling(LoadScopeScheduling):
        """Work units: each group (all its tests on one worker), every other test alone."""

        groups = None

        def _split_scope(self, nodeid):
            if self.groups is None:
                path = os.environ.get(GROUPS_ENV)
                self.groups = json.loads(pathlib.Path(path).read_text()) if path and os.path.exists(path) else {}
            group = self.groups.get(nodeid)
            return 'group:' + group if group else nodeid

    def pytest_xdist_make_scheduler(config, log):
        if config.getvalue('dist') == 'loadgroup':
            return GroupScheduling(config, log)
        return None
