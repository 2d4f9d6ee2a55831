"""Make this checkout importable as ansible_collections.homelab.mediacluster (scripts/venv.sh links it into
.collections), the Plex samples and the Kubernetes emulator fixtures (modules run through tests/module_runner.py)."""

import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / '.collections'
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

SAMPLES = pathlib.Path(__file__).resolve().parent / 'samples'


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
