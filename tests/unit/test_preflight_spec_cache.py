"""The preflight filters read each role's specs once per process and share them (plugins/filter/preflight.py,
_role_file): the whole inventory's view of every entry point (_all_specs, for unknown variables) must not leak into
a role's main spec, which the type checks of a later inventory_problems call in the same process read."""

import sys

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / '.collections'))
from ansible_collections.homelab.mediacluster.plugins.filter import preflight  # noqa: E402


def test_every_entry_point_is_known_and_the_main_spec_stays_the_roles_own():
    secondary = 'longhorn_node_checks_fatal'  # an option of longhorn's `nodes` entry point only
    assert secondary in preflight._all_specs()['longhorn']
    assert secondary not in preflight._role_spec('longhorn')
    assert preflight._all_specs() is preflight._all_specs()  # built once
    assert secondary not in preflight._role_spec('longhorn')
