"""The media_stack role's decisions as filters (issue 20: programs out of Jinja): plugins/filter/media_stack.py
(credentials, wiring hosts, API addresses, Bazarr's links, the declared traffic) and the cloud mount check's
cloud_mount_checks / cloud_mount_verdicts in plugins/filter/cloud_mounts.py. The roles' runs against kmock and the
fake apps (test_apply_and_wire.py, test_verify_cloud_mounts.py, the golden files) show the role still behaves the
same; these pin each rule."""

import base64
import hashlib
import re

import pytest

from ansible_collections.homelab.mediacluster.plugins.filter import cloud_mounts as cloud
from ansible_collections.homelab.mediacluster.plugins.filter import media_stack as ms
from ansible_collections.homelab.mediacluster.plugins.filter.qbittorrent_password_hash import (
    qbittorrent_password_hash,
)

CATALOG = {'prowlarr': {'port': 9696, 'data': False}, 'sonarr': {'port': 8989, 'data': True},
           'radarr': {'port': 7878, 'data': True}, 'qbittorrent': {'port': 8080, 'data': True},
           'jellyfin': {'port': 8096, 'data': True}, 'seerr': {'port': 5055, 'data': False}}
KEY_APPS = ['prowlarr', 'sonarr', 'radarr', 'sabnzbd', 'bazarr']
CORE = ['prowlarr', 'sonarr', 'radarr', 'qbittorrent', 'jellyfin']
GIVEN = {'namespace': 'media', 'api_keys': {}, 'qbittorrent_username': 'admin', 'qbittorrent_password': '',
         'arr_username': 'arr', 'arr_password': '', 'jellyfin_admin_username': 'admin',
         'jellyfin_admin_password': ''}


def secret(**data):
    return [{'data': {k.replace('_', '-'): base64.b64encode(v.encode()).decode() for k, v in data.items()}}]


# --- credentials -------------------------------------------------------------------------------------------------

def test_fresh_apply_run_generates_every_missing_value_in_its_alphabet():
    creds = ms.media_stack_credentials([], CORE, KEY_APPS, GIVEN)
    assert list(creds) == ['prowlarr-api-key', 'sonarr-api-key', 'radarr-api-key', 'qbittorrent-username',
                           'qbittorrent-password', 'qbittorrent-password-salt', 'qbittorrent-password-pbkdf2',
                           'arr-username', 'arr-password', 'jellyfin-admin-username', 'jellyfin-admin-password']
    for app in ('prowlarr', 'sonarr', 'radarr'):
        assert re.fullmatch('[0-9a-f]{32}', creds[app + '-api-key'])
    for key, length in (('qbittorrent-password', 24), ('qbittorrent-password-salt', 16), ('arr-password', 24),
                        ('jellyfin-admin-password', 24)):
        assert re.fullmatch('[A-Za-z0-9]{%d}' % length, creds[key]), key
    assert creds['qbittorrent-password-pbkdf2'] == qbittorrent_password_hash(creds['qbittorrent-password'],
                                                                             creds['qbittorrent-password-salt'])
    assert (creds['qbittorrent-username'], creds['arr-username']) == ('admin', 'arr')
    # generated once: a second run reads them back from the Secret and keeps every one
    stored = [{'data': {k: base64.b64encode(v.encode()).decode() for k, v in creds.items()}}]
    assert ms.media_stack_credentials(stored, CORE, KEY_APPS, GIVEN) == creds


def test_given_wins_over_stored_and_stored_over_generated():
    stored = secret(sonarr_api_key='s' * 32, radarr_api_key='', qbittorrent_password='old',
                    qbittorrent_password_salt='x' * 16, jellyfin_admin_password='jf-old')
    given = dict(GIVEN, api_keys={'sonarr': 'n' * 32, 'radarr': ''}, qbittorrent_password='new')
    creds = ms.media_stack_credentials(stored, CORE, KEY_APPS, given)
    assert creds['sonarr-api-key'] == 'n' * 32
    # an empty given key counts as not given; an empty stored value is kept (as the Jinja it replaces did)
    assert creds['radarr-api-key'] == ''
    assert creds['qbittorrent-password'] == 'new' and creds['qbittorrent-password-salt'] == 'x' * 16
    assert creds['jellyfin-admin-password'] == 'jf-old'


def test_keys_of_apps_that_are_off_only_once_enabled_given_or_stored():
    creds = ms.media_stack_credentials(secret(bazarr_api_key='b' * 32), ['sonarr'], KEY_APPS,
                                       dict(GIVEN, api_keys={'sabnzbd': 'z' * 32}))
    assert sorted(k for k in creds if k.endswith('-api-key')) == ['bazarr-api-key', 'sabnzbd-api-key',
                                                                  'sonarr-api-key']
    assert creds['bazarr-api-key'] == 'b' * 32 and creds['sabnzbd-api-key'] == 'z' * 32


def test_export_mode_derives_the_salt_and_writes_the_arr_login_only_when_given():
    given = dict(GIVEN, qbittorrent_password='pw', jellyfin_admin_password='jf', api_keys={'prowlarr': 'p' * 32})
    creds = ms.media_stack_credentials([], ['prowlarr'], KEY_APPS, given, 'export')
    assert creds['qbittorrent-password-salt'] == hashlib.sha256(b'pwmedia').hexdigest()[:24]
    assert creds == ms.media_stack_credentials([], ['prowlarr'], KEY_APPS, given, 'export')  # same tree every run
    assert 'arr-password' not in creds and 'arr-username' not in creds
    with_arr = ms.media_stack_credentials([], ['prowlarr'], KEY_APPS, dict(given, arr_password='a'), 'export')
    assert (with_arr['arr-username'], with_arr['arr-password']) == ('arr', 'a')


def test_an_unknown_mode_is_refused():
    with pytest.raises(Exception, match='mode must be apply or export'):
        ms.media_stack_credentials([], CORE, KEY_APPS, GIVEN, 'gitops')


# --- where the wiring runs, and the API addresses ----------------------------------------------------------------

def pod(app, node=None):
    spec = {'nodeName': node} if node else {}
    return {'metadata': {'labels': {'app.kubernetes.io/name': app}}, 'spec': spec}


NODES = [{'name': 'w1', 'host': 'k3s-w1.lan'}, {'name': 'w2', 'host': 'k3s-w2.lan'}]


def test_node_mode_calls_from_the_node_of_the_first_placed_pod():
    pods = [pod('sonarr'), pod('sonarr', 'w2'), pod('sonarr', 'w1'), pod('radarr', 'w9'), pod('jellyfin', 'w1')]
    hosts = ms.media_stack_wire_hosts(['sonarr', 'radarr', 'prowlarr'], 'node', NODES, pods, 'ctl')
    # radarr runs on a node outside the inventory: '' (the role's assert names it); prowlarr has no placed pod
    assert hosts == {'sonarr': 'k3s-w2.lan', 'radarr': ''}


def test_url_mode_calls_from_the_api_host():
    assert ms.media_stack_wire_hosts(['sonarr', 'radarr'], 'url', NODES, [pod('sonarr', 'w1')], 'ctl') == {
        'sonarr': 'ctl', 'radarr': 'ctl'}


def service(app, ip):
    return {'ansible_loop_var': '_media_stack_app', '_media_stack_app': app,
            'resources': [{'spec': {'clusterIP': ip}}] if ip is not None else []}


def test_api_addresses_from_the_services_cluster_ips():
    results = [service('sonarr', '10.43.0.5'), service('radarr', 'None'), service('prowlarr', None),
               service('jellyfin', '')]
    assert ms.media_stack_api_urls(results, 'node', {'sonarr': 'http://x'}, CATALOG) == {
        'sonarr': 'http://10.43.0.5:8989'}
    assert ms.media_stack_api_urls(results, 'url', {'sonarr': 'http://x'}, CATALOG) == {'sonarr': 'http://x'}


def test_bazarr_links_only_the_enabled_apps_and_keeps_the_keys_apart():
    links = ms.media_stack_bazarr_links(['radarr', 'bazarr'], '{0}.media.svc.cluster.local', CATALOG,
                                        {'radarr-api-key': 'r' * 32, 'sonarr-api-key': 's' * 32})
    assert links == {'settings': {'general': {'use_radarr': True},
                                  'radarr': {'ip': 'radarr.media.svc.cluster.local', 'port': 7878, 'base_url': '/',
                                             'ssl': False}},
                     'secrets': {'radarr': {'apikey': 'r' * 32}}}


# --- the declared traffic ----------------------------------------------------------------------------------------

def flows(apps, **kw):
    args = dict(namespace='media', catalog=CATALOG, app_calls=[['prowlarr', 'sonarr'], ['seerr', 'sonarr']],
                ingress_namespaces=['kube-system'], nfs_server='192.0.2.10', wired_from_nodes=[])
    args.update(kw)
    return ms.media_stack_flows(apps, **args)


def test_flows_of_two_apps_in_order():
    names = [f['name'] for f in flows(['prowlarr', 'sonarr'], wired_from_nodes=['sonarr'])]
    assert names == [
        'prowlarr calls the sonarr API',
        'the ingress controller in kube-system reaches prowlarr',
        'prowlarr resolves names (DNS over UDP)', 'prowlarr resolves names (DNS over TCP)',
        'prowlarr reaches the internet (indexers, metadata, updates)',
        'the ingress controller in kube-system reaches sonarr',
        'sonarr resolves names (DNS over UDP)', 'sonarr resolves names (DNS over TCP)',
        'sonarr reaches the internet (indexers, metadata, updates)',
        'the node running sonarr mounts /data from the NAS (NFS)',
        'wiring: the node running sonarr calls its API']
    first = flows(['prowlarr', 'sonarr'])[0]
    assert first == {'name': 'prowlarr calls the sonarr API',
                     'source': {'kind': 'pod', 'namespace': 'media', 'labels': {'app.kubernetes.io/name': 'prowlarr'}},
                     'destination': {'namespace': 'media', 'labels': {'app.kubernetes.io/name': 'sonarr'},
                                     'port': 8989, 'protocol': 'TCP'}}


def test_no_nfs_flow_for_a_nas_given_by_name_and_no_ingress_flow_without_routes():
    names = [f['name'] for f in flows(['sonarr'], nfs_server='nas.lan', ingress_namespaces=[])]
    assert not [n for n in names if 'NFS' in n or 'ingress' in n]
    assert 'seerr calls the sonarr API' not in names  # seerr is off


# --- the cloud mount check ---------------------------------------------------------------------------------------

REMOTES = [{'name': 'zurg', 'remote': 'zurg:', 'apps': ['sonarr'], 'secret': 'rclone-zurg'}]
TARGETS = [{'namespace': 'media', 'root': '/cloud', 'remotes': REMOTES},
           {'namespace': 'plex', 'root': '/cloud', 'remotes': [dict(REMOTES[0], apps=['plex'])]}]


def k8s_pod(name, app, namespace, phase='Running'):
    return {'metadata': {'name': name, 'namespace': namespace, 'labels': {'app.kubernetes.io/name': app}},
            'spec': {'nodeName': 'w1', 'containers': [{'name': app}]}, 'status': {'phase': phase}}


POD_RESULTS = [{'ansible_loop_var': '_t', '_t': TARGETS[0], 'resources': [k8s_pod('sonarr-1', 'sonarr', 'media')]},
               {'ansible_loop_var': '_t', '_t': TARGETS[1], 'resources': [k8s_pod('plex-0', 'plex', 'plex')]}]


def test_cloud_checks_per_namespace_with_their_namespace():
    checks = cloud.cloud_mount_checks(TARGETS, POD_RESULTS)
    assert [(c['namespace'], c['pod'], c['app'], c['remote']) for c in checks] == [
        ('media', 'sonarr-1', 'sonarr', 'zurg'), ('plex', 'plex-0', 'plex', 'zurg')]
    assert checks[0]['command'] == cloud.cloud_mount_targets(POD_RESULTS[0]['resources'], '/cloud',
                                                             REMOTES)[0]['command']


def test_cloud_verdicts_judge_each_namespace_with_its_own_probes():
    checks = cloud.cloud_mount_checks(TARGETS, POD_RESULTS)
    probes = [{'ansible_loop_var': '_c', '_c': checks[0], 'rc': 0, 'stdout': 'fuse.rclone\n3\n', 'stderr': ''},
              {'ansible_loop_var': '_c', '_c': checks[1], 'rc': 1, 'stdout': '', 'stderr': '',
               'msg': 'exec refused'}]
    verdicts = cloud.cloud_mount_verdicts(TARGETS, POD_RESULTS, probes)
    assert [v['ok'] for v in verdicts] == [True, False]
    assert verdicts[0]['lines'][0].startswith('OK sonarr-1')
    assert 'exec refused' in verdicts[1]['lines'][0]
