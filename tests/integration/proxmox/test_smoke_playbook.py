"""playbooks/smoke.yml's controller play against fakepve and the kmock Kubernetes emulator on loopback (issue 20:
its connections are set once with module_defaults): the Proxmox VE API answers with the token and with the password,
the marker ConfigMap is applied and read back, and a rerun changes nothing. The lab test runs the whole playbook
against the lab; this one needs no lab."""

import sys

import pytest
import yaml

from tests.conftest import ROOT, VENV_BIN, run_logged
from tests.delivery.conftest import RunningEmulator, recap
from tests.peers.pve_lab import NODE

from .conftest import ROOT_PASSWORD, TOKEN_ID, TOKEN_SECRET


@pytest.fixture
def kube(tmp_path):
    emulator = RunningEmulator(tmp_path / 'kubeconfig').start()
    yield emulator
    emulator.stop()


def _inventory(directory, pve, kubeconfig, **extra):
    directory.mkdir(parents=True, exist_ok=True)
    controller = {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable,
                  'proxmox_api_host': pve.host, 'proxmox_api_port': pve.port, 'proxmox_api_user': 'root@pam',
                  'proxmox_api_token_id': TOKEN_ID.split('!', 1)[1], 'proxmox_api_token_secret': TOKEN_SECRET,
                  'proxmox_api_password': ROOT_PASSWORD, 'proxmox_validate_certs': False, 'proxmox_node': NODE,
                  'k8s_kubeconfig': str(kubeconfig)}
    controller.update(extra)
    path = directory / 'inventory.yml'
    path.write_text(yaml.safe_dump({'all': {'children': {'controller': {'hosts': {'localhost': controller}}}}}))
    return path


def _run(name, inventory):
    return run_logged(name, [str(VENV_BIN / 'ansible-playbook'), '-i', str(inventory),
                             str(ROOT / 'playbooks' / 'smoke.yml')], timeout=600)


def test_smoke_controller_play_reaches_both_apis_and_reruns_unchanged(pve, kube, tmp_path):
    inventory = _inventory(tmp_path / 'inv', pve, kube.kubeconfig)
    code, out = _run('smoke-controller-1', inventory)
    assert code == 0, out[-3000:]
    assert "Proxmox VE: nodes ['pve']" in ' '.join(out.split()), out[-3000:]
    assert kube.stored('v1', 'configmaps', 'kube-system', 'homelab-mediacluster-smoke')['data'] == {
        'purpose': 'smoke test of homelab.mediacluster'}
    token_calls = [r for r in pve.requests if r[1].endswith('/nodes')]
    assert token_calls, 'the node list was not asked for'
    assert any(r[1].endswith('/access/ticket') for r in pve.requests), 'the password login did not happen'

    # server-side apply sends its apply patch on every run (the server finds nothing to change): changed=0
    code, out = _run('smoke-controller-2', inventory)
    assert code == 0 and recap(out)['changed'] == 0, out[-3000:]


def test_smoke_uses_the_inventory_connection(pve, kube, tmp_path):
    """The connection the play sets once is the inventory's: a wrong Proxmox port fails the first Proxmox task."""
    inventory = _inventory(tmp_path / 'inv', pve, kube.kubeconfig, proxmox_api_port=9)
    code, out = _run('smoke-controller-wrong-port', inventory)
    assert code != 0
    failed = out.split('TASK [', 2)[1] if out.count('TASK [') >= 1 else ''
    assert failed.startswith('List the Proxmox VE nodes with the API token') and 'fatal' in failed, out[-3000:]
    assert kube.stored('v1', 'configmaps', 'kube-system', 'homelab-mediacluster-smoke') is None
