"""The qBittorrent integration against a real qBittorrent (Debian's qbittorrent-nox, tests/peers/qbittorrent_real.py),
in a private network namespace with only loopback: the role's seed script (dash, bash and busybox) on an empty and
an existing configuration, login with the credentials the role generates, the qbittorrent_preferences module
(first run, rerun without writes, check mode, wrong password, ban), and a password rotation through the role."""

import base64
import contextlib
import json
import secrets
import string
import subprocess
import tempfile

import jinja2
import pytest
import yaml

from ..conftest import ROOT
from ..module_runner import run_module
from ..peers.qbittorrent_real import RealQbittorrent, missing_reason, private_network
from .conftest import SHELLS, shell_command

TEMPLATES = ROOT / 'roles' / 'media_stack' / 'templates' / 'manifests'


def _password_hash(password, salt):
    from ansible_collections.homelab.mediacluster.plugins.filter.qbittorrent_password_hash import (
        qbittorrent_password_hash,
    )
    return qbittorrent_password_hash(password, salt)


def generated_credentials():
    """A password and salt as the media_stack_credentials filter generates them (24 and 16 letters/digits)."""
    alphabet = string.ascii_letters + string.digits
    return (''.join(secrets.choice(alphabet) for _unused in range(24)),
            ''.join(secrets.choice(alphabet) for _unused in range(16)))


@pytest.fixture(scope='module')
def seed():
    """The role's seed script, rendered from its template (test_manifests.py checks the role renders it the same)."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)  # noqa: S701 (YAML, not HTML)
    env.filters.update(comment=lambda text: '# ' + text, b64encode=lambda text: base64.b64encode(
        text.encode()).decode())
    text = env.from_string((TEMPLATES / 'credentials.yaml.j2').read_text()).render(
        ansible_managed='managed', _media_stack_secret_name='media-stack-credentials',
        media_stack_namespace='media', _media_stack_credentials={})
    configmap = [d for d in yaml.safe_load_all(text) if d and d['kind'] == 'ConfigMap'][0]
    return configmap['data']['seed-webui-password.sh']


def run_seed(script, config_dir, username, pbkdf2, shell='busybox', *, defaults=None):
    """Run the seed script as the init container does: the user and hash from the Secret in its environment."""
    with tempfile.TemporaryDirectory() as bindir:
        prefix, path = shell_command(shell, bindir)
        env = {'PATH': path, 'QBT_CONFIG_DIR': str(config_dir), 'QBT_USERNAME': username,
               'QBT_PASSWORD_PBKDF2': pbkdf2,
               'QBT_DEFAULTS': str(defaults or config_dir / 'no-image-defaults' / 'qBittorrent.conf')}
        done = subprocess.run(prefix + ['-c', script], env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr


@pytest.fixture
def real(tmp_path):
    """Factory of real qBittorrents; the test body runs inside their private network namespace."""
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    started = []

    def make(name='qbt'):
        qbt = RealQbittorrent(tmp_path / name)
        started.append(qbt)
        return qbt

    with private_network():
        try:
            yield make
        finally:
            for qbt in started:
                qbt.stop()


def preferences(qbt, cookie):
    status, body = qbt.call('GET', 'app/preferences', cookie)
    assert status == 200, body
    return json.loads(body)


# ---------------------------------------------------------------------------------------------------------------
# The seed script


@pytest.mark.parametrize('shell', SHELLS)
def test_seeded_empty_config_logs_in_with_generated_credentials(real, seed, shell):
    qbt = real()
    password, salt = generated_credentials()
    run_seed(seed, qbt.config_dir, 'admin', _password_hash(password, salt), shell)
    qbt.start()
    cookie = qbt.session('admin', password)
    prefs = preferences(qbt, cookie)
    assert prefs['web_ui_username'] == 'admin'
    # the test peer itself: no peer discovery and no port mapping
    assert (prefs['dht'], prefs['pex'], prefs['lsd'], prefs['upnp']) == (False, False, False, False)
    assert qbt.login('admin', 'adminadmin')[1] == 'Fails.', 'the built-in default password still works'


@pytest.mark.parametrize('shell', SHELLS)
def test_seed_over_an_existing_config_changes_the_password_and_keeps_settings(real, seed, shell):
    qbt = real()
    old, salt = generated_credentials()
    run_seed(seed, qbt.config_dir, 'admin', _password_hash(old, salt), shell)
    qbt.start()
    cookie = qbt.session('admin', old)
    assert qbt.call('POST', 'app/setPreferences', cookie, {'json': json.dumps({'max_active_downloads': 7})})[0] == 200
    qbt.stop()
    before = qbt.conf.read_text()
    assert 'MaxActiveDownloads=7' in before

    new, _unused = generated_credentials()
    run_seed(seed, qbt.config_dir, 'admin', _password_hash(new, salt), shell)
    seeded = qbt.conf.read_text()
    run_seed(seed, qbt.config_dir, 'admin', _password_hash(new, salt), shell)
    assert qbt.conf.read_text() == seeded, 'seeding again with the same credentials changed the file'
    qbt.start()
    assert qbt.login('admin', old)[1] == 'Fails.'
    assert preferences(qbt, qbt.session('admin', new))['max_active_downloads'] == 7


# ---------------------------------------------------------------------------------------------------------------
# The qbittorrent_preferences module


def module_args(qbt, password, **extra):
    return dict(dict(url=qbt.url, username='admin', password=password, wait_timeout=30), **extra)


@contextlib.contextmanager
def counted_writes(monkeypatch):
    """Every API call but GETs and the login that the modules make, as (method, path)."""
    from ansible_collections.homelab.mediacluster.plugins.module_utils import app_api
    writes = []
    original = app_api.ApiClient.request

    def request(self, method, path, **kwargs):
        if method != 'GET' and not path.endswith('/auth/login'):
            writes.append((method, path))
        return original(self, method, path, **kwargs)

    monkeypatch.setattr(app_api.ApiClient, 'request', request)
    yield writes


@pytest.fixture
def started(real, seed, tmp_path):
    qbt = real()
    password, salt = generated_credentials()
    run_seed(seed, qbt.config_dir, 'admin', _password_hash(password, salt))
    qbt.start()
    return qbt, password


def test_module_first_run_rerun_and_check_mode(started, monkeypatch, tmp_path):
    qbt, password = started
    save = str(tmp_path / 'data' / 'torrents')
    desired = dict(preferences={'save_path': save, 'temp_path_enabled': False, 'auto_tmm_enabled': True,
                                'category_changed_tmm_enabled': True},
                   categories={'tv': save + '/tv', 'movies': save + '/movies'})
    with counted_writes(monkeypatch) as writes:
        checked = run_module('qbittorrent_preferences', module_args(qbt, password, **desired), check=True, diff=True)
        assert checked['changed'] is True and writes == [], 'check mode wrote {0}'.format(writes)
        assert 'save_path' in checked['changed_preferences'] and checked['changed_categories'] == ['movies', 'tv']

        first = run_module('qbittorrent_preferences', module_args(qbt, password, **desired))
        assert first['changed'] is True and writes, first
        prefs = preferences(qbt, qbt.session('admin', password))
        assert prefs['save_path'].rstrip('/') == save and prefs['auto_tmm_enabled'] is True
        status, body = qbt.call('GET', 'torrents/categories', qbt.session('admin', password))
        assert {n: c['savePath'].rstrip('/') for n, c in json.loads(body).items()} == desired['categories']

        del writes[:]
        again = run_module('qbittorrent_preferences', module_args(qbt, password, **desired))
        assert again['changed'] is False and writes == [], 'the rerun wrote {0}'.format(writes)
        assert run_module('qbittorrent_preferences', module_args(qbt, password, **desired), check=True)[
            'changed'] is False


def test_module_wrong_password_then_ban(started):
    qbt, password = started
    wrong = run_module('qbittorrent_preferences', module_args(qbt, 'not-' + password))
    assert wrong.get('failed') and "refused user 'admin'" in wrong['msg'], wrong
    assert password not in json.dumps(wrong)
    for _unused in range(5):
        qbt.login('admin', 'still-wrong')
    assert qbt.login('admin', password)[0] == 403, 'qBittorrent did not ban after repeated failed logins'
    banned = run_module('qbittorrent_preferences', module_args(qbt, password))
    assert banned.get('failed') and 'banned this address after too many failed logins' in banned['msg'], banned
    assert 'restart the qBittorrent pod' in banned['msg']
    qbt.restart()
    assert qbt.session('admin', password), 'the restart did not lift the ban'


def test_module_bootstrap_password_changes_the_password(started, monkeypatch):
    qbt, password = started
    new, _unused = generated_credentials()
    result = run_module('qbittorrent_preferences', module_args(qbt, new, bootstrap_password=password))
    assert result['changed'] is True and result['changed_preferences'] == ['web_ui_password']
    assert qbt.login('admin', password)[1] == 'Fails.' and qbt.session('admin', new)
    with counted_writes(monkeypatch) as writes:
        assert run_module('qbittorrent_preferences', module_args(qbt, new, bootstrap_password=password))[
            'changed'] is False
        assert writes == []


# ---------------------------------------------------------------------------------------------------------------
# Issue 16, item 9: the user name is written into qBittorrent.conf as a Qt INI value (escaped and quoted)

HOSTILE_USERNAMES = ['ad,min', 'ad;min', 'ad\\min', 'ad"min', 'admin ', ' admin', 'ad=min', 'adé', 'аdmin',
                     'ad\U0001F600min', 'ad\\x41min', 'ad\\', '"admin"', 'ad#min']


@pytest.mark.parametrize('shell', ['dash', 'busybox'])
@pytest.mark.parametrize('username', HOSTILE_USERNAMES)
def test_any_username_logs_in_after_seeding(real, seed, shell, username):
    qbt = real()
    qbt.config_dir.joinpath('qBittorrent').mkdir(parents=True)
    # an existing file with settings after the user name: a bad value must not swallow them
    qbt.conf.write_text('[Preferences]\nWebUI\\Username=old\nWebUI\\Port=8080\nWebUI\\SessionTimeout=1234\n')
    password, salt = generated_credentials()
    run_seed(seed, qbt.config_dir, username, _password_hash(password, salt), shell)
    qbt.start()
    status, body, cookie = qbt.login(username, password)
    assert (status, body) == (200, 'Ok.') and cookie, 'user {0!r} cannot log in: HTTP {1} {2!r}; file:\n{3}'.format(
        username, status, body, qbt.conf.read_text(errors='replace'))
    prefs = preferences(qbt, cookie)
    assert prefs['web_ui_username'] == username
    assert prefs['web_ui_session_timeout'] == 1234, 'a line after the user name was lost'


@pytest.mark.parametrize('shell', SHELLS)
@pytest.mark.parametrize('username', ['', 'ad\udcffmin'])
def test_seed_refuses_an_empty_or_broken_username(seed, tmp_path, shell, username):
    conf = tmp_path / 'qBittorrent' / 'qBittorrent.conf'
    conf.parent.mkdir()
    conf.write_text('[Preferences]\nWebUI\\Username=admin\n')
    with tempfile.TemporaryDirectory() as bindir:
        prefix, path = shell_command(shell, bindir)
        env = {'PATH': path, 'QBT_CONFIG_DIR': str(tmp_path), 'QBT_PASSWORD_PBKDF2': 'c2FsdA==:a2V5',
               'QBT_USERNAME': username.encode('utf-8', 'surrogateescape')}
        done = subprocess.run(prefix + ['-c', seed], env=env, capture_output=True, text=True, check=False)
    assert done.returncode != 0 and 'QBT_USERNAME is empty or not UTF-8' in done.stderr
    assert conf.read_text() == '[Preferences]\nWebUI\\Username=admin\n', 'a refused user name changed the file'


# ---------------------------------------------------------------------------------------------------------------
# Issue 16, item 10: seeding before the first start must not cost the LinuxServer image its default configuration
# (its init copies /defaults/qBittorrent.conf only when the file is missing)

IMAGE_DEFAULTS = {'[LegalNotice]', 'Accepted=true', 'Connection\\UPnP=false', 'Connection\\PortRangeMin=6881',
                  'WebUI\\Address=*', 'WebUI\\ServerDomains=*'}


@pytest.mark.parametrize('shell', SHELLS)
def test_first_seed_keeps_the_image_defaults(real, seed, shell):
    qbt = real()
    password, salt = generated_credentials()
    run_seed(seed, qbt.config_dir, 'admin', _password_hash(password, salt), shell)
    seeded = qbt.conf.read_text()
    assert IMAGE_DEFAULTS <= set(seeded.splitlines()), 'the image defaults are missing:\n' + seeded
    qbt.start()
    prefs = preferences(qbt, qbt.session('admin', password))
    assert prefs['listen_port'] == 6881 and prefs['web_ui_address'] == '*'
    assert 'Accepted=true' in qbt.conf.read_text().split('[LegalNotice]')[1].split('[')[0]


@pytest.mark.parametrize('shell', SHELLS)
def test_first_seed_starts_from_the_image_defaults_file(real, seed, tmp_path, shell):
    """In the image, /defaults/qBittorrent.conf is there: the seed starts from it, as the image's init would."""
    qbt = real()
    defaults = tmp_path / 'defaults' / 'qBittorrent.conf'
    defaults.parent.mkdir()
    defaults.write_text('[LegalNotice]\nAccepted=true\n\n[Preferences]\nConnection\\PortRangeMin=6999\n'
                        'WebUI\\Address=*\n')
    password, salt = generated_credentials()
    run_seed(seed, qbt.config_dir, 'admin', _password_hash(password, salt), shell, defaults=defaults)
    seeded = qbt.conf.read_text()
    assert 'Connection\\PortRangeMin=6999' in seeded and 'Connection\\PortRangeMin=6881' not in seeded, seeded
    qbt.start()
    assert preferences(qbt, qbt.session('admin', password))['listen_port'] == 6999


# ---------------------------------------------------------------------------------------------------------------
# Issue 16, item 11: preferences are compared by their type (paths without the trailing slash, booleans and numbers
# as given by Ansible), so the same settings written differently make no write


def test_module_compares_preferences_by_type(started, monkeypatch, tmp_path):
    qbt, password = started
    save = str(tmp_path / 'data' / 'torrents')
    typed = {'save_path': save, 'auto_tmm_enabled': True, 'max_active_downloads': 7, 'temp_path_enabled': False}
    spelled = {'save_path': save + '/', 'auto_tmm_enabled': 'yes', 'max_active_downloads': '7',
               'temp_path_enabled': 'false'}
    first = run_module('qbittorrent_preferences', module_args(qbt, password, preferences=spelled))
    assert first['changed'] is True
    prefs = preferences(qbt, qbt.session('admin', password))
    assert (prefs['save_path'].rstrip('/'), prefs['auto_tmm_enabled'], prefs['max_active_downloads'],
            prefs['temp_path_enabled']) == (save, True, 7, False), 'qBittorrent got other values than meant'
    with counted_writes(monkeypatch) as writes:
        for desired in (spelled, typed, dict(typed, save_path=save + '//')):
            again = run_module('qbittorrent_preferences', module_args(qbt, password, preferences=desired))
            assert (again['changed'], again['changed_preferences'], writes) == (False, [], []), desired


def test_module_refuses_a_value_of_the_wrong_type(started, monkeypatch):
    qbt, password = started
    with counted_writes(monkeypatch) as writes:
        result = run_module('qbittorrent_preferences', module_args(qbt, password,
                                                                   preferences={'max_active_downloads': 'many'}))
    assert result.get('failed') and 'max_active_downloads' in result['msg'] and 'integer' in result['msg'], result
    assert writes == []


# ---------------------------------------------------------------------------------------------------------------
# Issue 16, item 12: a new qBittorrent password reaches every consumer in the same run (Sonarr and Radarr keep
# it in their download client; with the old one, qBittorrent bans their address after five failed logins)


@pytest.fixture
def stack(real, tmp_path):
    """In the private namespace: the Kubernetes emulator, fake Sonarr/Radarr/Prowlarr/Jellyfin and a real
    qBittorrent."""
    from .conftest import kube_emulator
    from .fake_apps import FakeServarr
    from .fake_jellyfin import FakeJellyfin
    (tmp_path / 'kube').mkdir()
    with kube_emulator(tmp_path / 'kube') as (url, kubeconfig):
        apps = {'sonarr': FakeServarr('sonarr').start(), 'radarr': FakeServarr('radarr').start(),
                'prowlarr': FakeServarr('prowlarr').start(), 'jellyfin': FakeJellyfin().start()}
        try:
            yield url, kubeconfig, apps, real()
        finally:
            for app in apps.values():
                app.stop()
    for name, app in apps.items():
        assert app.violations == [], '{0}: {1}'.format(name, app.violations)


def _secret(url):
    import urllib.request
    with urllib.request.urlopen(url + '/api/v1/namespaces/media/secrets/media-stack-credentials', timeout=10) as r:
        return {k: base64.b64decode(v).decode() for k, v in json.loads(r.read())['data'].items()}


def _arr_password(app):
    return {f['name']: f['value'] for f in app.downloadclients[0]['fields']}['password']


def _put_secret(url, data):
    """The credentials Secret as an earlier run left it (so that its salt is known before the first start)."""
    import urllib.request
    body = json.dumps({'apiVersion': 'v1', 'kind': 'Secret', 'type': 'Opaque',
                       'metadata': {'name': 'media-stack-credentials', 'namespace': 'media'},
                       'data': {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}).encode()
    request = urllib.request.Request(url + '/api/v1/namespaces/media/secrets', data=body, method='POST',
                                     headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(request, timeout=10):
        pass


def test_password_rotation_updates_sonarr_and_radarr(stack, seed, tmp_path):
    from .test_apply_and_wire import play
    url, kubeconfig, apps, qbt = stack
    (first, salt), second = generated_credentials(), generated_credentials()[0]
    extra = {'k8s_kubeconfig': str(kubeconfig), 'media_stack_api_access': 'url',
             'media_stack_api_urls': dict({name: app.url for name, app in apps.items()}, qbittorrent=qbt.url),
             'media_stack_api_keys': {name: apps[name].api_key for name in ('sonarr', 'radarr', 'prowlarr')},
             'media_stack_api_wait_timeout': 30}
    _put_secret(url, {'qbittorrent-password': first, 'qbittorrent-password-salt': salt})

    def rollout(password):
        """What the Deployment does once the role changed the Secret: the init container seeds, qBittorrent
        restarts (done before the play, which waits for the rollout, reaches the wiring)."""
        qbt.stop()
        run_seed(seed, qbt.config_dir, 'admin', _password_hash(password, salt))
        qbt.start()

    rollout(first)
    changed, _unused = play(tmp_path, 'qbt-rotate-1', dict(extra, media_stack_qbittorrent_password=first))
    assert changed > 0 and [_arr_password(apps[a]) for a in ('sonarr', 'radarr')] == [first, first]

    rollout(second)
    changed, output = play(tmp_path, 'qbt-rotate-2', dict(extra, media_stack_qbittorrent_password=second))
    assert _secret(url)['qbittorrent-password-pbkdf2'] == _password_hash(second, salt)
    assert second not in output and first not in output
    writes = {name: len(app.writes) for name, app in apps.items()}
    changed, output = play(tmp_path, 'qbt-rotate-3', dict(extra, media_stack_qbittorrent_password=second))
    assert changed == 0, output[-3000:]
    assert {name: len(app.writes) for name, app in apps.items()} == writes, 'the rerun made write calls'

    # Sonarr and Radarr log in with what they keep, repeatedly (more than the five failures that would ban them)
    for _unused in range(3):
        for name in ('sonarr', 'radarr'):
            status, body, _cookie = qbt.login('admin', _arr_password(apps[name]))
            assert (status, body) == (200, 'Ok.'), '{0} logs in to qBittorrent with a stale password: HTTP {1} ' \
                '{2!r}'.format(name, status, body)
    assert qbt.login('admin', second)[1] == 'Ok.', 'this address is banned'
