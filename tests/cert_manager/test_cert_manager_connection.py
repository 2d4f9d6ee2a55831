"""Issue 20: the role sets its Kubernetes connection once (module_defaults in tasks/main.yml, from k8s_kubeconfig and
k8s_context). Against the kmock emulator: without k8s_kubeconfig every call falls back to the modules' own default
(K8S_AUTH_KUBECONFIG), and a k8s_kubeconfig that is set wins over that environment variable."""

import sys

import yaml

from ..longhorn.conftest import DEAD, recap, run_playbook


def _playbook(directory):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / 'inventory.yml').write_text(yaml.safe_dump({'all': {'hosts': {'localhost': {
        'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}}}}))
    path = directory / 'play.yml'
    path.write_text(yaml.safe_dump([{'name': 'cert-manager', 'hosts': 'localhost', 'gather_facts': False,
                                     'roles': [{'role': 'homelab.mediacluster.cert_manager'}]}], sort_keys=False))
    return path


def _vars(tmp_path, **extra):
    values = {'k8s_delivery_wait': False, 'cert_manager_wait_for_crds': False,
              'cert_manager_ca_export_path': str(tmp_path / 'homelab-ca.crt')}
    values.update(extra)
    return values


def test_no_kubeconfig_falls_back_to_the_modules_default(kube, tmp_path):
    playbook = _playbook(tmp_path / 'pb')
    code, out = run_playbook('cert-manager-connection-env', playbook, extra_vars=_vars(tmp_path),
                             K8S_AUTH_KUBECONFIG=str(kube.kubeconfig))
    assert code == 0, out[-3000:]
    chart = kube.stored('helm.cattle.io/v1', 'helmcharts', 'kube-system', 'cert-manager')
    assert chart and chart['spec']['version'] == 'v1.21.1'
    assert kube.stored('cert-manager.io/v1', 'clusterissuers', None, 'homelab') is not None
    # the CA Secret was read (there is none: no cert-manager controller here), so the role reached the API
    assert any(c[1].endswith("plural='secrets')") and c[3] == 'homelab-ca' for c in kube.calls), kube.calls[-10:]

    mark = len(kube.calls)
    code, out = run_playbook('cert-manager-connection-env-rerun', playbook, extra_vars=_vars(tmp_path),
                             K8S_AUTH_KUBECONFIG=str(kube.kubeconfig))
    assert code == 0 and recap(out)['changed'] == 0, out[-3000:]
    assert kube.writes(mark) == []


def test_k8s_kubeconfig_wins_over_the_environment(kube, tmp_path):
    dead = tmp_path / 'dead-kubeconfig'
    dead.write_text(DEAD)
    playbook = _playbook(tmp_path / 'pb')
    code, out = run_playbook('cert-manager-connection-var', playbook,
                             extra_vars=_vars(tmp_path, k8s_kubeconfig=str(kube.kubeconfig)),
                             K8S_AUTH_KUBECONFIG=str(dead))
    assert code == 0, out[-3000:]
    assert kube.stored('helm.cattle.io/v1', 'helmcharts', 'kube-system', 'cert-manager') is not None

    # and the environment alone, pointing at nothing, is what a run without k8s_kubeconfig uses: it fails there
    code, out = run_playbook('cert-manager-connection-dead', playbook, extra_vars=_vars(tmp_path),
                             K8S_AUTH_KUBECONFIG=str(dead))
    assert code != 0
    assert 'The Kubernetes API did not answer through kubeconfig (default ~/.kube/config)' in out, out[-3000:]
