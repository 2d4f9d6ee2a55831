"""Issue 22: the Longhorn UI (it can delete volumes) is never published without authentication. The rule lives in
plugins/module_utils/preflight_rules.py; the role's own preflight refuses before anything is rendered or written."""

import importlib

from ..preflight import collection  # noqa: F401 - Ansible's loader first  # pylint: disable=unused-import
from .conftest import export_vars, run_playbook, write_longhorn_playbook

rules = importlib.import_module('ansible_collections.homelab.mediacluster.plugins.module_utils.preflight_rules')

PUBLISHED = {'longhorn_replica_count': 1, 'longhorn_storage_nodes': ['w1'], 'longhorn_ui_expose': 'ingress',
             'longhorn_ui_host': 'longhorn.home.arpa'}


def _auth_problems(lines):
    return [line for line in lines if line.startswith('longhorn_ui_auth')]


def test_rule_refuses_a_published_ui_without_auth():
    lines = rules.role_problems('longhorn', dict(PUBLISHED, longhorn_ui_auth='none'), groups={'storage_nodes': ['w1']})
    assert _auth_problems(lines) == [
        'longhorn_ui_auth: longhorn_ui_expose=ingress publishes the Longhorn UI (which can delete volumes) with no '
        'authentication in front of it; set longhorn_ui_auth: basic with longhorn_ui_auth_username and '
        'longhorn_ui_auth_password (vaulted), or forward with longhorn_ui_forward_auth_address (Authelia, '
        'Authentik), or longhorn_ui_expose: none (kubectl port-forward)']


def test_rule_refuses_basic_auth_without_credentials():
    lines = rules.role_problems('longhorn', dict(PUBLISHED, longhorn_ui_auth='basic'), groups={'storage_nodes': ['w1']})
    assert len(_auth_problems(lines)) == 1
    assert 'longhorn_ui_auth=basic has no credentials' in _auth_problems(lines)[0]


def test_rule_accepts_basic_auth_with_credentials_and_an_unpublished_ui():
    ok = dict(PUBLISHED, longhorn_ui_auth='basic', longhorn_ui_auth_username='admin',
              longhorn_ui_auth_password='correct horse battery staple')
    assert rules.role_problems('longhorn', ok, groups={'storage_nodes': ['w1']}) == []
    hidden = dict(PUBLISHED, longhorn_ui_expose='none', longhorn_ui_auth='none')
    assert rules.role_problems('longhorn', hidden, groups={'storage_nodes': ['w1']}) == []


def test_role_refuses_to_render_the_ui_route_without_auth(tmp_path):
    tree = tmp_path / 'tree'
    playbook = write_longhorn_playbook(tmp_path / 'pb', storage_nodes=('w1',))
    code, out = run_playbook('longhorn-ui-noauth', playbook, extra_vars=export_vars(
        tree, longhorn_replica_count=1, longhorn_ui_expose='ingress', longhorn_ui_host='longhorn.home.arpa',
        longhorn_ui_auth='none'))
    assert code != 0, out[-2000:]
    assert 'publishes the Longhorn UI (which can delete volumes) with no authentication' in out
    assert not tree.exists() or not any(tree.iterdir()), 'nothing may be exported after the refusal'
