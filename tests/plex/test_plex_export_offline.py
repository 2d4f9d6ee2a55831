"""Issue 13, defect 4: playbooks/70_plex.yml in export mode (GitOps) never contacts a cluster, and the exported Plex
sets its own preferences.

- Without plex_config_share the share-manager address cannot be known offline: the run must not look it up (no
  connection to the kubeconfig's API server, no retries until a timeout). A listening loopback socket stands in
  for the API server and counts every connection it is offered.
- There is no API to scale Plex and copy Preferences.xml in export mode, so the exported StatefulSet carries an init
  container that writes the preferences the collection owns (transcoder temp dir on /transcode, hardware
  acceleration, customConnections) before Plex starts. The test runs that init container's command from the
  exported tree (its ConfigMap materialised in a temp directory) under dash on a fresh and on an existing config.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import xml.etree.ElementTree as ET  # noqa: S405 (test data written by the test)

import yaml

from ..conftest import LOG_DIR, ROOT, VENV_BIN, tail, tool_env
from .test_plex_role_emulator import HERE, PLAYBOOK

SHARE = {'server': '10.43.17.201', 'path': '/pvc-64ffe0e2-1120-4278-93f0-0f353a1d890d',
         'volume': 'pvc-64ffe0e2-1120-4278-93f0-0f353a1d890d'}
PREFS_REL = 'Library/Application Support/Plex Media Server/Preferences.xml'
# A real run of the role takes well under a minute here; the share-manager lookup it must not make retries for
# plex_share_manager_retries x 10 s (300 s by default).
QUICK = 150


class CountingListener:
    """A TCP listener on a free loopback port that accepts and counts every connection, then closes it."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _unused = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


def kubeconfig(path, port):
    path.write_text(yaml.safe_dump({
        'apiVersion': 'v1', 'kind': 'Config', 'current-context': 'nowhere',
        'clusters': [{'name': 'nowhere', 'cluster': {'server': 'https://127.0.0.1:{0}'.format(port),
                                                     'insecure-skip-tls-verify': True}}],
        'contexts': [{'name': 'nowhere', 'context': {'cluster': 'nowhere', 'user': 'nobody'}}],
        'users': [{'name': 'nobody', 'user': {'token': 'not-a-real-token'}}]}))
    return path


def export(tmp_path, name, **extra_vars):
    tmp_path.mkdir(parents=True, exist_ok=True)
    values = {'k8s_delivery_mode': 'export', 'k8s_delivery_export_dir': str(tmp_path / 'gitops'),
              'k8s_delivery_kubernetes_version': '1.33'}
    values.update(extra_vars)
    extra = tmp_path / 'extra.json'
    extra.write_text(json.dumps(values))
    # its own session, so that a run still retrying at the limit is stopped with every worker it forked
    proc = subprocess.Popen([str(VENV_BIN / 'ansible-playbook'), '-i', str(HERE / 'inventory'), str(PLAYBOOK),
                             '-e', '@' + str(extra)], cwd=str(ROOT), env=tool_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _unused = proc.communicate(timeout=QUICK)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _unused = proc.communicate()
        output += '\nansible-playbook still running after {0} s'.format(QUICK)
        code = None
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    (LOG_DIR / ('plex-export-offline-' + name + '.log')).write_text(output)
    return code, output


def read_app(tree, app):
    folder = tree / app
    kustomization = yaml.safe_load((folder / 'kustomization.yaml').read_text())
    return [yaml.safe_load((folder / name).read_text()) for name in kustomization['resources']]


def test_export_without_share_contacts_no_cluster(tmp_path):
    listener = CountingListener()
    try:
        config = kubeconfig(tmp_path / 'kubeconfig', listener.port)
        begin = time.monotonic()
        code, output = export(tmp_path, 'no-share', k8s_kubeconfig=str(config))
        took = time.monotonic() - begin
    finally:
        listener.close()
    assert listener.connections == 0, (
        'export mode opened {0} connection(s) to the kubeconfig\'s API server'.format(listener.connections))
    assert code == 0 and took < QUICK, tail(output, 60)
    flat = ' '.join(output.split())
    assert 'Find the share-manager export' not in flat or 'skipping: [localhost]' in flat
    # the storage part (claim, holder, GPU plugin) is exported; Plex itself waits for the share-manager address, and
    # the run says how to give it
    storage = {(d['kind'], d['metadata']['name']) for d in read_app(tmp_path / 'gitops', 'plex-storage')}
    assert {('PersistentVolumeClaim', 'plex-config'), ('Deployment', 'plex-config-holder')} <= storage
    assert not (tmp_path / 'gitops' / 'plex').exists()
    assert 'set plex_config_share' in flat, tail(output, 60)


def materialise(docs, statefulset, container, root):
    """Write the ConfigMap volumes an init container mounts under root/<volume>; return {mountPath: host dir}."""
    configmaps = {d['metadata']['name']: d for d in docs if d['kind'] == 'ConfigMap'}
    volumes = {v['name']: v for v in statefulset['spec']['template']['spec']['volumes']}
    mounts = {}
    for mount in container.get('volumeMounts', []):
        source = volumes[mount['name']]
        if 'configMap' not in source:
            continue
        folder = root / mount['name']
        folder.mkdir(parents=True)
        for key, value in configmaps[source['configMap']['name']]['data'].items():
            (folder / key).write_text(value)
        mounts[mount['mountPath']] = folder
    return mounts


def run_init(docs, config_dir, tmp_path):
    """Run the preferences init container's command with dash, its ConfigMap mounts and /config mapped to temp dirs."""
    plex = next(d for d in docs if d['kind'] == 'StatefulSet' and d['metadata']['name'] == 'plex')
    inits = plex['spec']['template']['spec'].get('initContainers', [])
    assert inits, 'the exported Plex StatefulSet has no init container: nothing sets the preferences in export mode'
    init = next(c for c in inits if any(m['mountPath'] == '/config' for m in c.get('volumeMounts', [])))
    mounts = materialise(docs, plex, init, tmp_path / 'mounts')
    command = list(init['command']) + list(init.get('args', []))
    assert command[0] in ('/bin/sh', 'sh'), command
    argv = [shutil.which('dash')]
    for arg in command[1:]:
        mapped = arg
        for mount_path, folder in mounts.items():
            if arg.startswith(mount_path + '/'):
                mapped = str(folder) + arg[len(mount_path):]
        argv.append(mapped)
    env = {e['name']: e['value'] for e in init.get('env', []) if 'value' in e}
    env['PLEX_CONFIG_DIR'] = str(config_dir)
    result = subprocess.run(argv, env=dict(os.environ, **env), capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    return config_dir / PREFS_REL


def test_export_sets_plex_preferences_with_an_init_container(tmp_path):
    code, output = export(tmp_path, 'prefs', plex_config_share=SHARE,
                          k8s_kubeconfig=str(tmp_path / 'no-such-kubeconfig'))
    assert code == 0, tail(output, 60)
    docs = read_app(tmp_path / 'gitops', 'plex')
    wanted = {'TranscoderTempDirectory': '/transcode', 'HardwareAcceleratedCodecs': '1',
              'HardwareAcceleratedEncoders': '1', 'HardwareDevicePath': '/dev/dri/renderD128',
              # issue 22: the LAN Service's address first (direct LAN access), then the Ingress; LanNetworks
              'customConnections': 'http://k3s-w3:32400,https://plex.media.example:443', 'secureConnections': '1',
              'LanNetworks': '10.42.0.0/16'}

    fresh = run_init(docs, tmp_path / 'fresh', tmp_path / 'fresh-run')
    assert ET.parse(fresh).getroot().attrib == wanted  # noqa: S314

    existing = tmp_path / 'existing' / PREFS_REL
    existing.parent.mkdir(parents=True)
    shutil.copy(HERE / 'samples' / 'claimed.xml', existing)
    run_init(docs, tmp_path / 'existing', tmp_path / 'existing-run')
    attrib = ET.parse(existing).getroot().attrib  # noqa: S314
    before = ET.parse(HERE / 'samples' / 'claimed.xml').getroot().attrib  # noqa: S314
    assert {k: attrib[k] for k in wanted} == wanted
    assert {k: v for k, v in attrib.items() if k not in wanted} == {k: v for k, v in before.items() if k not in wanted}
