"""Test-only tools that cannot share ./.venv (their pins conflict with the toolchain's) live in venvs of their own under
.cache/<name>-venv, installed from a pinned requirements file on first use and again when that file changes: through
uv (scripts/uv.sh, as ./.venv is) when it can be had, else with pip."""

import hashlib
import shutil
import subprocess
import sys
import venv

import pytest

from .conftest import ROOT, cache_lock, run_logged, tail


def tool_venv(name, requirements, binary):
    """.cache/<name>-venv/bin/<binary>, installed from `requirements` (a path) once per content of that file.

    Skips the calling test, with the installer's message, only when the install fails (e.g. PyPI is unreachable)."""
    where = ROOT / '.cache' / '{0}-venv'.format(name)
    want = hashlib.sha256(requirements.read_bytes()).hexdigest()
    stamp = where / '.requirements.sha256'
    path = where / 'bin' / binary
    with cache_lock('{0}-venv'.format(name)):  # pytest-xdist workers: one installs, the other waits and reuses
        if not path.exists() or not stamp.exists() or stamp.read_text() != want:
            code, output = _install(name, where, requirements)
            if code != 0 or not path.exists():
                pytest.skip('{0} could not be installed from {1}:\n{2}'.format(
                    name, requirements.relative_to(ROOT), tail(output, 15)))
            stamp.write_text(want)
    return path


def _install(name, where, requirements):
    """(exit code, output) of the install into a new venv at where: uv's when uv can be had, else pip's."""
    uv = subprocess.run(['bash', str(ROOT / 'scripts' / 'uv.sh')], capture_output=True, text=True, check=False)
    if uv.returncode == 0:
        uv, python = uv.stdout.strip(), str(where / 'bin' / 'python')
        shutil.rmtree(where, ignore_errors=True)
        create = [uv, 'venv', '--quiet', '--seed', '--python', sys.executable, str(where)]
        install = [uv, 'pip', 'install', '--quiet', '--compile-bytecode', '--python', python, '-r', str(requirements)]
        code, output = run_logged('{0}-venv'.format(name), create)
        if code == 0:
            return run_logged('{0}-install'.format(name), install, timeout=1200)
    venv.create(str(where), with_pip=True, clear=True)
    return run_logged('{0}-install'.format(name), [str(where / 'bin' / 'pip'), 'install', '--quiet',
                                                   '--disable-pip-version-check', '-r', str(requirements)],
                      timeout=1200)
