"""Bad inventories fail in the k3s preflight with a message that says how to fix them, before anything changes:
every case runs the whole playbook (not only the preflight tag) and then checks the node is untouched."""

import re

import pytest

from ..conftest import tail
from .conftest import inventory, playbook, podman

GOOD_VARS = {'k3s_common_vip': '10.81.0.100', 'k3s_common_install_mode': 'airgap', 'k3s_common_start_service': False,
             'k3s_server_kubeconfig_dest': ''}

# (id, servers, agents, gpu, extra all-vars, host vars, expected message fragment)
BAD = [
    ('even-servers', ['cp1', 'cp2'], ['w1'], [], {}, {}, r'2 servers \(cp1, cp2\): etcd needs an odd number'),
    ('four-servers', ['cp1', 'cp2', 'cp3', 'cp4'], [], [], {}, {}, r'4 servers .*Add a server'),
    ('vip-outside-subnet', ['cp1'], ['w1'], [], {'k3s_common_vip': '10.99.0.100'}, {},
     r'k3s_common_vip=10\.99\.0\.100 is outside the subnet 10\.81\.0\.0/24 of server cp1'),
    ('vip-is-a-node-ip', ['cp1'], ['w1'], [], {'k3s_common_vip': '10.81.0.12'}, {},
     r'k3s_common_vip=10\.81\.0\.12 is the IP of w1'),
    ('duplicate-hostnames', ['cp1'], ['w1', 'w2'], [], {}, {'w2': {'k3s_common_node_name': 'W1'}},
     r"duplicate node name 'W1' for w1 and w2"),
    ('gpu-without-taint', ['cp1'], ['w3'], ['w3'], {'k3s_common_gpu_taint': ''}, {},
     r'w3 is in the GPU group but has no gpu=…:NoSchedule taint'),
    ('gpu-without-label', ['cp1'], ['w3'], ['w3'], {'k3s_common_gpu_labels': {}}, {},
     r'w3 is in the GPU group but has no gpu label'),
    ('unsupported-arch', ['cp1'], ['w1'], [], {}, {'w1': {'k3s_common_arch': 's390x'}},
     r"w1: architecture 's390x' is not supported"),
    ('missing-airgap-binary', ['cp1'], ['w1'], [], {'k3s_common_airgap_binary': '/nonexistent/k3s'}, {},
     r'airgap file\(s\) missing on the controller: /nonexistent/k3s'),
    ('missing-airgap-images', ['cp1'], ['w1'], [], {'k3s_common_airgap_images': ['/nonexistent/images.tar.zst']}, {},
     r'airgap file\(s\) missing on the controller: /nonexistent/images\.tar\.zst'),
    ('wrong-airgap-checksum', ['cp1'], ['w1'], [], {'k3s_common_airgap_binary_sha256': '0' * 64}, {},
     r'is not the release you pinned'),
    ('no-vip', ['cp1'], ['w1'], [], {'k3s_common_vip': ''}, {}, r'k3s_common_vip is empty'),
    # the agents would hold the server secret; the secure form of the same secret is the same secret
    ('agent-secret-is-the-server-secret', ['cp1'], ['w1'], [],
     {'k3s_common_token': 'SameSecret0123456789abcdef', 'k3s_common_agent_token': 'K10' + 'a' * 64
      + '::node:SameSecret0123456789abcdef'}, {},
     r'k3s_common_agent_token is the same secret as k3s_common_token'),
]


@pytest.mark.parametrize('case', BAD, ids=[c[0] for c in BAD])
@pytest.mark.parametrize('playbook_file', ['30_k3s.yml', '20_nodes.yml'])
def test_bad_inventory_fails_before_any_change(tmp_path, node, standin, case, playbook_file):
    name, servers, agents, gpu, extra, host_vars, message = case
    all_vars = dict(GOOD_VARS, k3s_common_airgap_binary=standin['path'],
                    k3s_common_airgap_binary_sha256=standin['sha256'])
    all_vars.update(extra)
    inv = inventory(tmp_path, node, servers, agents, gpu=gpu, all_vars=all_vars, host_vars=host_vars)
    code, output = playbook('k3s-preflight-{0}-{1}'.format(name, playbook_file), inv, playbook_file)
    assert code != 0, 'the bad inventory {0} passed:\n{1}'.format(name, tail(output))
    assert re.search(message, output), 'no fix-it message for {0}:\n{1}'.format(name, tail(output))
    recap = re.findall(r'^(\S+)\s+: ok=\d+\s+changed=(\d+)', output, re.M)
    assert recap and all(changed == '0' for _host, changed in recap), tail(output)
    # nothing reached the node: no k3s directory, no binary, no node_prep files
    for path in ('/etc/rancher/k3s', '/usr/local/bin/k3s', '/etc/sysctl.d/90-mediacluster-k3s.conf'):
        assert podman('exec', node['name'], 'test', '-e', path, check=False).returncode == 1, path


def test_good_inventory_passes_the_preflight(tmp_path, node, standin):
    all_vars = dict(GOOD_VARS, k3s_common_airgap_binary=standin['path'],
                    k3s_common_airgap_binary_sha256=standin['sha256'])
    inv = inventory(tmp_path, node, ['cp1', 'cp2', 'cp3'], ['w1', 'w3'], gpu=['w3'], all_vars=all_vars)
    code, output = playbook('k3s-preflight-good', inv, '30_k3s.yml', '--tags', 'k3s_common_preflight')
    assert code == 0, tail(output)
    assert re.search(r'^cp1\s+: ok=\d+\s+changed=0', output, re.M)
