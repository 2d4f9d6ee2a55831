"""jellyfin_setup against a stateful fake Jellyfin 10.10 whose request and response bodies are validated against the
@jellyfin/sdk 0.11.0 models (tests/schemas/jellyfin/). Writes are counted on the server side: every POST except the
login (AuthenticateByName, which changes no setting)."""

import time

import pytest

from ..module_runner import run_module
from .fake_jellyfin import FakeJellyfin

FAST = {'wait_interval': 0, 'wait_timeout': 5, 'timeout': 5}
PASSWORD = 'Jf-admin-Pa55'
LOGIN = ('POST', '/Users/AuthenticateByName')


@pytest.fixture
def jellyfin():
    started = []

    def start(**kwargs):
        app = FakeJellyfin(**kwargs).start()
        started.append(app)
        return app

    yield start
    for app in started:
        app.stop()
        assert app.violations == [], 'requests or responses outside the Jellyfin SDK models: {0}'.format(
            app.violations)


def args(app, **extra):
    return dict(dict(FAST, url=app.url, admin_username='admin', admin_password=PASSWORD, server_name='media'), **extra)


def completed(jellyfin, libraries=()):
    """A server whose wizard was completed with our admin, its libraries given as (name, type, paths)."""
    app = jellyfin(wizard_completed=True)
    app.add_user('admin', PASSWORD)
    for name, kind, paths in libraries:
        app.add_folder(name, kind, paths)
    return app


def test_first_run_completes_the_wizard_then_a_rerun_writes_nothing(jellyfin):
    app = jellyfin()
    first = run_module('jellyfin_setup', args(app, ui_culture='de-DE', metadata_country_code='DE',
                                              preferred_metadata_language='de'), diff=True)
    assert first['changed'] is True and first['wizard_completed'] is True, first
    assert app.wizard_completed is True
    assert list(app.users) == ['admin'] and app.users['admin']['Password'] == PASSWORD
    assert app.remote_access == {'EnableRemoteAccess': True, 'EnableAutomaticPortMapping': False}
    assert app.startup_config == {'UICulture': 'de-DE', 'MetadataCountryCode': 'DE', 'PreferredMetadataLanguage': 'de'}
    assert app.config['ServerName'] == 'media' and app.config['UICulture'] == 'de-DE'
    assert [(f['Name'], f['CollectionType'], f['Locations']) for f in app.folders] == [
        ('Movies', 'movies', ['/data/media/movies']), ('Shows', 'tvshows', ['/data/media/tv'])]
    assert app.refreshes == ['Movies', 'Shows']
    # the 10.10 wizard order: the first user is read (created) before it is set
    paths = [c[1] for c in app.calls]
    assert paths.index('/Startup/User') < paths.index('/Startup/Complete') < paths.index('/Users/AuthenticateByName')
    assert ('GET', '/Startup/User') in app.calls and app.calls.index(('GET', '/Startup/User')) < app.calls.index(
        ('POST', '/Startup/User'))
    assert first['libraries_created'] == ['Movies', 'Shows'] and first['user_id'] == app.users['admin']['Id']
    assert first['diff']['before']['wizard_completed'] is False
    assert first['diff']['after']['libraries']['Shows'] == {'type': 'tvshows', 'paths': ['/data/media/tv']}
    assert PASSWORD not in repr(first), 'the password leaked into the result'

    writes = len(app.writes)
    posts = len(app.posts)
    second = run_module('jellyfin_setup', args(app, ui_culture='de-DE', metadata_country_code='DE',
                                               preferred_metadata_language='de'), diff=True)
    assert second['changed'] is False and 'diff' not in second, second
    assert len(app.writes) == writes, 'the rerun made write calls: {0}'.format(app.writes[writes:])
    assert app.posts[posts:] == [LOGIN], 'the rerun POSTed more than its login: {0}'.format(app.posts[posts:])


def test_check_mode_on_a_fresh_server_writes_nothing(jellyfin):
    app = jellyfin()
    result = run_module('jellyfin_setup', args(app), check=True, diff=True)
    assert result['changed'] is True and result['wizard_completed'] is True
    assert result['libraries_created'] == ['Movies', 'Shows']
    assert result['diff']['after']['settings']['ServerName'] == 'media'
    assert result['diff']['after']['admin'] == 'admin'
    assert app.posts == [] and app.users == {} and app.wizard_completed is False
    assert ('GET', '/Startup/User') not in app.calls, 'check mode created the first user (GET /Startup/User)'


def test_check_mode_on_a_completed_server_writes_nothing(jellyfin):
    app = completed(jellyfin, [('Movies', 'movies', ['/data/media/movies'])])
    result = run_module('jellyfin_setup', args(app), check=True, diff=True)
    assert result['changed'] is True and result['wizard_completed'] is False
    assert result['libraries_created'] == ['Shows'] and result['changed_settings'] == ['ServerName']
    assert result['diff']['before']['libraries'] == {}
    assert result['diff']['after']['libraries'] == {'Shows': {'type': 'tvshows', 'paths': ['/data/media/tv']}}
    assert app.posts == [LOGIN] and app.writes == [] and len(app.folders) == 1 and app.config['ServerName'] == ''


def test_a_missing_path_is_added_alone_and_user_libraries_are_left_alone(jellyfin):
    app = completed(jellyfin, [('Movies', 'movies', ['/data/media/movies/', '/nas/old-movies']),
                               ('Shows', 'tvshows', ['/data/media/tv']),
                               ('Home videos', 'homevideos', ['/data/media/home'])])
    app.config['ServerName'] = 'media'
    libraries = [{'name': 'movies', 'type': 'movies', 'paths': ['/data/media/movies', '/data/media/4k']},
                 {'name': 'Shows', 'type': 'tvshows', 'paths': ['/data/media/tv']}]
    result = run_module('jellyfin_setup', args(app, libraries=libraries), diff=True)
    assert result['changed'] is True and result['paths_added'] == ['Movies:/data/media/4k']
    assert result['libraries_created'] == [] and result['changed_settings'] == []
    assert app.writes == [('POST', '/Library/VirtualFolders/Paths')]
    assert app.folder('Movies')['Locations'] == ['/data/media/movies/', '/nas/old-movies', '/data/media/4k']
    assert app.folder('Home videos')['Locations'] == ['/data/media/home'] and len(app.folders) == 3
    assert result['diff']['before']['libraries'] == {
        'Movies': {'type': 'movies', 'paths': ['/data/media/movies', '/nas/old-movies']}}
    again = run_module('jellyfin_setup', args(app, libraries=libraries))
    assert again['changed'] is False and len(app.writes) == 1


def test_a_library_of_another_type_fails_clearly(jellyfin):
    app = completed(jellyfin, [('Movies', 'homevideos', ['/data/media/movies'])])
    result = run_module('jellyfin_setup', args(app))
    assert result['failed'] is True and app.writes == []
    assert "library 'Movies' exists with type homevideos, not movies" in result['msg']
    assert 'cannot change a library' in result['msg']


def test_wrong_password_on_a_completed_server_fails_clearly(jellyfin):
    app = completed(jellyfin)
    result = run_module('jellyfin_setup', args(app, admin_password='not-it'))
    assert result['failed'] is True and app.writes == []
    assert "refused the login of 'admin' (HTTP 401)" in result['msg']
    assert ('the wizard was completed by someone else or the password changed; set '
            'media_stack_jellyfin_admin_password to the current one') in result['msg']
    assert 'not-it' not in result['msg']


def test_a_wizard_completed_without_our_admin_fails_clearly(jellyfin):
    app = jellyfin(wizard_completed=True)
    app.add_user('alice', 'her-password')
    result = run_module('jellyfin_setup', args(app))
    assert result['failed'] is True and app.writes == []
    assert 'the wizard was completed by someone else' in result['msg']
    assert ('GET', '/Startup/User') not in app.calls, 'the module went back to the wizard of a completed server'


def test_a_user_that_is_not_an_administrator_fails_clearly(jellyfin):
    app = jellyfin(wizard_completed=True)
    app.add_user('admin', PASSWORD, admin=False)
    result = run_module('jellyfin_setup', args(app))
    assert result['failed'] is True and 'is not an administrator' in result['msg'] and app.writes == []


def test_a_starting_server_is_waited_for(jellyfin):
    app = jellyfin()
    app.unready = 3   # Jellyfin answers 503 while it starts
    result = run_module('jellyfin_setup', args(app))
    assert result['changed'] is True and result['retries'] == 3 and app.wizard_completed is True


def test_a_server_that_never_starts_times_out_clearly(jellyfin):
    app = jellyfin()
    app.unready = 10 ** 6
    started = time.monotonic()
    result = run_module('jellyfin_setup', args(app, wait_timeout=2, wait_interval=1))
    elapsed = time.monotonic() - started
    assert result['failed'] is True and elapsed < 10
    assert 'Jellyfin at {0} was not ready after 2 s'.format(app.url) in result['msg']
    assert 'last: HTTP 503' in result['msg'] and 'raise wait_timeout' in result['msg']
    assert app.posts == []


def test_a_closed_port_times_out_clearly(jellyfin):
    app = jellyfin()
    url = app.url
    app.stop()
    result = run_module('jellyfin_setup', dict(args(app, wait_timeout=1, wait_interval=1), url=url))
    assert result['failed'] is True and 'was not ready after 1 s' in result['msg']


def test_bad_libraries_fail_before_any_call(jellyfin):
    app = jellyfin()
    twice = [{'name': 'Movies', 'type': 'movies', 'paths': ['/a']},
             {'name': 'movies', 'type': 'movies', 'paths': ['/b']}]
    result = run_module('jellyfin_setup', args(app, libraries=twice))
    assert result['failed'] is True and "'movies' is listed twice" in result['msg'] and app.calls == []
    relative = [{'name': 'Movies', 'type': 'movies', 'paths': ['media/movies']}]
    result = run_module('jellyfin_setup', args(app, libraries=relative))
    assert result['failed'] is True and 'absolute path' in result['msg'] and app.calls == []


def test_an_empty_password_fails_before_any_call(jellyfin):
    app = jellyfin()
    result = run_module('jellyfin_setup', args(app, admin_password=''))
    assert result['failed'] is True and 'must not be empty' in result['msg'] and app.calls == []
