"""reset.yml against a throwaway node that looks like a k3s node with running pods: an NFS-style volume (a bind mount
of a data directory outside every k3s path) under /var/lib/kubelet/pods, container mounts under /run/k3s, a shim
process under /var/lib/rancher/k3s/data, the flannel/CNI interfaces and a CNI network namespace. The reset must
leave every byte of the mounted data where it was and remove k3s (issue 14, item 1).

The node container gets SYS_ADMIN (to mount) and NET_ADMIN (to create the interfaces) through the opt-in cap_add
of node_container; the other k3s tests keep the unprivileged default."""

import re
import uuid

import pytest

from ..conftest import tail
from .conftest import inventory, node_container, playbook, podman

DATA = '/srv/nas-data'  # stands for the NAS export a pod mounts: nothing the reset may touch
OTHER = '/srv/other-data'
POD_UID = str(uuid.UUID(int=0x5eed))
VOLUME = '/var/lib/kubelet/pods/{0}/volumes/kubernetes.io~nfs/data'.format(POD_UID)
SHIM = '/var/lib/rancher/k3s/data/0123abcd/bin/containerd-shim-runc-v2'
K3S_PATHS = ('/run/k3s', '/var/lib/rancher/k3s', '/var/lib/kubelet', '/etc/rancher/k3s', '/usr/local/bin/k3s',
             '/etc/systemd/system/k3s.service')
K3S_MOUNT_ROOTS = ('/run/k3s', '/var/lib/kubelet', '/var/lib/rancher/k3s', '/run/netns/cni-')
CONFIRM = 'k3s_reset_confirm=destroy-k3s-cluster'

# A node as k3s leaves it after `systemctl stop k3s` (KillMode=process): pods, their mounts and network remain.
SETUP = r'''
set -eu
# leftovers of a previous test in this module (none after a successful reset)
umount -R {volume} 2>/dev/null || true
for link in vethfeed flannel.1 cni0; do ip link del "$link" 2>/dev/null || true; done
ip netns del cni-0a1b2c3d-feed 2>/dev/null || true
pkill -9 -f '^/var/lib/rancher/k3s/data/' || true
rm -f {shim}
mkdir -p {data}/sub/deeper
head -c 1048576 /dev/urandom > {data}/movie.mkv
head -c 4099 /dev/urandom > {data}/sub/episode.nfo
head -c 70000 /dev/urandom > {data}/sub/deeper/extra.bin
ln -f {data}/movie.mkv {data}/sub/movie-hardlink.mkv
: > {data}/empty
mkdir -p {volume}
mount --bind {data} {volume}

mkdir -p /run/k3s/containerd/io.containerd.grpc.v1.cri/sandboxes/feed/shm
mount -t tmpfs -o size=1m shm /run/k3s/containerd/io.containerd.grpc.v1.cri/sandboxes/feed/shm
mkdir -p /run/k3s/containerd/io.containerd.runtime.v2.task/k8s.io/feed/rootfs
mount -t tmpfs -o size=1m rootfs /run/k3s/containerd/io.containerd.runtime.v2.task/k8s.io/feed/rootfs
echo pod > /run/k3s/containerd/io.containerd.runtime.v2.task/k8s.io/feed/rootfs/file
mkdir -p /var/lib/kubelet/plugins/kubernetes.io/csi/driver.longhorn.io/globalmount
mount -t tmpfs -o size=1m csi /var/lib/kubelet/plugins/kubernetes.io/csi/driver.longhorn.io/globalmount

mkdir -p /var/lib/rancher/k3s/server/db/etcd /var/lib/rancher/k3s/agent/containerd "$(dirname {shim})"
echo member > /var/lib/rancher/k3s/server/db/etcd/member
cp /bin/sh {shim}
mkdir -p /etc/rancher/k3s /var/lib/cni/networks
echo 'node-name: cp1' > /etc/rancher/k3s/config.yaml
printf '#!/bin/sh\necho "k3s version v1.33.5+k3s1 (stand-in)"\n' > /usr/local/bin/k3s
chmod 755 /usr/local/bin/k3s
printf '[Service]\nExecStart=/bin/sleep infinity\nKillMode=process\n' > /etc/systemd/system/k3s.service

ip link add cni0 type bridge
ip link add flannel.1 type vxlan id 1 dstport 8472 dev eth0
ip link add vethfeed type veth peer name vethfeedp
ip link set vethfeed master cni0
ip netns add cni-0a1b2c3d-feed
'''.format(data=DATA, volume=VOLUME, shim=SHIM)

# sha256, link count and size of every file under a directory, one line each, sorted
INVENTORY_FILES = "cd {0} && find . -type f -printf '%n %s %p\\n' | sort && find . -type f -print0 | sort -z | " \
                  "xargs -0 sha256sum"


def sh(node, script, check=True):
    return podman('exec', node['name'], 'sh', '-c', script, check=check)


def mounts(node):
    """Mount points of the node (field 5 of /proc/self/mountinfo)."""
    return [line.split()[4] for line in sh(node, 'cat /proc/self/mountinfo').stdout.splitlines()]


def under(path, roots):
    return any(path == root or path.startswith(root.rstrip('/') + '/') or (root.endswith('-') and
               path.startswith(root)) for root in roots)


@pytest.fixture(scope='module')
def mount_node(tmp_path_factory):
    yield from node_container(tmp_path_factory, cap_add=('SYS_ADMIN', 'NET_ADMIN'))


@pytest.fixture
def pod_node(mount_node, tmp_path):
    result = sh(mount_node, SETUP, check=False)
    assert result.returncode == 0, result.stderr
    # a running "shim" (a copy of sh at the shim's path) with a container process below it
    podman('exec', '-d', mount_node['name'], SHIM, '-c', 'sleep 3601 & wait')
    inv = inventory(tmp_path, mount_node, ['cp1'])
    return {'node': mount_node, 'inventory': inv}


def test_reset_keeps_every_byte_under_a_pod_volume_mount(pod_node):
    node = pod_node['node']
    before = sh(node, INVENTORY_FILES.format(DATA)).stdout
    assert 'movie-hardlink.mkv' in before and '2 1048576 ./movie.mkv' in before
    assert VOLUME in mounts(node)

    code, output = playbook('k3s-reset-mounts', pod_node['inventory'], 'reset.yml', '-e', CONFIRM)

    after = sh(node, INVENTORY_FILES.format(DATA), check=False).stdout
    assert after == before, 'the reset deleted or changed data under the pod volume mount {0} -> {1}:\n{2}'.format(
        VOLUME, DATA, tail(output))
    assert code == 0, tail(output)
    left = [m for m in mounts(node) if under(m, K3S_MOUNT_ROOTS)]
    assert left == [], 'mounts left behind: {0}'.format(left)
    for path in K3S_PATHS:
        assert sh(node, 'test -e ' + path, check=False).returncode == 1, path + ' still exists'
    links = sh(node, 'ip -o link show').stdout
    for iface in ('cni0', 'flannel.1', 'vethfeed'):
        assert not re.search(r'^\d+: {0}[@:]'.format(re.escape(iface)), links, re.M), iface + ' still exists'
    assert 'cni-0a1b2c3d-feed' not in sh(node, 'ip netns list').stdout
    assert sh(node, 'pgrep -f "[c]ontainerd-shim|[s]leep 3601"', check=False).stdout.strip() == ''

    code, output = playbook('k3s-reset-mounts-rerun', pod_node['inventory'], 'reset.yml', '-e', CONFIRM)
    assert code == 0, tail(output)
    assert re.findall(r'^(\S+)\s+: ok=\d+\s+changed=(\d+)', output, re.M) == [('cp1', '0')], tail(output)
    assert sh(node, INVENTORY_FILES.format(DATA)).stdout == before


def test_reset_refuses_to_remove_a_directory_with_a_foreign_mount(pod_node):
    """A mount below a k3s directory that the reset does not unmount (not a pod, plugin or container mount) stops
    it before that directory is removed, with the mount named; the mounted data is untouched."""
    node = pod_node['node']
    sh(node, 'mkdir -p {0} /var/lib/kubelet/extra && head -c 5000 /dev/urandom > {0}/keep.bin && '
             'mount --bind {0} /var/lib/kubelet/extra'.format(OTHER))
    before = sh(node, INVENTORY_FILES.format(OTHER)).stdout
    data_before = sh(node, INVENTORY_FILES.format(DATA)).stdout

    code, output = playbook('k3s-reset-foreign-mount', pod_node['inventory'], 'reset.yml', '-e', CONFIRM)

    assert sh(node, INVENTORY_FILES.format(OTHER), check=False).stdout == before, \
        'the reset deleted or changed data under the mount /var/lib/kubelet/extra -> {0}:\n{1}'.format(
            OTHER, tail(output))
    assert sh(node, INVENTORY_FILES.format(DATA), check=False).stdout == data_before, tail(output)
    assert code != 0, tail(output)
    assert '/var/lib/kubelet/extra' in output and 'mount' in output, tail(output)
    assert '/var/lib/kubelet/extra' in mounts(node)
    sh(node, 'umount /var/lib/kubelet/extra')


def test_check_mode_reports_and_changes_nothing(pod_node):
    node = pod_node['node']
    before = sh(node, INVENTORY_FILES.format(DATA)).stdout
    mounted = mounts(node)
    code, output = playbook('k3s-reset-check', pod_node['inventory'], 'reset.yml', '-e', CONFIRM, '--check', '--diff')
    assert code == 0, tail(output)
    assert 'mount ' + VOLUME in output and 'interface cni0' in output and 'path /var/lib/kubelet' in output, \
        tail(output)
    assert mounts(node) == mounted
    assert sh(node, INVENTORY_FILES.format(DATA)).stdout == before
    for path in K3S_PATHS:
        assert sh(node, 'test -e ' + path, check=False).returncode == 0, path + ' was removed in check mode'
    assert 'cni0' in sh(node, 'ip -o link show').stdout
    assert sh(node, 'pgrep -f "[s]leep 3601"', check=False).stdout.strip() != ''
    # leave the node clean for the next test of the module
    code, output = playbook('k3s-reset-after-check', pod_node['inventory'], 'reset.yml', '-e', CONFIRM)
    assert code == 0, tail(output)
    assert sh(node, INVENTORY_FILES.format(DATA)).stdout == before
