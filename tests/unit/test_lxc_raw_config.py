"""lxc_raw_config on real files: main section only, sets for multi-valued keys, comments and snapshots kept."""

import importlib
import io
import json
import sys
from contextlib import redirect_stdout

import pytest
from ansible.module_utils.testing import patch_module_args

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / '.collections'))
MOD = importlib.import_module('ansible_collections.homelab.mediacluster.plugins.modules.lxc_raw_config')

CONF = """# k3s-w3 GPU worker
#   notes kept verbatim
arch: amd64
cores: 4
dev0: /dev/dri/renderD128,gid=992,mode=0660
hostname: k3s-w3
lxc.cgroup2.devices.allow: c 226:* rwm
lxc.apparmor.profile: generated
lxc.apparmor.profile: generated
memory: 8192
rootfs: local-lvm:vm-113-disk-0,size=40G

[before-upgrade]
arch: amd64
hostname: k3s-w3
lxc.apparmor.profile: generated
snaptime: 1700000000
"""

K3S = {
    'lxc.apparmor.profile': 'unconfined',
    'lxc.cgroup2.devices.allow': ['a', 'c 226:* rwm'],
    'lxc.cap.drop': '',
    'lxc.mount.auto': 'proc:rw sys:rw',
    'lxc.mount.entry': ['/dev/kmsg dev/kmsg none defaults,bind,create=file'],
}


def run(path, check=False, diff=False, **args):
    args.setdefault('vmid', 113)
    args.update(path=str(path), _ansible_check_mode=check, _ansible_diff=diff)
    out = io.StringIO()
    with patch_module_args(args), redirect_stdout(out):
        with pytest.raises(SystemExit):
            MOD.main()
    return json.loads(out.getvalue())


@pytest.fixture
def conf(tmp_path):
    path = tmp_path / '113.conf'
    path.write_text(CONF)
    return path


def test_sets_k3s_keys_before_snapshots_and_keeps_the_rest(conf):
    res = run(conf, entries=K3S)
    assert res['changed'] is True and res['restart_required'] is True
    text = conf.read_text()
    main, snap = text.split('[before-upgrade]')
    assert text.startswith('# k3s-w3 GPU worker\n#   notes kept verbatim\narch: amd64\n')
    assert main.count('lxc.apparmor.profile') == 1 and 'lxc.apparmor.profile: unconfined' in main
    assert main.count('lxc.cgroup2.devices.allow: c 226:* rwm') == 1
    assert 'lxc.cgroup2.devices.allow: a\n' in main
    assert 'lxc.cap.drop:\n' in main
    assert 'lxc.mount.auto: proc:rw sys:rw\n' in main
    assert 'lxc.mount.entry: /dev/kmsg dev/kmsg none defaults,bind,create=file\n' in main
    assert main.endswith('\n\n'), 'the blank line before the snapshot section stays'
    assert snap == CONF.split('[before-upgrade]')[1], 'the snapshot section is untouched'
    assert 'dev0: /dev/dri/renderD128,gid=992,mode=0660' in main and 'memory: 8192' in main
    assert sorted(res['removed']) == ['lxc.apparmor.profile: generated'] * 2
    again = run(conf, entries=K3S)
    assert again['changed'] is False and again['restart_required'] is False
    assert conf.read_text() == text


def test_multi_valued_keys_are_sets_not_last_wins(conf):
    run(conf, entries={'lxc.mount.entry': ['/dev/dri dev/dri none bind,optional,create=dir']})
    run(conf, entries={'lxc.mount.entry': ['/dev/kmsg dev/kmsg none defaults,bind,create=file']})
    main = conf.read_text().split('[')[0]
    assert main.count('lxc.mount.entry:') == 2
    res = run(conf, exclusive=True, entries={'lxc.mount.entry': ['/dev/kmsg dev/kmsg none defaults,bind,create=file']})
    assert res['removed'] == ['lxc.mount.entry: /dev/dri dev/dri none bind,optional,create=dir']
    assert conf.read_text().split('[')[0].count('lxc.mount.entry:') == 1


def test_check_mode_and_diff_leave_the_file(conf):
    res = run(conf, check=True, diff=True, entries=K3S)
    assert res['changed'] is True and conf.read_text() == CONF
    assert res['diff']['before'] == CONF and 'lxc.apparmor.profile: unconfined' in res['diff']['after']


def test_absent_removes_only_listed_values(conf):
    res = run(conf, state='absent', entries={'lxc.cgroup2.devices.allow': ['c 226:* rwm'],
                                             'lxc.apparmor.profile': None})
    assert res['changed'] is True
    text = conf.read_text()
    main, snap = text.split('[before-upgrade]')
    assert 'lxc.cgroup2' not in main and 'lxc.apparmor' not in main
    assert 'lxc.apparmor.profile: generated' in snap


def test_bad_inputs_change_nothing(conf, tmp_path):
    res = run(conf, entries={'cores': '8'})
    assert res['failed'] and 'not a raw lxc.* key' in res['msg'] and conf.read_text() == CONF
    res = run(conf, entries={'lxc.apparmor.profile': ['a', 'b']})
    assert res['failed'] and 'holds one value' in res['msg'] and conf.read_text() == CONF
    res = run(tmp_path / 'missing.conf', entries=K3S)
    assert res['failed'] and 'has no config file' in res['msg']


def test_file_without_trailing_newline_or_snapshots(tmp_path):
    path = tmp_path / '200.conf'
    path.write_text('hostname: x\nmemory: 512')
    run(path, vmid=200, entries={'lxc.apparmor.profile': 'unconfined'})
    assert path.read_text() == 'hostname: x\nmemory: 512\nlxc.apparmor.profile: unconfined\n'


# ----------------------------------------------------------------------------------- PVE's config lock
# pve-container's lock_config takes flock(LOCK_EX) on /run/lock/lxc/pve-config-<vmid>.lock around every config
# write (pct set, API PUTs, vzdump's backup lock). A unique vmid keeps these tests off any real container's lock.

HOLDER = '''
import fcntl, sys, time
with open(sys.argv[1], 'a') as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    print('locked', flush=True)
    time.sleep(float(sys.argv[2]))
    with open(sys.argv[3], 'w') as stamp:
        stamp.write(repr(time.time()))
'''


@pytest.fixture
def held_lock(tmp_path):
    """hold(seconds): another process (vzdump, pct) holds the container's config lock for that long."""
    import os
    import subprocess
    import uuid
    vmid = 990000000 + uuid.uuid4().int % 9999999
    lock = '/run/lock/lxc/pve-config-{0}.lock'.format(vmid)
    os.makedirs('/run/lock/lxc', exist_ok=True)
    stamp = tmp_path / 'released'
    procs = []

    def hold(seconds):
        proc = subprocess.Popen([sys.executable, '-c', HOLDER, lock, str(seconds), str(stamp)],
                                stdout=subprocess.PIPE, text=True)
        procs.append(proc)
        assert proc.stdout.readline().strip() == 'locked'
        return proc

    yield {'vmid': vmid, 'lock': lock, 'hold': hold, 'released': stamp}
    for proc in procs:
        proc.kill()
        proc.wait()
    if os.path.exists(lock):
        os.unlink(lock)


def test_write_waits_for_the_pve_config_lock(conf, held_lock):
    holder = held_lock['hold'](1.5)
    res = run(conf, vmid=held_lock['vmid'], entries=K3S)
    written = conf.stat().st_mtime
    holder.wait()
    assert res['changed'] is True, res
    released = float(held_lock['released'].read_text())
    assert written >= released, 'the config was written while another process held {0}'.format(held_lock['lock'])


def test_lock_held_too_long_fails_naming_the_lock_and_suspects(conf, held_lock):
    held_lock['hold'](30)
    res = run(conf, vmid=held_lock['vmid'], entries=K3S, lock_timeout=1)
    assert res.get('failed'), res
    assert held_lock['lock'] in res['msg'] and 'vzdump' in res['msg'] and 'pct' in res['msg'], res['msg']
    assert conf.read_text() == CONF


def test_unchanged_config_needs_no_lock(conf, held_lock):
    run(conf, vmid=held_lock['vmid'], entries=K3S)
    text = conf.read_text()
    held_lock['hold'](30)
    res = run(conf, vmid=held_lock['vmid'], entries=K3S, lock_timeout=1)
    assert res['changed'] is False and conf.read_text() == text, res
