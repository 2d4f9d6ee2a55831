"""plugins/test/cron_expression.py: the schedules Longhorn's RecurringJobs accept."""

import pytest

from ansible_collections.homelab.mediacluster.plugins.test.cron_expression import cron_expression

VALID = ['0 3 * * *', '*/15 * * * *', '0 3 * * MON-FRI', '0 0 1 JAN *', '5,35 1-5/2 * * 0', '0 3 ? * *',
         '@daily', '@midnight', '@every 1h30m', '0 4 * * 7']
INVALID = ['', '0 3 * *', '0 3 * * * *', '60 3 * * *', '0 24 * * *', '0 3 0 * *', '0 3 * 13 *', '0 3 * * 8',
           '0 3 5-1 * *', '*/0 * * * *', 'a b c d e', '@sometimes', '@every', '0 3 * * FUNDAY', 3]


@pytest.mark.parametrize('value', VALID)
def test_valid(value):
    assert cron_expression(value) is True


@pytest.mark.parametrize('value', INVALID)
def test_invalid(value):
    assert cron_expression(value) is False
