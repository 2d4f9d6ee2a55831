"""Every object the collection renders for the example and the lab inventories, with every optional app enabled,
passes the cluster-semantics check in export mode (no cluster) and in apply mode (against the kmock emulator);
kubectl kustomize builds every exported tree; the node model follows the k3s config the roles write; and the
defects of issue 13, re-introduced, are refused before any write."""

import json
import pathlib
import shutil
import subprocess

import pytest
import yaml

from ansible_collections.homelab.mediacluster.plugins.filter import k3s_node_model as model_filter
from ansible_collections.homelab.mediacluster.plugins.module_utils import cluster_semantics

from ...conftest import ROOT, VENV_BIN, first_json, run_logged, tail
from . import render

INVENTORIES = {'example': ROOT / 'inventory' / 'example', 'lab': ROOT / 'inventory' / 'lab'}
KUBECTL = shutil.which('kubectl') or '/usr/bin/kubectl'


# --- the node model ------------------------------------------------------------------------------------------------

def test_node_model_defaults_are_the_roles_defaults():
    defaults = yaml.safe_load((ROOT / 'roles' / 'k3s_common' / 'defaults' / 'main.yml').read_text())
    for key, value in model_filter.K3S_COMMON_DEFAULTS.items():
        assert defaults[key] == value, key
    longhorn_vars = yaml.safe_load((ROOT / 'roles' / 'longhorn' / 'vars' / 'main.yml').read_text())
    assert longhorn_vars['_longhorn_component_label'] == model_filter.LONGHORN_COMPONENT_LABEL
    assert longhorn_vars['_longhorn_disk_label'] == model_filter.LONGHORN_DISK_LABEL
    assert defaults['k3s_common_longhorn_labels'] == {model_filter.LONGHORN_COMPONENT_LABEL: 'true'}


GROUPS = {'all': ['cp1', 'w1', 'w3', 'pi'], 'k3s_cluster': ['cp1', 'pi', 'w1', 'w3'], 'k3s_servers': ['cp1', 'pi'],
          'k3s_agents': ['w1', 'w3'], 'storage_nodes': ['w1'], 'gpu_nodes': ['w3']}
HOSTVARS = {'cp1': {'ansible_host': '10.0.0.1'}, 'w1': {'ansible_host': '10.0.0.2'},
            'w3': {'ansible_host': '10.0.0.3', 'node_flavour': 'lxc', 'k3s_common_node_labels': {'room': 'attic'}},
            'pi': {'ansible_host': '10.0.0.4', 'node_flavour': 'pi', 'k3s_server_quorum_only': True}}


class CountingHostVars(dict):
    """hostvars that count the views fetched: Ansible's HostVars computes a host's variables on every fetch."""

    def __init__(self, *args):
        super().__init__(*args)
        self.fetched = []

    def __getitem__(self, host):
        self.fetched.append(host)
        return super().__getitem__(host)


def test_node_model_fetches_each_hosts_variables_once():
    hostvars = CountingHostVars(HOSTVARS)
    model_filter.k3s_node_model(hostvars, GROUPS, 'apply')
    assert sorted(hostvars.fetched) == sorted(HOSTVARS)


@pytest.mark.parametrize('mode', ['export', 'apply'])
def test_node_model_labels_and_taints(mode):
    nodes = {n['name']: n for n in model_filter.k3s_node_model(HOSTVARS, GROUPS, mode)}
    assert set(nodes) == {'cp1', 'pi', 'w1', 'w3'}
    assert nodes['cp1']['labels']['node-role.kubernetes.io/control-plane'] == 'true'
    assert nodes['cp1']['labels']['node-role.kubernetes.io/etcd'] == 'true'
    assert 'node-role.kubernetes.io/control-plane' not in nodes['w1']['labels']
    assert nodes['pi']['labels']['kubernetes.io/arch'] == 'arm64'
    assert nodes['pi']['taints'] == [{'key': 'node-role.kubernetes.io/control-plane', 'effect': 'NoSchedule'}]
    assert nodes['w3']['labels']['gpu'] == 'true' and nodes['w3']['labels']['room'] == 'attic'
    assert nodes['w3']['taints'] == [{'key': 'gpu', 'value': 'true', 'effect': 'NoSchedule'}]
    assert nodes['w3']['lxc'] is True and nodes['w1']['address'] == '10.0.0.2'
    # registration: the Longhorn label on every non-LXC node, the disk label on storage nodes, in both modes
    for name in ('cp1', 'pi', 'w1'):
        assert nodes[name]['labels']['mediacluster.homelab/longhorn'] == 'true'
    assert 'mediacluster.homelab/longhorn' not in nodes['w3']['labels']
    assert nodes['w1']['labels']['node.longhorn.io/create-default-disk'] == 'true'


def test_node_model_without_registration_label_has_it_only_in_apply_mode():
    hostvars = {h: dict(v, k3s_common_longhorn_labels={}) for h, v in HOSTVARS.items()}
    export = {n['name']: n for n in model_filter.k3s_node_model(hostvars, GROUPS, 'export')}
    apply = {n['name']: n for n in model_filter.k3s_node_model(hostvars, GROUPS, 'apply')}
    assert 'mediacluster.homelab/longhorn' not in export['cp1']['labels']
    assert apply['cp1']['labels']['mediacluster.homelab/longhorn'] == 'true'
    assert 'mediacluster.homelab/longhorn' not in model_filter.k3s_node_model(
        hostvars, GROUPS, 'apply', longhorn_label_nodes=False)[0]['labels']


# --- every rendered object passes --------------------------------------------------------------------------------

def _kustomize(tree):
    result = subprocess.run([KUBECTL, 'kustomize', str(tree)], capture_output=True, text=True, timeout=300, check=False)
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize('inventory', sorted(INVENTORIES))
def test_export_mode_passes_the_check_and_kustomize_builds_every_tree(tmp_path, inventory):
    code, output, trees = render.render_exports(tmp_path, INVENTORIES[inventory], 'semantics-export-' + inventory)
    assert render.refusals(output) == [] and code == 0, tail(output, 40)
    assert {'longhorn', 'longhorn-config', 'media-stack', 'plex-storage', 'plex'} <= set(trees)
    deployments = {d['metadata']['name'] for d in trees['media-stack'] if d['kind'] == 'Deployment'}
    assert {'bazarr', 'sabnzbd', 'seerr', 'sonarr'} <= deployments
    nodes = render.declared(tmp_path, INVENTORIES[inventory], 'export', 'semantics-model-' + inventory)['nodes']
    everything = [d for docs in trees.values() for d in docs if d['kind'] != 'Secret']
    assert cluster_semantics.check(everything, nodes, [])['errors'] == []
    if not pathlib.Path(KUBECTL).exists():
        pytest.skip('kubectl is not installed here: the kustomize build cannot run')
    for app in trees:
        code, built = _kustomize(tmp_path / 'gitops' / app)
        assert code == 0, (app, built[-2000:])
        names = {(d['kind'], d['metadata']['name']) for d in yaml.safe_load_all(built) if d}
        assert names == {(d['kind'], d['metadata']['name']) for d in trees[app]}, app


@pytest.mark.parametrize('inventory', sorted(INVENTORIES))
def test_apply_mode_passes_the_check_against_the_emulator(tmp_path, inventory):
    code, output, calls, writes = render.render_apply(tmp_path, INVENTORIES[inventory], 'semantics-apply-' + inventory)
    assert render.refusals(output) == [], render.refusals(output)
    assert code == 0, tail(output, 40)
    assert ('LIST', "resource(group='', version='v1', plural='namespaces')", None, None, False) in \
        [tuple(c) for c in calls]
    assert any(w[1].endswith("plural='statefulsets')") for w in writes)


# --- the defects, re-introduced, are refused before any write -----------------------------------------------------

def test_gitops_longhorn_without_the_registration_label_is_refused_before_any_file(tmp_path):
    """Defect 3 back: no Longhorn label at registration, export mode."""
    code, output, trees = render.render_exports(tmp_path, INVENTORIES['example'], 'semantics-redo3-export',
                                                playbooks=('50_longhorn.yml',), k3s_common_longhorn_labels={})
    assert code != 0
    [refusal] = render.refusals(output)
    assert refusal.startswith('longhorn, nothing was applied or written')
    assert 'DaemonSet longhorn-system/longhorn-manager' in refusal and 'no node can run it' in refusal
    assert 'mediacluster.homelab/longhorn=true not on the node' in refusal
    assert trees == {} and not (tmp_path / 'gitops' / 'longhorn' / 'kustomization.yaml').exists()


def test_apply_longhorn_with_no_label_anywhere_is_refused_with_zero_writes(tmp_path):
    """Defect 3 back in apply mode: neither registration nor the API labels the nodes."""
    code, output, calls, writes = render.render_apply(
        tmp_path, INVENTORIES['example'], 'semantics-redo3-apply', playbooks=('50_longhorn.yml',),
        k3s_common_longhorn_labels={}, longhorn_label_nodes=False)
    assert code != 0 and writes == []
    [refusal] = render.refusals(output)
    assert 'DaemonSet longhorn-system/longhorn-manager' in refusal and 'no node can run it' in refusal


OLD_POLICY = {'apiVersion': 'networking.k8s.io/v1', 'kind': 'NetworkPolicy',
              'metadata': {'name': 'media-stack', 'namespace': 'media'},
              'spec': {'podSelector': {}, 'policyTypes': ['Ingress', 'Egress'],
                       'ingress': [{'from': [{'podSelector': {}},
                                             {'namespaceSelector': {'matchLabels': {
                                                 'kubernetes.io/metadata.name': 'kube-system'}}},
                                             {'ipBlock': {'cidr': '192.168.1.11/32'}}]}],
                       'egress': [{'to': [{'podSelector': {}}]}]}}
SONARR = {'apiVersion': 'apps/v1', 'kind': 'Deployment', 'metadata': {'name': 'sonarr', 'namespace': 'media'},
          'spec': {'selector': {'matchLabels': {'app.kubernetes.io/name': 'sonarr'}},
                   'template': {'metadata': {'labels': {'app.kubernetes.io/name': 'sonarr'}},
                                'spec': {'containers': [{'name': 'sonarr', 'image': 'lscr.io/linuxserver/sonarr:4',
                                                         'ports': [{'name': 'http', 'containerPort': 8989}]}]}}}}
NAMESPACE = {'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'media'}}
NODES = [{'name': n, 'address': a, 'labels': {'kubernetes.io/hostname': n}, 'taints': [], 'lxc': False}
         for n, a in (('k3s-cp1', '192.168.1.11'), ('k3s-w1', '192.168.1.12'))]
OLD_WIRING = [{'name': 'wiring: k3s-cp1 calls the sonarr API', 'source': {'kind': 'host', 'node': 'k3s-cp1'},
               'destination': {'namespace': 'media', 'labels': {'app.kubernetes.io/name': 'sonarr'}, 'port': 8989,
                               'protocol': 'TCP'}}]


def test_old_wiring_through_the_old_policy_is_refused_with_zero_writes(tmp_path):
    """Defect 2 back: wiring from one node through the node-IP policy; the delivery layer refuses, writes nothing."""
    from ...delivery.conftest import RunningEmulator, recap, run_playbook, write_playbook
    emulator = RunningEmulator(tmp_path / 'kubeconfig').start()
    try:
        playbook = write_playbook(tmp_path / 'pb', [{
            'name': 'Deliver', 'hosts': 'localhost', 'gather_facts': False,
            'roles': [{'role': 'homelab.mediacluster.k8s_delivery', 'vars': {
                'k8s_kubeconfig': str(tmp_path / 'kubeconfig'), 'k8s_delivery_app': 'media-stack',
                'k8s_delivery_wait': False, 'k8s_delivery_manifests': [NAMESPACE, SONARR, OLD_POLICY],
                'k8s_delivery_nodes': NODES, 'k8s_delivery_flows': OLD_WIRING}}]}])
        code, output = run_playbook('semantics-redo2', playbook)
        assert code != 0 and recap(output)['failed'] == 1
        assert emulator.writes() == []
        [refusal] = render.refusals(output)
        assert "flow 'wiring: k3s-cp1 calls the sonarr API': denied" in refusal
        assert 'flannel.1' in refusal and 'k3s-w1' in refusal
        # the same objects with the wiring made from the pod's own node pass and are applied
        same = [dict(OLD_WIRING[0], source={'kind': 'host', 'node': 'same'})]
        playbook = write_playbook(tmp_path / 'pb2', [{
            'name': 'Deliver', 'hosts': 'localhost', 'gather_facts': False,
            'roles': [{'role': 'homelab.mediacluster.k8s_delivery', 'vars': {
                'k8s_kubeconfig': str(tmp_path / 'kubeconfig'), 'k8s_delivery_app': 'media-stack',
                'k8s_delivery_wait': False, 'k8s_delivery_manifests': [NAMESPACE, SONARR, OLD_POLICY],
                'k8s_delivery_nodes': NODES, 'k8s_delivery_flows': same}}]}])
        code, output = run_playbook('semantics-redo2-fixed', playbook)
        assert code == 0, tail(output, 30)
        assert len(emulator.writes()) == 3
    finally:
        emulator.stop()


def test_semantics_module_reports_errors_without_failing_when_asked(tmp_path):
    """The module itself, in-process through ansible's test entry (no cluster): errors come back as data."""
    args = {'ANSIBLE_MODULE_ARGS': {'manifests': [NAMESPACE, SONARR, OLD_POLICY], 'nodes': NODES,
                                    'flows': OLD_WIRING, 'fail_on_error': False}}
    path = tmp_path / 'args.json'
    path.write_text(json.dumps(args))
    code, output = run_logged('semantics-module', [str(VENV_BIN / 'python'), '-m',
                                                   'ansible_collections.homelab.mediacluster.plugins.modules.'
                                                   'k8s_semantics_check', str(path)],
                              PYTHONPATH=str(ROOT / '.collections'))
    result = first_json(output)
    assert code == 0 and result['valid'] is False and len(result['errors']) == 1


BUILT_IN = ('kubernetes.io/', 'beta.kubernetes.io/', 'node.kubernetes.io/', 'node-role.kubernetes.io/')


def test_node_model_registration_labels_equal_what_k3s_common_writes(tmp_path):
    """The labels the k3s_common role puts into each node's k3s config (node-label) for the example inventory are
    exactly the node model's labels in export mode, k3s's own labels aside."""
    out = tmp_path / 'labels.json'
    playbook = tmp_path / 'labels.yml'
    playbook.write_text(yaml.safe_dump([{
        'name': 'k3s_common labels', 'hosts': 'k3s_cluster', 'gather_facts': False,
        'vars': {'k3s_common_node_ip': '{{ ansible_host }}', 'k3s_common_node_cidr': '{{ ansible_host }}/24',
                 'k3s_common_arch': 'x86_64'},
        'tasks': [
            {'name': 'Preflight', 'ansible.builtin.include_role': {'name': 'homelab.mediacluster.k3s_common',
                                                                   'tasks_from': 'preflight.yml'}},
            {'name': 'Write', 'run_once': True, 'ansible.builtin.copy': {
                'dest': str(out), 'mode': '0600',
                'content': "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, "
                           "'_k3s_common_labels'))) | to_json }}"}},
        ]}]))
    code, output = run_logged('semantics-k3s-labels', render.netns([
        str(VENV_BIN / 'ansible-playbook'), '-i', str(INVENTORIES['example']), str(playbook),
        '-e', 'ansible_connection=local', '-e', 'ansible_python_interpreter=' + str(VENV_BIN / 'python')]))
    assert code == 0, tail(output, 30)
    written = json.loads(out.read_text())
    model = render.declared(tmp_path, INVENTORIES['example'], 'export', 'semantics-k3s-labels-model')['nodes']
    for node in model:
        own = {k: v for k, v in node['labels'].items() if not k.startswith(BUILT_IN)}
        assert own == written[node['host']], node['host']
    assert written['k3s-w1']['mediacluster.homelab/longhorn'] == 'true'
    assert 'mediacluster.homelab/longhorn' not in written['k3s-w3']
