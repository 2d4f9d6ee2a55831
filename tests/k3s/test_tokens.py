"""Join tokens on real node containers (issue 14 item 4): 30_k3s.yml in install/configure-only mode with the k3s
stand-in (tests/k3s/conftest.py) on three throwaway containers: cp1 (first server), cp2 (joining server), w1 (agent).

k3s writes the cluster CA (/var/lib/rancher/k3s/server/tls/server-ca.crt) when the first server first starts; the
stand-in starts nothing, so the test puts a fixture CA there, standing for a first server that is up. Then:

- the first server keeps the short server secret it bootstraps with (the CA does not exist before its first start);
- the joining server gets the secure form `K10<sha256 of the CA file>::server:<secret>`, so it checks the CA the
  VIP presents before it sends the secret;
- servers get a separate agent secret (`agent-token-file`);
- the agent gets `K10<hash>::node:<agent secret>` only: the server secret is nowhere on it, and the server token
  file that earlier versions of this role wrote to agents is removed;
- every token file is 0600 root, no secret is in the -vvv output, and a rerun changes nothing."""

import hashlib
import json
import re
import shutil
import subprocess
import uuid

import pytest
import yaml

from ..conftest import ROOT, tail
from .conftest import IMAGE, playbook, podman, vip_beside, wait_for_sshd

CA_FILE = ROOT / 'tests' / 'k3s' / 'fixtures' / 'server-ca.crt'
CA_HASH = hashlib.sha256(CA_FILE.read_bytes()).hexdigest()
HOSTS = ('cp1', 'cp2', 'w1')


@pytest.fixture(scope='module')
def nodes(tmp_path_factory):
    if shutil.which('podman') is None or podman('image', 'exists', IMAGE, check=False).returncode != 0:
        pytest.skip('needs podman and the node image {0} (make image)'.format(IMAGE))
    keydir = tmp_path_factory.mktemp('k3s-token-ssh')
    key = keydir / 'id_ed25519'
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', str(key)], check=True)
    prefix = 'mc-k3s-tokens-' + uuid.uuid4().hex[:6]
    made = {}
    try:
        for host in HOSTS:
            name = '{0}-{1}'.format(prefix, host)
            podman('run', '-d', '--name', name, '--hostname', host, '--runtime', 'runc', '--ulimit',
                   'nofile=20000:20000', '--ulimit', 'nproc=32768:32768', IMAGE, '/sbin/init')
            ip = json.loads(podman('inspect', name).stdout)[0]['NetworkSettings']['IPAddress']
            made[host] = {'name': name, 'ip': ip, 'control_path': str(keydir / ('m-' + host))}
            subprocess.run(['podman', 'exec', '-i', name, 'sh', '-c',
                            'umask 077; mkdir -p /root/.ssh; cat > /root/.ssh/authorized_keys'],
                           input=key.with_suffix('.pub').read_text(), text=True, capture_output=True, check=True)
        for node in made.values():
            wait_for_sshd(node['ip'])
        yield {'nodes': made, 'key': str(key)}
    finally:
        for host, node in made.items():
            subprocess.run(['ssh', '-o', 'ControlPath=' + node['control_path'], '-O', 'exit', 'root@' + host],
                           capture_output=True, check=False)
            podman('rm', '-f', '-t', '0', node['name'], check=False)


def _cat(node, path):
    result = podman('exec', node['name'], 'cat', path, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


@pytest.fixture(scope='module')
def installed(tmp_path_factory, nodes, standin):
    tmp = tmp_path_factory.mktemp('k3s-tokens')
    cp1, cp2, w1 = (nodes['nodes'][h] for h in HOSTS)
    # the first server is up: its CA exists (k3s writes it at first start)
    podman('exec', cp1['name'], 'mkdir', '-p', '/var/lib/rancher/k3s/server/tls')
    podman('cp', str(CA_FILE), '{0}:/var/lib/rancher/k3s/server/tls/server-ca.crt'.format(cp1['name']))
    # an agent set up by an earlier version of the role holds the server token: it must go
    podman('exec', w1['name'], 'sh', '-c', 'mkdir -p /etc/rancher/k3s && umask 077 && '
           'echo old-server-token-on-agent > /etc/rancher/k3s/cluster-token')

    def host(name):
        node = nodes['nodes'][name]
        return {'ansible_connection': 'ansible.builtin.ssh', 'ansible_host': node['ip'], 'ansible_user': 'root',
                'ansible_ssh_private_key_file': nodes['key'], 'ansible_control_path': node['control_path'],
                'ansible_python_interpreter': '/usr/bin/python3',
                'k3s_common_node_ip': node['ip'], 'k3s_common_node_cidr': node['ip'] + '/16'}
    vip = vip_beside(cp1['ip'], cp2['ip'], w1['ip'])
    data = {'all': {'vars': {'k3s_common_vip': vip, 'k3s_common_install_mode': 'airgap',
                             'k3s_common_airgap_binary': standin['path'],
                             'k3s_common_airgap_binary_sha256': standin['sha256'],
                             'k3s_common_start_service': False, 'k3s_server_kubeconfig_dest': ''},
                    'children': {'k3s_cluster': {'children': {
                        'k3s_servers': {'hosts': {'cp1': host('cp1'), 'cp2': host('cp2'), 'cp3': {}}},
                        'k3s_agents': {'hosts': {'w1': host('w1')}}}}}}}
    # three servers keep the inventory valid (odd count); cp3 is not part of this run (--limit)
    data['all']['children']['k3s_cluster']['children']['k3s_servers']['hosts']['cp3'] = dict(
        host('cp2'), k3s_common_node_ip='10.99.0.3', k3s_common_node_cidr='10.99.0.3/16')
    inv = tmp / 'hosts.yml'
    inv.write_text(yaml.safe_dump(data))
    code, output = playbook('k3s-tokens-vvv', str(inv), '30_k3s.yml', '-vvv', '--limit', 'cp1,cp2,w1')
    assert code == 0, tail(output)
    return {'inventory': str(inv), 'output': output, 'cp1': cp1, 'cp2': cp2, 'w1': w1}


def test_first_server_bootstraps_with_the_short_secret(installed):
    secret = _cat(installed['cp1'], '/etc/rancher/k3s/cluster-token')
    assert secret and len(secret) >= 32 and not secret.startswith('K10')


def test_joining_server_gets_the_secure_token_with_the_ca_hash(installed):
    secret = _cat(installed['cp1'], '/etc/rancher/k3s/cluster-token')
    assert _cat(installed['cp2'], '/etc/rancher/k3s/cluster-token') == 'K10{0}::server:{1}'.format(CA_HASH, secret)
    config = yaml.safe_load(_cat(installed['cp2'], '/etc/rancher/k3s/config.yaml'))
    assert config['token-file'] == '/etc/rancher/k3s/cluster-token'


def test_servers_share_a_separate_agent_secret(installed):
    server_secret = _cat(installed['cp1'], '/etc/rancher/k3s/cluster-token')
    agent_secret = _cat(installed['cp1'], '/etc/rancher/k3s/agent-token')
    assert agent_secret and len(agent_secret) >= 32 and agent_secret != server_secret
    assert _cat(installed['cp2'], '/etc/rancher/k3s/agent-token') == agent_secret
    for server in ('cp1', 'cp2'):
        config = yaml.safe_load(_cat(installed[server], '/etc/rancher/k3s/config.yaml'))
        assert config['agent-token-file'] == '/etc/rancher/k3s/agent-token', server


def test_agent_gets_only_the_agent_token_never_the_server_secret(installed):
    server_secret = _cat(installed['cp1'], '/etc/rancher/k3s/cluster-token')
    agent_secret = _cat(installed['cp1'], '/etc/rancher/k3s/agent-token')
    w1 = installed['w1']
    # where k3s and the roles write; /var/lib/rancher is there only once something is written below it (an agent
    # without airgap images gets nothing there before k3s first starts)
    places = [path for path in ('/etc', '/var/lib/rancher', '/usr/local/bin')
              if podman('exec', w1['name'], 'test', '-e', path, check=False).returncode == 0]
    assert '/etc' in places and '/usr/local/bin' in places
    found = podman('exec', w1['name'], 'grep', '-rlF', server_secret, *places, check=False)
    assert found.returncode == 1 and found.stdout == '', 'the server secret is on the agent: ' + found.stdout
    assert _cat(w1, '/etc/rancher/k3s/cluster-token') is None  # also the one an earlier version left there
    assert _cat(w1, '/etc/rancher/k3s/agent-token') == 'K10{0}::node:{1}'.format(CA_HASH, agent_secret)
    config = yaml.safe_load(_cat(w1, '/etc/rancher/k3s/config.yaml'))
    assert config['token-file'] == '/etc/rancher/k3s/agent-token' and 'agent-token-file' not in config


def test_token_files_are_root_0600_and_no_secret_is_logged(installed):
    secrets = {_cat(installed['cp1'], '/etc/rancher/k3s/cluster-token'),
               _cat(installed['cp1'], '/etc/rancher/k3s/agent-token')}
    for host, paths in (('cp1', ['cluster-token', 'agent-token']), ('cp2', ['cluster-token', 'agent-token']),
                        ('w1', ['agent-token'])):
        for path in paths:
            stat = podman('exec', installed[host]['name'], 'stat', '-c', '%a %U', '/etc/rancher/k3s/' + path)
            assert stat.stdout.split() == ['600', 'root'], (host, path)
    for secret in secrets:
        assert secret not in installed['output']


def test_rerun_changes_nothing(installed):
    code, output = playbook('k3s-tokens-rerun', installed['inventory'], '30_k3s.yml', '--limit', 'cp1,cp2,w1')
    assert code == 0, tail(output)
    recap = dict(re.findall(r'^(\S+)\s+: ok=\d+\s+changed=(\d+)', output, re.M))
    assert recap == {'cp1': '0', 'cp2': '0', 'w1': '0'}, tail(output)


def test_a_secret_file_that_cannot_be_read_stops_the_run(installed):
    """The first server's token files are read in one round trip (node_facts, issue 18), which leaves out what it
    cannot read: a file that is there but unreadable must stop the run, not be taken for a new cluster (a new secret
    would be written over the one the cluster uses)."""
    cp1 = installed['cp1']
    kept = _cat(cp1, '/etc/rancher/k3s/agent-token')
    podman('exec', cp1['name'], 'sh', '-c', 'mv /etc/rancher/k3s/agent-token /root/agent-token.kept && '
           'mkdir /etc/rancher/k3s/agent-token')
    try:
        code, output = playbook('k3s-tokens-unreadable', installed['inventory'], '30_k3s.yml', '--limit', 'cp1,cp2,w1')
    finally:
        podman('exec', cp1['name'], 'sh', '-c', 'rmdir /etc/rancher/k3s/agent-token && '
               'mv /root/agent-token.kept /etc/rancher/k3s/agent-token')
    flat = ' '.join(output.split())
    assert code != 0, tail(output)
    assert 'Cannot read /etc/rancher/k3s/agent-token on cp1 (present, but not a readable file)' in flat, tail(output)
    assert not re.search(r'^(cp1|cp2|w1)\s+: ok=\d+\s+changed=[1-9]', output, re.M), tail(output)
    assert _cat(cp1, '/etc/rancher/k3s/agent-token') == kept and kept not in output
