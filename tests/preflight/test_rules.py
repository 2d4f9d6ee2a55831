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
                               groups={'gpu_nodes': ['w3']}) == []


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
