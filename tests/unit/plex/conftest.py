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


def _running_kube(tmp_path, extra_crds=()):
    from tests.delivery.conftest import RunningEmulator

    running = RunningEmulator(tmp_path / 'kubeconfig', extra_crds).start()
    try:
        emulator = Emulator(running.url, tmp_path / 'kubeconfig')
        emulator.writes = running.writes
        emulator.calls = running.calls
        yield emulator
    finally:
        running.stop()


@pytest.fixture
def kube(tmp_path):
    """The kmock emulator (tests/peers/kube_emulator.py, with issue 6's dry-run rule) in a thread on a free loopback
    port with a temp kubeconfig; .writes() lists the non-dry-run write requests it received."""
    yield from _running_kube(tmp_path)


@pytest.fixture
def kube_gateway(tmp_path):
    """The same emulator on a cluster that has Gateway API: it holds (and serves) an HTTPRoute CRD, TEST DATA from
    tests/gateway_api/httproute-constrained-test-crd.yaml."""
    yield from _running_kube(tmp_path, [ROOT / 'tests' / 'gateway_api' / 'httproute-constrained-test-crd.yaml'])
