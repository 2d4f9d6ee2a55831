"""Make this checkout importable as ansible_collections.homelab.mediacluster (scripts/venv.sh links it into
.collections) and offer helpers to run a module in-process."""

import json
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
COLLECTIONS = ROOT / '.collections'
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

SAMPLES = pathlib.Path(__file__).resolve().parent / 'samples'


class ModuleExit(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


def run_module(main, args, check=False, diff=False, monkeypatch=None):
    """Run a module's main() in-process and return its result dict (failed=True on fail_json)."""
    from ansible.module_utils import basic
    from ansible.module_utils.testing import patch_module_args

    args = dict(args)
    args['_ansible_check_mode'] = check
    args['_ansible_diff'] = diff

    def exit_json(self, **kwargs):
        kwargs.setdefault('changed', False)
        raise ModuleExit(json.loads(json.dumps(kwargs, default=str)))

    def fail_json(self, msg, **kwargs):
        kwargs['failed'] = True
        kwargs['msg'] = msg
        raise ModuleExit(kwargs)

    with patch_module_args(args):
        monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
        monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)
        try:
            main()
        except ModuleExit as done:
            return done.result
    raise AssertionError('the module returned without exit_json/fail_json')


@pytest.fixture
def samples():
    return SAMPLES


class Emulator:
    """A running kmock emulator (tests/peers/kube_emulator.py) on a free loopback port, with its kubeconfig."""

    def __init__(self, url, kubeconfig):
        self.url = url
        self.kubeconfig = str(kubeconfig)
        import kubernetes
        from kubernetes.dynamic import DynamicClient

        self.client = DynamicClient(kubernetes.config.new_client_from_config(self.kubeconfig))

    def apply(self, *docs):
        """Seed objects the way a real cluster would hold them (server-side apply, status included)."""
        for doc in docs:
            resource = self.client.resources.get(api_version=doc['apiVersion'], kind=doc['kind'])
            meta = doc['metadata']
            resource.server_side_apply(body=doc, name=meta['name'], namespace=meta.get('namespace'),
                                       field_manager='test-seed')

    def get(self, api_version, kind, name, namespace=None):
        from kubernetes.dynamic.exceptions import NotFoundError

        resource = self.client.resources.get(api_version=api_version, kind=kind)
        try:
            return resource.get(name=name, namespace=namespace).to_dict()
        except NotFoundError:
            return None

    def delete(self, api_version, kind, name, namespace=None):
        resource = self.client.resources.get(api_version=api_version, kind=kind)
        resource.delete(name=name, namespace=namespace)


@pytest.fixture
def kube(tmp_path):
    """One emulator per test (a clean API), started on port 0 and stopped by its pid."""
    import subprocess
    import time

    ready = tmp_path / 'kube-ready'
    kubeconfig = tmp_path / 'kubeconfig'
    log = (tmp_path / 'kube.log').open('w')
    proc = subprocess.Popen([sys.executable, str(ROOT / 'tests' / 'peers' / 'kube_emulator.py'), '--port', '0',
                             '--ready-file', str(ready), '--kubeconfig', str(kubeconfig)],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not (ready.exists() and ready.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError('kube emulator did not start: ' + (tmp_path / 'kube.log').read_text())
            time.sleep(0.05)
        yield Emulator(ready.read_text().strip(), kubeconfig)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
