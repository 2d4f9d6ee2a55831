"""The role's Preferences.xml step end to end, in local config mode against the kmock emulator: the GPU node is this
machine (connection local) with Plex's config directory in a temp dir. A first run stops Plex (scale to 0), sets the
preferences and starts Plex again through the handler; a rerun changes nothing, scales nothing, writes nothing.
The claim token is not sent to a server that is already claimed."""

import json
import os
import shutil
import sys
import xml.etree.ElementTree as ET  # noqa: S405

import yaml

from ..conftest import VENV_BIN, run_logged, tail
from .test_plex_role_emulator import PLAYBOOK, recap_changed

HERE = __import__('pathlib').Path(__file__).resolve().parent
PREFS = 'Library/Application Support/Plex Media Server/Preferences.xml'


def local_inventory(tmp_path):
    data = yaml.safe_load((HERE / 'inventory' / 'hosts.yml').read_text())
    data['all']['children']['gpu_nodes']['hosts'] = {
        'k3s-w3': {'gpu_render_gid': 993, 'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}}
    path = tmp_path / 'local.yml'
    path.write_text(yaml.safe_dump(data))
    return path


def run(kube, tmp_path, name, config):
    extra = tmp_path / 'extra.json'
    extra.write_text(json.dumps({'k8s_kubeconfig': kube.kubeconfig, 'k8s_delivery_wait': False,
                                 'plex_config_mode': 'local', 'plex_config_local_path': str(config),
                                 'plex_claim_token': 'claim-notusedwhenclaimed',
                                 # local mode (a hostPath /config) needs Plex in a namespace of its own, enforce
                                 # privileged (docs/plex.md, Pod Security): no media stack here, `media` is Plex's
                                 'plex_namespace_own': True, 'media_stack_namespace': 'media-stack'}))
    return run_logged('plex-prefs-' + name, [str(VENV_BIN / 'ansible-playbook'), '-i', str(local_inventory(tmp_path)),
                                             str(PLAYBOOK), '-e', '@' + str(extra)], timeout=600)


def api_defaults_replicas(kube):
    """The API server defaults spec.replicas to 1 when a StatefulSet omits it (the role leaves the field to scale
    operations); kmock does no defaulting, so the test puts the default in place the way the server would."""
    kube.apply({'apiVersion': 'apps/v1', 'kind': 'StatefulSet', 'metadata': {'name': 'plex', 'namespace': 'media'},
                'spec': {'replicas': 1}})


def scale_writes(kube, since=0):
    return [w for w in kube.writes(since) if 'statefulset' in w[1] and w[3] == 'plex']


def test_preferences_change_restarts_plex_once_then_nothing(kube, tmp_path, samples):
    config = tmp_path / 'config'
    prefs = config / PREFS
    prefs.parent.mkdir(parents=True)
    shutil.copy(samples / 'claimed.xml', prefs)
    before = dict(ET.parse(prefs).getroot().attrib)  # noqa: S314
    api_defaults_replicas(kube)
    # left over from the first run, when the server was not claimed yet
    kube.apply({'apiVersion': 'v1', 'kind': 'Secret', 'metadata': {'name': 'plex-claim', 'namespace': 'media'},
                'type': 'Opaque', 'stringData': {'PLEX_CLAIM': 'claim-expired'}})
    seeded = len(kube.calls)

    code, output = run(kube, tmp_path, 'first', config)
    assert code == 0, tail(output, 80)
    after = dict(ET.parse(prefs).getroot().attrib)  # noqa: S314
    assert after['HardwareAcceleratedEncoders'] == '1' and after['HardwareDevicePath'] == '/dev/dri/renderD128'
    # issue 22: the LAN Service's address first (direct LAN access), then the Ingress
    assert after['customConnections'] == 'http://k3s-w3:32400,https://plex.media.example:443'
    assert after['PlexOnlineToken'] == before['PlexOnlineToken']
    assert 'RUNNING HANDLER [homelab.mediacluster.plex : Start Plex]' in output
    assert kube.get('apps/v1', 'StatefulSet', 'plex', 'media')['spec']['replicas'] == 1
    assert len(scale_writes(kube, seeded)) >= 3  # applied, stopped, started again by the handler
    assert kube.get('v1', 'Secret', 'plex-claim', 'media') is None  # claimed: no token sent, the old one removed
    pod = kube.get('apps/v1', 'StatefulSet', 'plex', 'media')['spec']['template']['spec']
    assert 'PLEX_CLAIM' not in {e['name'] for e in pod['containers'][0]['env']}

    mtime = os.stat(prefs).st_mtime_ns
    seen = len(kube.calls)
    code, output = run(kube, tmp_path, 'rerun', config)
    assert code == 0, tail(output, 80)
    assert recap_changed(output) == 0, tail(output, 80)
    assert 'RUNNING HANDLER' not in output
    assert kube.writes(seen) == [] and os.stat(prefs).st_mtime_ns == mtime


def test_unclaimed_server_gets_the_token_through_a_secret(kube, tmp_path, samples):
    config = tmp_path / 'config'
    prefs = config / PREFS
    prefs.parent.mkdir(parents=True)
    shutil.copy(samples / 'fresh.xml', prefs)
    api_defaults_replicas(kube)
    code, output = run(kube, tmp_path, 'unclaimed', config)
    assert code == 0, tail(output, 80)
    assert 'claim-notusedwhenclaimed' not in output  # no_log everywhere the token passes
    secret = kube.get('v1', 'Secret', 'plex-claim', 'media')
    assert secret is not None
    pod = kube.get('apps/v1', 'StatefulSet', 'plex', 'media')['spec']['template']['spec']
    env = {e['name']: e for e in pod['containers'][0]['env']}
    assert env['PLEX_CLAIM']['valueFrom']['secretKeyRef']['name'] == 'plex-claim'
