"""Issue 15: each role run alone (as with --tags <role>) still refuses its own bad inputs before changing anything,
through the same Python rules 00_preflight.yml runs (roles/<role>/tasks/preflight.yml calls role_problems)."""

import json
import shutil

import pytest

from ..conftest import ROOT, VENV_BIN, run_logged, tail
from .corpus import guest
from .runner import needs_offline, recap_hosts

PLAY = """- name: Apply one role alone
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Run the role
      ansible.builtin.include_role:
        name: homelab.mediacluster.{role}
"""

# The task file that checks a role's inputs, where a role names it for what it does (issue 20)
INPUT_CHECK = {'media_stack': 'check_inputs', 'plex': 'check_inputs'}

CASES = [
    ('longhorn', {'longhorn_backup_target': 'smb://192.168.1.29/backup'}, None, 'is not a Longhorn backup target'),
    ('media_stack', {'media_stack_sonarr_image': 'lscr.io/linuxserver/sonarr:latest'}, None,
     'media_stack_sonarr_image=lscr.io/linuxserver/sonarr:latest is not pinned'),
    ('plex', {'plex_claim_token': 'abc123'}, None, 'plex_claim_token is not a claim token'),
    ('nas_nfs', {'nas_nfs_clients': ['*']}, None, 'nas_nfs_clients contains'),
    ('k8s_delivery', {'k8s_delivery_app': 'Bad_App', 'k8s_delivery_manifests': []}, None,
     'k8s_delivery_app=Bad_App is not a lower-case DNS label'),
    ('common', {'common_journald_max_use': '200MB'}, None, 'common_journald_max_use=200MB is not a size'),
    ('node_prep', {'node_prep_flavour': 'raspberry'}, None, 'node_prep_flavour=raspberry is not a flavour'),
    ('k3s_common', {'k3s_common_install_mode': 'airgap'}, None, 'k3s_common_install_mode=airgap needs'),
    ('proxmox_guests', {}, guest('k3s-w1', vmid=111), 'vmid 111 is used by k3s-cp1 and k3s-w1'),
    ('proxmox_k3s_lxc', {'proxmox_k3s_lxc_sysctls': {'net.ipv4.ip_forward': 1}}, None,
     'net.* keys are per network namespace'),
    ('k3s_lxc_node', {'k3s_lxc_node_render_group': 'Render Group'}, None,
     'k3s_lxc_node_render_group=Render Group is not a group name'),
]


@needs_offline
@pytest.mark.parametrize('case', CASES, ids=[case[0] for case in CASES])
def test_role_alone_refuses_its_bad_input(tmp_path, case):
    role, extra, edit, message = case
    inv = tmp_path / 'inventory'
    shutil.copytree(ROOT / 'inventory' / 'example', inv)
    if edit:
        edit(inv)
    play = tmp_path / 'play.yml'
    play.write_text(PLAY.format(role=role))
    cmd = ' '.join(['ip link set lo up &&', str(VENV_BIN / 'ansible-playbook'), '-i', str(inv), str(play),
                    '-e', "'{0}'".format(json.dumps(extra))])
    code, output = run_logged('role-alone-' + role, ['unshare', '--net', '--map-root-user', 'sh', '-c', cmd])
    assert code != 0, tail(output, 40)
    assert message in output, tail(output, 40)
    assert "Check the role's inputs" in output, 'refused somewhere else than the role preflight:\n' + tail(output)
    assert recap_hosts(output) == [('localhost', '0')]


GOOD = {
    'longhorn': {}, 'media_stack': {}, 'plex': {}, 'common': {}, 'node_prep': {}, 'k3s_common': {},
    'proxmox_guests': {}, 'k3s_lxc_node': {}, 'nas_nfs': {'nas_nfs_clients': ['192.168.1.0/24']},
    'k8s_delivery': {'k8s_delivery_app': 'demo', 'k8s_delivery_manifests': []},
}


@needs_offline
@pytest.mark.parametrize('role', sorted(GOOD))
def test_role_alone_accepts_the_example_inventory(tmp_path, role):
    """The same rules raise no false alarm when the role runs alone on the example (the run stops later, at the
    first task that needs a host or the cluster: there is no network here)."""
    play = tmp_path / 'play.yml'
    play.write_text(PLAY.format(role=role) + '        tasks_from: {0}\n'.format(INPUT_CHECK.get(role, 'preflight')))
    cmd = ' '.join(['ip link set lo up &&', str(VENV_BIN / 'ansible-playbook'), '-i',
                    str(ROOT / 'inventory' / 'example'), str(play), '-e', "'{0}'".format(json.dumps(GOOD[role]))])
    _code, output = run_logged('role-alone-good-' + role, ['unshare', '--net', '--map-root-user', 'sh', '-c', cmd])
    block = output.split("Check the role's inputs", 1)
    assert len(block) == 2, tail(output, 40)
    first = block[1].split('TASK [', 1)[0]
    assert 'ok: [localhost]' in first and 'FAILED' not in first, tail(output, 40)


REUSE_PLAY = """- name: The whole-inventory preflight, as site.yml runs it first
  ansible.builtin.import_playbook: {preflight}
- name: Then each role's own preflight, as the numbered playbooks reach it
  hosts: localhost
  gather_facts: false
  tasks:
""" + ''.join("""    - name: Run the preflight of {0}
      ansible.builtin.include_role:
        name: homelab.mediacluster.{0}
        tasks_from: {1}
        apply:
          ignore_errors: true  # the later checks need the cluster or a host; only the input check matters here
          ignore_unreachable: true
""".format(role, INPUT_CHECK.get(role, 'preflight'))
    for role in ('longhorn', 'media_stack', 'plex', 'common', 'node_prep', 'k3s_common', 'proxmox_guests',
                 'k3s_lxc_node', 'nas_nfs'))


@needs_offline
def test_roles_reuse_the_whole_inventory_preflight_of_the_same_run(tmp_path):
    """In one run (site.yml), a role does not check again what 00_preflight.yml just checked for the whole
    inventory: its input check is skipped. Run alone, the role checks
    (test_role_alone_accepts_the_example_inventory)."""
    play = tmp_path / 'play.yml'
    play.write_text(REUSE_PLAY.format(preflight=ROOT / 'playbooks' / '00_preflight.yml'))
    cmd = ' '.join(['ip link set lo up &&', str(VENV_BIN / 'ansible-playbook'), '-i',
                    str(ROOT / 'inventory' / 'example'), str(play), '-e', 'mediacluster_preflight_probes=false',
                    '-e', "'{0}'".format(json.dumps(GOOD['nas_nfs']))])
    _code, output = run_logged('role-preflight-reuse', ['unshare', '--net', '--map-root-user', 'sh', '-c', cmd])
    assert 'The inventory passed every check.' in output, tail(output, 40)
    checks = output.split("TASK [homelab.mediacluster.")
    verdicts = {chunk.split(' :', 1)[0]: chunk.split('\n\n', 1)[0] for chunk in checks[1:]
                if chunk.split(' : ', 1)[-1].startswith("Check the role's inputs")}
    assert sorted(verdicts) == sorted(['longhorn', 'media_stack', 'plex', 'common', 'node_prep', 'k3s_common',
                                       'proxmox_guests', 'k3s_lxc_node', 'nas_nfs']), tail(output, 60)
    assert {role: 'skipping: [localhost]' in text for role, text in verdicts.items()} == dict.fromkeys(verdicts, True)
