"""Issue 22: the *arr apps get their own forms login, required for every address, through config/host of their API
(the fake apps validate every body against the apps' OpenAPI specs): check mode writes nothing, the first run writes
once, a rerun makes no write call, and the stored password is the one given."""

import pytest

from ..module_runner import run_module
from .fake_apps import FakeServarr  # noqa: F401 (the servarr fixture builds them)  # pylint: disable=unused-import

FAST = {'wait_interval': 0, 'wait_timeout': 5, 'timeout': 5}
PASSWORD = 'c0rrect-h0rse-battery'


@pytest.mark.parametrize('kind', ['sonarr', 'radarr', 'prowlarr'])
def test_forms_login_is_set_once_then_left_alone(servarr, kind):
    app = servarr(kind)
    api = '/api/v1' if kind == 'prowlarr' else '/api/v3'
    args = dict(FAST, url=app.url, api_key=app.api_key, app=kind, username='admin', password=PASSWORD)

    checked = run_module('servarr_host_auth', args, check=True, diff=True)
    assert checked['changed'] is True and app.writes == []
    assert checked['diff']['before'] == {'authenticationMethod': 'none', 'authenticationRequired': 'enabled',
                                         'username': ''}
    assert checked['diff']['after'] == {'authenticationMethod': 'forms', 'authenticationRequired': 'enabled',
                                        'username': 'admin', 'password': '(set)'}

    first = run_module('servarr_host_auth', args)
    assert first['changed'] is True and app.writes == [('PUT', api + '/config/host/1')]
    assert app.host['authenticationMethod'] == 'forms' and app.host['authenticationRequired'] == 'enabled'
    assert app.user[0] == 'admin' and app.password_matches(PASSWORD)
    assert PASSWORD not in str(first)

    second = run_module('servarr_host_auth', args, diff=True)
    assert second['changed'] is False and 'diff' not in second
    assert len(app.writes) == 1, 'the rerun made a write call: {0}'.format(app.writes)
    assert app.violations == []


def test_settings_drift_is_corrected_without_touching_the_password(servarr):
    app = servarr('sonarr')
    args = dict(FAST, url=app.url, api_key=app.api_key, app='sonarr', username='admin', password=PASSWORD)
    run_module('servarr_host_auth', args)
    stored = app.user[1]
    app.host['authenticationRequired'] = 'disabledForLocalAddresses'  # someone relaxed it in the UI
    fixed = run_module('servarr_host_auth', args, diff=True)
    assert fixed['changed'] is True and fixed['diff']['after']['password'] == '(kept)'
    assert app.host['authenticationRequired'] == 'enabled' and app.user[1] == stored
    assert len(app.writes) == 2 and app.violations == []


def test_a_new_user_name_gets_the_password(servarr):
    app = servarr('radarr')
    args = dict(FAST, url=app.url, api_key=app.api_key, app='radarr', username='admin', password=PASSWORD)
    run_module('servarr_host_auth', args)
    renamed = run_module('servarr_host_auth', dict(args, username='media'))
    assert renamed['changed'] is True and app.user[0] == 'media' and app.password_matches(PASSWORD)
