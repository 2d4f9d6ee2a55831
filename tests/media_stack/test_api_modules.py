"""The media API modules against stateful fake apps whose bodies are validated against the apps' OpenAPI specs
(Sonarr v3, Radarr v3, Prowlarr v1) and qBittorrent's WebUI API v2. Write calls are counted on the server side."""

import socket
import threading
import time

import pytest

from ..module_runner import run_module
from .fake_apps import FakeServarr

FAST = {'wait_interval': 0, 'wait_timeout': 5, 'timeout': 5}


def conn(app):
    return dict(FAST, url=app.url, api_key=app.api_key)


# ---------------------------------------------------------------------------------------------------- root folder
@pytest.mark.parametrize('kind, path', [('sonarr', '/data/media/tv'), ('radarr', '/data/media/movies')])
def test_root_folder_create_then_no_write(servarr, kind, path):
    app = servarr(kind)
    args = dict(conn(app), app=kind, path=path)

    checked = run_module('servarr_root_folder', args, check=True, diff=True)
    assert checked['changed'] is True and checked['diff']['after'] == {'path': path}
    assert app.writes == [] and app.rootfolders == []

    first = run_module('servarr_root_folder', args)
    assert first['changed'] is True and first['id'] == 1
    assert app.writes == [('POST', '/api/v3/rootfolder')]
    assert [r['path'] for r in app.rootfolders] == [path + '/']

    second = run_module('servarr_root_folder', dict(args, path=path + '/'), diff=True)
    assert second['changed'] is False and second['id'] == 1 and 'diff' not in second
    assert len(app.writes) == 1, 'the rerun made a write call: {0}'.format(app.writes)


def test_root_folder_absent(servarr):
    app = servarr('sonarr')
    args = dict(conn(app), app='sonarr', path='/tv')
    run_module('servarr_root_folder', args)
    gone = run_module('servarr_root_folder', dict(args, state='absent'))
    assert gone['changed'] is True and app.rootfolders == []
    assert app.writes[-1] == ('DELETE', '/api/v3/rootfolder/1')
    again = run_module('servarr_root_folder', dict(args, state='absent'))
    assert again['changed'] is False and len(app.writes) == 2


# ------------------------------------------------------------------------------------------------ download client
QBT = {'host': 'qbittorrent.media.svc.cluster.local', 'port': 8080, 'username': 'admin'}


@pytest.mark.parametrize('kind, category_field, category', [('sonarr', 'tvCategory', 'tv'),
                                                            ('radarr', 'movieCategory', 'movies')])
def test_download_client_create_rerun_update(servarr, kind, category_field, category):
    app = servarr(kind)
    args = dict(conn(app), app=kind, name='qBittorrent', fields=dict(QBT, **{category_field: category}),
                secret_fields={'password': 's3cret-pw'}, remove_completed_downloads=False)

    checked = run_module('servarr_download_client', args, check=True, diff=True)
    assert checked['changed'] is True and app.writes == [] and app.downloadclients == []
    assert checked['diff']['after']['fields'][category_field] == category
    assert 's3cret-pw' not in repr(checked), 'the password leaked into the result'

    first = run_module('servarr_download_client', args)
    assert first['changed'] is True
    assert app.writes == [('POST', '/api/v3/downloadclient')]
    assert app.secret('downloadclient', 'qBittorrent', 'password') == 's3cret-pw'
    stored = app.downloadclients[0]
    assert stored['implementation'] == 'QBittorrent' and stored['removeCompletedDownloads'] is False

    second = run_module('servarr_download_client', args, diff=True)
    assert second['changed'] is False and len(app.writes) == 1, app.writes

    moved = run_module('servarr_download_client', dict(args, fields=dict(QBT, **{category_field: 'other'})),
                       diff=True)
    assert moved['changed'] is True and moved['differences'] == ['fields.' + category_field]
    assert moved['diff']['before']['fields']['password'] == '********'
    assert app.writes[-1] == ('PUT', '/api/v3/downloadclient/1')
    assert app.secret('downloadclient', 'qBittorrent', 'password') == 's3cret-pw', 'the update lost the password'

    rotate = run_module('servarr_download_client', dict(args, secret_fields={'password': 'new-pw'},
                                                        update_secrets='always',
                                                        fields=dict(QBT, **{category_field: 'other'})))
    assert rotate['changed'] is True and app.secret('downloadclient', 'qBittorrent', 'password') == 'new-pw'


def test_download_client_unknown_field_names_the_known_ones(servarr):
    app = servarr('sonarr')
    result = run_module('servarr_download_client', dict(conn(app), app='sonarr', name='qBittorrent',
                                                        fields={'category': 'tv'}))
    assert result['failed'] is True
    assert "field 'category' is not a setting of QBittorrent in Sonarr" in result['msg']
    assert 'tvCategory' in result['msg'] and app.writes == []


def test_download_client_absent(servarr):
    app = servarr('radarr')
    args = dict(conn(app), app='radarr', name='qBittorrent', fields={'movieCategory': 'movies'})
    run_module('servarr_download_client', args)
    gone = run_module('servarr_download_client', dict(args, state='absent'), check=True)
    assert gone['changed'] is True and len(app.downloadclients) == 1
    run_module('servarr_download_client', dict(args, state='absent'))
    assert app.downloadclients == [] and app.writes[-1] == ('DELETE', '/api/v3/downloadclient/1')


# ---------------------------------------------------------------------------------------------- Prowlarr apps
def test_prowlarr_applications_full_sync(servarr):
    prowlarr = servarr('prowlarr')
    common = dict(conn(prowlarr), prowlarr_url='http://prowlarr.media.svc.cluster.local:9696')
    apps = [dict(common, name='Sonarr', implementation='Sonarr', app_url='http://sonarr.media.svc.cluster.local:8989',
                 app_api_key='a' * 32),
            dict(common, name='Radarr', implementation='Radarr', app_url='http://radarr.media.svc.cluster.local:7878',
                 app_api_key='b' * 32)]
    for args in apps:
        assert run_module('prowlarr_application', args, check=True)['changed'] is True
    assert prowlarr.writes == []
    for args in apps:
        assert run_module('prowlarr_application', args)['changed'] is True
    assert prowlarr.writes == [('POST', '/api/v1/applications')] * 2
    assert [a['syncLevel'] for a in prowlarr.applications] == ['fullSync', 'fullSync']
    assert prowlarr.secret('applications', 'Sonarr', 'apiKey') == 'a' * 32
    for args in apps:
        assert run_module('prowlarr_application', args, diff=True)['changed'] is False
    assert len(prowlarr.writes) == 2, prowlarr.writes

    changed = run_module('prowlarr_application', dict(apps[0], sync_level='addOnly', sync_categories=[5000]),
                         diff=True)
    assert changed['changed'] is True and changed['differences'] == ['syncLevel', 'fields.syncCategories']
    assert changed['diff']['before']['syncLevel'] == 'fullSync'
    assert prowlarr.writes[-1] == ('PUT', '/api/v1/applications/1')
    assert prowlarr.secret('applications', 'Sonarr', 'apiKey') == 'a' * 32


def test_prowlarr_unknown_implementation(servarr):
    prowlarr = servarr('prowlarr')
    result = run_module('prowlarr_application', dict(conn(prowlarr), name='Lidarr', implementation='Lidarr',
                                                     prowlarr_url='http://p:9696', app_url='http://l:8686',
                                                     app_api_key='c' * 32))
    assert result['failed'] is True and "implementation 'Lidarr' is unknown to Prowlarr" in result['msg']
    assert 'Radarr, Sonarr' in result['msg']


# ------------------------------------------------------------------------------------- auth, readiness, timeout
def test_wrong_api_key_is_named(servarr):
    app = servarr('sonarr')
    result = run_module('servarr_root_folder', dict(conn(app), api_key='0' * 32, app='sonarr', path='/tv'))
    assert result['failed'] is True
    assert 'Sonarr at {0}/api/v3/rootfolder answered HTTP 401: wrong API key'.format(app.url) in result['msg']
    assert 'SONARR__AUTH__APIKEY' in result['msg'] and '0' * 32 not in result['msg']
    assert app.writes == []


def test_not_ready_503_is_retried_then_succeeds(servarr):
    app = servarr('radarr')
    app.unready = 3
    result = run_module('servarr_root_folder', dict(conn(app), app='radarr', path='/data/media/movies'))
    assert result['changed'] is True and result['retries'] == 3
    assert len(app.calls) == 5  # 3 x 503, the GET, the POST


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_connection_refused_until_the_app_starts(servarr):
    port = _free_port()
    app = FakeServarr('sonarr', port=port)
    timer = threading.Timer(1.5, app.start)
    timer.start()
    try:
        started = time.monotonic()
        result = run_module('servarr_root_folder', dict(FAST, wait_interval=1, wait_timeout=20, app='sonarr',
                                                        url='http://127.0.0.1:{0}'.format(port),
                                                        api_key=app.api_key, path='/tv'))
        assert result['changed'] is True and result['retries'] >= 1, result
        assert time.monotonic() - started < 10
    finally:
        timer.join()
        app.stop()
    assert app.violations == []


def test_never_ready_gives_up_within_the_bound(servarr):
    app = servarr('prowlarr')
    app.unready = 1000
    started = time.monotonic()
    result = run_module('prowlarr_application', dict(conn(app), wait_interval=1, wait_timeout=3, name='Sonarr',
                                                     implementation='Sonarr', prowlarr_url='http://p:9696',
                                                     app_url='http://s:8989', app_api_key='a' * 32))
    elapsed = time.monotonic() - started
    assert result['failed'] is True and 'Prowlarr at {0} was not ready after 3 s'.format(app.url) in result['msg']
    assert 'last: HTTP 503' in result['msg'] and 'raise wait_timeout' in result['msg']
    assert elapsed < 6, elapsed
    assert 3 <= len(app.calls) <= 5


def test_hung_app_times_out_with_a_clear_error(servarr):
    app = servarr('sonarr')
    app.hang = 3
    result = run_module('servarr_root_folder', dict(conn(app), timeout=1, app='sonarr', path='/tv'))
    assert result['failed'] is True
    assert 'did not answer GET /api/v3/rootfolder within 1 s' in result['msg'] and 'raise timeout' in result['msg']


# ----------------------------------------------------------------------------------------------- qBittorrent
QBT_PREFS = {'save_path': '/data/torrents', 'auto_tmm_enabled': True, 'torrent_changed_tmm_enabled': True,
             'save_path_changed_tmm_enabled': True, 'category_changed_tmm_enabled': True}
QBT_CATEGORIES = {'tv': '/data/torrents/tv', 'movies': '/data/torrents/movies'}


def qbt_args(app, **extra):
    args = dict(FAST, url=app.url, username='admin', password='wanted-pw', preferences=QBT_PREFS,
                categories=QBT_CATEGORIES)
    args.update(extra)
    return args


def test_qbittorrent_bootstrap_then_no_write(qbittorrent):
    app = qbittorrent(password='tmp-Xy12')
    args = qbt_args(app, bootstrap_password='tmp-Xy12')

    checked = run_module('qbittorrent_preferences', args, check=True, diff=True)
    assert checked['changed'] is True and app.writes == [] and app.password == 'tmp-Xy12'
    assert 'web_ui_password' in checked['changed_preferences']
    assert 'wanted-pw' not in repr(checked)

    first = run_module('qbittorrent_preferences', args)
    assert first['changed'] is True
    assert [w[1] for w in app.writes] == ['/api/v2/app/setPreferences', '/api/v2/torrents/createCategory',
                                          '/api/v2/torrents/createCategory']
    assert app.password == 'wanted-pw'
    assert all(app.preferences[k] == v for k, v in QBT_PREFS.items())
    assert app.categories == {'tv': {'name': 'tv', 'savePath': '/data/torrents/tv'},
                              'movies': {'name': 'movies', 'savePath': '/data/torrents/movies'}}

    writes = len(app.writes)
    second = run_module('qbittorrent_preferences', args, diff=True)
    assert second['changed'] is False and len(app.writes) == writes, app.writes[writes:]


def test_qbittorrent_52_login_204_and_port_cookie(qbittorrent):
    app = qbittorrent(password='wanted-pw', version='5.2')
    first = run_module('qbittorrent_preferences', qbt_args(app))
    assert first['changed'] is True and len(app.writes) == 3
    second = run_module('qbittorrent_preferences', qbt_args(app))
    assert second['changed'] is False and len(app.writes) == 3


def test_qbittorrent_edit_category(qbittorrent):
    app = qbittorrent(password='wanted-pw')
    run_module('qbittorrent_preferences', qbt_args(app))
    result = run_module('qbittorrent_preferences', qbt_args(app, categories={'tv': '/data/torrents/shows'}),
                        diff=True)
    assert result['changed'] is True and result['changed_categories'] == ['tv']
    assert result['diff']['before']['categories'] == {'tv': '/data/torrents/tv'}
    assert app.writes[-1] == ('POST', '/api/v2/torrents/editCategory')
    assert app.categories['tv']['savePath'] == '/data/torrents/shows'


def test_qbittorrent_wrong_password(qbittorrent):
    app = qbittorrent(password='something-else')
    result = run_module('qbittorrent_preferences', qbt_args(app))
    assert result['failed'] is True
    assert "qBittorrent at {0} refused user 'admin'".format(app.url) in result['msg']
    assert 'bootstrap_password' in result['msg'] and app.writes == []


def test_qbittorrent_unknown_preference(qbittorrent):
    app = qbittorrent(password='wanted-pw')
    result = run_module('qbittorrent_preferences', qbt_args(app, preferences={'save_pth': '/data'}))
    assert result['failed'] is True and "preference 'save_pth'" in result['msg'] and app.writes == []


def test_qbittorrent_not_ready_is_retried(qbittorrent):
    app = qbittorrent(password='wanted-pw')
    app.unready = 2
    result = run_module('qbittorrent_preferences', qbt_args(app))
    assert result['changed'] is True and result['retries'] == 2
