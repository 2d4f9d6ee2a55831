"""proxmox_lxc against fakepve: create, zero-write rerun, one-field change, check/diff, task errors, root@pam
and bad inputs with nothing written."""

import json

import pytest

from .conftest import NODE, TEMPLATE, TOKEN_SECRET, body_of

GPU = dict(hostname='k3s-w3', vmid=113, node=NODE, ostemplate=TEMPLATE, unprivileged=False, cores=4,
           memory=8192, swap=0, disk_size=40, net={'net0': 'name=eth0,bridge=vmbr0,ip=10.77.0.13/24,gw=10.77.0.1'},
           features={'nesting': True, 'keyctl': True}, onboot=True, tags=['k3s', 'gpu'],
           devices=[{'path': '/dev/dri/renderD128', 'gid': 992, 'mode': '0660'}], state='started')


def test_create_then_rerun_makes_zero_writes(pve, run_module):
    first = run_module('proxmox_lxc', **GPU)
    assert first['changed'] is True, first.result
    ct = pve.ct(113)
    assert ct.status == 'running'
    assert ct.config['dev0'] == '/dev/dri/renderD128,gid=992,mode=0660'
    assert ct.config['features'] == 'keyctl=1,nesting=1'
    assert 'unprivileged' not in ct.config
    assert ct.config['rootfs'].endswith('size=40G')
    second = run_module('proxmox_lxc', **GPU)
    assert second['changed'] is False, second.result
    assert second.writes == [], second.writes
    assert all(r[0] == 'GET' or r[1].endswith('/access/ticket') for r in second.requests)


def test_change_one_field_writes_only_that_field(pve, run_module):
    run_module('proxmox_lxc', **GPU)
    hwaddr = pve.ct(113).config['net0']
    changed = run_module('proxmox_lxc', **dict(GPU, cores=6))
    assert changed['changed'] is True and changed['changed_keys'] == ['cores']
    puts = list(changed.writes)
    assert len(puts) == 1 and puts[0][0] == 'PUT' and puts[0][1].endswith('/lxc/113/config'), puts
    sent = body_of(puts[0])
    assert set(sent) - {'digest'} == {'cores'} and sent['cores'] == '6', sent
    assert pve.ct(113).config['cores'] == 6 or str(pve.ct(113).config['cores']) == '6'
    assert pve.ct(113).config['net0'] == hwaddr


def test_check_mode_writes_nothing_and_reports_diff(pve, run_module):
    created = run_module('proxmox_lxc', check=True, diff=True, **GPU)
    assert created['changed'] is True and created['created'] is True and created.writes == []
    assert pve.ct(113) is None
    assert created['diff']['after']['dev0'] == '/dev/dri/renderD128,gid=992,mode=0660'
    run_module('proxmox_lxc', **GPU)
    checked = run_module('proxmox_lxc', check=True, diff=True, **dict(GPU, memory=4096, tags=['k3s']))
    assert checked['changed'] is True and checked.writes == []
    assert checked['diff']['before'] == {'memory': 8192, 'tags': 'gpu;k3s'} or \
        {k: str(v) for k, v in checked['diff']['before'].items()} == {'memory': '8192', 'tags': 'gpu;k3s'}
    assert checked['diff']['after'] == {'memory': '4096', 'tags': 'k3s'}
    assert str(pve.ct(113).config['memory']) == '8192'


def test_restart_needed_change_is_reported_then_applied_when_allowed(pve, run_module):
    run_module('proxmox_lxc', **GPU)
    new_dev = [{'path': '/dev/dri/renderD128', 'gid': 993, 'mode': '0660'}]
    held = run_module('proxmox_lxc', **dict(GPU, devices=new_dev))
    assert held['changed'] is True and held['restart_required'] is True and held['pending_keys'] == ['dev0']
    assert not [w for w in held.writes if '/status/' in w[1]]
    again = run_module('proxmox_lxc', **dict(GPU, devices=new_dev))
    assert again['changed'] is False and again.writes == [] and again['restart_required'] is True
    applied = run_module('proxmox_lxc', **dict(GPU, devices=new_dev, restart_on_change=True))
    assert applied['changed'] is True and applied['power_action'] == 'reboot'
    assert pve.ct(113).pending == {} and 'gid=993' in pve.ct(113).config['dev0']
    assert [w[1].rsplit('/', 1)[-1] for w in applied.writes] == ['reboot']


def test_failed_task_surfaces_task_error(pve, run_module):
    broken = run_module('proxmox_lxc', **dict(GPU, ostemplate='local:vztmpl/missing-template.tar.zst'))
    assert broken['failed'] is True
    assert 'TASK ERROR:' in broken['msg'] and 'missing-template' in broken['msg'], broken['msg']
    assert 'timeout' not in broken['msg'].lower()


def test_token_cannot_set_device_passthrough(pve, run_module):
    pve.grant('root@pam!ci', '/', 'VM.Allocate', 'VM.Audit', 'Sys.Modify', 'VM.Config.Options')
    refused = run_module('proxmox_lxc', token=True, **GPU)
    assert refused['failed'] is True
    assert 'root@pam' in refused['msg'] and 'api_password' in refused['msg'] and 'dev0' in refused['msg']
    assert refused.writes == [] and pve.ct(113) is None


def test_token_can_manage_plain_unprivileged_ct(pve, run_module):
    args = dict(hostname='dns1', vmid=120, node=NODE, ostemplate=TEMPLATE, memory=512,
                net={'net0': 'name=eth0,bridge=vmbr0,ip=dhcp'}, features={'nesting': True})
    first = run_module('proxmox_lxc', token=True, **args)
    assert first['changed'] is True, first.result
    again = run_module('proxmox_lxc', token=True, **args)
    assert again['changed'] is False and again.writes == []


def _created(pve, run_module):
    run_module('proxmox_lxc', **GPU)
    return len(pve.requests)


def test_bad_inputs_fail_clearly_and_write_nothing(pve, run_module):
    _created(pve, run_module)
    pve.add_vm(200, 'vm200', node=NODE)
    cases = [
        (dict(GPU, hostname='k3s-w4', vmid=114, node='nope'), "node 'nope' is not in this Proxmox VE cluster"),
        (dict(GPU, vmid=115), "host name 'k3s-w3' is already used by container 113"),
        (dict(GPU, hostname='other', vmid=113), 'vmid 113 is already used by container'),
        (dict(GPU, hostname='k3s-w5', vmid=200), 'vmid 200 is already used by VM'),
        (dict(GPU, disk_size=20), 'can only grow'),
        (dict(GPU, devices=[{'path': 'dri/renderD128'}]), 'is not a device path'),
        (dict(GPU, devices=[{'path': '/dev/../etc/shadow'}]), 'is not a device path'),
        (dict(GPU, unprivileged=True), 'cannot change this on an existing container'),
        (dict(GPU, devices=[{'path': '/dev/dri/renderD128', 'mode': '660'}]), 'four octal digits'),
    ]
    for args, expected in cases:
        res = run_module('proxmox_lxc', **args)
        assert res['failed'] is True, (args, res.result)
        assert expected in res['msg'], (expected, res['msg'])
        assert 'Nothing was changed' in res['msg']
        assert res.writes == [], (expected, res.writes)
    assert pve.ct(114) is None and pve.ct(115) is None


def test_grow_disk_and_absent(pve, run_module):
    run_module('proxmox_lxc', **GPU)
    grown = run_module('proxmox_lxc', **dict(GPU, disk_size=50))
    assert grown['changed_keys'] == ['rootfs'] and pve.ct(113).config['rootfs'].endswith('size=50G')
    assert [w[1].rsplit('/', 1)[-1] for w in grown.writes] == ['resize']
    gone = run_module('proxmox_lxc', hostname='k3s-w3', vmid=113, state='absent')
    assert gone['changed'] is True and pve.ct(113) is None
    again = run_module('proxmox_lxc', hostname='k3s-w3', vmid=113, state='absent')
    assert again['changed'] is False and again.writes == []


def test_failed_start_task_is_not_a_timeout(pve, run_module):
    run_module('proxmox_lxc', **dict(GPU, state='present'))
    pve.ct(113).start_error = 'startup for container 113 failed'
    res = run_module('proxmox_lxc', **GPU)
    assert res['failed'] is True
    assert res['msg'].endswith('TASK ERROR: startup for container 113 failed'), res['msg']
    assert res['task_log'][-1] == 'TASK ERROR: startup for container 113 failed'


@pytest.mark.fakepve(time_scale=1.0)
def test_task_still_running_after_timeout_names_the_upid(pve, run_module):
    run_module('proxmox_lxc', **dict(GPU, state='present'))
    pve.ct(113).start_secs = 30
    res = run_module('proxmox_lxc', task_timeout=1, **GPU)
    assert res['failed'] and 'is still running after 1s' in res['msg'] and 'UPID:' in res['msg']


def test_connection_from_environment(pve, run_module, monkeypatch, fakepve_cafile):
    monkeypatch.setenv('PROXMOX_HOST', pve.host)
    monkeypatch.setenv('PROXMOX_PORT', str(pve.port))
    monkeypatch.setenv('PROXMOX_USER', 'root@pam')
    monkeypatch.setenv('PROXMOX_TOKEN_ID', 'root@pam!ci')
    monkeypatch.setenv('PROXMOX_TOKEN_SECRET', TOKEN_SECRET)
    res = run_module('proxmox_lxc', hostname='envct', vmid=130, node=NODE, ostemplate=TEMPLATE,
                     api_host=None, api_port=None, api_password=None, api_user=None)
    assert res['changed'] is True and pve.ct(130) is not None, res.result
    assert TOKEN_SECRET not in json.dumps(res.result)


def test_wrong_password_is_a_clear_error(pve, run_module):
    res = run_module('proxmox_lxc', hostname='x', api_password='wrong')
    assert res['failed'] and 'cannot log in to Proxmox VE' in res['msg'] and 'root@pam' in res['msg']


def test_token_refused_for_bind_mount_and_privileged_features(pve, run_module):
    pve.grant('root@pam!ci', '/', 'VM.Allocate', 'VM.Audit', 'Sys.Modify', 'VM.Config.Options', 'VM.Config.Disk')
    bind = run_module('proxmox_lxc', token=True, hostname='media', vmid=140, node=NODE, ostemplate=TEMPLATE,
                      mount_points={'mp0': '/srv/media,mp=/media,ro=1'})
    assert bind['failed'] and 'bind or device mount point (mp0: /srv/media)' in bind['msg'] and bind.writes == []
    plain = dict(GPU, devices=None)
    run_module('proxmox_lxc', **plain)
    feats = run_module('proxmox_lxc', token=True, **dict(plain, features={'nesting': True}))
    assert feats['failed'] and 'changing feature flags (keyctl) of a privileged container' in feats['msg']
    assert feats.writes == []
    same = run_module('proxmox_lxc', token=True, **plain)
    assert same['changed'] is False and same.writes == [], 'an unchanged root-only key needs no root login'


def test_power_states(pve, run_module):
    run_module('proxmox_lxc', **GPU)
    stopped = run_module('proxmox_lxc', **dict(GPU, state='stopped'))
    assert stopped['changed'] and stopped['power_action'] == 'shutdown' and pve.ct(113).status == 'stopped'
    again = run_module('proxmox_lxc', **dict(GPU, state='stopped'))
    assert again['changed'] is False and again.writes == []
    started = run_module('proxmox_lxc', **GPU)
    assert started['power_action'] == 'start' and pve.ct(113).status == 'running'
