"""module_utils/cloud_mounts.py: the remote rules the preflight applies, the rclone arguments, the pod parts and the
mount check's verdict (issue 21)."""

import importlib
import sys

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / '.collections'))
CM = importlib.import_module('ansible_collections.homelab.mediacluster.plugins.module_utils.cloud_mounts')
APPS = ['sonarr', 'radarr', 'bazarr']
GOOD = {'name': 'zurg', 'remote': 'zurg:__all__', 'apps': ['sonarr'], 'secret': 'rclone-zurg'}


def test_a_good_remote_has_no_problem():
    assert CM.remote_problems([GOOD, dict(GOOD, name='torbox', secret=None, config='[torbox]\n')], '/cloud', APPS,
                              'media_stack') == []


@pytest.mark.parametrize('change, expected', [
    ({'name': 'Zurg'}, "name='Zurg' is not a short DNS label"),
    ({'remote': 'zurg'}, 'is not an rclone remote path'),
    ({'config': 'x'}, 'needs exactly one of secret'),
    ({'secret': None}, 'needs exactly one of secret'),
    ({'apps': []}, 'apps must list the apps'),
    ({'apps': ['plex']}, 'names plex, which this role does not run'),
    ({'vfs_cache_mode': 'all'}, 'vfs_cache_mode=all is not one of off, minimal, writes, full'),
    ({'poll_interval': '30'}, 'poll_interval=30 is not an rclone duration'),
    ({'vfs_cache_max_size': '10Gi'}, 'vfs_cache_max_size=10Gi is not an rclone size'),
    ({'extra_args': ['--config=/x']}, 'sets an option the sidecar owns'),
    ({'extra_args': ['buffer']}, 'extra_args must be a list of --options'),
    ({'mount': '/x'}, 'has unknown keys mount'),
])
def test_bad_remotes_are_named_with_a_fix(change, expected):
    problems = CM.remote_problems([dict(GOOD, **change)], '/cloud', APPS, 'media_stack')
    assert len(problems) == 1, problems
    assert expected in problems[0][1] and problems[0][2]


@pytest.mark.parametrize('root', ['/', '/data', '/data/', '/config', 'cloud', '/cloud dir', '/etc/rclone'])
def test_the_mount_root_must_be_a_free_absolute_path(root):
    problems = CM.remote_problems([GOOD], root, APPS, 'media_stack')
    assert [p[0] for p in problems] == ['media_stack_cloud_mount_root']


def test_duplicate_names_are_refused():
    problems = CM.remote_problems([GOOD, GOOD], '/cloud', APPS, 'media_stack')
    assert any('used twice' in p[1] for p in problems)


def test_mount_arguments():
    args = CM.mount_args(GOOD, '/cloud', 1000, 1001)
    assert args[:3] == ['mount', 'zurg:__all__', '/cloud/zurg']
    assert '--config=/etc/rclone/zurg/rclone.conf' in args and '--cache-dir=/cache/zurg' in args
    assert {'--allow-other', '--uid=1000', '--gid=1001', '--read-only', '--vfs-cache-mode=full'} <= set(args)
    assert '--read-only' not in CM.mount_args(dict(GOOD, read_only=False), '/cloud', 1000, 1000)


def test_no_remote_for_the_app_gives_nothing():
    parts = CM.pod_parts([GOOD], 'radarr', '/cloud', 'rclone/rclone:1.68.2', 1000, 1000, {}, '1Gi')
    assert parts == {'sidecars': [], 'volumes': [], 'app_mounts': [], 'annotation': ''}


def test_mount_status_verdict():
    pods = [{'name': 'sonarr-1', 'app': 'sonarr', 'node': 'w1', 'phase': 'Running'},
            {'name': 'sonarr-2', 'app': 'sonarr', 'node': 'w2', 'phase': 'Running'},
            {'name': 'sonarr-3', 'app': 'sonarr', 'node': 'w3', 'phase': 'Running'},
            {'name': 'sonarr-4', 'app': 'sonarr', 'node': None, 'phase': 'Pending'},
            {'name': 'radarr-1', 'app': 'radarr', 'node': 'w1', 'phase': 'Running'}]
    listing = {('sonarr-1', 'zurg'): {'rc': 0, 'fstype': 'fuse.rclone', 'count': 3},
               ('sonarr-2', 'zurg'): {'rc': 0, 'fstype': 'ext4', 'count': 0},
               ('sonarr-3', 'zurg'): {'rc': 2, 'fstype': 'fuse.rclone', 'error': 'Transport endpoint is not connected'}}
    result = CM.mount_status(pods, '/cloud', [GOOD], listing)
    states = {r['pod']: (r['state'], r['items']) for r in result['rows']}
    assert states == {'sonarr-1': ('OK', 3), 'sonarr-2': ('FAIL', None), 'sonarr-3': ('FAIL', None),
                      'sonarr-4': ('FAIL', None)}
    assert not result['ok'] and len(result['failed']) == 3
    details = {r['pod']: r['detail'] for r in result['failed']}
    assert 'mount propagation missing' in details['sonarr-2']
    assert 'Transport endpoint is not connected' in details['sonarr-3'] and 'stale' in details['sonarr-3']
    assert details['sonarr-4'] == 'pod is Pending'
    assert CM.mount_status(pods[:1], '/cloud', [GOOD], listing)['ok']
