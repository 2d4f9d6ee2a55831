"""Preflight rules and plan for cloud libraries (issue 21): bad remotes are listed with a fix before anything
changes, Plex needs a namespace of its own for them, the cache must fit, and the plan printed by
playbooks/00_preflight.yml states the security consequence of turning the feature on."""

import importlib

import yaml

from ..conftest import ROOT, tail
from . import collection  # noqa: F401 - Ansible's loader first  # pylint: disable=unused-import
from .runner import copy_example, edit_yaml, needs_offline, preflight

rules = importlib.import_module('ansible_collections.homelab.mediacluster.plugins.module_utils.preflight_rules')
MEDIA = {'media_stack_nfs_server': '192.0.2.10', 'media_stack_nfs_path': '/data', 'media_stack_timezone': 'Etc/UTC',
         'media_stack_api_node': 'k3s-cp1',
         'media_stack_cloud_rclone_image': 'docker.io/rclone/rclone:1.68.2'}
ZURG = {'name': 'zurg', 'remote': 'zurg:__all__', 'apps': ['sonarr', 'radarr'], 'secret': 'rclone-zurg'}


def test_media_stack_apps_match_the_role_catalog():
    role_vars = yaml.safe_load((ROOT / 'roles' / 'media_stack' / 'vars' / 'main.yml').read_text())
    assert list(rules.MEDIA_STACK_APPS) == list(role_vars['_media_stack_catalog'])


def test_good_cloud_remotes_pass():
    assert rules.role_problems('media_stack', dict(MEDIA, media_stack_cloud_remotes=[ZURG])) == []


def test_bad_cloud_inputs_are_each_named():
    lines = rules.role_problems('media_stack', {
        **MEDIA,
        'media_stack_cloud_remotes': [dict(ZURG, apps=['plex']), dict(ZURG, name='torbox', remote='torbox')],
        'media_stack_cloud_mount_root': '/data',
        'media_stack_cloud_rclone_image': 'docker.io/rclone/rclone:latest',
    })
    text = '\n'.join(lines)
    assert 'media_stack_cloud_remotes[0].apps names plex, which this role does not run' in text
    assert "media_stack_cloud_remotes[1].remote='torbox' is not an rclone remote path" in text
    assert 'media_stack_cloud_mount_root=/data is not a free absolute path' in text
    assert 'media_stack_cloud_rclone_image=docker.io/rclone/rclone:latest is not pinned' in text


def test_the_cache_must_hold_every_vfs_cache_of_a_pod():
    lines = rules.role_problems('media_stack', {
        **MEDIA,
        'media_stack_cloud_remotes': [dict(ZURG, vfs_cache_max_size='20G'),
                                      dict(ZURG, name='torbox', remote='torbox:', vfs_cache_max_size='10G')],
        'media_stack_cloud_cache_size': '25Gi'})
    # one line per pod that mounts both (sonarr and radarr)
    assert len(lines) == 2, lines
    for app in ('sonarr', 'radarr'):
        assert any('the VFS caches of {0} (zurg, torbox) may grow to 30.0 GiB'.format(app) in line
                   for line in lines), lines


def test_plex_cloud_needs_a_namespace_of_its_own():
    base = {'plex_gpu_device_path': '/dev/dri/renderD128', 'plex_media_claim': 'media-data',
            'plex_cloud_remotes': [ZURG], 'plex_cloud_rclone_image': 'rclone/rclone:1.68.2', 'plex_timezone': 'Etc/UTC'}
    groups = {'gpu_nodes': ['w3'], 'storage_nodes': ['w1']}
    lines = rules.role_problems('plex', base, groups=groups)
    assert len(lines) == 1 and 'set plex_namespace_own: true' in lines[0], lines
    assert rules.role_problems('plex', dict(base, plex_namespace_own=True, plex_namespace='plex'),
                               groups=groups) == []


def test_the_plan_says_what_the_feature_costs():
    assert rules.cloud_plan({}, 'media_stack', 'media') == 'media_stack: cloud libraries off'
    line = rules.cloud_plan({'media_stack_cloud_remotes': [ZURG]}, 'media_stack', 'media')
    assert 'zurg (zurg:__all__) into sonarr, radarr' in line
    assert 'privileged rclone sidecar' in line and 'enforces Pod Security "privileged"' in line
    assert 'no longer refuses privileged pods' in line


@needs_offline
def test_preflight_prints_the_cloud_plan_and_refuses_a_bad_remote(tmp_path):
    inv = copy_example(tmp_path)
    code, output = preflight('preflight-cloud-off', inv)
    assert code == 0, tail(output)
    assert 'media_stack: cloud libraries off' in output and 'plex: cloud libraries off' in output
    apps = inv / 'group_vars' / 'all' / 'apps.yml'
    edit_yaml(apps, lambda data: data.update(media_stack_cloud_remotes=[ZURG]))
    code, output = preflight('preflight-cloud-on', inv)
    assert code == 0, tail(output)
    assert 'media_stack: cloud libraries ON: zurg (zurg:__all__) into sonarr, radarr. SECURITY' in output
    edit_yaml(apps, lambda data: data.update(media_stack_cloud_remotes=[dict(ZURG, secret=None)]))
    code, output = preflight('preflight-cloud-bad', inv)
    assert code != 0
    assert 'media_stack_cloud_remotes[0] (zurg) needs exactly one of secret' in output, tail(output)
