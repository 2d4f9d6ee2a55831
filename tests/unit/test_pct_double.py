"""The pct TEST DOUBLE (tests/peers/pct_double.py) itself: it must refuse what the real pct refuses, or the tests
that use it would prove nothing. Syntax from pve-container src/PVE/LXC/Config.pm ($dev_desc, verify_lxc_dev_string)."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

DOUBLE = str(ROOT / 'tests' / 'peers' / 'pct_double.py')
CONF = 'arch: amd64\nhostname: k3s-w3\nmemory: 8192\nlxc.cap.drop:\n\n[snap1]\nhostname: k3s-w3\n'


@pytest.fixture
def host(tmp_path):
    (tmp_path / 'etc' / 'pve' / 'lxc').mkdir(parents=True)
    (tmp_path / 'etc' / 'pve' / 'lxc' / '113.conf').write_text(CONF)

    def pct(*args):
        env = dict(os.environ, PCT_DOUBLE_ROOT=str(tmp_path))
        return subprocess.run([sys.executable, DOUBLE, *args], env=env, capture_output=True, text=True, check=False)
    pct.conf = tmp_path / 'etc' / 'pve' / 'lxc' / '113.conf'
    pct.calls = tmp_path / 'var' / 'log' / 'pct-double' / 'calls.jsonl'
    return pct


@pytest.mark.parametrize('value, error', [
    ('/dev/null,mode=660', 'regex'),
    ('/dev/null,mode=0999', 'regex'),
    ('dri/renderD128', 'not a valid device path'),
    ('/dev/../etc/passwd', 'not a valid device path'),
    ('/etc/passwd', 'not a valid device path'),
    ('/dev/null,gid=render', "type check ('integer')"),
    ('/dev/null,gid=-1', "type check ('integer')"),
    ('/dev/null,colour=red', "unknown parameter 'colour'"),
    ('/dev/null,gid=1,gid=2', "duplicate key 'gid'"),
    ('gid=104', 'Path is not defined'),
    ('/dev/nonexistent-device', 'No such file'),
    ('/dev/shm', 'is not a device'),
])
def test_bad_devn_values_are_refused(host, value, error):
    res = host('set', '113', '--dev0', value)
    assert res.returncode != 0 and error in res.stderr, (res.returncode, res.stderr)
    assert host.conf.read_text() == CONF


def test_unknown_options_and_bad_vmids_are_refused(host):
    assert 'Unknown option' in host('set', '113', '--memory', '512').stderr
    assert host('set', 'abc', '--dev0', '/dev/null').returncode != 0
    assert host('set', '113').returncode != 0
    assert host('set', '113', '--dev0').returncode != 0
    assert host('destroy', '113').returncode != 0
    assert host.conf.read_text() == CONF


def test_set_config_and_call_log(host):
    assert host('set', '113', '--dev0', 'path=/dev/null,gid=104,mode=0660').returncode == 0
    assert host('set', '113', '-dev1', '/dev/zero,deny-write=1').returncode == 0
    out = host('config', '113').stdout
    assert 'dev0: path=/dev/null,gid=104,mode=0660\n' in out and 'dev1: /dev/zero,deny-write=1\n' in out
    assert 'lxc.cap.drop:' in out
    assert host('set', '113', '--delete', 'dev1').returncode == 0
    assert 'dev1' not in host('config', '113').stdout
    assert host.conf.read_text().endswith('[snap1]\nhostname: k3s-w3\n')
    calls = [json.loads(line)['argv'] for line in host.calls.read_text().splitlines()]
    assert [c[0] for c in calls] == ['set', 'set', 'config', 'set', 'config']
