"""The optional apps' wiring: sabnzbd_config and bazarr_settings against stateful fakes of SABnzbd 4.5 and Bazarr 1.5
(tests/media_stack/fake_extras.py), Sonarr/Radarr's Sabnzbd download client against the OpenAPI-validated fake, the
init-container scripts that seed the API keys (run with dash and mawk on real files), and the whole wiring through
playbooks/60_media.yml (first run configures, rerun changes nothing and makes no write call)."""

import base64
import hashlib
import os
import re
import subprocess
import tempfile
import time

import pytest
import yaml

from ..conftest import ROOT
from ..module_runner import run_module
from .conftest import SHELLS, shell_command
from .fake_apps import FakeQbittorrent, FakeServarr
from .fake_extras import FakeBazarr, FakeSabnzbd, with_sabnzbd
from .test_apply_and_wire import get, kube, play  # noqa: F401 - emulator fixture, helpers  # pylint: disable=unused-import

FAST = {'wait_interval': 0, 'wait_timeout': 5, 'timeout': 5}
FILES = ROOT / 'roles' / 'media_stack' / 'files'
SAB_CATEGORIES = {'tv': '/data/usenet/complete/tv', 'movies': '/data/usenet/complete/movies'}
SAB_MISC = {'download_dir': '/data/usenet/incomplete', 'complete_dir': '/data/usenet/complete'}


@pytest.fixture
def started():
    apps = []

    def start(app):
        apps.append(app.start())
        return app

    yield start
    for app in apps:
        app.stop()
    for app in apps:
        assert app.violations == [], '{0}: {1}'.format(app.kind, app.violations)


# ------------------------------------------------------------------------------------------------ sabnzbd_config
def sab_args(app, **extra):
    args = dict(FAST, url=app.url, api_key=app.api_key, categories=SAB_CATEGORIES, misc=SAB_MISC)
    args.update(extra)
    return args


@pytest.mark.parametrize('defaults', [('*',), ('*', 'movies', 'tv', 'audio', 'software')],
                         ids=['no-categories', 'sabnzbd-default-categories'])
def test_sabnzbd_first_run_then_no_write(started, defaults):
    app = started(FakeSabnzbd(categories=defaults))
    args = sab_args(app)

    checked = run_module('sabnzbd_config', args, check=True, diff=True)
    assert checked['changed'] is True and app.writes == []
    assert checked['changed_categories'] == ['movies', 'tv']
    assert checked['changed_settings'] == ['complete_dir', 'download_dir']
    assert checked['diff']['after']['categories'] == SAB_CATEGORIES
    assert app.misc['download_dir'] == 'Downloads/incomplete' and all(c['dir'] == '' for c in app.categories)

    first = run_module('sabnzbd_config', args)
    assert first['changed'] is True
    assert len(app.writes) == 4, app.writes
    assert app.category('tv')['dir'] == '/data/usenet/complete/tv'
    assert app.category('movies')['dir'] == '/data/usenet/complete/movies'
    assert app.misc['download_dir'] == '/data/usenet/incomplete'
    assert app.misc['complete_dir'] == '/data/usenet/complete'
    assert set(c['name'] for c in app.categories) >= set(defaults), 'a category the module does not own went away'

    second = run_module('sabnzbd_config', dict(args, categories={'TV': '/data/usenet/complete/tv/'}), diff=True)
    assert second['changed'] is False and 'diff' not in second
    assert len(app.writes) == 4, 'the rerun made a write call: {0}'.format(app.writes[4:])
    assert app.api_key not in repr(first) + repr(second) + repr(checked)


def test_sabnzbd_changes_only_what_differs(started):
    app = started(FakeSabnzbd())
    run_module('sabnzbd_config', sab_args(app))
    moved = run_module('sabnzbd_config', sab_args(app, categories={'tv': '/data/usenet/complete/series'}), diff=True)
    assert moved['changed'] is True and moved['changed_categories'] == ['tv'] and moved['changed_settings'] == []
    assert moved['diff']['before']['categories'] == {'tv': '/data/usenet/complete/tv'}
    assert app.writes[-1] == ('set_config', 'categories') and len(app.writes) == 5


def test_sabnzbd_unknown_setting_and_refused_folder(started):
    app = started(FakeSabnzbd())
    typo = run_module('sabnzbd_config', sab_args(app, misc={'complete_folder': '/data'}))
    assert typo['failed'] is True and 'misc.complete_folder is not a SABnzbd [misc] setting' in typo['msg']
    app.unwritable.add('/nowhere')
    refused = run_module('sabnzbd_config', sab_args(app, misc={'download_dir': '/nowhere'}, categories={}))
    assert refused['failed'] is True
    assert "did not accept misc.download_dir='/nowhere' (it kept 'Downloads/incomplete')" in refused['msg']


def test_sabnzbd_wrong_api_key_is_named_and_not_shown(started):
    app = started(FakeSabnzbd())
    wrong = 'f' * 32
    result = run_module('sabnzbd_config', sab_args(app, api_key=wrong))
    assert result['failed'] is True
    assert 'SABnzbd at {0} answered HTTP 403 (API Key Incorrect): wrong API key'.format(app.url) in result['msg']
    assert wrong not in result['msg'] and app.writes == []


def test_sabnzbd_not_ready_is_retried_then_bounded(started):
    app = started(FakeSabnzbd())
    app.unready = 3
    result = run_module('sabnzbd_config', sab_args(app))
    assert result['changed'] is True and result['retries'] == 3

    never = started(FakeSabnzbd())
    never.unready = 1000
    begin = time.monotonic()
    result = run_module('sabnzbd_config', sab_args(never, wait_interval=1, wait_timeout=3))
    assert result['failed'] is True and 'SABnzbd at {0} was not ready after 3 s'.format(never.url) in result['msg']
    assert time.monotonic() - begin < 6 and never.writes == []


# -------------------------------------------------------------------------- Sonarr/Radarr -> SABnzbd download client
@pytest.mark.parametrize('kind, field, category', [('sonarr', 'tvCategory', 'tv'),
                                                   ('radarr', 'movieCategory', 'movies')])
def test_servarr_download_client_sabnzbd(started, kind, field, category):
    app = started(with_sabnzbd(FakeServarr(kind)))
    args = dict(FAST, url=app.url, api_key=app.api_key, app=kind, name='SABnzbd', implementation='Sabnzbd',
                fields={'host': 'sabnzbd.media.svc.cluster.local', 'port': 8080, 'useSsl': False, field: category},
                secret_fields={'apiKey': 'a' * 32})
    assert run_module('servarr_download_client', args, check=True)['changed'] is True and app.writes == []
    first = run_module('servarr_download_client', args)
    assert first['changed'] is True and app.writes == [('POST', '/api/v3/downloadclient')]
    stored = app.downloadclients[0]
    assert stored['implementation'] == 'Sabnzbd' and stored['protocol'] == 'usenet'
    assert app.secret('downloadclient', 'SABnzbd', 'apiKey') == 'a' * 32
    second = run_module('servarr_download_client', args, diff=True)
    assert second['changed'] is False and len(app.writes) == 1


# ----------------------------------------------------------------------------------------------- bazarr_settings
def bazarr_args(app, **extra):
    args = dict(FAST, url=app.url, api_key=app.api_key,
                settings={'general': {'use_sonarr': True, 'use_radarr': True},
                          'sonarr': {'ip': 'sonarr.media.svc.cluster.local', 'port': 8989, 'base_url': '/',
                                     'ssl': False},
                          'radarr': {'ip': 'radarr.media.svc.cluster.local', 'port': 7878, 'base_url': '/',
                                     'ssl': False}},
                secret_settings={'sonarr': {'apikey': 'a1' * 16}, 'radarr': {'apikey': 'b2' * 16}})
    args.update(extra)
    return args


def test_bazarr_first_run_then_no_write(started):
    app = started(FakeBazarr())
    args = bazarr_args(app)

    checked = run_module('bazarr_settings', args, check=True, diff=True)
    assert checked['changed'] is True and app.writes == []
    assert checked['changed_settings'] == ['general.use_radarr', 'general.use_sonarr', 'radarr.apikey', 'radarr.ip',
                                           'sonarr.apikey', 'sonarr.ip']
    assert checked['diff']['after']['sonarr'] == {'apikey': '********', 'ip': 'sonarr.media.svc.cluster.local'}
    assert 'a1' * 16 not in repr(checked)

    first = run_module('bazarr_settings', args)
    assert first['changed'] is True and app.writes == [('POST', '/api/system/settings')]
    assert app.settings['general']['use_sonarr'] is True and app.settings['radarr']['port'] == 7878
    assert app.settings['sonarr']['apikey'] == 'a1' * 16 and app.settings['radarr']['ip'].startswith('radarr.')

    second = run_module('bazarr_settings', dict(args, settings=dict(args['settings'], sonarr=dict(
        args['settings']['sonarr'], base_url='//'))), diff=True)
    assert second['changed'] is False and 'diff' not in second and len(app.writes) == 1, app.writes


def test_bazarr_rotated_key_and_typos(started):
    app = started(FakeBazarr())
    run_module('bazarr_settings', bazarr_args(app))
    rotated = run_module('bazarr_settings', bazarr_args(app, secret_settings={'sonarr': {'apikey': 'c3' * 16}}),
                         diff=True)
    assert rotated['changed'] is True and rotated['changed_settings'] == ['sonarr.apikey']
    masked = {'sonarr': {'apikey': '********'}}
    assert rotated['diff'] == {'before': masked, 'after': masked}
    assert app.settings['sonarr']['apikey'] == 'c3' * 16 and len(app.writes) == 2

    typo = run_module('bazarr_settings', bazarr_args(app, settings={'sonarr': {'adress': 'x'}}))
    assert typo['failed'] is True and 'settings.sonarr.adress is not a setting Bazarr' in typo['msg']
    section = run_module('bazarr_settings', bazarr_args(app, settings={'sonar': {'ip': 'x'}}))
    assert section['failed'] is True and 'settings.sonar is not a Bazarr settings section' in section['msg']
    digits = run_module('bazarr_settings', bazarr_args(app, secret_settings={'radarr': {'apikey': '1' * 32}}))
    assert digits['failed'] is True and 'digits only' in digits['msg'] and '1' * 32 not in digits['msg']
    assert len(app.writes) == 2


def test_bazarr_wrong_key_and_not_ready(started):
    app = started(FakeBazarr())
    wrong = run_module('bazarr_settings', bazarr_args(app, api_key='0' * 32))
    assert wrong['failed'] is True
    assert 'Bazarr at {0}/api/system/settings answered HTTP 401: wrong API key'.format(app.url) in wrong['msg']
    assert 'auth.apikey' in wrong['msg'] and '0' * 32 not in wrong['msg']

    app.unready = 2
    ready = run_module('bazarr_settings', bazarr_args(app))
    assert ready['changed'] is True and ready['retries'] == 2

    never = started(FakeBazarr())
    never.unready = 1000
    begin = time.monotonic()
    result = run_module('bazarr_settings', bazarr_args(never, wait_interval=1, wait_timeout=3))
    assert result['failed'] is True and 'Bazarr at {0} was not ready after 3 s'.format(never.url) in result['msg']
    assert time.monotonic() - begin < 6 and never.writes == []


# ---------------------------------------------------------------------------------------- init-container scripts
def seed(script, env, shell='dash'):
    with tempfile.TemporaryDirectory() as bindir:
        prefix, path = shell_command(shell, bindir)
        result = subprocess.run(prefix + [str(FILES / script)], env=dict(os.environ, **env, PATH=path),
                                capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    for value in env.values():
        assert value not in result.stdout + result.stderr
    return result


SAB_ENV = {'SAB_API_KEY': '0123456789abcdef0123456789abcdef',
           'SAB_HOST_WHITELIST': 'sabnzbd, sabnzbd.media, sabnzbd.media.svc, sabnzbd.media.svc.cluster.local',
           'SAB_DOWNLOAD_DIR': '/data/usenet/incomplete', 'SAB_COMPLETE_DIR': '/data/usenet/complete'}
USER_INI = """__version__ = 19
__encoding__ = utf-8
[misc]
helpful_warnings = 1
api_key = 11112222333344445555666677778888
queue_complete = ""
host_whitelist = sabnzbd-6b7f9,
permissions = 775
download_dir = Downloads/incomplete
# a comment the user wrote
cache_limit = 1G
[logging]
log_level = 1
[servers]
[[news.example.com]]
name = news.example.com
host = news.example.com
password = s3cret
[categories]
[[tv]]
name = tv
dir = tv
"""


@pytest.mark.parametrize('shell', SHELLS)
def test_sabnzbd_seed_on_a_fresh_config_dir(tmp_path, shell):
    env = dict(SAB_ENV, SAB_CONFIG_DIR=str(tmp_path / 'config'))
    seed('seed-sabnzbd-ini.sh', env, shell)
    ini = tmp_path / 'config' / 'sabnzbd.ini'
    assert ini.read_text() == ('[misc]\napi_key = 0123456789abcdef0123456789abcdef\n'
                               'host_whitelist = sabnzbd, sabnzbd.media, sabnzbd.media.svc, '
                               'sabnzbd.media.svc.cluster.local\ndownload_dir = /data/usenet/incomplete\n'
                               'complete_dir = /data/usenet/complete\n')
    assert oct(ini.stat().st_mode & 0o777) == '0o600', 'the file holds the API key: owner only'
    before = ini.read_bytes()
    seed('seed-sabnzbd-ini.sh', env, shell)
    assert ini.read_bytes() == before, 'a second start changed the file'


@pytest.mark.parametrize('shell', SHELLS)
def test_sabnzbd_seed_keeps_every_other_line(tmp_path, shell):
    ini = tmp_path / 'sabnzbd.ini'
    ini.write_text(USER_INI)
    env = dict(SAB_ENV, SAB_CONFIG_DIR=str(tmp_path))
    seed('seed-sabnzbd-ini.sh', env, shell)
    after = ini.read_text()
    owned = re.compile(r'^(api_key|host_whitelist|download_dir|complete_dir) = ')
    assert [line for line in after.splitlines() if not owned.match(line)] == \
        [line for line in USER_INI.splitlines() if not owned.match(line)], 'a line the collection does not own changed'
    lines = after.splitlines()
    misc = lines[lines.index('[misc]') + 1:lines.index('[logging]')]
    assert 'api_key = 0123456789abcdef0123456789abcdef' in misc
    assert lines.index('api_key = 0123456789abcdef0123456789abcdef') == USER_INI.splitlines().index(
        'api_key = 11112222333344445555666677778888'), 'the key was not rewritten where it stood'
    assert 'download_dir = /data/usenet/incomplete' in misc and 'complete_dir = /data/usenet/complete' in misc
    assert 'host_whitelist = ' + SAB_ENV['SAB_HOST_WHITELIST'] in misc
    assert after.count('api_key = ') == 1 and 'dir = tv' in lines, 'the [[tv]] category folder was touched'
    before = ini.read_bytes()
    seed('seed-sabnzbd-ini.sh', env, shell)
    assert ini.read_bytes() == before


def test_sabnzbd_seed_adds_misc_when_missing(tmp_path):
    ini = tmp_path / 'sabnzbd.ini'
    ini.write_text('__version__ = 19\n[logging]\nlog_level = 1\n')
    seed('seed-sabnzbd-ini.sh', dict(SAB_ENV, SAB_CONFIG_DIR=str(tmp_path)))
    text = ini.read_text()
    assert text.startswith('__version__ = 19\n[logging]\nlog_level = 1\n[misc]\napi_key = 0123')
    assert text.count('[misc]') == 1


def sab_decode(value):
    """SABnzbd's config.decode_password: ENC: and two hex digits per character."""
    assert value.startswith('ENC:'), value
    return ''.join(chr(int(value[i:i + 2], 16)) for i in range(4, len(value), 2))


LOGIN_PASSWORD = 'c0rrect h0rse #battery'


@pytest.mark.parametrize('shell', SHELLS)
def test_sabnzbd_seed_writes_the_login(tmp_path, shell):
    """Issue 22 (export mode has no wiring): the init container writes the web login; the password in SABnzbd's
    encoded form, so its # and space survive the ini syntax; the servers' password lines are not touched."""
    ini = tmp_path / 'sabnzbd.ini'
    ini.write_text(USER_INI)
    env = dict(SAB_ENV, SAB_CONFIG_DIR=str(tmp_path), SAB_USERNAME='admin', SAB_PASSWORD=LOGIN_PASSWORD)
    seed('seed-sabnzbd-ini.sh', env, shell)
    lines = ini.read_text().splitlines()
    misc = lines[lines.index('[misc]') + 1:lines.index('[logging]')]
    assert 'username = admin' in misc and 'html_login = 1' in misc
    [password] = [line.split(' = ', 1)[1] for line in misc if line.startswith('password = ')]
    assert sab_decode(password) == LOGIN_PASSWORD and LOGIN_PASSWORD not in ini.read_text()
    assert 'password = s3cret' in lines, 'the news server password was touched'
    before = ini.read_bytes()
    seed('seed-sabnzbd-ini.sh', env, shell)
    assert ini.read_bytes() == before


BAZARR_YAML = """analytics:
  enabled: false
auth:
  apikey: 00001111222233334444555566667777
  password: ''
  type: null
  username: ''
general:
  base_url: ''
  enabled_providers:
  - opensubtitlescom
  use_sonarr: true
sonarr:
  apikey: aaaabbbbccccddddeeeeffff00001111
  ip: sonarr
"""


@pytest.mark.parametrize('shell', SHELLS)
def test_bazarr_seed_fresh_and_existing(tmp_path, shell):
    env = {'BAZARR_API_KEY': 'fedcba9876543210fedcba9876543210', 'BAZARR_CONFIG_DIR': str(tmp_path / 'fresh')}
    seed('seed-bazarr-config.sh', env, shell)
    fresh = tmp_path / 'fresh' / 'config' / 'config.yaml'
    assert yaml.safe_load(fresh.read_text()) == {'auth': {'apikey': 'fedcba9876543210fedcba9876543210'}}
    assert oct(fresh.stat().st_mode & 0o777) == '0o600'

    existing = tmp_path / 'old' / 'config' / 'config.yaml'
    existing.parent.mkdir(parents=True)
    existing.write_text(BAZARR_YAML)
    env['BAZARR_CONFIG_DIR'] = str(tmp_path / 'old')
    seed('seed-bazarr-config.sh', env, shell)
    after = existing.read_text()
    expected = yaml.safe_load(BAZARR_YAML)
    expected['auth']['apikey'] = 'fedcba9876543210fedcba9876543210'
    assert yaml.safe_load(after) == expected, 'only auth.apikey may change (sonarr.apikey must not)'
    assert [line for line in after.splitlines() if 'apikey' not in line or 'aaaa' in line] == \
        [line for line in BAZARR_YAML.splitlines() if 'apikey' not in line or 'aaaa' in line]
    before = existing.read_bytes()
    seed('seed-bazarr-config.sh', env, shell)
    assert existing.read_bytes() == before

    digits = {'BAZARR_API_KEY': '12345678901234567890123456789012', 'BAZARR_CONFIG_DIR': str(tmp_path / 'digits')}
    seed('seed-bazarr-config.sh', digits, shell)
    text = (tmp_path / 'digits' / 'config' / 'config.yaml').read_text()
    assert yaml.safe_load(text)['auth']['apikey'] == '12345678901234567890123456789012', 'must stay a string'


@pytest.mark.parametrize('shell', SHELLS)
def test_bazarr_seed_writes_the_login(tmp_path, shell):
    """Issue 22: auth.type form, the user (YAML-quoted) and the MD5 digest Bazarr stores, rewritten where they stand;
    the Sonarr API key and every other line are kept."""
    conf = tmp_path / 'config' / 'config.yaml'
    conf.parent.mkdir()
    conf.write_text(BAZARR_YAML)
    env = {'BAZARR_API_KEY': 'fedcba9876543210fedcba9876543210', 'BAZARR_CONFIG_DIR': str(tmp_path),
           'BAZARR_USERNAME': "o'admin", 'BAZARR_PASSWORD': LOGIN_PASSWORD}
    seed('seed-bazarr-config.sh', env, shell)
    expected = yaml.safe_load(BAZARR_YAML)
    expected['auth'] = {'apikey': 'fedcba9876543210fedcba9876543210', 'type': 'form', 'username': "o'admin",
                        'password': hashlib.md5(LOGIN_PASSWORD.encode()).hexdigest()}  # noqa: S324
    assert yaml.safe_load(conf.read_text()) == expected
    assert len(conf.read_text().splitlines()) == len(BAZARR_YAML.splitlines())
    before = conf.read_bytes()
    seed('seed-bazarr-config.sh', env, shell)
    assert conf.read_bytes() == before
    fresh = dict(env, BAZARR_CONFIG_DIR=str(tmp_path / 'fresh'), BAZARR_AUTH_TYPE='basic')
    seed('seed-bazarr-config.sh', fresh, shell)
    assert yaml.safe_load((tmp_path / 'fresh' / 'config' / 'config.yaml').read_text()) == {
        'auth': dict(expected['auth'], type='basic')}


def test_bazarr_seed_adds_auth_to_a_config_without_it(tmp_path):
    conf = tmp_path / 'config' / 'config.yaml'
    conf.parent.mkdir()
    conf.write_text('general:\n  use_sonarr: false\n')
    seed('seed-bazarr-config.sh', {'BAZARR_API_KEY': 'ab' * 16, 'BAZARR_CONFIG_DIR': str(tmp_path)})
    assert yaml.safe_load(conf.read_text()) == {'general': {'use_sonarr': False}, 'auth': {'apikey': 'ab' * 16}}


# ----------------------------------------------------------------------------------- the whole wiring, twice
@pytest.fixture
def all_apps():
    apps = {'sonarr': with_sabnzbd(FakeServarr('sonarr')).start(),
            'radarr': with_sabnzbd(FakeServarr('radarr')).start(),
            'prowlarr': FakeServarr('prowlarr').start(), 'qbittorrent': FakeQbittorrent('qbt-Pa55word').start(),
            'sabnzbd': FakeSabnzbd().start(), 'bazarr': FakeBazarr().start()}
    yield apps
    for app in apps.values():
        app.stop()
    for name, app in apps.items():
        assert app.violations == [], '{0}: {1}'.format(name, app.violations)


def test_wiring_with_sabnzbd_and_bazarr(tmp_path, kube, all_apps):  # noqa: F811 - kube is the imported fixture
    url, kubeconfig = kube
    apps = all_apps
    extra = {
        'k8s_kubeconfig': str(kubeconfig), 'media_stack_api_access': 'url',
        'media_stack_sabnzbd_enabled': True, 'media_stack_bazarr_enabled': True,
        # Jellyfin's setup is wired and tested in test_apply_and_wire.py; this test has no fake Jellyfin
        'media_stack_jellyfin_setup': False,
        'media_stack_api_urls': {name: app.url for name, app in apps.items()},
        'media_stack_api_keys': {name: apps[name].api_key
                                 for name in ('sonarr', 'radarr', 'prowlarr', 'sabnzbd', 'bazarr')},
        'media_stack_qbittorrent_password': 'qbt-Pa55word', 'media_stack_api_wait_timeout': 30,
    }
    changed, output = play(tmp_path, 'media-stack-extras-1', extra)
    assert changed > 0
    sab = apps['sabnzbd']
    assert {c['name']: c['dir'] for c in sab.categories if c['name'] in ('tv', 'movies')} == SAB_CATEGORIES
    assert sab.misc['download_dir'] == '/data/usenet/incomplete' and sab.misc['complete_dir'] == '/data/usenet/complete'
    for name, field, category in [('sonarr', 'tvCategory', 'tv'), ('radarr', 'movieCategory', 'movies')]:
        client = [c for c in apps[name].downloadclients if c['name'] == 'SABnzbd'][0]
        fields = {f['name']: f['value'] for f in client['fields']}
        assert client['implementation'] == 'Sabnzbd'
        assert fields['host'] == 'sabnzbd.media.svc.cluster.local' and fields['port'] == 8080
        assert fields[field] == category and fields['apiKey'] == sab.api_key
    bazarr = apps['bazarr'].settings
    assert bazarr['general']['use_sonarr'] is True and bazarr['general']['use_radarr'] is True
    assert bazarr['sonarr'] == dict(bazarr['sonarr'], ip='sonarr.media.svc.cluster.local', port=8989, base_url='/',
                                    ssl=False, apikey=apps['sonarr'].api_key)
    assert bazarr['radarr']['ip'] == 'radarr.media.svc.cluster.local' and bazarr['radarr']['port'] == 7878
    assert bazarr['radarr']['apikey'] == apps['radarr'].api_key
    # issue 22: both behind their own login, the *arr apps' user and the password kept in the credentials Secret
    stored = get(url, '/api/v1/namespaces/media/secrets/media-stack-credentials')['data']
    password = base64.b64decode(stored['arr-password']).decode()
    assert sab.misc['username'] == 'admin' and sab.misc['password'] == password and sab.misc['html_login'] == 1
    assert sab.logins and sab.logins[-1] is True
    assert bazarr['auth'] == dict(bazarr['auth'], type='form', username='admin',
                                  password=hashlib.md5(password.encode()).hexdigest())  # noqa: S324
    for secret in (sab.api_key, apps['bazarr'].api_key, apps['sonarr'].api_key, password):
        assert secret not in output

    deployment = get(url, '/apis/apps/v1/namespaces/media/deployments/sabnzbd')
    init = deployment['spec']['template']['spec']['initContainers'][0]
    env = {e['name']: e for e in init['env']}
    assert env['SAB_API_KEY']['valueFrom']['secretKeyRef'] == {'name': 'media-stack-credentials',
                                                               'key': 'sabnzbd-api-key'}
    assert 'sabnzbd.media.svc.cluster.local' in env['SAB_HOST_WHITELIST']['value']

    writes = {name: len(app.writes) for name, app in apps.items()}
    changed, output = play(tmp_path, 'media-stack-extras-2', extra)
    assert changed == 0, output[-3000:]
    assert {name: len(app.writes) for name, app in apps.items()} == writes, 'the rerun made write calls'
