# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the day-2 k3s playbooks: the replace-a-server plan (replace_server.yml) and the one-minor-at-a-time
upgrade check (upgrade.yml). Pure functions, unit-tested in tests/unit/test_k3s_lifecycle.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.mediacluster.plugins.filter.k3s import k3s_join_plan, quorum

VERSION_RE = re.compile(r'v?(\d+)\.(\d+)\.(\d+)(?:[-+]\S*)?')


def _ready(node):
    for condition in (node.get('status') or {}).get('conditions') or []:
        if condition.get('type') == 'Ready':
            return condition.get('status') == 'True'
    return False


def k3s_replace_plan(servers, replace, node_names, etcd_nodes, readyz):
    servers = list(servers or [])
    node_names = dict(node_names or {})
    readyz = dict(readyz or {})
    if replace not in servers:
        raise AnsibleFilterError(
            'replace_server={0!r} is not in the server group ({1}). Give the inventory name of the k3s server to '
            'replace; an agent needs no replacement play (docs/runbooks.md, "An agent fails").'.format(
                replace, ', '.join(servers) or 'empty'))
    if len(servers) == 1:
        raise AnsibleFilterError(
            '{0} is the only k3s server: there is no etcd member left to rejoin, so replacing it means a new cluster. '
            'Rebuild it with reset.yml and site.yml and restore from the backups (docs/runbooks.md).'.format(replace))
    missing = [s for s in servers if s not in node_names]
    if missing:
        raise AnsibleFilterError('no k3s node name for {0}: pass every server in node_names.'.format(
            ', '.join(missing)))
    others = [s for s in servers if s != replace]
    by_name = {}
    for node in etcd_nodes or []:
        by_name[(node.get('metadata') or {}).get('name')] = node
    known = set(node_names[s] for s in servers)
    strangers = sorted(n for n in by_name if n not in known)
    if strangers:
        raise AnsibleFilterError(
            'the cluster has etcd node(s) the inventory does not list: {0}. They count towards quorum, so the plan '
            'cannot tell whether the removal is safe. Add them to the server group or remove them from the cluster '
            '(kubectl delete node, not --force), then rerun.'.format(', '.join(strangers)))
    healthy, unhealthy = [], []
    for server in others:
        node = by_name.get(node_names[server])
        if node is None:
            unhealthy.append('{0} (no etcd Node object)'.format(server))
        elif not _ready(node):
            unhealthy.append('{0} (node {1} not Ready)'.format(server, node_names[server]))
        elif str(readyz.get(server, '')).strip() != 'ok':
            unhealthy.append('{0} (/readyz: {1})'.format(server, str(readyz.get(server) or 'no answer').strip()))
        else:
            healthy.append(server)
    need = quorum(len(servers))
    if len(healthy) < need:
        raise AnsibleFilterError(
            'replacing {0} would cost etcd its quorum: with {1} servers etcd needs {2} healthy members besides the '
            'one being replaced, and only {3} {4}. Unhealthy: {5}. Bring those servers back first (docs/runbooks.md, '
            '"A server fails"), then rerun.'.format(
                replace, len(servers), need, len(healthy), 'is' if len(healthy) == 1 else 'are',
                '; '.join(unhealthy) or 'none'))
    plan = k3s_join_plan(servers, others)
    if plan['roles'][replace] != 'join':
        raise AnsibleFilterError('k3s_join_plan would not rejoin {0} as a joining server ({1}); refusing.'.format(
            replace, plan['roles'][replace]))
    return {
        'target': replace,
        'node_name': node_names[replace],
        'node_present': node_names[replace] in by_name,
        'helper': healthy[0],
        'healthy': healthy,
        'quorum': need,
        'first_server': replace == servers[0],
        'rejoin_role': plan['roles'][replace],
    }


def k3s_etcd_members_of(info, node_name):
    """Names of the etcd members that belong to node_name in k3s's /db/info answer ({"members": [...]}).

    k3s names a member <node name>-<8 hex digits>."""
    pattern = re.compile(r'^{0}-[0-9a-f]{{8}}$'.format(re.escape(str(node_name))))
    members = (info or {}).get('members') or []
    return [m.get('name') for m in members if pattern.match(str(m.get('name') or ''))]


def k3s_version(text):
    """(major, minor, patch) from `k3s --version` output or a version string (v1.33.5+k3s1), or None."""
    match = VERSION_RE.search(str(text or ''))
    if not match:
        return None
    return tuple(int(part) for part in match.groups())


def _minor(version):
    return 'v{0}.{1}'.format(version[0], version[1])


def k3s_upgrade_errors(current, target):
    """Messages for the nodes the upgrade to target would take across more than one minor version (or back).

    current: inventory name -> `k3s --version` output (empty or None: k3s not installed, nothing to check).
    """
    errors = []
    want = k3s_version(target)
    if want is None:
        return ['the target k3s version {0!r} is not a version (vMAJOR.MINOR.PATCH+k3sN): set k3s_common_version to a '
                'k3s release such as v1.33.5+k3s1.'.format(target)]
    for host in sorted(current or {}):
        text = str(current[host] or '').strip()
        if not text:
            continue
        have = k3s_version(text)
        running = VERSION_RE.search(text).group(0) if have else None
        if have is None:
            errors.append('{0}: cannot read the installed k3s version from {1!r}; check /usr/local/bin/k3s on the '
                          'node.'.format(host, text[:80]))
        elif have[0] != want[0]:
            errors.append('{0} runs {1}; {2} is another major version, which k3s cannot upgrade to in place.'.format(
                host, running, target))
        elif want[1] > have[1] + 1:
            steps = ', '.join('v{0}.{1}'.format(want[0], minor) for minor in range(have[1] + 1, want[1]))
            errors.append(
                '{0} runs {1}; {2} would skip {3}: k3s (like Kubernetes) upgrades one minor version at a time. Set '
                'k3s_common_version (or the airgap binary) to the latest {4} release, run upgrade.yml, and repeat '
                'for each minor version up to {2}.'.format(
                    host, running, target, steps, _minor((want[0], have[1] + 1))))
        elif want[1] < have[1]:
            errors.append(
                '{0} runs {1}; {2} is an older minor version and k3s does not support downgrades. Keep '
                'k3s_common_version at {3} or later (to go back, restore an etcd snapshot taken before the '
                'upgrade).'.format(host, running, target, _minor(have)))
    return errors


class FilterModule(object):
    def filters(self):
        return {
            'k3s_replace_plan': k3s_replace_plan,
            'k3s_etcd_members_of': k3s_etcd_members_of,
            'k3s_version': k3s_version,
            'k3s_upgrade_errors': k3s_upgrade_errors,
        }
