"""Shared pytest fixtures and helpers for homelab.mediacluster's test suite."""

import contextlib
import fcntl
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
VENV_BIN = pathlib.Path(sys.executable).parent
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
                            timeout=timeout)
    output = result.stdout + result.stderr
    (LOG_DIR / (name + '.log')).write_text(output)
    return result.returncode, output


def tail(text, lines=60):
    return '\n'.join(text.splitlines()[-lines:])


@pytest.fixture(scope='session')
def repo_root():
    return ROOT


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
# scenarios (each with its own container names and network) are the longest single tests: they are handed out first.
CHEAP_SHARED_FIXTURES = {'repo_root'}
FIRST = ('tests/molecule/', 'tests/lab/')


def xdist_groups(items):
    """{nodeid: group name} for the items that must share a worker (union of the shared fixtures they use)."""
    parent = {}

    def find(key):
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    keys = {}
    for item in items:
        own = ['mark:lab'] if item.get_closest_marker('lab') else []
        info = getattr(item, '_fixtureinfo', None)
        for argname, defs in (info.name2fixturedefs.items() if info else ()):
            fixturedef = defs[-1]
            func = getattr(fixturedef, 'func', None)
            source = getattr(func, '__module__', '') or ''
            if fixturedef.scope == 'function' or argname in CHEAP_SHARED_FIXTURES or not source.startswith('tests'):
                continue
            # a module-scoped fixture has one instance per test module: only tests of that module share it
            where = item.nodeid.split('::', 1)[0] if fixturedef.scope in ('module', 'class') else source
            own.append('fixture:{0}:{1}'.format(where, argname))
        for key in own[1:]:
            parent[find(key)] = find(own[0])
        if own:
            keys[item.nodeid] = own[0]
    return {nodeid: find(key).split(':', 1)[1].replace(':', '.') for nodeid, key in keys.items()}


def pytest_collection_modifyitems(config, items):
    if not getattr(config.option, 'numprocesses', None):
        return
    groups = xdist_groups(items)
    for item in items:
        if item.nodeid in groups:
            item.add_marker(pytest.mark.xdist_group(groups[item.nodeid]))
    items.sort(key=lambda item: 0 if item.nodeid.startswith(FIRST) else 1)  # stable: otherwise collection order
