"""Render the Longhorn, media-stack and Plex manifests of an inventory with every optional app enabled, in export
mode (a kustomize tree per app, no cluster), inside a network namespace with only loopback up (the example inventory
names real LAN addresses). Also writes what the roles hand to the delivery layer's check: the node model of a mode
and the media stack's declared flows."""

import json
import pathlib
import re

import yaml

from ...conftest import ROOT, VENV_BIN, run_logged

OPTIONAL_APPS = ['bazarr', 'sabnzbd', 'seerr']
KEYS = {'prowlarr': '1' * 32, 'sonarr': '2' * 32, 'radarr': '3' * 32, 'sabnzbd': '4' * 32, 'bazarr': '5' * 32}
SHARE = {'server': '10.43.17.201', 'path': '/pvc-64ffe0e2-1120-4278-93f0-0f353a1d890d',
         'volume': 'pvc-64ffe0e2-1120-4278-93f0-0f353a1d890d'}


def netns(cmd):
    """cmd inside a new network namespace with only lo up."""
    return ['unshare', '--net', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', *cmd]


def extra_vars(tmp_path, mode='export', **more):
    values = {'k8s_delivery_mode': mode, 'k8s_delivery_export_dir': str(tmp_path / 'gitops'),
              'k8s_delivery_kubernetes_version': '1.33', 'k8s_kubeconfig': str(tmp_path / 'no-such-kubeconfig'),
              'media_stack_api_keys': KEYS, 'media_stack_qbittorrent_password': 'export-Pa55word',
              'media_stack_jellyfin_admin_password': 'export-Jf-Pa55word',
              'media_stack_arr_password': 'export-Arr-Pa55word', 'plex_config_share': SHARE,
              'plex_config_mode': 'longhorn', 'plex_gpu_render_gid': 993, 'mediacluster_preflight_probes': False}
    values.update({'media_stack_{0}_enabled'.format(app): True for app in OPTIONAL_APPS})
    values.update(more)
    return values


def run_playbook(name, inventory, playbook, variables, *args):
    extra = pathlib.Path(variables['k8s_delivery_export_dir']).parent / (name + '-extra.json')
    extra.parent.mkdir(parents=True, exist_ok=True)
    extra.write_text(json.dumps(variables))
    return run_logged(name, netns([str(VENV_BIN / 'ansible-playbook'), '-i', str(inventory), str(playbook),
                                   '-e', '@' + str(extra), *args]), timeout=1500)


PLAYBOOKS = ('50_longhorn.yml', '60_media.yml', '70_plex.yml')


def render_exports(tmp_path, inventory, name, playbooks=PLAYBOOKS, **more):
    """Export the trees of playbooks (default Longhorn, media, Plex); returns (code, output, {app: [docs]})."""
    playbook = tmp_path / 'render.yml'
    playbook.write_text(yaml.safe_dump([{'import_playbook': str(ROOT / 'playbooks' / p)} for p in playbooks]))
    code, output = run_playbook(name, inventory, playbook, extra_vars(tmp_path, **more),
                                '--skip-tags', 'longhorn_nodes')
    return code, output, read_trees(tmp_path / 'gitops')


def read_trees(root):
    trees = {}
    for app_dir in sorted(pathlib.Path(root).iterdir()) if pathlib.Path(root).is_dir() else []:
        kustomization = yaml.safe_load((app_dir / 'kustomization.yaml').read_text())
        trees[app_dir.name] = [d for f in kustomization['resources']
                               for d in yaml.safe_load_all((app_dir / f).read_text()) if d]
    return trees


def declared(tmp_path, inventory, mode, name, **more):
    """{'nodes': the node model in mode, 'flows': the media stack's declared flows in mode}."""
    out = tmp_path / (name + '-declared.json')
    playbook = tmp_path / (name + '-declared.yml')
    playbook.write_text(yaml.safe_dump([{
        'name': 'What the roles hand to the delivery check', 'hosts': 'controller', 'gather_facts': False,
        'tasks': [
            {'name': 'Media stack preflight (its variables)', 'ansible.builtin.include_role': {
                'name': 'homelab.mediacluster.media_stack', 'tasks_from': 'check_inputs.yml', 'public': True}},
            {'name': 'Write them', 'ansible.builtin.copy': {
                'dest': str(out), 'mode': '0600',
                'content': "{{ {'nodes': hostvars | homelab.mediacluster.k3s_node_model(groups, k8s_delivery_mode),"
                           " 'flows': _media_stack_flows} | to_json }}"}},
        ]}]))
    code, output = run_playbook(name, inventory, playbook, extra_vars(tmp_path, mode=mode, **more))
    assert code == 0, output[-3000:]
    return json.loads(out.read_text())


def refusals(output):
    """The delivery layer's refusal messages in a playbook's output."""
    return re.findall(r'"msg": "([^"]*nothing was applied or written[^"]*)"', output)


WRITE_ACTIONS = {'CREATE', 'UPDATE', 'DELETE'}
# What the lab sets for its emulator (inventory/lab/group_vars): no pods run, no helm-controller.
EMULATOR_VARS = {'k8s_delivery_wait': False, 'longhorn_wait_for_crds': False, 'media_stack_wire': False}


def render_apply(tmp_path, inventory, name, playbooks=PLAYBOOKS, args=(), **more):
    """Run playbooks in apply mode against kmock inside a network namespace. Returns (code, output, calls, writes):
    every request the emulator received and those that would change a real cluster (dry runs excluded)."""
    playbook = tmp_path / 'apply.yml'
    playbook.write_text(yaml.safe_dump([{'import_playbook': str(ROOT / 'playbooks' / p)} for p in playbooks]))
    kubeconfig = tmp_path / 'kubeconfig'
    calls_path = tmp_path / 'calls.json'
    variables = extra_vars(tmp_path, mode='apply', k8s_kubeconfig=str(kubeconfig), **dict(EMULATOR_VARS, **more))
    variables.pop('k8s_delivery_kubernetes_version')
    extra = tmp_path / (name + '-extra.json')
    extra.write_text(json.dumps(variables))
    code, output = run_logged(name, netns([
        str(VENV_BIN / 'python'), '-m', 'tests.unit.semantics.netns_apply', str(kubeconfig), str(calls_path), '--',
        str(VENV_BIN / 'ansible-playbook'), '-i', str(inventory), str(playbook), '-e', '@' + str(extra),
        '--skip-tags', 'longhorn_nodes', *args]), timeout=1500)
    calls = json.loads(calls_path.read_text()) if calls_path.exists() else []
    writes = [c for c in calls if c[0] in WRITE_ACTIONS and not c[4]]
    return code, output, calls, writes
