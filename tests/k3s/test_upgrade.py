"""upgrade.yml refuses to take a node across more than one k3s minor version (issue 14, item 10): a node with a
stand-in k3s v1.33.5 installed by 30_k3s.yml, then upgrade.yml pinned to a v1.35 stand-in must stop before any
change, name both versions and the v1.34 step in between, and leave the installed binary alone; v1.34 passes."""

import hashlib

import pytest

from ..conftest import tail
from .conftest import inventory, node_container, playbook, podman, vip_beside


@pytest.fixture(scope='module')
def upgrade_node(tmp_path_factory):
    yield from node_container(tmp_path_factory)


def standin(directory, version):
    binary = directory / 'k3s'
    binary.write_text('#!/bin/sh\necho "k3s version {0} (stand-in)"\n'.format(version))
    binary.chmod(0o755)
    return str(binary), hashlib.sha256(binary.read_bytes()).hexdigest()


@pytest.fixture(scope='module')
def installed(tmp_path_factory, upgrade_node):
    tmp_path = tmp_path_factory.mktemp('k3s-upgrade-guard')
    path, sha = standin(tmp_path_factory.mktemp('k3s-v133'), 'v1.33.5+k3s1')
    ip = upgrade_node['ip']
    all_vars = {'k3s_common_vip': vip_beside(ip), 'k3s_common_install_mode': 'airgap',
                'k3s_common_version': 'v1.33.5+k3s1', 'k3s_common_airgap_binary': path,
                'k3s_common_airgap_binary_sha256': sha, 'k3s_common_start_service': False,
                'k3s_server_kubeconfig_dest': ''}
    inv = inventory(tmp_path, upgrade_node, ['cp1'], all_vars=all_vars,
                    host_vars={'cp1': {'k3s_common_node_ip': '', 'k3s_common_node_cidr': ''}})
    code, output = playbook('k3s-upgrade-guard-install', inv, '30_k3s.yml')
    assert code == 0, tail(output)
    return {'inventory': inv, 'sha': sha}


def on_node_sha(node):
    return podman('exec', node['name'], 'sha256sum', '/usr/local/bin/k3s').stdout.split()[0]


def test_upgrade_refuses_to_skip_a_minor_version(installed, upgrade_node, tmp_path):
    path, sha = standin(tmp_path, 'v1.35.0+k3s1')
    code, output = playbook('k3s-upgrade-skip', installed['inventory'], 'upgrade.yml', '-e',
                            'k3s_common_version=v1.35.0+k3s1 k3s_common_airgap_binary={0} '
                            'k3s_common_airgap_binary_sha256={1}'.format(path, sha))
    assert on_node_sha(upgrade_node) == installed['sha'], \
        'upgrade.yml installed v1.35.0 over v1.33.5, skipping v1.34:\n' + tail(output)
    assert code != 0, tail(output)
    assert 'v1.33.5+k3s1' in output and 'v1.35.0+k3s1' in output and 'v1.34' in output, tail(output)


def test_upgrade_by_one_minor_version_goes_ahead(installed, upgrade_node, tmp_path):
    path, sha = standin(tmp_path, 'v1.34.1+k3s1')
    code, output = playbook('k3s-upgrade-one-minor', installed['inventory'], 'upgrade.yml', '-e',
                            'k3s_common_version=v1.34.1+k3s1 k3s_common_airgap_binary={0} '
                            'k3s_common_airgap_binary_sha256={1}'.format(path, sha))
    assert code == 0, tail(output)
    assert on_node_sha(upgrade_node) == sha
