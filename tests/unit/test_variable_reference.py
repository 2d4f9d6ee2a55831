"""docs/variables.md is exactly what scripts/gen-variable-reference.py renders from the roles' argument specs now,
so the variable reference can never drift from the specs (regenerate with python scripts/gen-variable-reference.py)."""

import difflib
import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / 'scripts' / 'gen-variable-reference.py'
PAGE = ROOT / 'docs' / 'variables.md'

pytestmark = pytest.mark.lint


def _generator():
    spec = importlib.util.spec_from_file_location('gen_variable_reference', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_variable_reference_is_current():
    expected = _generator().render(ROOT)
    current = PAGE.read_text() if PAGE.exists() else ''
    diff = ''.join(difflib.unified_diff(current.splitlines(True), expected.splitlines(True),
                                        'docs/variables.md (committed)', 'docs/variables.md (generated)', n=1))
    hint = 'docs/variables.md is stale; run python scripts/gen-variable-reference.py\n'
    assert current == expected, hint + diff[:4000]


def test_every_role_and_variable_is_in_the_reference():
    """The page names every role that has a spec and every option of every entry point (guards the renderer itself)."""
    import yaml
    page = _generator().render(ROOT)
    for spec_file in sorted((ROOT / 'roles').glob('*/meta/argument_specs.yml')):
        role = spec_file.parents[1].name
        assert '\n## {0}\n'.format(role) in page, role
        for entry in (yaml.safe_load(spec_file.read_text())['argument_specs'] or {}).values():
            for name in (entry or {}).get('options') or {}:
                assert '| `{0}` |'.format(name) in page, '{0}: {1} missing from the reference'.format(role, name)


def test_stale_page_is_detected(tmp_path, monkeypatch):
    """--check exits 1 when the page differs from the specs and 0 when it matches."""
    module = _generator()
    page = tmp_path / 'variables.md'
    monkeypatch.setattr(module, 'OUTPUT', page)
    page.write_text('# stale\n')
    assert module.main(['--check']) == 1
    assert module.main([]) == 0
    assert module.main(['--check']) == 0
    assert page.read_text() == module.render(ROOT)
