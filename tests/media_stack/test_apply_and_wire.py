"""playbooks/60_media.yml end to end: the apply path against the Kubernetes emulator (create, rerun changed=0,
credentials generated once), and the API wiring against the fake apps (first run configures everything the seed did
by hand, the rerun changes nothing and makes no write call)."""

import base64
import json
import re
import urllib.error
import urllib.request

import pytest

from ..conftest import ROOT, run_logged
from .conftest import kube_emulator
from .fake_apps import FakeQbittorrent, FakeServarr
from .fake_jellyfin import FakeJellyfin

INVENTORY = """
all:
  children:
    controller:
      hosts:
        localhost:
          ansible_connection: local
          ansible_python_interpreter: "{{ ansible_playbook_python }}"
    k3s_servers:
      hosts:
        cp1:  # never contacted by these tests; it only satisfies the node-mode preflight
          ansible_host: 127.0.0.1
          ansible_connection: local
          ansible_python_interpreter: "{{ ansible_playbook_python }}"
"""


@pytest.fixture
def kube(tmp_path):
    with kube_emulator(tmp_path) as emulator:
        yield emulator


def get(url, path):
    with urllib.request.urlopen(url + path, timeout=10) as response:
        return json.loads(response.read())


def play(tmp_path, name, extra, check=False):
    inventory = tmp_path / 'inventory.yml'
    inventory.write_text(INVENTORY)
    variables = dict({'media_stack_nfs_server': '192.0.2.10', 'media_stack_nfs_path': '/data',
                      'k8s_delivery_wait': False}, **extra)
    cmd = ['ansible-playbook', '-i', str(inventory), str(ROOT / 'playbooks' / '60_media.yml'), '-e',
           json.dumps(variables)]
    if check:
        cmd += ['--check', '--diff']
    code, output = run_logged(name, cmd)
    assert code == 0, output[-4000:]
    recap = re.search(r'localhost\s*:\s*ok=(\d+)\s+changed=(\d+)', output)
    return int(recap.group(2)), output


def test_apply_then_rerun_changes_nothing(tmp_path, kube):
    url, kubeconfig = kube
    extra = {'k8s_kubeconfig': str(kubeconfig), 'media_stack_wire': False}
    changed, output = play(tmp_path, 'media-stack-apply-1', extra)
    assert changed > 0 and 'Deployment/sonarr' in output
    secret = get(url, '/api/v1/namespaces/media/secrets/media-stack-credentials')
    keys = {k: base64.b64decode(v).decode() for k, v in secret['data'].items()}
    assert re.match('^[0-9a-f]{32}$', keys['sonarr-api-key'])

    changed, output = play(tmp_path, 'media-stack-apply-2', extra)
    assert changed == 0, output[-3000:]
    again = get(url, '/api/v1/namespaces/media/secrets/media-stack-credentials')
    assert again['data'] == secret['data'], 'the credentials were generated again instead of kept'

    namespace = get(url, '/api/v1/namespaces/media')
    assert namespace['metadata']['labels']['pod-security.kubernetes.io/enforce'] == 'baseline'
    pv = get(url, '/api/v1/persistentvolumes/media-data')
    assert pv['spec']['persistentVolumeReclaimPolicy'] == 'Retain'
    sonarr = get(url, '/apis/apps/v1/namespaces/media/deployments/sonarr')
    env = {e['name']: e for e in sonarr['spec']['template']['spec']['containers'][0]['env']}
    assert env['SONARR__AUTH__APIKEY']['valueFrom']['secretKeyRef']['key'] == 'sonarr-api-key'
    for kind, name in [('ingresses', 'jellyfin'), ('networkpolicies', 'media-stack')]:
        assert get(url, '/apis/networking.k8s.io/v1/namespaces/media/{0}/{1}'.format(kind, name))['metadata'][
            'name'] == name


def test_check_mode_on_a_fresh_cluster_writes_nothing(tmp_path, kube):
    url, kubeconfig = kube
    changed, output = play(tmp_path, 'media-stack-check', {'k8s_kubeconfig': str(kubeconfig)}, check=True)
    assert changed > 0 and 'Check mode on a stack that is not deployed yet' in output
    with pytest.raises(urllib.error.HTTPError):
        get(url, '/apis/apps/v1/namespaces/media/deployments/sonarr')


@pytest.fixture
def apps():
    started = {'sonarr': FakeServarr('sonarr').start(), 'radarr': FakeServarr('radarr').start(),
               'prowlarr': FakeServarr('prowlarr').start(), 'qbittorrent': FakeQbittorrent('qbt-Pa55word').start()}
    started['jellyfin'] = FakeJellyfin().start()
    yield started
    for app in started.values():
        app.stop()
    for name, app in started.items():
        assert app.violations == [], '{0}: {1}'.format(name, app.violations)


def test_wiring_configures_the_apps_once(tmp_path, kube, apps):
    url, kubeconfig = kube
    extra = {
        'k8s_kubeconfig': str(kubeconfig), 'media_stack_api_access': 'url',
        'media_stack_api_urls': {name: app.url for name, app in apps.items()},
        'media_stack_api_keys': {name: apps[name].api_key for name in ('sonarr', 'radarr', 'prowlarr')},
        'media_stack_qbittorrent_password': 'qbt-Pa55word', 'media_stack_api_wait_timeout': 30,
    }
    changed, output = play(tmp_path, 'media-stack-wire-1', extra)
    assert changed > 0
    assert [f['path'] for f in apps['sonarr'].rootfolders] == ['/data/media/tv/']
    assert [f['path'] for f in apps['radarr'].rootfolders] == ['/data/media/movies/']
    for name, field, category in [('sonarr', 'tvCategory', 'tv'), ('radarr', 'movieCategory', 'movies')]:
        client = apps[name].downloadclients[0]
        fields = {f['name']: f['value'] for f in client['fields']}
        assert client['name'] == 'qBittorrent' and client['implementation'] == 'QBittorrent'
        assert fields['host'] == 'qbittorrent.media.svc.cluster.local' and fields['port'] == 8080
        assert fields[field] == category and fields['password'] == 'qbt-Pa55word'
    prowlarr_apps = {a['name']: a for a in apps['prowlarr'].applications}
    assert sorted(prowlarr_apps) == ['Radarr', 'Sonarr']
    for name, port in [('Sonarr', 8989), ('Radarr', 7878)]:
        fields = {f['name']: f['value'] for f in prowlarr_apps[name]['fields']}
        assert prowlarr_apps[name]['syncLevel'] == 'fullSync'
        assert fields['baseUrl'] == 'http://{0}.media.svc.cluster.local:{1}'.format(name.lower(), port)
        assert fields['prowlarrUrl'] == 'http://prowlarr.media.svc.cluster.local:9696'
        assert fields['apiKey'] == apps[name.lower()].api_key
    qbt = apps['qbittorrent']
    assert qbt.preferences['save_path'] == '/data/torrents' and qbt.preferences['auto_tmm_enabled'] is True
    assert {n: c['savePath'] for n, c in qbt.categories.items()} == {'tv': '/data/torrents/tv',
                                                                     'movies': '/data/torrents/movies'}
    assert 'qbt-Pa55word' not in output and apps['sonarr'].api_key not in output
    jellyfin = apps['jellyfin']
    secret = get(url, '/api/v1/namespaces/media/secrets/media-stack-credentials')['data']
    jellyfin_password = base64.b64decode(secret['jellyfin-admin-password']).decode()
    assert jellyfin.wizard_completed and jellyfin.users['admin']['Password'] == jellyfin_password
    assert [(f['Name'], f['CollectionType'], f['Locations']) for f in jellyfin.folders] == [
        ('Movies', 'movies', ['/data/media/movies']), ('Shows', 'tvshows', ['/data/media/tv'])]
    assert jellyfin.config['ServerName'] == 'media' and jellyfin_password not in output
    # issue 22: the *arr apps ask every client for their forms login, with the password kept in the Secret
    arr_password = base64.b64decode(secret['arr-password']).decode()
    for name in ('sonarr', 'radarr', 'prowlarr'):
        assert apps[name].host['authenticationMethod'] == 'forms', name
        assert apps[name].host['authenticationRequired'] == 'enabled', name
        assert apps[name].user[0] == 'admin' and apps[name].password_matches(arr_password), name
    assert arr_password not in output

    writes = {name: len(app.writes) for name, app in apps.items()}
    changed, output = play(tmp_path, 'media-stack-wire-2', extra)
    assert changed == 0, output[-3000:]
    assert {name: len(app.writes) for name, app in apps.items()} == writes, 'the rerun made write calls'
