"""plugins/module_utils/preflight_rules.py directly: the role entry point (role_problems) and helpers."""

import importlib

import yaml

from ..conftest import ROOT
from . import collection  # noqa: F401 - Ansible's loader first  # pylint: disable=unused-import

rules = importlib.import_module('ansible_collections.homelab.mediacluster.plugins.module_utils.preflight_rules')


def test_media_stack_api_key_apps_match_the_role_vars():
    role_vars = yaml.safe_load((ROOT / 'roles' / 'media_stack' / 'vars' / 'main.yml').read_text())
    assert list(rules.MEDIA_STACK_API_KEY_APPS) == role_vars['_media_stack_api_key_apps']


def test_identical_problems_at_several_places_collapse_into_one_line():
    report = rules.Report()
    for host in ('w1', 'w2', 'w1'):
        report.add(host, 'same thing', 'same fix')
    report.add('w3', 'other thing')
    assert report.lines() == ['w1, w2: same thing; same fix', 'w3: other thing']


def test_role_problems_longhorn_counts_storage_nodes_from_the_groups():
    groups = {'storage_nodes': ['w1']}
    lines = rules.role_problems('longhorn', {'longhorn_replica_count': 2, 'longhorn_storage_nodes': ['w1']},
                                groups=groups)
    assert lines == ['longhorn_replica_count: longhorn_replica_count=2 needs at least that many storage nodes, and '
                     'there are 1 (w1); add nodes to the storage_nodes group or lower longhorn_replica_count '
                     '(Longhorn never places two replicas of a volume on one node)']


def test_role_problems_accepts_good_inputs():
    assert rules.role_problems('plex', {'plex_claim_token': 'claim-Ab_c-123456789', 'plex_domain': 'home.lan',
                                        'plex_gpu_device_path': '/dev/dri/renderD128',
                                        'plex_media_nfs_server': 'nas', 'plex_media_nfs_path': '/data',
                                        'plex_timezone': 'Europe/Berlin'},
                               groups={'gpu_nodes': ['w3'], 'storage_nodes': ['w1']}) == []


def test_ip_literals_and_dns_names_are_told_apart():
    assert rules.looks_like_ip('192.168.1.256') and rules.parse_ip('192.168.1.256') is None
    assert rules.looks_like_ip('192.168.1') and not rules.looks_like_ip('nas.lan')
    assert not rules.looks_like_ip('k3s-w1') and rules.looks_like_ip('fe80::1')


def test_timezones_come_from_the_tz_database():
    assert rules.timezone_exists('America/Chicago') and rules.timezone_exists('Etc/UTC')
    assert not rules.timezone_exists('America/Chicgo')
    assert not rules.timezone_exists('../../etc/passwd')


def test_did_you_mean_prefers_swapped_letters():
    assert rules.close_to('media_stack_gpid', ['media_stack_puid', 'media_stack_pgid']) == 'media_stack_pgid'
    assert rules.close_to('something_else', ['media_stack_pgid']) is None


def test_media_stack_export_mode_needs_what_apply_mode_generates_or_reads():
    export = {'k8s_delivery_mode': 'export', 'media_stack_route': 'httproute', 'media_stack_prowlarr_enabled': True,
              'media_stack_timezone': 'Etc/UTC', 'media_stack_api_node': 'k3s-cp1',
              'media_stack_sonarr_enabled': 'yes', 'media_stack_sabnzbd_enabled': False,
              'media_stack_gateway_parent_refs': [{'name': 'homelab'}], 'media_stack_nfs_server': 'nas',
              'media_stack_nfs_path': '/data'}
    lines = rules.role_problems('media_stack', export)
    assert any(line.startswith('k8s_delivery_crd_paths: media_stack_route=httproute in k8s_delivery_mode=export')
               for line in lines), lines
    keys = [line for line in lines if line.startswith('media_stack_api_keys:')]
    assert len(keys) == 1 and '(prowlarr, sonarr)' in keys[0], lines
    assert any(line.startswith('media_stack_qbittorrent_password: k8s_delivery_mode=export') for line in lines)
    assert any(line.startswith('media_stack_jellyfin_admin_password: k8s_delivery_mode=export') for line in lines)
    given = dict(export, k8s_delivery_crd_paths=['/gw.yaml'], media_stack_qbittorrent_password='x' * 12,
                 media_stack_jellyfin_admin_password='y' * 12,
                 media_stack_api_keys={'prowlarr': '0' * 32, 'sonarr': '1' * 32})
    assert rules.role_problems('media_stack', given) == []
    assert rules.role_problems('media_stack', dict(given, k8s_delivery_mode='apply', media_stack_api_keys={},
                                                   media_stack_qbittorrent_password='')) == []


def test_media_stack_qbittorrent_user_name_without_control_characters():
    base = {'media_stack_nfs_server': 'nas', 'media_stack_nfs_path': '/data', 'media_stack_timezone': 'Etc/UTC',
            'media_stack_api_node': 'k3s-cp1'}
    assert rules.role_problems('media_stack', dict(base, media_stack_qbittorrent_username='j\u00f6rg, "x"; y')) == []
    for bad in ('', 'a\nb', 'tab\there', 42):
        lines = rules.role_problems('media_stack', dict(base, media_stack_qbittorrent_username=bad))
        assert len(lines) == 1 and lines[0].startswith('media_stack_qbittorrent_username: '), (bad, lines)


PLEX = {'plex_media_claim': 'media-data', 'plex_timezone': 'Etc/UTC', 'plex_gpu_device_path': '/dev/dri/renderD128'}


def _plex(groups=None, **extra):
    return rules.role_problems('plex', dict(PLEX, **extra),
                               groups=groups or {'gpu_nodes': ['k3s-w3'], 'storage_nodes': ['k3s-w1']})


def test_plex_pod_security_combinations_are_refused_before_anything_changes():
    assert _plex() == []
    assert _plex(plex_gpu_plugin_namespace='media')[0].startswith(
        'plex_gpu_plugin_namespace: plex_gpu_plugin_namespace=media must be a DNS label naming a namespace')
    assert _plex(plex_gpu_plugin_namespace='kube-system') != []
    # no plugin in privileged mode, so its namespace does not matter; Plex itself needs a namespace of its own
    assert _plex(plex_gpu_mode='privileged', plex_gpu_plugin_namespace='kube-system', plex_namespace='plex',
                 plex_namespace_own=True) == []
    local = _plex(plex_config_mode='local')
    assert len(local) == 1 and 'plex_config_mode=local (a hostPath /config) needs Pod Security "privileged"' in local[0]
    assert _plex(plex_config_mode='local', plex_namespace='plex', plex_namespace_own=True) == []
    shared = _plex(plex_namespace_own=True)
    assert len(shared) == 1 and "plex_namespace=media is the media stack's" in shared[0]
    assert _plex(plex_namespace_own=True, plex_namespace='gpu', plex_gpu_plugin_namespace='gpu')


def test_plex_config_holder_nodes_and_a_pinned_export():
    # the config holder mounts the claim through Longhorn's CSI driver: a storage node that is not a GPU node
    only_gpu = {'gpu_nodes': ['k3s-w3.lan'], 'storage_nodes': ['k3s-w3']}
    lines = _plex(groups=only_gpu)
    assert lines == ["plex_storage_group: plex_config_mode=longhorn needs Longhorn storage nodes that are not GPU "
                     "nodes for the config holder (it mounts the claim through Longhorn's CSI driver, which an LXC "
                     "GPU node cannot): group storage_nodes has ['k3s-w3'], Plex's nodes (gpu_nodes) are ['k3s-w3'], "
                     "which leaves none; fix the inventory groups, or use plex_config_mode=local"], lines
    assert _plex(groups=only_gpu, plex_config_mode='local', plex_namespace='plex', plex_namespace_own=True) == []
    share = {'server': '10.43.17.201', 'path': '/pvc-1', 'volume': 'pvc-1'}
    assert _plex(plex_config_share=share) == []
    for broken in ({'server': '10.43.17.201', 'path': 'pvc-1', 'volume': 'pvc-1'}, dict(share, volume=''),
                   {'server': '10.43.17.201'}, ['10.43.17.201']):
        lines = _plex(plex_config_share=broken)
        assert len(lines) == 1 and lines[0].startswith('plex_config_share: plex_config_share must have server'), lines


def test_plex_route_and_preference_names():
    assert _plex(plex_route='gateway')[0].startswith('plex_route: plex_route=gateway is not ingress or httproute')
    assert _plex(plex_route='httproute') == []  # no domain, no route
    lines = _plex(plex_route='httproute', plex_domain='media.example', k8s_delivery_mode='export')
    assert [line.split(':')[0] for line in lines] == ['plex_gateway_parent_refs', 'k8s_delivery_crd_paths'], lines
    assert _plex(plex_route='httproute', plex_domain='media.example',
                 plex_gateway_parent_refs=[{'name': 'homelab'}]) == []
    bad = _plex(plex_preferences={'TranscoderQuality': 2, 'bad name': 1, '1st': 0})
    assert len(bad) == 1 and 'plex_preferences names 1st, bad name are not Preferences.xml' in bad[0]


def test_media_stack_wiring_reach_and_jellyfin_libraries():
    base = {'media_stack_nfs_server': 'nas', 'media_stack_nfs_path': '/data', 'media_stack_timezone': 'Etc/UTC',
            'media_stack_sonarr_enabled': True, 'media_stack_jellyfin_enabled': True}
    servers = {'k3s_servers': ['k3s-cp1']}
    assert rules.role_problems('media_stack', base, groups=servers) == []
    lines = rules.role_problems('media_stack', base, groups={})
    assert len(lines) == 1 and lines[0].startswith('media_stack_api_node: media_stack_api_access=node'), lines
    url = dict(base, media_stack_api_access='url', media_stack_api_urls={'sonarr': 'https://sonarr.example'})
    lines = rules.role_problems('media_stack', url, groups=servers)
    assert lines == ['media_stack_api_urls: media_stack_api_access=url has no URL for jellyfin; give '
                     'media_stack_api_urls for every wired app, e.g. {sonarr: https://sonarr.example}, or '
                     'media_stack_wire: false'], lines
    assert rules.role_problems('media_stack', dict(url, media_stack_jellyfin_setup=False), groups=servers) == []
    assert rules.role_problems('media_stack', dict(base, media_stack_wire=False), groups={}) == []
    for libraries in ([{'name': 'Movies', 'paths': ['/data/media/movies']}, {'name': 'movies', 'paths': ['/data/x']}],
                      [{'name': 'Movies', 'paths': '/data/media/movies'}], [{'name': 'TV', 'paths': ['/mnt/tv']}],
                      [{'name': 'TV', 'paths': []}]):
        lines = rules.role_problems('media_stack', dict(base, media_stack_jellyfin_libraries=libraries), groups=servers)
        assert [line.split(':')[0] for line in lines] == ['media_stack_jellyfin_libraries'], (libraries, lines)
    good = [{'name': 'Movies', 'type': 'movies', 'paths': ['/data/media/movies']},
            {'name': 'Shows', 'type': 'tvshows', 'paths': ['/data/media/tv', '/data']}]
    assert rules.role_problems('media_stack', dict(base, media_stack_jellyfin_libraries=good), groups=servers) == []


def test_proxmox_k3s_lxc_raw_keys_device_and_host_tunables():
    assert rules.role_problems('proxmox_k3s_lxc', {'proxmox_k3s_lxc_raw_keys': {'lxc.apparmor.profile': 'unconfined'},
                                                   'proxmox_k3s_lxc_sysctls': {'vm.overcommit_memory': 1}}) == []
    lines = rules.role_problems('proxmox_k3s_lxc', {
        'proxmox_k3s_lxc_raw_keys': {'features': 'nesting=1', 'lxc.cap.drop': ''},
        'proxmox_k3s_lxc_gpu_device': 'dri/renderD128',
        'proxmox_k3s_lxc_sysctls': {'net.ipv4.ip_forward': 1, 'kernel.panic': 10}})
    assert [line.split(':')[0] for line in lines] == ['proxmox_k3s_lxc_raw_keys', 'proxmox_k3s_lxc_gpu_device',
                                                      'proxmox_k3s_lxc_sysctls'], lines
    assert 'holds features, which are not raw lxc.* keys' in lines[0] and 'net.ipv4.ip_forward' in lines[2]


def test_k3s_lxc_node_render_group_and_the_gpu_device_it_shares():
    """k3s_lxc_node checks its render group name and the GPU device it reads from proxmox_k3s_lxc; the old
    (deprecated) name of the group is checked when it is the one set."""
    assert rules.role_problems('k3s_lxc_node', {'k3s_lxc_node_render_group': 'render'}) == []
    lines = rules.role_problems('k3s_lxc_node', {'k3s_lxc_node_render_group': 'Render Group',
                                                 'proxmox_k3s_lxc_gpu_device': 'dri/renderD128'})
    assert [line.split(':')[0] for line in lines] == ['proxmox_k3s_lxc_gpu_device', 'k3s_lxc_node_render_group'], lines
    lines = rules.role_problems('k3s_lxc_node', {'proxmox_k3s_lxc_render_group': 'video group'})
    assert lines and lines[0].startswith(
        'proxmox_k3s_lxc_render_group: proxmox_k3s_lxc_render_group=video group'), lines


def test_deprecated_lxc_names_are_known_to_the_unknown_variable_check():
    """The container-side variables moved to k3s_lxc_node (issue 20); an inventory still using the old names is not
    told they do not exist (the role obeys them, with a deprecation warning), while a typo still is."""
    role_vars = yaml.safe_load((ROOT / 'roles' / 'k3s_lxc_node' / 'vars' / 'main.yml').read_text())
    assert rules.DEPRECATED_NAMES == role_vars['_k3s_lxc_node_deprecated']
    specs = {'proxmox_k3s_lxc': {'proxmox_k3s_lxc_restart': {}}, 'k3s_lxc_node': {'k3s_lxc_node_render_group': {}}}
    report = rules.Report()
    rules.unknown_variables({'w3': ['proxmox_k3s_lxc_render_group', 'proxmox_k3s_lxc_restrat']}, specs, report,
                            lambda name: None)
    assert [line.split(':')[0] for line in report.lines()] == ['w3 proxmox_k3s_lxc_restrat'], report.lines()


EXTRAS = {'media_stack_sabnzbd_enabled': True, 'media_stack_bazarr_enabled': 'yes', 'media_stack_timezone': 'Etc/UTC',
          'media_stack_api_node': 'k3s-cp1', 'media_stack_nfs_server': 'nas', 'media_stack_nfs_path': '/data'}


def _login_lines(**extra):
    return [line for line in rules.role_problems('media_stack', dict(EXTRAS, **extra))
            if line.startswith(('media_stack_arr_username', 'media_stack_arr_password'))]


def test_sabnzbd_and_bazarr_enabled_without_their_login_credentials_are_refused():
    """Issue 22: SABnzbd and Bazarr get their own login from the *arr apps' credentials; an enabled one without them
    stops the preflight with what to set. Apply mode generates and keeps a password; export mode (no state, the init
    containers write the login) needs it given; a password of asterisks only is what SABnzbd ignores."""
    assert _login_lines() == []  # apply mode: the password is generated once and kept in the Secret
    [line] = _login_lines(k8s_delivery_mode='export', media_stack_api_keys={'sabnzbd': 'a' * 32, 'bazarr': 'b' * 32})
    assert line.startswith('media_stack_arr_password: SABnzbd and Bazarr (enabled: bazarr, sabnzbd) get their own '
                           'login, and k8s_delivery_mode=export keeps no state'), line
    assert 'give media_stack_arr_password' in line
    [line] = _login_lines(media_stack_arr_username='')
    assert line.startswith('media_stack_arr_username: media_stack_arr_username is empty'), line
    [line] = _login_lines(media_stack_arr_password='*' * 10)
    assert 'made only of *' in line and '*' * 10 not in line, line
    [line] = _login_lines(media_stack_arr_username='ad#min')
    assert "media_stack_arr_username='ad#min' cannot be written into SABnzbd's sabnzbd.ini" in line, line
    [line] = _login_lines(media_stack_arr_password='pässword')
    assert 'other than printable ASCII' in line and 'pässword' not in line, line
    assert _login_lines(media_stack_arr_password='ok #with spaces', media_stack_arr_username='me@home.lan') == []
    assert _login_lines(media_stack_arr_password='*' * 10, media_stack_arr_auth_method='none') == []
    assert _login_lines(media_stack_sabnzbd_enabled=False, media_stack_bazarr_enabled=False,
                        media_stack_arr_username='') == []
