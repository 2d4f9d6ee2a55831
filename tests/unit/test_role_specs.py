"""Every role's meta/argument_specs.yml and defaults/main.yml describe the same variables, with the same defaults,
and every public variable carries the role's prefix."""

import pathlib

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(p.name for p in (ROOT / 'roles').iterdir() if (p / 'tasks').is_dir())


def _load(path):
    if not path.exists():
        return {}
    return yaml.safe_load(path.read_text()) or {}


def _spec_options(role):
    specs = _load(ROOT / 'roles' / role / 'meta' / 'argument_specs.yml').get('argument_specs', {})
    options = {}
    for entry in specs.values():
        options.update(entry.get('options') or {})
    return options


@pytest.mark.parametrize('role', ROLES)
def test_role_has_argument_specs(role):
    assert (ROOT / 'roles' / role / 'meta' / 'argument_specs.yml').exists(), \
        'roles/{0}/meta/argument_specs.yml is missing'.format(role)


@pytest.mark.parametrize('role', ROLES)
def test_defaults_and_specs_have_the_same_keys(role):
    defaults = set(_load(ROOT / 'roles' / role / 'defaults' / 'main.yml'))
    spec = _spec_options(role)
    optional = {name for name, opt in spec.items() if not opt.get('required')}
    assert defaults - set(spec) == set(), 'defaults without a spec entry in roles/{0}: {1}'.format(
        role, sorted(defaults - set(spec)))
    assert optional - defaults == set(), 'optional spec entries without a default in roles/{0}: {1}'.format(
        role, sorted(optional - defaults))


@pytest.mark.parametrize('role', ROLES)
def test_spec_defaults_match_defaults_file(role):
    defaults = _load(ROOT / 'roles' / role / 'defaults' / 'main.yml')
    for name, opt in _spec_options(role).items():
        if 'default' not in opt or name not in defaults:
            continue
        value = defaults[name]
        if isinstance(value, str) and '{{' in value:
            continue  # templated defaults are documented in prose
        assert opt['default'] == value, 'roles/{0}: {1} defaults to {2!r} but the spec says {3!r}'.format(
            role, name, value, opt['default'])


@pytest.mark.parametrize('role', ROLES)
def test_public_variables_carry_the_role_prefix(role):
    for name in _load(ROOT / 'roles' / role / 'defaults' / 'main.yml'):
        assert name.startswith(role + '_'), 'roles/{0}/defaults/main.yml: {1} must start with {0}_'.format(
            role, name)
