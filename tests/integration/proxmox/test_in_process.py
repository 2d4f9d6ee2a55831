"""The Proxmox API modules (proxmox_lxc, proxmox_vm) in the controller's process (plugins/action/proxmox_*.py) over
the local connection, against fakepve: the same results as the module runs of the other tests, the pending-restart
warning shown as the task's warning, the password and token secret nowhere in -vvv output. A task with an
environment (the keyword) runs as the module, so the PROXMOX_* fallbacks read that environment."""

import yaml

from tests.conftest import VENV_BIN, run_logged, tail
from tests.peers.pve_lab import VM_TEMPLATE_NAME

from .conftest import NODE, ROOT_PASSWORD, TEMPLATE, TOKEN_ID, TOKEN_SECRET, write_requests

GPU = dict(hostname='k3s-w3', vmid=113, node=NODE, ostemplate=TEMPLATE, unprivileged=False, cores=4, memory=8192,
           swap=0, devices=[{'path': '/dev/dri/renderD128', 'gid': 104, 'mode': '0660'}], state='started')


def _playbook(tmp_path, pve, cafile, tasks, name='plays.yml', **leave_out):
    connection = {'api_host': pve.host, 'api_port': pve.port, 'api_user': 'root@pam', 'ca_path': cafile}
    connection = {key: value for key, value in connection.items() if key not in leave_out}
    plays = [{'name': 'Proxmox API modules on the controller', 'hosts': 'localhost', 'gather_facts': False,
              'module_defaults': {'group/homelab.mediacluster.proxmox': connection},
              'vars': {'pve_password': ROOT_PASSWORD}, 'tasks': tasks}]
    path = tmp_path / name
    path.write_text(yaml.safe_dump(plays, sort_keys=False))
    return path


def _run(label, playbook, *extra):
    return run_logged(label, [str(VENV_BIN / 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
                              '-e', 'ansible_python_interpreter={{ ansible_playbook_python }}', str(playbook),
                              *extra], timeout=600)


def _in_process(output, module):
    # a module run ships and runs an AnsiballZ payload, which -vvv logs; the in-process body runs none
    return 'AnsiballZ_{0}.py'.format(module) not in output


def test_guests_converge_in_process_with_the_module_results(pve, fakepve_cafile, tmp_path):
    container = dict(GPU, api_password='{{ pve_password }}')
    vm = {'name': 'k3s-w1', 'vmid': 112, 'node': NODE, 'clone': VM_TEMPLATE_NAME, 'cores': 2,
          'api_token_id': TOKEN_ID, 'api_token_secret': TOKEN_SECRET, 'state': 'started'}
    tasks = [{'name': 'Container', 'homelab.mediacluster.proxmox_lxc': container, 'register': 'ct'},
             {'name': 'VM', 'homelab.mediacluster.proxmox_vm': vm, 'register': 'vm'},
             {'name': 'Show', 'ansible.builtin.debug': {
                 'msg': 'RESULT ct={{ ct.vmid }}/{{ ct.status }} vm={{ vm.vmid }}/{{ vm.status }}'}}]
    code, output = _run('proxmox-in-process-first', _playbook(tmp_path, pve, fakepve_cafile, tasks), '-vvv')
    assert code == 0, tail(output)
    assert _in_process(output, 'proxmox_lxc') and _in_process(output, 'proxmox_vm'), tail(output)
    assert 'RESULT ct=113/running vm=112/running' in output, tail(output)
    assert pve.ct(113).config['dev0'] == '/dev/dri/renderD128,gid=104,mode=0660' and pve.vm(112).status == 'running'
    assert ROOT_PASSWORD not in output and TOKEN_SECRET not in output

    start = len(pve.requests)
    code, output = _run('proxmox-in-process-rerun', _playbook(tmp_path, pve, fakepve_cafile, tasks))
    assert code == 0 and 'changed=0' in output, tail(output)
    assert write_requests(pve.requests[start:]) == []

    # a device change waits for the next start of the running container: reported as the task's warning
    moved = dict(container, devices=[{'path': '/dev/dri/renderD128', 'gid': 993, 'mode': '0660'}])
    tasks = [{'name': 'Container', 'homelab.mediacluster.proxmox_lxc': moved}]
    code, output = _run('proxmox-in-process-pending', _playbook(tmp_path, pve, fakepve_cafile, tasks), '--diff')
    assert code == 0, tail(output)
    flat = ' '.join(output.split())
    assert '[WARNING]: CT k3s-w3: 1 change(s) wait for the next start of container 113: dev0' in flat, tail(output)
    assert 'gid=993' in pve.ct(113).pending['dev0']


def test_a_task_environment_reaches_the_option_fallbacks(pve, fakepve_cafile, tmp_path):
    # the port comes only from the task's environment (PROXMOX_PORT); without it the module would try 8006
    plain = {'hostname': 'envct', 'vmid': 130, 'node': NODE, 'ostemplate': TEMPLATE, 'api_token_id': TOKEN_ID,
             'api_token_secret': TOKEN_SECRET}
    tasks = [{'name': 'Container, API port from the task environment', 'homelab.mediacluster.proxmox_lxc': plain,
              'environment': {'PROXMOX_PORT': str(pve.port)}}]
    playbook = _playbook(tmp_path, pve, fakepve_cafile, tasks, api_port=None)
    code, output = _run('proxmox-in-process-environment', playbook, '-vvv')
    assert code == 0, tail(output)
    assert not _in_process(output, 'proxmox_lxc'), 'a task with an environment must run as the module'
    assert pve.ct(130) is not None and TOKEN_SECRET not in output
