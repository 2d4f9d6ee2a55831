"""Issue 22: SABnzbd and Bazarr behind their own login, set by the wiring modules against the stateful fakes of
SABnzbd 4.5 and Bazarr 1.5 (tests/media_stack/fake_extras.py): check mode writes nothing, the first run writes, a
rerun makes no write call, a wrong credential or a refused password fails with a message that names the app and the
fix and never shows the secret.

SABnzbd (sabnzbd/config.py OptionPassword, interface.py LoginPage/check_login): its API shows a set password as
asterisks, so the module proves the stored one by logging in (POST /login/, a login_cookie on success) instead of
writing it on every run; html_login=1 is the login form (0 would be HTTP basic auth), and the API key keeps working
for the wiring whatever the login. Bazarr (app/config.py save_settings, api/utils.py authenticate): auth.password is
stored as the MD5 hex digest of the posted password and returned as that digest; the API key is checked before and
regardless of auth.type."""

import hashlib

import pytest

from ..module_runner import run_module
from .fake_extras import FakeBazarr, FakeSabnzbd
from .test_extras import FAST, started  # noqa: F401 - the fixture  # pylint: disable=unused-import

PASSWORD = 'c0rrect-h0rse #battery'  # a space and a # (SABnzbd hex-encodes such passwords in sabnzbd.ini)


# ------------------------------------------------------------------------------------------------------ SABnzbd
def sab_login(app, **extra):
    return dict(FAST, url=app.url, api_key=app.api_key, username='admin', password=PASSWORD, **extra)


def test_sabnzbd_login_is_set_once_then_proved_by_logging_in(started):  # noqa: F811
    app = started(FakeSabnzbd())
    app.misc['html_login'] = 0  # someone switched to basic auth; the collection wants the login form

    checked = run_module('sabnzbd_config', sab_login(app), check=True, diff=True)
    assert checked['changed'] is True and app.writes == []
    assert checked['changed_settings'] == ['html_login', 'password', 'username']
    assert checked['diff']['after']['misc'] == {'html_login': 1, 'password': '********', 'username': 'admin'}

    first = run_module('sabnzbd_config', sab_login(app))
    assert first['changed'] is True, first
    assert app.misc['username'] == 'admin' and app.misc['password'] == PASSWORD and app.misc['html_login'] == 1
    assert app.logins[-1] is True, 'the module did not check the login it set'
    writes = len(app.writes)

    second = run_module('sabnzbd_config', sab_login(app), diff=True)
    assert second['changed'] is False and 'diff' not in second, second
    assert len(app.writes) == writes, 'the rerun made a write call: {0}'.format(app.writes[writes:])
    assert app.logins[-1] is True
    for result in (checked, first, second):
        assert PASSWORD not in repr(result) and app.api_key not in repr(result)


def test_sabnzbd_changed_password_is_found_by_the_login_and_set(started):  # noqa: F811
    app = started(FakeSabnzbd())
    app.misc.update(username='admin', password='an-old-one')
    result = run_module('sabnzbd_config', sab_login(app), diff=True)
    assert result['changed'] is True and result['changed_settings'] == ['password']
    assert app.logins[0] is False and app.logins[-1] is True and app.misc['password'] == PASSWORD
    assert [m for m in app.writes if m[0] == 'set_config'] == [('set_config', 'misc')]


def test_sabnzbd_refused_password_is_a_clear_error_without_the_secret(started):  # noqa: F811
    """SABnzbd ignores a password made of asterisks only (the UI's placeholder): the login still fails after the
    write, and the module says so instead of reporting success."""
    app = started(FakeSabnzbd())
    stars = '*' * 12
    result = run_module('sabnzbd_config', dict(sab_login(app), password=stars))
    assert result['failed'] is True
    assert 'SABnzbd at {0}: the login of user admin does not work after setting it'.format(app.url) in result['msg']
    assert stars not in result['msg'] and app.api_key not in result['msg']


def test_sabnzbd_wrong_api_key_with_credentials_is_named_and_not_shown(started):  # noqa: F811
    app = started(FakeSabnzbd())
    wrong = 'e' * 32
    result = run_module('sabnzbd_config', dict(sab_login(app), api_key=wrong))
    assert result['failed'] is True and 'wrong API key' in result['msg']
    assert wrong not in result['msg'] and PASSWORD not in result['msg'] and app.writes == [] and app.logins == []


# ------------------------------------------------------------------------------------------------------- Bazarr
def bazarr_login(app, password=PASSWORD, **extra):
    return dict(FAST, url=app.url, api_key=app.api_key, settings={'auth': {'type': 'form', 'username': 'admin'}},
                secret_settings={'auth': {'password': password}}, **extra)


@pytest.mark.parametrize('password', [PASSWORD, '20260512'], ids=['text', 'digits-only'])
def test_bazarr_forms_login_first_run_then_no_write(started, password):  # noqa: F811
    """Bazarr keeps auth.password as a string even when it is made of digits (one of its str_keys)."""
    app = started(FakeBazarr())
    args = bazarr_login(app, password)

    checked = run_module('bazarr_settings', args, check=True, diff=True)
    assert checked['changed'] is True and app.writes == []
    assert checked['changed_settings'] == ['auth.password', 'auth.type', 'auth.username']

    first = run_module('bazarr_settings', args)
    assert first['changed'] is True and app.writes == [('POST', '/api/system/settings')], first
    assert app.settings['auth'] == {'apikey': app.api_key, 'type': 'form', 'username': 'admin',
                                    'password': hashlib.md5(password.encode()).hexdigest()}  # noqa: S324

    second = run_module('bazarr_settings', args, diff=True)
    assert second['changed'] is False and 'diff' not in second, second
    assert len(app.writes) == 1, 'the rerun made a write call: {0}'.format(app.writes)
    for result in (checked, first, second):
        assert password not in repr(result)


def test_bazarr_new_password_is_sent_and_wrong_key_is_clear(started):  # noqa: F811
    app = started(FakeBazarr())
    run_module('bazarr_settings', bazarr_login(app, 'first-password'))
    changed = run_module('bazarr_settings', bazarr_login(app), diff=True)
    assert changed['changed'] is True and changed['changed_settings'] == ['auth.password']
    assert app.settings['auth']['password'] == hashlib.md5(PASSWORD.encode()).hexdigest()  # noqa: S324
    assert PASSWORD not in repr(changed)
    wrong = run_module('bazarr_settings', dict(bazarr_login(app), api_key='d' * 32))
    assert wrong['failed'] is True and 'Bazarr at {0}'.format(app.url) in wrong['msg']
    assert 'wrong API key' in wrong['msg'] and PASSWORD not in wrong['msg'] and 'd' * 32 not in wrong['msg']
