"""media_stack_route=httproute on the apply path: the delivery layer applies one HTTPRoute per app to the Kubernetes
emulator (holding an HTTPRoute CRD, as a cluster that runs the Gateway API does), and a rerun changes nothing. No
k8s_delivery_crd_paths is given: the routes are validated against the CRD read from the cluster (TEST DATA in
tests/gateway_api/httproute-constrained-test-crd.yaml, whose schema limits the ports). The routes' content is checked
against the Gateway API validators in test_manifests.py."""

import json
import re
import urllib.error
import urllib.request

import pytest

from ..conftest import ROOT, run_logged
from .conftest import kube_emulator

CLUSTER_CRD = ROOT / 'tests' / 'gateway_api' / 'httproute-constrained-test-crd.yaml'
PARENT_REFS = [{'name': 'homelab', 'namespace': 'gateway'}]
INVENTORY = """
all:
  children:
    controller:
      hosts:
        localhost:
          ansible_connection: local
          ansible_python_interpreter: "{{ ansible_playbook_python }}"
"""


@pytest.fixture
def kube(tmp_path):
    with kube_emulator(tmp_path, '--crd', str(CLUSTER_CRD)) as emulator:
        yield emulator


def play(tmp_path, name, kubeconfig):
    inventory = tmp_path / 'inventory.yml'
    inventory.write_text(INVENTORY)
    variables = {'media_stack_nfs_server': '192.0.2.10', 'media_stack_nfs_path': '/data', 'k8s_delivery_wait': False,
                 'k8s_kubeconfig': str(kubeconfig), 'media_stack_wire': False, 'media_stack_route': 'httproute',
                 'media_stack_gateway_parent_refs': PARENT_REFS}
    code, output = run_logged(name, ['ansible-playbook', '-i', str(inventory),
                                     str(ROOT / 'playbooks' / '60_media.yml'), '-e', json.dumps(variables)])
    assert code == 0, output[-4000:]
    return int(re.search(r'localhost\s*:\s*ok=\d+\s+changed=(\d+)', output).group(1)), output


def test_httproutes_apply_then_rerun_changes_nothing(tmp_path, kube):
    url, kubeconfig = kube
    changed, output = play(tmp_path, 'media-stack-httproute-apply-1', kubeconfig)
    assert changed > 0 and 'HTTPRoute/sonarr' in output
    assert ("TASK [homelab.mediacluster.k8s_delivery : Check the manifests (schemas, Pod Security, scheduling, "
            "NetworkPolicy) of media-stack, with the cluster's CRDs]") \
        in output
    for app, port in (('prowlarr', 9696), ('sonarr', 8989), ('radarr', 7878), ('qbittorrent', 8080),
                      ('jellyfin', 8096)):
        path = '/apis/gateway.networking.k8s.io/v1/namespaces/media/httproutes/' + app
        with urllib.request.urlopen(url + path, timeout=10) as response:
            route = json.loads(response.read())
        assert route['spec']['parentRefs'] == [dict(PARENT_REFS[0], sectionName='https')]
        assert route['spec']['hostnames'] == ['{0}.media.home.arpa'.format(app)]
        assert route['spec']['rules'][0]['backendRefs'] == [{'kind': 'Service', 'name': app, 'port': port}]
        with urllib.request.urlopen(url + path + '-http', timeout=10) as response:
            redirect = json.loads(response.read())
        assert redirect['spec']['parentRefs'] == [dict(PARENT_REFS[0], sectionName='http')]
    grant = '/apis/gateway.networking.k8s.io/v1beta1/namespaces/media/referencegrants/media-stack-gateway-tls'
    with urllib.request.urlopen(url + grant, timeout=10) as response:
        assert json.loads(response.read())['spec']['from'][0]['namespace'] == 'gateway'
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(url + '/apis/networking.k8s.io/v1/namespaces/media/ingresses/sonarr', timeout=10)
    changed, output = play(tmp_path, 'media-stack-httproute-apply-2', kubeconfig)
    assert changed == 0, output[-4000:]
