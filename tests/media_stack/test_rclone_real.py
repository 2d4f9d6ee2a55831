"""A real rclone mount with the collection's sidecar options (issue 21), inside a lab node container
(localhost/mediacluster-node:bookworm, own name, no network but loopback) given /dev/fuse and CAP_SYS_ADMIN (not
--privileged: this VM's kernel settings stay out of reach). Debian's rclone and fusermount3 come from the host
(scripts/host-setup.sh installs them), bind-mounted read-only.

The "cloud" is `rclone serve webdav` on the container's loopback. The sidecar's command from
module_utils/cloud_mounts.py mounts it at /cloud/zurg; an "app" process in a mount namespace of its own whose /cloud
is a slave of the sidecar's shared /cloud (HostToContainer propagation, as the kubelet sets it up from an emptyDir
mounted Bidirectional in the sidecar) must see the mount. Checked: the startup/readiness probe answers only with the
mount up, files written on the server appear under the mount (in the sidecar and in the app), a killed rclone
leaves a stale mount that the probe refuses and the next start clears, and the preStop unmount leaves no mount
behind, in either namespace. Skips only when /dev/fuse cannot be passed to a container here."""

import os
import shlex
import shutil
import subprocess
import time
import uuid

import pytest

from ansible_collections.homelab.mediacluster.plugins.filter.cloud_mounts import cloud_mount_status
from ansible_collections.homelab.mediacluster.plugins.module_utils import cloud_mounts

IMAGE = 'localhost/mediacluster-node:bookworm'
REMOTE = {'name': 'zurg', 'remote': 'zurg:', 'apps': ['sonarr'], 'secret': 'rclone-zurg',
          # the server side changes during the test: a short directory cache so new files show within seconds
          'dir_cache_time': '2s'}
ROOT = '/cloud'
POINT = cloud_mounts.mount_point(ROOT, 'zurg')


def podman(*args, check=True, timeout=120):
    result = subprocess.run(['podman', *args], capture_output=True, text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise AssertionError('podman {0} failed: {1}{2}'.format(' '.join(args), result.stdout, result.stderr))
    return result


@pytest.fixture
def node():
    for tool in ('podman', 'rclone', 'fusermount3'):
        if not shutil.which(tool):
            pytest.fail('{0} is missing on this machine: run scripts/host-setup.sh'.format(tool))
    if not os.path.exists('/dev/fuse'):
        pytest.skip('/dev/fuse does not exist on this machine, so it cannot be passed to a container')
    if podman('image', 'exists', IMAGE, check=False).returncode != 0:
        pytest.fail('{0} is missing: run make image'.format(IMAGE))
    name = 'rclone-test-{0}'.format(uuid.uuid4().hex[:10])
    rclone, fusermount = shutil.which('rclone'), shutil.which('fusermount3')
    started = podman('run', '-d', '--name', name, '--runtime', 'runc', '--ulimit', 'nofile=20000:20000',
                     '--ulimit', 'nproc=32768:32768', '--network', 'none', '--device', '/dev/fuse',
                     '--cap-add', 'SYS_ADMIN', '-v', '{0}:/usr/bin/rclone:ro'.format(rclone),
                     '-v', '{0}:/usr/bin/fusermount3:ro'.format(fusermount),
                     '-v', '{0}:/usr/bin/fusermount:ro'.format(fusermount),
                     '--entrypoint', '/bin/sleep', IMAGE, 'infinity', check=False)
    try:
        if started.returncode != 0:
            if '/dev/fuse' in started.stderr:
                pytest.skip('/dev/fuse cannot be passed to a container here: {0}'.format(started.stderr.strip()))
            raise AssertionError('the node container did not start: {0}'.format(started.stderr))
        yield name
    finally:
        podman('rm', '-f', '-t', '0', name, check=False)


def sh(node, script, check=True):
    return podman('exec', node, '/bin/sh', '-c', script, check=check)


def probe(node, target='sidecar'):
    """The sidecar's probe, in the sidecar's mount namespace or (target='app') in the app's."""
    script = cloud_mounts.probe_script(POINT)
    if target == 'app':
        script = 'nsenter -t "$(cat /run/app.pid)" -m /bin/sh -c {0}'.format(shlex.quote(script))
    return sh(node, script, check=False).returncode == 0


def wait(condition, what, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError('timed out after {0}s waiting for {1}'.format(timeout, what))


def start_sidecar(node):
    command = cloud_mounts.mount_command(REMOTE, ROOT, 1000, 1000)
    podman('exec', '-d', node, '/bin/sh', '-c', '{0} >>/tmp/rclone-mount.log 2>&1'.format(shlex.join(command)))


def in_app(node, script, check=True):
    return sh(node, 'nsenter -t "$(cat /run/app.pid)" -m /bin/sh -c {0}'.format(shlex.quote(script)), check=check)


def mount_check(node):
    """The verdict of roles/media_stack/tasks/verify_cloud_mounts.yml for this mount: its check command run in the
    app's namespace (instead of through kubectl exec), judged by the same filter."""
    result = in_app(node, cloud_mounts.status_script(POINT), check=False)
    pods = [{'metadata': {'name': 'sonarr-0', 'labels': {'app.kubernetes.io/name': 'sonarr'}},
             'spec': {'nodeName': node}, 'status': {'phase': 'Running'}}]
    probes = [{'pod': 'sonarr-0', 'remote': 'zurg', 'rc': result.returncode, 'stdout': result.stdout,
               'stderr': result.stderr}]
    return cloud_mount_status(pods, ROOT, [REMOTE], probes)['rows'][0]


def test_sidecar_mount_with_the_collections_options(node):
    # the cloud: a WebDAV server on loopback, and the rclone.conf the Secret would hold
    sh(node, 'mkdir -p /srv/cloud/Shows /etc/rclone/zurg && echo pilot > /srv/cloud/Shows/pilot.mkv && '
             'printf "[zurg]\\ntype = webdav\\nurl = http://127.0.0.1:18080/\\nvendor = other\\n" > {0}'.format(
                 cloud_mounts.config_path('zurg')))
    # (the server is an rclone VFS too: a short directory cache there, so it lists files written meanwhile)
    podman('exec', '-d', node, 'rclone', 'serve', 'webdav', '/srv/cloud', '--addr', '127.0.0.1:18080',
           '--dir-cache-time', '1s')
    # the shared emptyDir: shared in the sidecar (Bidirectional); the app's namespace holds a slave copy of it
    sh(node, 'mkdir -p {0} && mount --bind {0} {0} && mount --make-rshared {0}'.format(ROOT))
    podman('exec', '-d', node, 'unshare', '--mount', '--propagation', 'unchanged', '/bin/sh', '-c',
           'mount --make-rslave {0} && echo $$ > /run/app.pid && exec sleep infinity'.format(ROOT))
    wait(lambda: sh(node, 'test -s /run/app.pid', check=False).returncode == 0, 'the app namespace')

    assert not probe(node), 'the probe answered before anything was mounted'
    start_sidecar(node)
    wait(lambda: probe(node), 'the mount to answer the probe')
    log = sh(node, 'cat /tmp/rclone-mount.log').stdout
    mounts = sh(node, 'grep " {0} " /proc/mounts'.format(POINT)).stdout
    assert 'fuse.rclone' in mounts and 'allow_other' in mounts and mounts.split()[3].startswith('ro'), mounts + log

    # the app sees the mount through propagation, with the files of the cloud, owned by PUID/PGID
    wait(lambda: probe(node, 'app'), 'the mount to reach the app namespace', timeout=20)
    listing = in_app(node, 'stat -c "%u:%g %n" {0}/Shows/pilot.mkv && cat {0}/Shows/pilot.mkv'.format(POINT)).stdout
    assert listing.splitlines() == ['1000:1000 {0}/Shows/pilot.mkv'.format(POINT), 'pilot']

    row = mount_check(node)
    assert (row['state'], row['items'], row['node']) == ('OK', 1, node), row

    # a file written on the server appears under the mount (directory cache 2s)
    sh(node, 'echo episode-2 > /srv/cloud/Shows/s01e02.mkv')
    wait(lambda: in_app(node, 'cat {0}/Shows/s01e02.mkv'.format(POINT), check=False).stdout.strip() == 'episode-2',
         'the new file under the mount in the app')
    # read-only by default: nothing is deleted through the mount
    assert in_app(node, 'rm {0}/Shows/pilot.mkv'.format(POINT), check=False).returncode != 0
    assert sh(node, 'cat /srv/cloud/Shows/pilot.mkv').stdout.strip() == 'pilot'

    # rclone killed (OOM, kill -9): the mount stays behind, stale; the probe refuses it
    sh(node, 'pkill -9 -f "[r]clone mount"')
    wait(lambda: not probe(node), 'the probe to refuse the stale mount')
    stale = sh(node, 'ls {0}'.format(POINT), check=False)
    assert stale.returncode != 0 and 'Transport endpoint is not connected' in stale.stderr, stale
    row = mount_check(node)
    assert row['state'] == 'FAIL' and 'Transport endpoint is not connected' in row['detail'] \
        and 'stale' in row['detail'], row
    # the next start clears it and mounts again
    start_sidecar(node)
    wait(lambda: probe(node) and probe(node, 'app'), 'the restarted mount in sidecar and app')

    # preStop: the unmount leaves no mount behind in either namespace, and rclone exits
    unmount = sh(node, cloud_mounts.unmount_script(POINT), check=False)
    assert unmount.returncode == 0, unmount.stderr
    wait(lambda: sh(node, 'pgrep -f "[r]clone mount"', check=False).returncode != 0, 'rclone to exit after unmount')
    assert 'fuse.rclone' not in sh(node, 'cat /proc/mounts').stdout
    assert 'fuse.rclone' not in in_app(node, 'cat /proc/mounts').stdout
    assert not probe(node) and not probe(node, 'app')
    assert sh(node, 'ls -A {0}'.format(POINT)).stdout == ''
    row = mount_check(node)
    assert row['state'] == 'FAIL' and row['detail'].startswith('no rclone mount at /cloud/zurg'), row
