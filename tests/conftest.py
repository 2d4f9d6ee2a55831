"""Shared pytest fixtures and helpers for homelab.mediacluster's test suite."""

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
                            timeout=timeout, check=False)
    output = result.stdout + result.stderr
    (LOG_DIR / (name + '.log')).write_text(output)
    return result.returncode, output


def tail(text, lines=60):
    return '\n'.join(text.splitlines()[-lines:])


@pytest.fixture(scope='session')
def repo_root():
    return ROOT
