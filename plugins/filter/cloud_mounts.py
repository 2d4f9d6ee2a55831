# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cloud libraries (rclone sidecars): what a pod gets, the Secrets the role makes, the mount check's verdict.
The logic lives in module_utils/cloud_mounts.py (unit-tested in tests/unit/test_cloud_mounts.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: cloud_pod
short_description: The rclone sidecars, volumes and app mounts of one app's pod
description:
  - One native sidecar (init container with restartPolicy Always) per cloud remote that names the app, mounting the
    remote into the shared emptyDir C(cloud) with Bidirectional propagation; the app container mounts it with
    HostToContainer. Empty lists when no remote names the app.
  - Also in this file, C(cloud_secrets) (the Secrets made from vaulted rclone.conf texts) and C(cloud_mount_status)
    (the verdict of roles/media_stack/tasks/verify_cloud_mounts.yml).
positional: _input, app, root, image, uid, gid, resources, cache_size
options:
  _input:
    description: The cloud remotes (C(media_stack_cloud_remotes) or C(plex_cloud_remotes)).
    type: list
    elements: dict
    required: true
  app:
    description: The app (container) name.
    type: str
    required: true
  root:
    description: Where the shared emptyDir is mounted; each remote at C(<root>/<name>).
    type: str
    required: true
  image:
    description: The pinned rclone image.
    type: str
    required: true
  uid:
    description: Owner of the files as the app sees them.
    type: int
    required: true
  gid:
    description: Group of the files as the app sees them.
    type: int
    required: true
  resources:
    description: Requests and limits of each sidecar.
    type: dict
    required: true
  cache_size:
    description: sizeLimit of the VFS cache emptyDir.
    type: str
    required: true
author: homelab.mediacluster contributors
'''

EXAMPLES = r'''
- name: Render the sidecars of Sonarr
  ansible.builtin.debug:
    msg: "{{ media_stack_cloud_remotes | homelab.mediacluster.cloud_pod('sonarr', '/cloud',
             'docker.io/rclone/rclone:1.68.2', 1000, 1000, {'limits': {'memory': '1Gi'}}, '20Gi') }}"
'''

RETURN = r'''
_value:
  description: C({sidecars, volumes, app_mounts, annotation}).
  type: dict
'''

from ansible_collections.homelab.mediacluster.plugins.module_utils import cloud_mounts


def cloud_pod(remotes, app, root, image, uid, gid, resources, cache_size):  # noqa: PLR0917 - positional filter args
    return cloud_mounts.pod_parts(remotes, app, root, image, uid, gid, resources, cache_size)


def cloud_secrets(remotes, namespace, labels):
    return cloud_mounts.secrets(remotes, namespace, labels)


def cloud_mount_targets(resources, root, remotes):
    """[{'pod', 'app', 'remote', 'command'}]: what to run in which running app container for the mount check."""
    pods = cloud_mounts.pods_of(resources, sorted(set(a for r in remotes or [] for a in cloud_mounts.apps_of(r))))
    return [{'pod': p['name'], 'app': p['app'], 'remote': r['name'],
             'command': ['/bin/sh', '-c', cloud_mounts.status_script(cloud_mounts.mount_point(root, r['name']))]}
            for p in pods if p['phase'] == 'Running' and not p['deleting']
            for r in cloud_mounts.remotes_for(remotes, p['app'])]


def cloud_mount_status(resources, root, remotes, probes):
    """resources: the Pod objects (k8s_info); probes: [{'pod', 'remote', 'rc', 'stdout', 'stderr'}], the output of
    cloud_mounts.status_script run in each app container (cloud_mount_targets)."""
    pods = cloud_mounts.pods_of(resources, sorted(set(a for r in remotes or [] for a in cloud_mounts.apps_of(r))))
    listing = {}
    for probe in probes or []:
        lines = str(probe.get('stdout') or '').splitlines()
        fstype = lines[0].strip() if lines else ''
        count = int(lines[1].strip()) if len(lines) > 1 and lines[1].strip().isdigit() else None
        listing[(probe.get('pod'), probe.get('remote'))] = {
            'rc': probe.get('rc'), 'fstype': fstype, 'count': count, 'error': probe.get('stderr') or ''}
    return cloud_mounts.mount_status(pods, root, remotes, listing)


class FilterModule(object):
    def filters(self):
        return {'cloud_pod': cloud_pod, 'cloud_secrets': cloud_secrets, 'cloud_mount_targets': cloud_mount_targets,
                'cloud_mount_status': cloud_mount_status}
