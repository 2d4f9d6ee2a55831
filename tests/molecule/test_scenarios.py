"""Every molecule scenario passes `molecule test`: check mode on fresh nodes, converge, an idempotence run that
must report changed=0, and verify. Each scenario's full output is kept in .cache/test-logs/molecule-<name>.log."""

import re

import pytest

from ..conftest import ROOT, VENV_BIN, run_logged, tail

pytestmark = pytest.mark.molecule

SCENARIOS = sorted(p.parent.name for p in (ROOT / 'molecule').glob('*/molecule.yml'))


@pytest.mark.parametrize('scenario', SCENARIOS)
def test_molecule_scenario(scenario):
    code, output = run_logged('molecule-' + scenario, [str(VENV_BIN / 'molecule'), 'test', '-s', scenario],
                              timeout=1800)
    assert code == 0, 'molecule test -s {0} failed:\n{1}'.format(scenario, tail(output, 80))
    for step in ('converge', 'idempotence', 'verify'):
        assert re.search(r'{0} \S+ {1}: Executed: Successful'.format(re.escape(scenario), step), output), \
            'molecule scenario {0} did not run its {1} step'.format(scenario, step)
