"""Test-only tools that cannot share ./.venv (their pins conflict with the toolchain's) live in venvs of their own under
.cache/<name>-venv, installed from a pinned requirements file on first use and again when that file changes."""

import hashlib
import venv

import pytest

from .conftest import ROOT, cache_lock, run_logged, tail


def tool_venv(name, requirements, binary):
    """.cache/<name>-venv/bin/<binary>, installed from `requirements` (a path) once per content of that file.

    Skips the calling test, with pip's message, only when the install fails (e.g. PyPI is unreachable)."""
    where = ROOT / '.cache' / '{0}-venv'.format(name)
    want = hashlib.sha256(requirements.read_bytes()).hexdigest()
    stamp = where / '.requirements.sha256'
    path = where / 'bin' / binary
    with cache_lock('{0}-venv'.format(name)):  # pytest-xdist workers: one installs, the other waits and reuses
        if not path.exists() or not stamp.exists() or stamp.read_text() != want:
            venv.create(str(where), with_pip=True, clear=True)
            code, output = run_logged('{0}-install'.format(name), [str(where / 'bin' / 'pip'), 'install', '--quiet',
                                                                   '--disable-pip-version-check', '-r',
                                                                   str(requirements)], timeout=1200)
            if code != 0 or not path.exists():
                pytest.skip('{0} could not be installed from {1}:\n{2}'.format(
                    name, requirements.relative_to(ROOT), tail(output, 15)))
            stamp.write_text(want)
    return path
