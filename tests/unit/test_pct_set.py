"""pct_set against the pct TEST DOUBLE (tests/peers/pct_double.py) on files in a temp dir: read, compare, one
pct set with only the differences, nothing on a rerun or in check mode, devN beyond the list deleted."""

import importlib
import io
import json
import sys
from contextlib import redirect_stdout

import pytest
from ansible.module_utils.testing import patch_module_args

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / '.collections'))
MOD = importlib.import_module('ansible_collections.homelab.mediacluster.plugins.modules.pct_set')
DOUBLE = ROOT / 'tests' / 'peers' / 'pct_double.py'
CONF = ('arch: amd64\ndev0: /dev/null,gid=104,mode=0660\ndev1: /dev/zero\nfeatures: nesting=1\nhostname: k3s-w3\n'
        'memory: 8192\n\n[snap1]\nhostname: k3s-w3\n')


@pytest.fixture
def host(tmp_path):
    (tmp_path / 'etc' / 'pve' / 'lxc').mkdir(parents=True)
    conf = tmp_path / 'etc' / 'pve' / 'lxc' / '113.conf'
    conf.write_text(CONF)
    wrapper = tmp_path / 'pct'
    wrapper.write_text('#!/bin/sh\nPCT_DOUBLE_ROOT={0} exec {1} {2} "$@"\n'.format(tmp_path, sys.executable, DOUBLE))
    wrapper.chmod(0o755)
    calls = tmp_path / 'var' / 'log' / 'pct-double' / 'calls.jsonl'

    def run(check=False, diff=False, **args):
        args.update(vmid=113, pct=str(wrapper), _ansible_check_mode=check, _ansible_diff=diff)
        out = io.StringIO()
        with patch_module_args(args), redirect_stdout(out):
            with pytest.raises(SystemExit):
                MOD.main()
        return json.loads(out.getvalue())

    def sets():
        if not calls.exists():
            return []
        return [c['argv'][1:] for c in map(json.loads, calls.read_text().splitlines()) if c['argv'][0] == 'set']
    run.conf, run.sets = conf, sets
    return run


GPU = [{'path': '/dev/null', 'gid': 104, 'mode': '0660'}]


def test_same_state_makes_no_set_call(host):
    res = host(devices=GPU + [{'path': '/dev/zero'}], options={'features': {'nesting': True}})
    assert res['changed'] is False and res['command'] == [] and host.sets() == [], res
    assert host.conf.read_text() == CONF


def test_only_differences_are_set_and_extra_devices_deleted(host):
    checked = host(check=True, diff=True, devices=[dict(GPU[0], gid=105)])
    assert checked['changed'] and host.sets() == [] and host.conf.read_text() == CONF
    assert checked['diff'] == {'before': {'dev0': '/dev/null,gid=104,mode=0660', 'dev1': '/dev/zero'},
                               'after': {'dev0': '/dev/null,gid=105,mode=0660', 'dev1': None}}
    res = host(devices=[dict(GPU[0], gid=105)])
    assert res['changed'] and res['changed_keys'] == ['dev0', 'dev1'] and res['restart_required']
    assert host.sets() == [['113', '--dev0', '/dev/null,gid=105,mode=0660', '--delete', 'dev1']]
    text = host.conf.read_text()
    assert 'dev0: /dev/null,gid=105,mode=0660\n' in text and 'dev1' not in text and 'features: nesting=1' in text
    again = host(devices=[dict(GPU[0], gid=105)])
    assert again['changed'] is False and len(host.sets()) == 1


@pytest.mark.parametrize('args, message', [
    ({'devices': [{'path': 'dri/card0'}]}, 'is not a device path'),
    ({'devices': [{'path': '/dev/null', 'mode': '660'}]}, 'four octal digits'),
    ({'options': {'memory': '512'}}, 'not a root-only key'),
])
def test_bad_input_fails_before_any_set(host, args, message):
    res = host(**args)
    assert res.get('failed') and message in res['msg'] and 'Nothing was changed' in res['msg'], res
    assert host.sets() == []


def test_pct_refusing_the_value_fails_with_its_message(host):
    res = host(devices=[{'path': '/dev/no-such-device'}])
    assert res.get('failed') and 'No such file' in res['msg'] and 'pct set 113' in res['msg'], res
    assert host.conf.read_text() == CONF
