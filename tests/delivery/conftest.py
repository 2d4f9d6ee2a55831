"""Fixtures for the Kubernetes delivery layer tests: the collection on sys.path, the kmock API emulator on a free
loopback port in a background thread (so a test can count the write calls it received), and a playbook runner."""

import asyncio
import pathlib
import re
import sys
import threading

import pytest
import yaml

from ..conftest import ROOT, VENV_BIN, run_logged

COLLECTIONS = ROOT / '.collections'
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

WRITE_ACTIONS = {'CREATE', 'UPDATE', 'DELETE'}


class RunningEmulator:
    """kmock in a thread. `calls` records (action, resource, namespace, name, dry_run) for every request."""

    def __init__(self, kubeconfig, extra_crds=()):
        self.kubeconfig = kubeconfig
        self.extra_crds = list(extra_crds)
        self.calls = []
        self.url = None
        self.emulator = None
        self._ready = threading.Event()
        self._loop = None
        self._stop = None
        self._error = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            asyncio.run(self._serve())
        except Exception as exc:  # surfaced in start()
            self._error = exc
            self._ready.set()

    async def _serve(self):
        import kmock

        from tests.peers.kube_emulator import build_emulator, write_kubeconfig
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with build_emulator(extra_crds=self.extra_crds) as emulator, \
                kmock.Server(emulator, host='127.0.0.1', port=0) as server:
            original = emulator._handle

            async def counting(request):
                action = getattr(request.action, 'value', request.action)
                self.calls.append((action, str(request.resource), request.namespace, request.name,
                                   bool((request.params or {}).get('dryRun'))))
                return await original(request)

            emulator._handle = counting
            self.emulator = emulator
            self.url = 'http://{0}:{1}'.format(server.host, server.port)
            write_kubeconfig(self.kubeconfig, self.url)
            self._ready.set()
            await self._stop.wait()

    def start(self):
        self._thread.start()
        self._ready.wait(30)
        if self._error or not self.url:
            raise RuntimeError('the kube emulator did not start: {0}'.format(self._error))
        return self

    def stop(self):
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def writes(self, since=0):
        """Requests that would change state on a real API server (dry runs excluded)."""
        return [c for c in self.calls[since:] if c[0] in WRITE_ACTIONS and not c[4]]

    def stored(self, api_version, plural, namespace, name):
        """The stored object as a dict, or None. e.g. stored('v1', 'configmaps', 'demo', 'settings')."""
        group, _unused, version = api_version.rpartition('/')
        for key in list(self.emulator._objects.keys()):
            resource, ns, obj_name = key
            if ((resource.group or '', resource.version, resource.plural) == (group, version, plural)
                    and ns == namespace and obj_name == name):
                obj = self.emulator._objects[key]
                return None if obj.deleted else obj.raw
        return None


@pytest.fixture
def kube(tmp_path):
    emulator = RunningEmulator(tmp_path / 'kubeconfig').start()
    yield emulator
    emulator.stop()


@pytest.fixture
def kube_with_crds(tmp_path):
    """Start an emulator whose cluster also holds the given CRD files (served kinds and CRD objects)."""
    started = []

    def start(*crd_files):
        emulator = RunningEmulator(tmp_path / 'kubeconfig-{0}'.format(len(started)), crd_files).start()
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()


def write_playbook(directory, plays):
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / 'inventory.yml').write_text(yaml.safe_dump({'all': {'hosts': {'localhost': {
        'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}}}}))
    path = directory / 'play.yml'
    path.write_text(yaml.safe_dump(plays, sort_keys=False))
    return path


def run_playbook(name, playbook, *args, extra_vars=None, **env):
    cmd = [str(VENV_BIN / 'ansible-playbook'), '-i', str(pathlib.Path(playbook).parent / 'inventory.yml'),
           str(playbook)]
    if extra_vars:
        vars_file = pathlib.Path(playbook).parent / 'extra-vars.yml'
        vars_file.write_text(yaml.safe_dump(extra_vars))
        cmd += ['-e', '@' + str(vars_file)]
    cmd += list(args)
    return run_logged(name, cmd, timeout=600, **env)


def recap(output, host='localhost'):
    """{'ok': n, 'changed': n, 'failed': n, ...} from the PLAY RECAP line of host."""
    match = re.search(r'^{0}\s*:\s*(.*)$'.format(re.escape(host)), output, re.MULTILINE)
    assert match, 'no PLAY RECAP line for {0} in the output'.format(host)
    return {k: int(v) for k, v in re.findall(r'(\w+)=(\d+)', match.group(1))}


def changed_items(output):
    """Loop items reported changed, e.g. ['ConfigMap demo/settings', ...]."""
    return re.findall(r'^changed: \[localhost\] => \(item=(.+?)\)\s*$', output, re.MULTILINE)


def applied(output):
    """The objects the k8s_delivery role reports it applied (or would apply, in check mode) without --diff, in one
    call per batch: e.g. ['Namespace /demo', 'ConfigMap demo/settings', ...]."""
    found = []
    for line in re.findall(r'"msg": "[^":]+: (?:applied|would apply) (.+)"\s*$', output, re.MULTILINE):
        found += line.split(', ')
    return found


def demo_play(docs):
    """A play that delivers `docs` as the app `demo` through the k8s_delivery role."""
    return [{
        'name': 'Deliver the demo app', 'hosts': 'localhost', 'gather_facts': False,
        'tasks': [{'name': 'Deliver', 'ansible.builtin.include_role': {'name': 'homelab.mediacluster.k8s_delivery'},
                   'vars': {'k8s_delivery_app': 'demo', 'k8s_delivery_manifests': docs}}],
    }]


def demo_vars(kube):
    return {'k8s_kubeconfig': str(kube.kubeconfig), 'k8s_delivery_wait': False}
