"""proxmox_vm against fakepve: clone from the cloud-init template, zero-write rerun, sshkeys encoding,
check/diff, restart handling, agent addresses, bad inputs."""

from urllib.parse import unquote

from tests.peers.pve_lab import VM_TEMPLATE_ID, VM_TEMPLATE_NAME

from .conftest import NODE, body_of

KEYS = ('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHj+k/3x= ops@laptop\n'
        'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ+/= backup key\n')
W1 = dict(name='k3s-w1', vmid=112, node=NODE, clone=VM_TEMPLATE_NAME, cores=4, memory=8192,
          ipconfig={'ipconfig0': 'ip=10.77.0.12/24,gw=10.77.0.1'}, ciuser='debian', sshkeys=KEYS,
          nameserver='10.77.0.1', onboot=True, tags=['k3s'], state='started')


def test_clone_converge_then_rerun_makes_zero_writes(pve, run_module):
    first = run_module('proxmox_vm', **W1)
    assert first['changed'] is True, first.result
    vm = pve.vm(112)
    assert vm.status == 'running' and str(vm.config['cores']) == '4'
    assert vm.config['ipconfig0'] == 'ip=10.77.0.12/24,gw=10.77.0.1'
    assert ' ' not in vm.config['sshkeys'] and '+' not in vm.config['sshkeys'] and '=' not in vm.config['sshkeys']
    assert unquote(vm.config['sshkeys']) == KEYS
    kinds = [(w[0], w[1].split('/qemu/')[-1]) for w in first.writes]
    assert kinds == [('POST', '{0}/clone'.format(VM_TEMPLATE_ID)), ('PUT', '112/config'), ('POST', '112/status/start')]
    second = run_module('proxmox_vm', **W1)
    assert second['changed'] is False and second.writes == [], second.result


def test_one_field_check_mode_and_pending_restart(pve, run_module):
    run_module('proxmox_vm', **W1)
    checked = run_module('proxmox_vm', check=True, diff=True, **dict(W1, memory=4096))
    assert checked['changed'] is True and checked.writes == []
    assert checked['diff']['after'] == {'memory': '4096'} and checked['restart_required'] is True
    held = run_module('proxmox_vm', **dict(W1, memory=4096))
    assert [set(body_of(w)) - {'digest'} for w in held.writes] == [{'memory'}]
    assert held['restart_required'] is True and pve.vm(112).pending == {'memory': '4096'} or \
        str(pve.vm(112).pending.get('memory')) == '4096'
    again = run_module('proxmox_vm', **dict(W1, memory=4096))
    assert again['changed'] is False and again.writes == []
    applied = run_module('proxmox_vm', **dict(W1, memory=4096, restart_on_change=True))
    assert applied['power_action'] == 'reboot' and pve.vm(112).pending == {}
    assert str(pve.vm(112).config['memory']) == '4096'


def test_agent_addresses(pve, run_module):
    run_module('proxmox_vm', **W1)
    pve.vm(112).agent = {'interfaces': [
        {'name': 'lo', 'ip-addresses': [{'ip-address': '127.0.0.1', 'ip-address-type': 'ipv4', 'prefix': 8}]},
        {'name': 'eth0', 'ip-addresses': [{'ip-address': '10.77.0.12', 'ip-address-type': 'ipv4', 'prefix': 24}]}]}
    res = run_module('proxmox_vm', wait_for_agent=True, **W1)
    assert res['ip_addresses'] == ['10.77.0.12'] and res.writes == []


def test_agent_missing_fails_with_cause(pve, run_module):
    run_module('proxmox_vm', **W1)
    res = run_module('proxmox_vm', wait_for_agent=True, agent_timeout=0, **W1)
    assert res['failed'] and 'guest agent' in res['msg'] and 'not running' in res['msg']


def test_failed_clone_surfaces_task_error(pve, run_module):
    pve.add_ceph_storage('ceph-pool')
    pve.ceph_down()
    res = run_module('proxmox_vm', **dict(W1, storage='ceph-pool'))
    assert res['failed'] and 'TASK ERROR:' in res['msg'], res.result
    assert "storage 'ceph-pool' is not online" in res['msg'], res.result
    assert 'timeout' not in res['msg'].split('TASK ERROR:')[0].lower()
    assert pve.vm(112) is None


def test_failed_start_surfaces_task_error(pve, run_module):
    run_module('proxmox_vm', **dict(W1, state='present'))
    pve.vm(112).start_error = "timeout waiting on systemd"
    res = run_module('proxmox_vm', **W1)
    assert res['failed'] and 'TASK ERROR: ' in res['msg'] and 'start of VM 112' in res['msg'], res.result


def test_bad_inputs(pve, run_module):
    run_module('proxmox_vm', **W1)
    cases = [
        (dict(W1, name='k3s-w2', vmid=113, node='nope'), "node 'nope' is not in this Proxmox VE cluster"),
        (dict(W1, name='k3s-w2', vmid=113, clone='no-such-template'), 'matches 0 templates'),
        (dict(W1, vmid=113), "name 'k3s-w1' is already used by VM 112"),
        (dict(W1, name='other', vmid=112), 'vmid 112 is already used by VM'),
        (dict(W1, ipconfig={'net0': 'ip=dhcp'}), 'is not ipconfigN'),
    ]
    for args, expected in cases:
        res = run_module('proxmox_vm', **args)
        assert res['failed'] is True and expected in res['msg'], (expected, res.result)
        assert res.writes == []


def test_disk_grow_and_shrink_refused(pve, run_module):
    run_module('proxmox_vm', **dict(W1, state='present'))
    assert pve.vm(112).config['scsi0'].endswith('size=3584M')
    shrink = run_module('proxmox_vm', **dict(W1, state='present', disk_size=2))
    assert shrink['failed'] and 'PVE can only grow disks' in shrink['msg'] and shrink.writes == []
    grow = run_module('proxmox_vm', check=True, diff=True, **dict(W1, state='present', disk_size=10))
    assert grow['changed_keys'] == ['scsi0'] and grow.writes == []
    assert grow['diff']['after'] == {'scsi0.size': '10G'}
    grow = run_module('proxmox_vm', **dict(W1, state='present', disk_size=10))
    assert not grow.get('failed'), grow.result
    assert [(w[0], w[1].rsplit('/', 1)[-1], body_of(w)) for w in grow.writes] == [
        ('PUT', 'resize', {'disk': 'scsi0', 'size': '10G'})]


def test_linked_clone_and_full_clone_to_storage(pve, run_module):
    linked = run_module('proxmox_vm', **dict(W1, full=False, storage='local-lvm', state='present'))
    assert linked['changed'], linked.result
    clone = [w for w in linked.writes if w[1].endswith('/clone')][0]
    assert body_of(clone)['full'] == '0' and 'storage' not in body_of(clone)
    full = run_module('proxmox_vm', **dict(W1, name='k3s-w2', vmid=114, storage='local-lvm', state='present'))
    clone = [w for w in full.writes if w[1].endswith('/clone')][0]
    assert body_of(clone)['full'] == '1' and body_of(clone)['storage'] == 'local-lvm'
    assert pve.vm(114).config['scsi0'].startswith('local-lvm:vm-114-disk-')


def test_config_put_carries_the_digest_it_compared_against(pve, run_module):
    """qemu-server rejects a PUT whose digest no longer matches the file, so a change made by someone else between
    our read and our write fails instead of being overwritten; without the digest it is silently clobbered."""
    run_module('proxmox_vm', **W1)
    before = pve.vm(112).digest()
    changed = run_module('proxmox_vm', **dict(W1, cores=2))
    puts = [w for w in changed.writes if w[0] == 'PUT' and w[1].endswith('/config')]
    assert len(puts) == 1, changed.writes
    assert body_of(puts[0]).get('digest') == before, 'the config PUT was sent without the digest it read'
    assert str(pve.vm(112).config['cores']) == '2' or str(pve.vm(112).pending.get('cores')) == '2'
