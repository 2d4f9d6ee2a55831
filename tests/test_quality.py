"""Quality gates: ansible-lint (production profile), yamllint and ruff must be clean."""

import pytest

from .conftest import ROOT, VENV_BIN, run_logged, tail

pytestmark = pytest.mark.lint


@pytest.mark.parametrize('name, cmd', [
    ('ansible-lint', [str(VENV_BIN / 'ansible-lint'), '--profile', 'production', '--offline', '-q']),
    ('yamllint', [str(VENV_BIN / 'yamllint'), '--strict', '.']),
    ('ruff', [str(VENV_BIN / 'ruff'), 'check', '.']),
])
def test_linter_is_clean(name, cmd):
    code, output = run_logged('lint-' + name, cmd, cwd=ROOT)
    assert code == 0, '{0} found problems:\n{1}'.format(name, tail(output, 80))
