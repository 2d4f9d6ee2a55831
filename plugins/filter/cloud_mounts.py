# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cloud libraries (rclone sidecars): what a pod gets, the Secrets the role makes, the mount check's verdict.
Each filter's documentation is plugins/filter/<filter name>.yml.
The logic lives in module_utils/cloud_mounts.py (unit-tested in tests/unit/test_cloud_mounts.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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


def _listed_pods(pod_results, namespace):
    """The pods listed for a namespace: every k8s_info loop result of that namespace (its target under the loop
    variable), flattened."""
    pods = []
    for result in pod_results or []:
        target = result[result.get('ansible_loop_var', 'item')]
        if target['namespace'] == namespace:
            pods.extend(result.get('resources') or [])
    return pods


def cloud_mount_checks(targets, pod_results):
    """Every check of the cloud mount verification (cloud_mount_targets per target) with its namespace.

    targets: [{'namespace', 'root', 'remotes'}]; pod_results: the loop results of listing each target's pods."""
    return [dict(check, namespace=target['namespace']) for target in targets
            for check in cloud_mount_targets(_listed_pods(pod_results, target['namespace']), target['root'],
                                             target['remotes'])]


def cloud_mount_verdicts(targets, pod_results, probe_results):
    """One cloud_mount_status verdict per target, from its pods and the checks run in its namespace.

    probe_results: the loop results of running each check (cloud_mount_checks) in its app container."""
    verdicts = []
    for target in targets:
        probes = []
        for result in probe_results or []:
            check = result[result.get('ansible_loop_var', 'item')]
            if check['namespace'] != target['namespace']:
                continue
            probes.append({'pod': check['pod'], 'remote': check['remote'], 'rc': result.get('rc'),
                           'stdout': result.get('stdout', ''),
                           'stderr': result.get('stderr') or result.get('msg', '')})
        verdicts.append(cloud_mount_status(_listed_pods(pod_results, target['namespace']), target['root'],
                                           target['remotes'], probes))
    return verdicts


class FilterModule(object):
    def filters(self):
        return {'cloud_pod': cloud_pod, 'cloud_secrets': cloud_secrets, 'cloud_mount_targets': cloud_mount_targets,
                'cloud_mount_status': cloud_mount_status, 'cloud_mount_checks': cloud_mount_checks,
                'cloud_mount_verdicts': cloud_mount_verdicts}
