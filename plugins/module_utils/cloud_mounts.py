# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cloud libraries (rclone FUSE mounts) for the media apps: one rclone sidecar per remote in each app's pod.

Why sidecars: a FUSE mount lives in the mount namespace of the process that made it. A standalone rclone pod's
mount never reaches pods on other nodes (they see "Transport endpoint is not connected"); a sidecar in the same pod
mounts into a shared emptyDir, and mount propagation hands the mount to the app container:

- the sidecar mounts the emptyDir with mountPropagation Bidirectional (its FUSE mount goes back to the host's
  emptyDir directory). The API server allows Bidirectional only in privileged containers, and FUSE needs /dev/fuse
  and CAP_SYS_ADMIN anyway, so the sidecar is privileged (a FUSE device plugin would give /dev/fuse, not the
  propagation);
- the app mounts the same emptyDir with HostToContainer (read-only): it sees the mount, cannot make mounts itself.

The sidecars are native sidecars (init containers with restartPolicy Always, Kubernetes 1.29+; k3s 1.33 here):
their startup probe answers only once the mount lists, and the kubelet starts the app container only after that
(the readiness gate); their readiness probe keeps the pod out of its Service while the mount is gone; they stop
after the app, and preStop unmounts lazily so no stale mount is left behind. A start also clears a stale mount
left by a sidecar that died (kill -9, OOM) before mounting again.

The pod template carries FUSE_SIDECARS_ANNOTATION (the sidecar names) and the namespace
COLLECTION_LEVEL_LABEL (the level every other container is held to): pod_security.check_objects accepts exactly
these sidecars (sidecar_shape_problems) in a namespace enforcing "privileged", and refuses everything else there
at the collection's level.

Used by the media_stack and plex templates (filter homelab.mediacluster.cloud_pod), the preflight rules, the
verify tasks (mount_status) and the real rclone test (mount_command, probe_script, unmount_script).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

FUSE_SIDECARS_ANNOTATION = 'homelab.mediacluster/fuse-sidecars'
COLLECTION_LEVEL_LABEL = 'homelab.mediacluster/pod-security-enforce'
SIDECAR_PREFIX = 'rclone-'
SHARED_VOLUME = 'cloud'
CACHE_VOLUME = 'cloud-cache'
CACHE_PATH = '/cache'
CONFIG_DIR = '/etc/rclone'
CONFIG_KEY = 'rclone.conf'
VFS_CACHE_MODES = ('off', 'minimal', 'writes', 'full')
DNS_LABEL = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')
DURATION = re.compile(r'^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$')
SIZE = re.compile(r'^[0-9]+(\.[0-9]+)?[KMGTP]?$|^off$')
# characters rclone options and the shell snippets below never need quoting for
SAFE_PATH = re.compile(r'^/[A-Za-z0-9._/-]*$')
REMOTE_KEYS = ('name', 'remote', 'apps', 'secret', 'config', 'read_only', 'vfs_cache_mode', 'vfs_cache_max_size',
               'dir_cache_time', 'poll_interval', 'extra_args')
DEFAULTS = {'read_only': True, 'vfs_cache_mode': 'full', 'vfs_cache_max_size': '10G', 'dir_cache_time': '60s',
            'poll_interval': '30s', 'extra_args': []}
RESERVED_ROOTS = ('/', '/data', '/config', '/app', '/app/config', '/transcode', '/dev', '/proc', '/sys', '/etc',
                  CACHE_PATH, CONFIG_DIR)


def _d(value):
    return value if isinstance(value, dict) else {}


def _l(value):
    return value if isinstance(value, list) else []


def remote_settings(remote):
    """A remote with the defaults filled in."""
    settings = dict(DEFAULTS)
    settings.update({k: v for k, v in _d(remote).items() if v is not None})
    return settings


def mount_point(root, name):
    return '{0}/{1}'.format(str(root).rstrip('/'), name)


def config_path(name):
    return '{0}/{1}/{2}'.format(CONFIG_DIR, name, CONFIG_KEY)


def secret_name(remote):
    """The Secret holding the remote's rclone.conf: the one the user names, else rclone-<name> (the role makes it
    from `config`)."""
    return remote.get('secret') or SIDECAR_PREFIX + str(remote.get('name'))


def mount_args(remote, root, uid, gid, *, config=None, cache_dir=None):
    """The `rclone mount` arguments of one remote (after the program name), as the sidecar runs them."""
    r = remote_settings(remote)
    name = str(r['name'])
    args = ['mount', str(r['remote']), mount_point(root, name),
            '--config={0}'.format(config or config_path(name)),
            '--cache-dir={0}'.format(cache_dir or '{0}/{1}'.format(CACHE_PATH, name)),
            # the app container runs as another user than the sidecar (root)
            '--allow-other',
            '--uid={0}'.format(int(uid)), '--gid={0}'.format(int(gid)), '--umask=002',
            '--vfs-cache-mode={0}'.format(r['vfs_cache_mode']),
            '--vfs-cache-max-size={0}'.format(r['vfs_cache_max_size']),
            '--dir-cache-time={0}'.format(r['dir_cache_time']),
            '--poll-interval={0}'.format(r['poll_interval'])]
    if r['read_only']:
        args.append('--read-only')
    args.extend(str(a) for a in _l(r['extra_args']))
    return args


# A start first clears a stale mount at the mount point (a previous sidecar killed before it could unmount leaves
# "Transport endpoint is not connected" behind), creates the mount point, then becomes rclone. $0 is the mount
# point, "$@" the rclone arguments.
START_SCRIPT = ('fusermount3 -u -z "$0" 2>/dev/null || fusermount -u -z "$0" 2>/dev/null || true; '
                'mkdir -p "$0" && exec rclone "$@"')


def mount_command(remote, root, uid, gid, *, config=None, cache_dir=None, shell='/bin/sh'):
    """The sidecar's whole command: [shell, -c, START_SCRIPT, mount point, rclone args...]."""
    return [shell, '-c', START_SCRIPT, mount_point(root, remote['name'])] + mount_args(
        remote, root, uid, gid, config=config, cache_dir=cache_dir)


def probe_script(path):
    """Succeeds only when an rclone FUSE mount sits at `path` and answers a listing (a dead rclone process leaves a
    mount whose listing fails with ENOTCONN)."""
    return 'grep -q " {0} fuse.rclone " /proc/mounts && ls {0} >/dev/null'.format(path)


def unmount_script(path):
    """preStop: lazy unmount, so nothing keeps the mount point busy; rclone then exits on SIGTERM."""
    return 'fusermount3 -u -z {0} || fusermount -u -z {0} || umount -l {0} || true'.format(path)


def status_script(path):
    """The mount check run in the app container: line 1 the filesystem type at `path` (empty line when nothing is
    mounted there), line 2 the number of entries; exit 2 (message on stderr) when the listing fails."""
    return ('printf "%s\\n" "$(awk -v p={0} \'$2 == p {{print $3}}\' /proc/mounts | tail -n 1)"; '
            'ls -A {0} >/dev/null || exit 2; ls -A {0} | wc -l').format(path)


def pods_of(resources, apps):
    """[{'name', 'app', 'node', 'phase'}] of the Pod objects (k8s_info resources) whose app.kubernetes.io/name is
    one of `apps`."""
    pods = []
    for pod in _l(resources):
        meta = _d(_d(pod).get('metadata'))
        app = _d(meta.get('labels')).get('app.kubernetes.io/name')
        if app in apps:
            pods.append({'name': meta.get('name'), 'app': app, 'node': _d(pod.get('spec')).get('nodeName'),
                         'phase': _d(pod.get('status')).get('phase'),
                         'deleting': bool(meta.get('deletionTimestamp'))})
    return pods


def apps_of(remote):
    return [str(a) for a in _l(_d(remote).get('apps'))]


def remotes_for(remotes, app):
    return [remote_settings(r) for r in _l(remotes) if app in apps_of(r)]


def pod_parts(remotes, app, root, image, uid, gid, resources, cache_size):  # noqa: PLR0917 - a filter's arguments
    """What the pod of `app` gets: {'sidecars', 'volumes', 'app_mounts', 'annotation'}; all empty when no remote
    names the app (the template then renders the pod exactly as without the feature)."""
    mine = remotes_for(remotes, app)
    if not mine:
        return {'sidecars': [], 'volumes': [], 'app_mounts': [], 'annotation': ''}
    sidecars, volumes = [], [{'name': SHARED_VOLUME, 'emptyDir': {}},
                             {'name': CACHE_VOLUME, 'emptyDir': {'sizeLimit': str(cache_size)}}]
    for remote in mine:
        name = str(remote['name'])
        point = mount_point(root, name)
        config_volume = '{0}{1}-config'.format(SIDECAR_PREFIX, name)
        probe = ['/bin/sh', '-c', probe_script(point)]
        sidecars.append({
            'name': SIDECAR_PREFIX + name,
            'image': image,
            'imagePullPolicy': 'IfNotPresent',
            # a native sidecar: started before the app, stopped after it
            'restartPolicy': 'Always',
            'command': mount_command(remote, root, uid, gid),
            # FUSE (/dev/fuse, mount(2)) and Bidirectional propagation: the API server allows the latter only here
            'securityContext': {'privileged': True},
            'resources': resources,
            # the app container starts only after this answers: the mount is there and lists
            'startupProbe': {'exec': {'command': probe}, 'periodSeconds': 2, 'timeoutSeconds': 10,
                             'failureThreshold': 150},
            'readinessProbe': {'exec': {'command': probe}, 'periodSeconds': 30, 'timeoutSeconds': 10,
                               'failureThreshold': 3},
            'lifecycle': {'preStop': {'exec': {'command': ['/bin/sh', '-c', unmount_script(point)]}}},
            'volumeMounts': [
                {'name': SHARED_VOLUME, 'mountPath': str(root), 'mountPropagation': 'Bidirectional'},
                {'name': config_volume, 'mountPath': '{0}/{1}'.format(CONFIG_DIR, name), 'readOnly': True},
                {'name': CACHE_VOLUME, 'mountPath': CACHE_PATH},
            ],
        })
        volumes.append({'name': config_volume,
                        'secret': {'secretName': secret_name(remote), 'defaultMode': 0o400,
                                   'items': [{'key': CONFIG_KEY, 'path': CONFIG_KEY}]}})
    return {'sidecars': sidecars, 'volumes': volumes,
            'app_mounts': [{'name': SHARED_VOLUME, 'mountPath': str(root), 'mountPropagation': 'HostToContainer',
                            'readOnly': True}],
            'annotation': ','.join(s['name'] for s in sidecars)}


def secrets(remotes, namespace, labels):
    """The Secrets the role creates: one per remote given with `config` (vaulted rclone.conf text) and no `secret`."""
    out = []
    for remote in _l(remotes):
        if _d(remote).get('config') and not remote.get('secret'):
            out.append({'apiVersion': 'v1', 'kind': 'Secret',
                        'metadata': {'name': secret_name(remote), 'namespace': namespace, 'labels': dict(labels)},
                        'type': 'Opaque', 'stringData': {CONFIG_KEY: str(remote['config'])}})
    return out


def active(remotes, apps):
    """True when at least one remote mounts into one of `apps` (the feature is on)."""
    return any(app in apps for r in _l(remotes) for app in apps_of(r))


def remote_problems(remotes, root, apps, prefix):
    """[(variable, problem, fix)] for a list of remotes; `apps`: the apps a remote may name; prefix: the role's
    variable prefix (media_stack or plex)."""
    var = '{0}_cloud_remotes'.format(prefix)
    problems = []
    if not isinstance(remotes, list):
        return [(var, '{0} is not a list'.format(var), 'give a list of {name, remote, apps, secret or config}')]
    names = []
    for index, remote in enumerate(remotes):
        where = '{0}[{1}]'.format(var, index)
        if not isinstance(remote, dict):
            problems.append((var, '{0} is not a dict'.format(where), 'give {name, remote, apps, secret or config}'))
            continue
        unknown = sorted(set(remote) - set(REMOTE_KEYS))
        if unknown:
            problems.append((var, '{0} has unknown keys {1}'.format(where, ', '.join(unknown)),
                             'use only {0}'.format(', '.join(REMOTE_KEYS))))
        name = str(remote.get('name', ''))
        names.append(name)
        if not DNS_LABEL.match(name) or len(SIDECAR_PREFIX + name + '-config') > 63:
            problems.append((var, '{0}.name={1!r} is not a short DNS label'.format(where, name),
                             'use lower-case letters, digits and - (at most 49 characters), e.g. zurg'))
        if not re.match(r'^[A-Za-z0-9_][-A-Za-z0-9_. ]*:[^\s]*$', str(remote.get('remote', ''))):
            problems.append((var, '{0}.remote={1!r} is not an rclone remote path'.format(where, remote.get('remote')),
                             'give the remote as named in rclone.conf, with a colon: zurg: or torbox:torrents'))
        if bool(remote.get('secret')) == bool(remote.get('config')):
            problems.append((var, '{0} ({1}) needs exactly one of secret (a Secret you created, key {2}) and config '
                                  '(the rclone.conf text, from a vault)'.format(where, name, CONFIG_KEY),
                             'set secret: rclone-{0} or config: "{{{{ vault_rclone_{1}_conf }}}}"'.format(
                                 name, name.replace('-', '_'))))
        if remote.get('secret') and not DNS_LABEL.match(str(remote['secret'])):
            problems.append((var, '{0}.secret={1!r} is not a Secret name'.format(where, remote['secret']),
                             'use the name of the Secret that holds {0}'.format(CONFIG_KEY)))
        wanted = apps_of(remote)
        if not isinstance(remote.get('apps'), list) or not wanted:
            problems.append((var, '{0}.apps must list the apps that mount {1}'.format(where, name),
                             'e.g. apps: [{0}]'.format(', '.join(apps[:2]))))
        for app in wanted:
            if app not in apps:
                problems.append((var, '{0}.apps names {1}, which this role does not run'.format(where, app),
                                 'use one of {0}'.format(', '.join(apps))))
        settings = remote_settings(remote)
        if settings['vfs_cache_mode'] not in VFS_CACHE_MODES:
            problems.append((var, '{0}.vfs_cache_mode={1} is not one of {2}'.format(
                where, settings['vfs_cache_mode'], ', '.join(VFS_CACHE_MODES)), 'full streams best (seekable)'))
        for key in ('dir_cache_time', 'poll_interval'):
            if not DURATION.match(str(settings[key])):
                problems.append((var, '{0}.{1}={2} is not an rclone duration'.format(where, key, settings[key]),
                                 'write it like 30s, 10m or 1h'))
        if not SIZE.match(str(settings['vfs_cache_max_size'])):
            problems.append((var, '{0}.vfs_cache_max_size={1} is not an rclone size'.format(
                where, settings['vfs_cache_max_size']), 'write it like 20G or 512M'))
        extra = settings['extra_args']
        if not isinstance(extra, list) or any(not str(a).startswith('--') for a in extra):
            problems.append((var, '{0}.extra_args must be a list of --options'.format(where),
                             'e.g. [--buffer-size=64M]'))
        elif any(str(a).split('=', maxsplit=1)[0] in ('--config', '--cache-dir', '--daemon', '--allow-non-empty')
                 for a in extra):
            problems.append((var, '{0}.extra_args sets an option the sidecar owns (--config, --cache-dir, --daemon, '
                                  '--allow-non-empty)'.format(where), 'drop it'))
    for name in sorted(set(n for n in names if names.count(n) > 1)):
        problems.append((var, 'remote name {0} is used twice'.format(name), 'give every remote its own name'))
    root = str(root)
    if not SAFE_PATH.match(root) or '//' in root or (root.rstrip('/') or '/') in RESERVED_ROOTS or '/..' in root:
        problems.append(('{0}_cloud_mount_root'.format(prefix),
                         '{0}_cloud_mount_root={1} is not a free absolute path'.format(prefix, root),
                         'use a directory of its own such as /cloud (not /, /data, /config or a system path)'))
    return problems


def sidecar_shape_problems(container, spec):
    """Why `container` is not a FUSE sidecar as the collection renders it ([] when it is): named rclone-<remote>,
    an rclone image, privileged, and mounting only emptyDir volumes (Bidirectional allowed) and Secrets (read-only).
    No hostPath, no other volume with propagation: the privilege buys a FUSE mount and nothing else."""
    problems = []
    name = str(container.get('name', ''))
    if not name.startswith(SIDECAR_PREFIX):
        problems.append('its name does not start with {0}'.format(SIDECAR_PREFIX))
    image = str(container.get('image', ''))
    tagged = ':' in image.rsplit('/', maxsplit=1)[-1] or '@' in image
    repository = image.split('@', maxsplit=1)[0].rsplit(':', 1)[0] if tagged else image
    if repository.rsplit('/', 1)[-1] != 'rclone':
        problems.append('image {0} is not an rclone image'.format(image))
    if _d(container.get('securityContext')).get('privileged') is not True:
        problems.append('it is not privileged (FUSE and Bidirectional propagation need it)')
    volumes = {v.get('name'): v for v in _l(spec.get('volumes')) if isinstance(v, dict)}
    for mount in _l(container.get('volumeMounts')):
        volume = _d(volumes.get(_d(mount).get('name')))
        if 'emptyDir' in volume:
            continue
        if 'secret' in volume and mount.get('readOnly') is True and not mount.get('mountPropagation'):
            continue
        problems.append('it mounts volume {0}, which is neither an emptyDir nor a read-only Secret'.format(
            _d(mount).get('name')))
    for key in ('volumeDevices', 'ports'):
        if container.get(key):
            problems.append('it sets {0}'.format(key))
    return problems


def mount_status(pods, root, remotes, listing):
    """The verdict of the mount check (the seed's check-media-mounts.sh as a check).

    pods: [{'name', 'app', 'node', 'phase'}]; listing: {(pod, remote): {'rc': int, 'count': int, 'fstype': str,
    'error': str}} from `ls -A <mount point>` and /proc/mounts in the app container. Returns {'ok': bool,
    'rows': [{'pod', 'app', 'node', 'remote', 'path', 'state', 'items', 'detail'}], 'failed': [row, ...]}."""
    rows = []
    for pod in pods:
        for remote in remotes_for(remotes, pod.get('app')):
            path = mount_point(root, remote['name'])
            seen = _d(listing.get((pod.get('name'), remote['name'])))
            if pod.get('phase') != 'Running':
                state, detail = 'FAIL', 'pod is {0}'.format(pod.get('phase') or 'unknown')
            elif seen.get('rc') is None:
                state, detail = 'FAIL', 'could not run the mount check in the {0} container: {1}'.format(
                    pod.get('app'), (str(seen.get('error') or 'no result').strip().splitlines() or ['?'])[0])
            elif seen.get('fstype') != 'fuse.rclone':
                state, detail = 'FAIL', 'no rclone mount at {0} in the app container ({1})'.format(
                    path, seen.get('error') or 'mount propagation missing, or the sidecar is not mounted')
            elif seen.get('rc') != 0:
                state, detail = 'FAIL', 'the mount does not list: {0} (stale mount: restart the pod)'.format(
                    (seen.get('error') or '').strip() or 'rc={0}'.format(seen.get('rc')))
            else:
                state, detail = 'OK', ''
            rows.append({'pod': pod.get('name'), 'app': pod.get('app'), 'node': pod.get('node') or '?',
                         'remote': remote['name'], 'path': path, 'state': state,
                         'items': seen.get('count') if state == 'OK' else None, 'detail': detail})
    failed = [r for r in rows if r['state'] != 'OK']
    lines = ['{0} {1} (node {2}) {3}: {4}'.format(
        r['state'], r['pod'], r['node'], r['path'],
        '{0} items'.format(r['items']) if r['state'] == 'OK' else r['detail']) for r in rows]
    return {'ok': not failed, 'rows': rows, 'failed': failed, 'lines': lines}
