"""30_k3s.yml on a throwaway node (install/configure only): the generated token reaches the node in a 0600 file but
never the -vvv output; a rerun changes nothing; upgrade.yml --check previews a newly pinned binary without failing
or writing it; upgrade.yml installs a newly pinned binary; reset.yml refuses
without its confirmation and removes k3s with it."""

import hashlib
import re

import pytest

from ..conftest import tail
from .conftest import inventory, playbook, podman, vip_beside

pytestmark = pytest.mark.usefixtures('node')


@pytest.fixture(scope='module')
def installed(tmp_path_factory, node, standin):
    tmp_path = tmp_path_factory.mktemp('k3s-install')
    ip = node['ip']
    all_vars = {'k3s_common_vip': vip_beside(ip), 'k3s_common_install_mode': 'airgap',
                'k3s_common_airgap_binary': standin['path'], 'k3s_common_airgap_binary_sha256': standin['sha256'],
                'k3s_common_start_service': False, 'k3s_server_kubeconfig_dest': ''}
    inv = inventory(tmp_path, node, ['cp1'], all_vars=all_vars,
                    host_vars={'cp1': {'k3s_common_node_ip': '', 'k3s_common_node_cidr': ''}})
    code, output = playbook('k3s-install-vvv', inv, '30_k3s.yml', '-vvv')
    assert code == 0, tail(output)
    return {'inventory': inv, 'output': output}


def test_token_is_in_a_0600_file_and_never_in_the_verbose_log(installed, node):
    stat = podman('exec', node['name'], 'stat', '-c', '%a %U', '/etc/rancher/k3s/cluster-token').stdout.split()
    assert stat == ['600', 'root']
    token = podman('exec', node['name'], 'cat', '/etc/rancher/k3s/cluster-token').stdout.strip()
    assert len(token) >= 32
    assert token not in installed['output']
    assert 'censored' in installed['output']  # the no_log tasks ran and were hidden
    config = podman('exec', node['name'], 'cat', '/etc/rancher/k3s/config.yaml').stdout
    assert token not in config and 'token-file: /etc/rancher/k3s/cluster-token' in config


def test_rerun_changes_nothing(installed):
    code, output = playbook('k3s-install-rerun', installed['inventory'], '30_k3s.yml')
    assert code == 0, tail(output)
    recap = re.findall(r'^(\S+)\s+: ok=\d+\s+changed=(\d+)', output, re.M)
    assert recap == [('cp1', '0')], tail(output)


@pytest.mark.parametrize('tag, step', [
    ('k3s_server_config', 'k3s_server : Write the k3s unit and the server config'),
    ('k3s_common_tokens', 'k3s_common : Write the token files'),
    # the binary step acts on the preflight's read of the node, which its tag now runs too
    ('k3s_common_binary', 'k3s_common : Copy the airgap k3s binary'),
])
def test_a_step_tag_reruns_its_step_alone(installed, tag, step):
    # `--tags <role>_<step>` reruns one step: the k3s preflight (the join plan, the secrets) and the settings it
    # builds on run with it, as node_prep's do
    code, output = playbook('k3s-tag-' + tag, installed['inventory'], '30_k3s.yml', '--tags', tag)
    assert code == 0, tail(output)
    assert 'TASK [homelab.mediacluster.{0}]'.format(step) in output, tail(output)
    recap = re.findall(r'^(\S+)\s+: ok=\d+\s+changed=(\d+)', output, re.M)
    assert recap == [('cp1', '0')], tail(output)


def test_check_mode_previews_a_newly_pinned_binary_without_failing_or_writing(installed, node, tmp_path):
    newer = tmp_path / 'k3s'
    newer.write_text('#!/bin/sh\necho "k3s version v1.34.1+k3s1 (stand-in, check mode)"\n')
    newer.chmod(0o755)
    sha = hashlib.sha256(newer.read_bytes()).hexdigest()
    before = podman('exec', node['name'], 'sha256sum', '/usr/local/bin/k3s').stdout.split()[0]
    code, output = playbook('k3s-upgrade-check', installed['inventory'], 'upgrade.yml', '--check', '-e',
                            'k3s_common_airgap_binary={0} k3s_common_airgap_binary_sha256={1}'.format(newer, sha))
    assert code == 0, tail(output)
    copy = r'TASK \[homelab\.mediacluster\.k3s_common : Copy the airgap k3s binary\][^\n]*\n(?:[^\n]*\* *\n)?(\w+): '
    assert re.findall(copy, output) == ['changed'], tail(output)
    assert podman('exec', node['name'], 'sha256sum', '/usr/local/bin/k3s').stdout.split()[0] == before != sha


def test_upgrade_replaces_the_binary_with_the_newly_pinned_one(installed, node, tmp_path):
    newer = tmp_path / 'k3s'
    newer.write_text('#!/bin/sh\necho "k3s version v1.34.1+k3s1 (stand-in)"\n')
    newer.chmod(0o755)
    sha = hashlib.sha256(newer.read_bytes()).hexdigest()
    code, output = playbook('k3s-upgrade', installed['inventory'], 'upgrade.yml', '-e',
                            'k3s_common_airgap_binary={0} k3s_common_airgap_binary_sha256={1}'.format(newer, sha))
    assert code == 0, tail(output)
    on_node = podman('exec', node['name'], 'sha256sum', '/usr/local/bin/k3s').stdout.split()[0]
    assert on_node == sha
    # k3s was not running (install/configure only): the upgrade must not have started or restarted it
    assert podman('exec', node['name'], 'systemctl', 'is-active', 'k3s.service', check=False).stdout.strip() != 'active'


def test_reset_needs_its_confirmation(installed, node):
    code, output = playbook('k3s-reset-refused', installed['inventory'], 'reset.yml')
    assert code != 0 and 'k3s_reset_confirm=destroy-k3s-cluster' in output, tail(output)
    assert podman('exec', node['name'], 'test', '-e', '/usr/local/bin/k3s', check=False).returncode == 0

    code, output = playbook('k3s-reset', installed['inventory'], 'reset.yml', '-e',
                            'k3s_reset_confirm=destroy-k3s-cluster')
    assert code == 0, tail(output)
    for path in ('/usr/local/bin/k3s', '/etc/rancher/k3s', '/var/lib/rancher/k3s',
                 '/etc/systemd/system/k3s.service'):
        assert podman('exec', node['name'], 'test', '-e', path, check=False).returncode == 1, path
