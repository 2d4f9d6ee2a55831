"""k3s for real: the k3s_ha scenario with the real k3s binary and kube-vip image started, servers joined one at a
time, agents through the VIP, and a VIP failover. Needs MEDIACLUSTER_K3S_BINARY (a k3s release binary) and
MEDIACLUSTER_KUBE_VIP_IMAGE (the kube-vip image tarball); neither can be downloaded on the development machine,
so without them these tests skip."""

import os
import time

import pytest

from ..conftest import VENV_BIN, run_logged, tail
from .conftest import podman

REASON = ('needs MEDIACLUSTER_K3S_BINARY (k3s release binary) and MEDIACLUSTER_KUBE_VIP_IMAGE (kube-vip image '
          'tarball): k3s cannot be downloaded here')
SERVERS = ['mc-k3s-cp1', 'mc-k3s-cp2', 'mc-k3s-cp3']
VIP = '10.81.0.100'
FAILOVER_SECONDS = 30

pytestmark = pytest.mark.molecule


@pytest.fixture(scope='module')
def cluster():
    if not (os.environ.get('MEDIACLUSTER_K3S_BINARY') and os.environ.get('MEDIACLUSTER_KUBE_VIP_IMAGE')):
        pytest.skip(REASON)
    molecule = str(VENV_BIN / 'molecule')
    code, output = run_logged('k3s-live-converge', [molecule, 'converge', '-s', 'k3s_ha'], timeout=3600)
    try:
        assert code == 0, tail(output)
        yield output
    finally:
        run_logged('k3s-live-destroy', [molecule, 'destroy', '-s', 'k3s_ha'])


def kubectl(node, *args):
    return podman('exec', node, '/usr/local/bin/k3s', 'kubectl', *args, check=False)


def vip_answers(node):
    return podman('exec', node, 'curl', '-sk', '-o', '/dev/null', '--max-time', '2',
                  'https://{0}:6443/readyz'.format(VIP), check=False).returncode == 0


def test_three_etcd_members_and_agents_ready(cluster):
    nodes = kubectl('mc-k3s-cp1', 'get', 'nodes', '-l', 'node-role.kubernetes.io/etcd=true', '-o', 'name').stdout
    assert sorted(nodes.split()) == sorted('node/' + s for s in SERVERS)
    ready = kubectl('mc-k3s-cp1', 'get', 'nodes', '-o',
                    'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}').stdout
    assert ready.split() == ['True'] * 5


def test_vip_fails_over_when_the_leader_stops(cluster):
    holder = kubectl('mc-k3s-cp1', '-n', 'kube-system', 'get', 'lease', 'plndr-cp-lock', '-o',
                     'jsonpath={.spec.holderIdentity}').stdout.strip()
    assert holder in SERVERS
    podman('exec', holder, 'systemctl', 'stop', 'k3s.service')
    other = next(s for s in SERVERS if s != holder)
    deadline = time.monotonic() + FAILOVER_SECONDS
    while time.monotonic() < deadline and not vip_answers(other):
        time.sleep(1)
    assert vip_answers(other), 'the VIP did not answer within {0}s after {1} stopped'.format(FAILOVER_SECONDS, holder)
    podman('exec', holder, 'systemctl', 'start', 'k3s.service')


def test_rerun_restarts_nothing(cluster):
    code, output = run_logged('k3s-live-rerun', [str(VENV_BIN / 'molecule'), 'idempotence', '-s', 'k3s_ha'],
                              timeout=3600)
    assert code == 0, tail(output)
