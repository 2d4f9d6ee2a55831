"""replace_server.yml on a throwaway node holding three inventory servers, with a stand-in k3s that answers the
read-only kubectl calls (/readyz ok, the etcd Node objects as JSON) and logs every call: the play must refuse before
any change when the removal would cost etcd its quorum or no server is named. The plan itself is unit-tested in
tests/unit/test_k3s_lifecycle.py; the deletion and rejoin need a real k3s (tests/k3s/test_live.py territory)."""

import json
import subprocess

import pytest

from ..conftest import tail
from .conftest import inventory, node_container, playbook, podman

STANDIN = r'''#!/bin/sh
echo "$*" >> /var/log/k3s-standin.log
case "$*" in
  --version) echo "k3s version v1.33.5+k3s1 (stand-in)" ;;
  "kubectl get --raw=/readyz") echo ok ;;
  "kubectl get nodes -l node-role.kubernetes.io/etcd=true -o json") cat /etc/k3s-standin-nodes.json ;;
  *) echo "k3s stand-in: refusing $*" >&2; exit 1 ;;
esac
'''


def etcd_node(name, ready):
    return {'metadata': {'name': name, 'labels': {'node-role.kubernetes.io/etcd': 'true'}},
            'status': {'conditions': [{'type': 'Ready', 'status': 'True' if ready else 'False'}]}}


@pytest.fixture(scope='module')
def cluster_node(tmp_path_factory):
    yield from node_container(tmp_path_factory)


@pytest.fixture
def three_servers(cluster_node, tmp_path):
    nodes = {'apiVersion': 'v1', 'kind': 'List',
             'items': [etcd_node('cp1', True), etcd_node('cp2', False), etcd_node('cp3', True)]}
    script = ('mkdir -p /etc/rancher/k3s /var/lib/rancher/k3s/server/db/etcd && '
              'echo member > /var/lib/rancher/k3s/server/db/etcd/member && : > /var/log/k3s-standin.log && '
              'cat > /usr/local/bin/k3s && chmod 755 /usr/local/bin/k3s')
    subprocess_input(cluster_node, script, STANDIN)
    subprocess_input(cluster_node, 'cat > /etc/k3s-standin-nodes.json', json.dumps(nodes))
    vip = '10.81.0.250'
    inv = inventory(tmp_path, cluster_node, ['cp1', 'cp2', 'cp3'], all_vars={'k3s_common_vip': vip})
    return {'node': cluster_node, 'inventory': inv}


def subprocess_input(node, script, data):
    subprocess.run(['podman', 'exec', '-i', node['name'], 'sh', '-c', script], input=data, text=True,
                   capture_output=True, check=True)


def calls(node):
    return podman('exec', node['name'], 'cat', '/var/log/k3s-standin.log').stdout.splitlines()


def test_refuses_when_the_removal_would_cost_quorum(three_servers):
    node = three_servers['node']
    code, output = playbook('k3s-replace-unhealthy', three_servers['inventory'], 'replace_server.yml', '-e',
                            'replace_server=cp3')
    assert code != 0, tail(output)
    assert "would cost etcd its quorum" in output and 'cp2 (node cp2 not Ready)' in output, tail(output)
    assert not [c for c in calls(node) if 'delete' in c], calls(node)
    assert set(calls(node)) <= {'kubectl get --raw=/readyz',
                                'kubectl get nodes -l node-role.kubernetes.io/etcd=true -o json'}, calls(node)
    assert podman('exec', node['name'], 'test', '-e', '/var/lib/rancher/k3s/server/db/etcd/member',
                  check=False).returncode == 0


def test_refuses_without_a_server_to_replace(three_servers):
    code, output = playbook('k3s-replace-none', three_servers['inventory'], 'replace_server.yml')
    assert code != 0 and 'Run replace_server.yml with -e replace_server=<server>' in output, tail(output)
    assert calls(three_servers['node']) == []
