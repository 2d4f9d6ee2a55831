"""The k8s_delivery role's preflight does not template the manifests, the node model or the flows for its input
rules (roles/k8s_delivery/tasks/preflight.yml: half that task's time, once per app); this keeps the rules from
starting to read them, which would then see nothing."""

import sys

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / '.collections'))
from ansible_collections.homelab.mediacluster.plugins.module_utils import preflight_rules as rules  # noqa: E402

NOT_PASSED = ('k8s_delivery_manifests', 'k8s_delivery_context_manifests', 'k8s_delivery_nodes', 'k8s_delivery_flows')


class OnlyPassed(dict):
    def _check(self, key):
        if key in NOT_PASSED:
            raise AssertionError('the k8s_delivery rules read {0}, which the role preflight does not pass; add it '
                                 'back to the preflight task'.format(key))

    def get(self, key, default=None):
        self._check(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self._check(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self._check(key)
        return super().__contains__(key)


@pytest.mark.parametrize('variables', [
    {'k8s_delivery_app': 'media-stack', 'k8s_delivery_mode': 'apply'},
    {'k8s_delivery_app': 'Bad_Name', 'k8s_delivery_mode': 'export', 'k8s_delivery_export_dir': 'relative'},
])
def test_k8s_delivery_rules_read_none_of_the_inputs_the_preflight_leaves_out(variables):
    report = rules.Report()
    rules.rules_k8s_delivery(OnlyPassed(variables), {'groups': {}, 'hostvars': {}}, report)
    assert isinstance(report.lines(), list)
    if variables['k8s_delivery_mode'] == 'export':
        assert len(report.lines()) == 3, report.lines()  # app name, export dir, version
