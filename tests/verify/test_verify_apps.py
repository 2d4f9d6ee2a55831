"""The apps check of playbooks/80_verify.yml against the media stack's fake apps (tests/media_stack/fake_apps.py, on
127.0.0.1, url mode): health endpoints, and the wiring re-checked by the collection's own modules in check mode -
drift is listed, nothing is written to the apps, and a wired app passes."""

import base64

import pytest

from ..media_stack.fake_apps import FakeQbittorrent, FakeServarr
from ..module_runner import run_module
from .conftest import by_check, healthy_cluster, run_verify

QBT_PASSWORD = 'qbt-Pa55word'


@pytest.fixture
def apps():
    started = {'sonarr': FakeServarr('sonarr').start(), 'radarr': FakeServarr('radarr').start(),
               'prowlarr': FakeServarr('prowlarr').start(), 'qbittorrent': FakeQbittorrent(QBT_PASSWORD).start()}
    yield started
    for app in started.values():
        app.stop()
    for name, app in started.items():
        assert app.violations == [], '{0}: {1}'.format(name, app.violations)


def credentials(apps):
    values = {'qbittorrent-username': 'admin', 'qbittorrent-password': QBT_PASSWORD}
    values.update({name + '-api-key': apps[name].api_key for name in ('sonarr', 'radarr', 'prowlarr')})
    return {('v1/secrets', 'media', 'media-stack-credentials'): {
        'apiVersion': 'v1', 'kind': 'Secret', 'type': 'Opaque',
        'metadata': {'name': 'media-stack-credentials', 'namespace': 'media'},
        'data': {k: base64.b64encode(v.encode()).decode() for k, v in values.items()}}}


def test_wiring_drift_is_listed_without_writing_and_a_wired_app_passes(tmp_path, cluster, apps):
    cluster.seed(healthy_cluster())
    cluster.seed(credentials(apps))
    extra = {'verify_checks': ['apps'], 'media_stack_api_access': 'url', 'media_stack_jellyfin_enabled': False,
             'media_stack_api_urls': {name: app.url for name, app in apps.items()}}
    code, output, report = run_verify(tmp_path, cluster, 'verify-apps-1', extra)
    assert code != 0
    results = by_check(report)
    for name in apps:
        assert results['apps', name + ' health']['status'] == 'pass', results['apps', name + ' health']
    drift = {check: r for (area, check), r in results.items() if check.startswith('wiring ')}
    assert sorted(drift) == [
        'wiring prowlarr: application Radarr', 'wiring prowlarr: application Sonarr',
        'wiring qbittorrent: preferences and categories',
        'wiring radarr: download client qBittorrent/movies', 'wiring radarr: root folder /data/media/movies',
        'wiring sonarr: download client qBittorrent/tv', 'wiring sonarr: root folder /data/media/tv']
    for item in drift.values():
        assert item['status'] == 'fail' and item['detail'].startswith('drift: '), item
        assert item['runbook'] == 'verify-wiring' and 'rerun --tags media' in item['fix']
    assert {name: len(app.writes) for name, app in apps.items()} == dict.fromkeys(apps, 0), 'verify wrote to an app'
    assert QBT_PASSWORD not in output and apps['sonarr'].api_key not in output

    # the media stack's module puts Sonarr's root folder in place: that check passes, the rest still drift
    wired = run_module('servarr_root_folder', {'app': 'sonarr', 'url': apps['sonarr'].url,
                                               'api_key': apps['sonarr'].api_key, 'path': '/data/media/tv'})
    assert wired['changed'] is True
    code, output, report = run_verify(tmp_path, cluster, 'verify-apps-2', extra)
    results = by_check(report)
    assert results['apps', 'wiring sonarr: root folder /data/media/tv']['status'] == 'pass'
    assert results['apps', 'wiring radarr: root folder /data/media/movies']['status'] == 'fail'


def test_an_app_that_does_not_answer_fails_its_health_check(tmp_path, cluster, apps):
    cluster.seed(healthy_cluster())
    cluster.seed(credentials(apps))
    urls = {name: app.url for name, app in apps.items()}
    urls['radarr'] = 'http://127.0.0.1:9'  # discard port: nothing listens
    code, output, report = run_verify(tmp_path, cluster, 'verify-apps-down', {
        'verify_checks': ['apps'], 'media_stack_api_access': 'url', 'media_stack_jellyfin_enabled': False,
        'media_stack_api_urls': urls, 'verify_wiring': False})
    assert code != 0
    results = by_check(report)
    radarr = results['apps', 'radarr health']
    assert radarr['status'] == 'fail' and radarr['detail'].startswith('http://127.0.0.1:9/ping: ')
    assert radarr['runbook'] == 'verify-apps'
    assert results['apps', 'sonarr health']['status'] == 'pass'
    assert results['apps', 'wiring']['detail'] == 'verify_wiring is false'
