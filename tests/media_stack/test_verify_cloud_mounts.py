"""roles/media_stack/tasks/verify_cloud_mounts.yml run alone (issue 21), against the kmock Kubernetes emulator on
loopback seeded with pods: feature off -> nothing to check and no API call; feature on -> the pods are listed, a
Pending pod and a pod whose mount cannot be looked at fail with the pod, node and what to do, and only the apps with
mounts are checked. The emulator has no exec endpoint (no kubelet), so no OK verdict can come from it: the mount
check command itself runs against a real rclone mount in tests/media_stack/test_rclone_real.py."""

import json
import sys

import pytest

from ..conftest import VENV_BIN, run_logged, tail

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.include_role:
        name: homelab.mediacluster.media_stack
        tasks_from: verify_cloud_mounts.yml
"""
REMOTES = [{'name': 'zurg', 'remote': 'zurg:', 'apps': ['sonarr', 'radarr'], 'secret': 'rclone-zurg'}]


def pod(name, app, phase, node=None):
    spec = {'containers': [{'name': app, 'image': 'lscr.io/linuxserver/{0}:1'.format(app)}]}
    if node:
        spec['nodeName'] = node
    return {'apiVersion': 'v1', 'kind': 'Pod',
            'metadata': {'name': name, 'namespace': 'media', 'labels': {'app.kubernetes.io/name': app}},
            'spec': spec, 'status': {'phase': phase}}


@pytest.fixture
def emulator(tmp_path):
    from tests.delivery.conftest import RunningEmulator

    running = RunningEmulator(tmp_path / 'kubeconfig').start()
    try:
        yield running
    finally:
        running.stop()


def seed(kubeconfig, *docs):
    import kubernetes
    from kubernetes.dynamic import DynamicClient

    client = DynamicClient(kubernetes.config.new_client_from_config(str(kubeconfig)))
    for doc in docs:
        resource = client.resources.get(api_version=doc['apiVersion'], kind=doc['kind'])
        resource.server_side_apply(body=doc, name=doc['metadata']['name'], namespace=doc['metadata'].get('namespace'),
                                   field_manager='test-seed')


def run(tmp_path, name, variables):
    playbook = tmp_path / 'verify.yml'
    playbook.write_text(PLAYBOOK)
    extra = tmp_path / 'vars.json'
    extra.write_text(json.dumps(dict(variables, ansible_python_interpreter=sys.executable)))
    return run_logged('verify-cloud-' + name, [str(VENV_BIN / 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
                                               str(playbook), '-e', '@' + str(extra)])


def test_off_checks_nothing_and_calls_no_api(tmp_path, emulator):
    code, output = run(tmp_path, 'off', {'k8s_kubeconfig': str(tmp_path / 'kubeconfig')})
    assert code == 0, tail(output)
    assert 'Cloud libraries are off' in output
    assert emulator.calls == []


def test_on_reports_each_pod_with_its_node_and_fails(tmp_path, emulator):
    seed(tmp_path / 'kubeconfig', pod('sonarr-6d9f', 'sonarr', 'Running', 'w1'),
         pod('radarr-7c1a', 'radarr', 'Pending'), pod('prowlarr-1b2c', 'prowlarr', 'Running', 'w2'))
    emulator.calls.clear()
    code, output = run(tmp_path, 'on', {'k8s_kubeconfig': str(tmp_path / 'kubeconfig'),
                                        'media_stack_cloud_remotes': REMOTES})
    assert code != 0, tail(output)
    # the emulator has no exec endpoint (no kubelet behind it): the check says it could not look
    assert 'FAIL sonarr-6d9f (node w1) /cloud/zurg: could not run the mount check in the sonarr container' in output
    assert 'FAIL radarr-7c1a (node ?) /cloud/zurg: pod is Pending' in output
    assert 'prowlarr-1b2c' not in output.split('Report the cloud mounts per pod', 1)[1]
    assert '2 pod(s) miss a cloud mount' in output and 'docs/media-stack.md' in output
    # read only: the pods were listed, nothing was written
    # (action None: API discovery)
    assert [c[0] for c in emulator.calls if c[0] not in (None, 'LIST', 'FETCH')] == [], emulator.calls
    assert ('LIST', "resource(group='', version='v1', plural='pods')", 'media', None, False) in emulator.calls


@pytest.mark.parametrize('given', [{}, {'k8s_kubeconfig': '', 'k8s_context': ''}], ids=['unset', 'empty'])
def test_without_k8s_kubeconfig_the_modules_use_their_own_default(tmp_path, emulator, given):
    """The role's connection is set once (module_defaults, vars/main.yml _media_stack_k8s_connection): with
    k8s_kubeconfig/k8s_context unset or empty nothing is passed, and kubernetes.core falls back to its own default,
    here K8S_AUTH_KUBECONFIG (the emulator); an empty string passed on would not reach the cluster."""
    seed(tmp_path / 'kubeconfig', pod('sonarr-6d9f', 'sonarr', 'Pending'))
    emulator.calls.clear()
    playbook = tmp_path / 'verify.yml'
    playbook.write_text(PLAYBOOK)
    extra = tmp_path / 'vars.json'
    extra.write_text(json.dumps(dict(given, media_stack_cloud_remotes=REMOTES,
                                     ansible_python_interpreter=sys.executable)))
    code, output = run_logged('verify-cloud-connection-' + ('empty' if given else 'unset'), [
        str(VENV_BIN / 'ansible-playbook'), '-i', 'localhost,', '-c', 'local', str(playbook), '-e', '@' + str(extra)],
        K8S_AUTH_KUBECONFIG=str(tmp_path / 'kubeconfig'))
    assert code != 0, tail(output)  # the Pending pod fails the check: it was listed from the emulator
    assert 'FAIL sonarr-6d9f (node ?) /cloud/zurg: pod is Pending' in output, tail(output)
    assert ('LIST', "resource(group='', version='v1', plural='pods')", 'media', None, False) in emulator.calls
