# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verdicts of playbooks/80_verify.yml (roles/verify): each filter turns what the cluster returned into check
results, and the report filters turn the results into the console table, the JSON report and the "what to do"
list. Pure Python, no cluster access; unit-tested in tests/unit/verify/. Each filter's documentation is
plugins/filter/<filter name>.yml.

A result is a dict: {area, check, status (pass | fail | skipped), detail, fix, runbook}. `fix` and `runbook` are
set on failures: `runbook` is an anchor of docs/runbooks.md."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import re

from ansible.module_utils.parsing.convert_bool import boolean

RUNBOOK_DOC = 'docs/runbooks.md'
# every anchor a result may point to; tests/unit/verify checks each exists in docs/runbooks.md
RUNBOOKS = {
    'k3s-nodes': 'verify-k3s-nodes',
    'etcd': 'verify-etcd',
    'vip': 'verify-vip',
    'failover': 'verify-failover',
    'longhorn': 'verify-longhorn',
    'storage-classes': 'verify-storage-classes',
    'volumes': 'verify-volumes',
    'backups': 'verify-backups',
    'hardlinks': 'verify-hardlinks',
    'gpu': 'verify-gpu',
    'apps': 'verify-apps',
    'wiring': 'verify-wiring',
    'network-policy': 'verify-network-policy',
    'cloud-mounts': 'verify-cloud-mounts',
    'verify': 'verify-check-error',
}
STATUSES = ('pass', 'fail', 'skipped')
# labels whose value the inventory can only guess (the architecture of a host without k3s_common_arch)
GUESSED_LABELS = ('kubernetes.io/arch', 'beta.kubernetes.io/arch')
# taints the node lifecycle controller and the kubelet set themselves; the Ready check reports their cause
SYSTEM_TAINT_PREFIXES = ('node.kubernetes.io/', 'node.cloudprovider.kubernetes.io/', 'ToBeDeletedByClusterAutoscaler')


def result(area, check, status, detail='', fix='', runbook=''):  # noqa: PLR0917 (one call per verdict, read as a row)
    if status not in STATUSES:
        raise ValueError('verify: status must be one of {0}, not {1!r}'.format(STATUSES, status))
    anchor = RUNBOOKS.get(runbook, runbook) if runbook else ''
    return {'area': area, 'check': check, 'status': status, 'detail': detail,
            'fix': fix if status == 'fail' else '', 'runbook': anchor if status == 'fail' else ''}


def verify_result(check, area, status, detail='', *, fix='', runbook=''):
    """One result (in a list), for the checks whose verdict is a single fact: `'name' | verify_result(area, ...)`."""
    return [result(area, check, status, detail, fix, runbook)]


def verify_cloud_mount_result(row):
    """One row of the media stack's cloud mount check (module_utils/cloud_mounts.py) as a result: pass when the
    mount is there and lists."""
    where = '{0} ({1}) {2}'.format(row.get('pod'), row.get('node') or 'no node', row.get('path'))
    if row.get('state') == 'ok':
        return result('storage', 'cloud mount ' + str(row.get('remote')), 'pass',
                      '{0}: {1} items'.format(where, row.get('items')))
    return result('storage', 'cloud mount ' + str(row.get('remote')), 'fail',
                  '{0}: {1}'.format(where, row.get('detail') or row.get('state')),
                  fix='a missing mount is propagation or a sidecar that never mounted (kubectl logs {0} -c '
                      'rclone-{1}); a mount that does not list is stale: delete the pod'.format(row.get('pod'),
                                                                                                row.get('remote')),
                  runbook='cloud-mounts')


def verify_cloud_mounts(verdicts):
    """Every row of the media stack's cloud mount check (its _media_stack_cloud_verdicts: [{rows}]) as a result
    (verify_cloud_mount_result), or one skipped result when there is none (cloud libraries are off)."""
    rows = [row for verdict in verdicts or [] for row in (verdict.get('rows') or [])]
    if not rows:
        return verify_skipped(['cloud mounts'], 'storage', 'cloud libraries are off')
    return [verify_cloud_mount_result(row) for row in rows]


def verify_skipped(checks, area, reason):
    """One `skipped` result per check name, all with the same reason."""
    return [result(area, check, 'skipped', reason) for check in checks]


NO_PODS = 'needs a live cluster: nothing runs pods on this API (kube-system/coredns has no ready replica)'


def verify_skip_reasons(coredns, check_mode, test_objects):
    """Why the checks that run commands in the cluster (live) and those that create test objects (objects) cannot
    run; '' when they can. coredns: the kube-system/coredns Deployment(s) read (a cluster runs pods when one has a
    ready replica); test_objects: verify_test_objects (auto, always, never)."""
    ready = 0
    for deployment in coredns or []:
        try:
            ready += int((deployment.get('status') or {}).get('readyReplicas') or 0)
        except (TypeError, ValueError):
            continue
    runs = test_objects == 'always' or ready > 0
    if check_mode:
        return {'live': 'check mode runs nothing in the cluster', 'objects': 'check mode creates no test objects'}
    return {'live': '' if runs else NO_PODS,
            'objects': 'verify_test_objects is never' if test_objects == 'never' else '' if runs else NO_PODS}


def _conditions(obj):
    return {c.get('type'): c for c in ((obj or {}).get('status') or {}).get('conditions') or []}


def _labels(obj):
    return dict(((obj or {}).get('metadata') or {}).get('labels') or {})


def _name(obj):
    return ((obj or {}).get('metadata') or {}).get('name', '')


# --- k3s ---------------------------------------------------------------------------------------------------------

def verify_k3s_nodes(api_nodes, node_model):
    """Every inventory node registered, Ready, with the labels and taints the inventory gives it (node model of
    k3s_node_model); nodes the API has but the inventory does not are reported too."""
    by_name = {_name(n): n for n in api_nodes or []}
    results = []
    for model in node_model or []:
        name = model['name']
        check = 'node {0}'.format(name)
        node = by_name.get(name)
        if node is None:
            results.append(result('k3s', check, 'fail', 'not registered with the API server',
                                  'start k3s on {0} (systemctl status k3s / k3s-agent) or rerun the k3s layer: '
                                  '--tags k3s --limit {0}'.format(model.get('host', name)), 'k3s-nodes'))
            continue
        problems = []
        ready = _conditions(node).get('Ready')
        if not ready or ready.get('status') != 'True':
            problems.append('NotReady ({0})'.format(
                (ready or {}).get('message') or (ready or {}).get('reason') or 'no Ready condition'))
        labels = _labels(node)
        wrong = sorted('{0}={1} (has {2})'.format(k, v, labels[k] if k in labels else 'none')
                       for k, v in (model.get('labels') or {}).items()
                       if k not in GUESSED_LABELS and labels.get(k) != v)
        if wrong:
            problems.append('labels differ from the inventory: ' + ', '.join(wrong))
        have = [dict((k, t.get(k) or '') for k in ('key', 'value', 'effect'))
                for t in (node.get('spec') or {}).get('taints') or []]
        want = [dict((k, t.get(k) or '') for k in ('key', 'value', 'effect')) for t in model.get('taints') or []]
        missing = ['{key}={value}:{effect}'.format(**t) for t in want if t not in have]
        extra = ['{key}={value}:{effect}'.format(**t) for t in have
                 if t not in want and not t['key'].startswith(SYSTEM_TAINT_PREFIXES)]
        if missing:
            problems.append('taints missing: ' + ', '.join(missing))
        if extra:
            problems.append('taints the inventory does not give: ' + ', '.join(extra))
        if problems:
            results.append(result('k3s', check, 'fail', '; '.join(problems),
                                  'a NotReady node: look at its kubelet (journalctl -u k3s or k3s-agent); labels or '
                                  'taints: rerun --tags k3s, which reconciles them from the inventory',
                                  'k3s-nodes'))
        else:
            results.append(result('k3s', check, 'pass', 'Ready, labels and taints as the inventory says'))
    known = set(m['name'] for m in node_model or [])
    for name in sorted(set(by_name) - known):
        results.append(result('k3s', 'node {0}'.format(name), 'fail', 'in the cluster but not in the inventory',
                              'add it to the inventory, or drain and delete it: kubectl drain {0} '
                              '--ignore-daemonsets --delete-emptydir-data && kubectl delete node {0}'.format(name),
                              'k3s-nodes'))
    return results


def verify_etcd(api_nodes, servers):
    """etcd members (the nodes k3s labels node-role.kubernetes.io/etcd) = the inventory's servers, each healthy:
    Ready and, where k3s reports it, a voting member (condition EtcdIsVoter)."""
    members = sorted(_name(n) for n in api_nodes or [] if _labels(n).get('node-role.kubernetes.io/etcd') == 'true')
    servers = sorted(servers or [])
    problems = []
    if members != servers:
        missing = sorted(set(servers) - set(members))
        extra = sorted(set(members) - set(servers))
        if missing:
            problems.append('servers without an etcd member: ' + ', '.join(missing))
        if extra:
            problems.append('etcd members that are not inventory servers: ' + ', '.join(extra))
    unhealthy = []
    for node in api_nodes or []:
        if _name(node) not in members:
            continue
        conditions = _conditions(node)
        if (conditions.get('Ready') or {}).get('status') != 'True':
            unhealthy.append('{0} (node NotReady)'.format(_name(node)))
        elif (conditions.get('EtcdIsVoter') or {}).get('status') == 'False':
            unhealthy.append('{0} ({1})'.format(
                _name(node), conditions['EtcdIsVoter'].get('message') or 'not a voting member'))
    if unhealthy:
        problems.append('unhealthy members: ' + ', '.join(unhealthy))
    quorum = len(servers) // 2 + 1
    healthy = len(members) - len(unhealthy)
    if problems:
        return [result('k3s', 'etcd members', 'fail', '; '.join(problems) + ' ({0} of {1} healthy, quorum {2})'.format(
            healthy, len(servers), quorum),
            'a missing or unhealthy member: replace the server (playbooks/replace_server.yml -e replace_server=<host>)'
            ' before another one fails', 'etcd')]
    return [result('k3s', 'etcd members', 'pass', '{0} members ({1}), all healthy'.format(
        len(members), ', '.join(members)))]


def verify_vip(url, answered, error='', lease=None):
    """The API answers through the VIP, and which node holds it (kube-vip's leader Lease)."""
    holder = ((lease or {}).get('spec') or {}).get('holderIdentity') or ''
    results = []
    if answered:
        results.append(result('k3s', 'API through the VIP', 'pass', '{0} answers'.format(url)))
    else:
        results.append(result('k3s', 'API through the VIP', 'fail', '{0}: {1}'.format(url, error or 'no answer'),
                              'check kube-vip on the servers (crictl ps --name kube-vip; its log) and that '
                              'k3s_common_vip is free on the LAN', 'vip'))
    if holder:
        results.append(result('k3s', 'VIP holder', 'pass', 'kube-vip leader: {0}'.format(holder)))
    else:
        results.append(result('k3s', 'VIP holder', 'fail', 'no kube-vip leader Lease (kube-system/plndr-cp-lock)',
                              'kube-vip runs as a static pod on each server: check '
                              '/var/lib/rancher/k3s/agent/pod-manifests/kube-vip.yaml and its log', 'vip'))
    return results


def verify_drill_plan(leases, node_model, vip_url='', live_skip=''):
    """Who the failover drill stops: the kube-vip leader (holder, from the resources of the Lease read) and its
    inventory host (host, through the node model), and why the drill cannot run (skip; '' when it can)."""
    holder = ''
    for lease in leases or []:
        holder = ((lease or {}).get('spec') or {}).get('holderIdentity') or ''
        break
    host = next((n.get('host') or '' for n in node_model or [] if holder and n.get('name') == holder), '')
    if live_skip:
        skip = live_skip
    elif not vip_url:
        skip = 'no VIP: k3s_common_vip and verify_vip_url are empty'
    elif not holder:
        skip = 'no kube-vip leader to stop'
    elif not host:
        skip = 'the VIP holder {0} is not an inventory host'.format(holder)
    else:
        skip = ''
    return {'holder': holder, 'host': host, 'skip': skip}


def verify_failover(seconds, old_holder, new_holder, timeout):
    """Outcome of the failover drill: seconds until the API answered through the VIP from another holder."""
    if seconds is None or not new_holder or new_holder == old_holder:
        return [result('k3s', 'VIP failover drill', 'fail',
                       'kube-vip stopped on {0}: no other server took the VIP within {1} s'.format(old_holder, timeout),
                       'check kube-vip on the other servers (leader election needs them Ready and the Lease '
                       'reachable)', 'failover')]
    return [result('k3s', 'VIP failover drill', 'pass',
                   'VIP moved from {0} to {1}; API answered again after {2:.1f} s'.format(
                       old_holder, new_holder, float(seconds)))]


def verify_k3s(api_nodes, node_model, servers, vip_url='', *, vip_answer=None, leases=None):
    """The k3s area in one: every inventory node (verify_k3s_nodes), the etcd members (verify_etcd), and the API
    through the VIP with its holder (verify_vip), or those two skipped when there is no VIP URL.

    vip_answer: the registered kubernetes.core.k8s_info read through the VIP (api_found, msg); leases: the
    resources of the read of kube-vip's leader Lease."""
    results = verify_k3s_nodes(api_nodes, node_model) + verify_etcd(api_nodes, servers)
    if not vip_url:
        return results + verify_skipped(['API through the VIP', 'VIP holder'], 'k3s',
                                        'no VIP: k3s_common_vip and verify_vip_url are empty')
    answer = vip_answer or {}
    lease = (leases or [{}])[0] or {}
    return results + verify_vip(vip_url, answer.get('api_found', False), answer.get('msg', ''), lease)


# --- storage -----------------------------------------------------------------------------------------------------

def verify_storage_classes(storage_classes, rwx_class):
    classes = {_name(c): c for c in storage_classes or []}
    defaults = sorted(name for name, c in classes.items()
                      if ((c.get('metadata') or {}).get('annotations') or {}).get(
                          'storageclass.kubernetes.io/is-default-class') == 'true')
    results = []
    if len(defaults) == 1:
        results.append(result('storage', 'default StorageClass', 'pass', defaults[0]))
    else:
        results.append(result('storage', 'default StorageClass', 'fail',
                              'no default StorageClass' if not defaults else
                              'more than one default StorageClass: ' + ', '.join(defaults),
                              'keep exactly one class annotated storageclass.kubernetes.io/is-default-class=true '
                              '(longhorn_default_class; k3s\'s local-path is disabled by the k3s role)',
                              'storage-classes'))
    if rwx_class in classes:
        results.append(result('storage', 'RWX StorageClass', 'pass', rwx_class))
    else:
        results.append(result('storage', 'RWX StorageClass', 'fail', 'StorageClass {0} is missing'.format(rwx_class),
                              'rerun --tags longhorn (it applies {0})'.format(rwx_class), 'storage-classes'))
    return results


def verify_longhorn_nodes(longhorn_nodes, expected):
    """expected: names of the nodes whose disks Longhorn must schedule replicas on (the storage nodes)."""
    by_name = {_name(n): n for n in longhorn_nodes or []}
    results = []
    for name in sorted(expected or []):
        check = 'Longhorn node {0}'.format(name)
        node = by_name.get(name)
        if node is None:
            results.append(result('storage', check, 'fail', 'no Longhorn node object',
                                  'the longhorn-manager pod does not run there: check the node\'s Longhorn label '
                                  'and the longhorn-manager DaemonSet', 'longhorn'))
            continue
        problems = []
        if not (node.get('spec') or {}).get('allowScheduling', False):
            problems.append('scheduling disabled (spec.allowScheduling false)')
        for kind in ('Ready', 'Schedulable'):
            condition = _conditions(node).get(kind)
            if condition is not None and condition.get('status') != 'True':
                problems.append('{0}: {1}'.format(kind, condition.get('message') or condition.get('reason') or 'False'))
        if problems:
            results.append(result('storage', check, 'fail', '; '.join(problems),
                                  'enable scheduling in the Longhorn UI (Node > Edit) or fix the condition shown',
                                  'longhorn'))
        else:
            results.append(result('storage', check, 'pass', 'schedulable'))
    return results


def verify_backup_target(target, configured):
    if not configured:
        return [result('storage', 'backup target', 'skipped', 'no backup target configured (longhorn_backup_target)')]
    status = (target or {}).get('status') or {}
    if target and status.get('available') is True:
        return [result('storage', 'backup target', 'pass', '{0} available'.format(
            (target.get('spec') or {}).get('backupTargetURL', configured)))]
    messages = [c.get('message') for c in (status.get('conditions') or []) if c.get('message')]
    return [result('storage', 'backup target', 'fail', '{0} unavailable{1}'.format(
        configured, ': ' + '; '.join(messages) if messages else ''),
        'check the NAS export answers from the storage nodes (showmount -e / nfs-ls) and the BackupTarget '
        'default in longhorn-system', 'backups')]


_CRON_NAMES = {'jan': 1, 'feb': 2, 'mar': 3, 'apr': 4, 'may': 5, 'jun': 6, 'jul': 7, 'aug': 8, 'sep': 9,
               'oct': 10, 'nov': 11, 'dec': 12, 'sun': 0, 'mon': 1, 'tue': 2, 'wed': 3, 'thu': 4, 'fri': 5,
               'sat': 6}
_CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_DESCRIPTORS = {'@yearly': 366 * 24, '@annually': 366 * 24, '@monthly': 31 * 24, '@weekly': 7 * 24,
                '@daily': 24, '@midnight': 24, '@hourly': 1}


def _cron_field(text, low, high):
    values = set()
    for part in text.lower().split(','):
        step = 1
        span = part
        if '/' in part:
            span, step_text = part.split('/', 1)
            step = int(step_text)
        if span in ('*', '?'):
            start, end = low, high
        elif '-' in span:
            start, end = (int(_CRON_NAMES.get(p, p)) for p in span.split('-', 1))
        else:
            start = int(_CRON_NAMES.get(span, span))
            end = high if step > 1 else start
        values.update(range(start, end + 1, step))
    return values


def cron_interval_hours(cron):
    """The longest gap, in hours, between two runs of a cron schedule (robfig/cron syntax as Longhorn uses it), so
    a backup older than that (plus a grace) means a run was missed. None when it cannot be read."""
    cron = (cron or '').strip()
    if cron in _DESCRIPTORS:
        return float(_DESCRIPTORS[cron])
    if cron.startswith('@every '):
        units = {'h': 1.0, 'm': 1 / 60.0, 's': 1 / 3600.0}
        parts = re.findall(r'([0-9.]+)(h|m|s)', cron[7:])
        return sum(float(n) * units[u] for n, u in parts) or None
    fields = cron.split()
    if len(fields) != 5:
        return None
    try:
        minutes, hours, doms, months, dows = (_cron_field(f, lo, hi)
                                              for f, (lo, hi) in zip(fields, _CRON_RANGES, strict=True))
    except ValueError:
        return None
    dows = set(d % 7 for d in dows)
    dom_any, dow_any = fields[2] in ('*', '?'), fields[4] in ('*', '?')
    start = datetime.datetime(2025, 1, 1)
    previous, longest = None, 0.0
    for day in range(400):  # a bit more than a year: every month and weekday combination occurs
        date = start + datetime.timedelta(days=day)
        if date.month not in months:
            continue
        dom_ok, dow_ok = date.day in doms, (date.weekday() + 1) % 7 in dows
        if not (dom_ok and dow_ok if dom_any or dow_any else dom_ok or dow_ok):
            continue
        for hour in sorted(hours):
            for minute in sorted(minutes):
                moment = date.replace(hour=hour, minute=minute)
                if previous is not None:
                    longest = max(longest, (moment - previous).total_seconds() / 3600.0)
                previous = moment
    return longest or None


def _parse_time(text):
    if not text:
        return None
    text = str(text).strip().replace('Z', '+00:00')
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment


def verify_backups(volumes, recurring_jobs, now, *, grace_hours=6, max_age_hours=0, configured=True,
                   detached_volumes=False):
    """For each Longhorn volume a backup RecurringJob covers, the age of its last backup against the job's schedule
    (its longest gap between runs plus grace_hours), or max_age_hours when that is set (> 0)."""
    if not configured:
        return [result('storage', 'backups', 'skipped', 'no backup target configured (longhorn_backup_target)')]
    now = _parse_time(now) if not isinstance(now, datetime.datetime) else now
    backup_jobs = [j for j in recurring_jobs or []
                   if (j.get('spec') or {}).get('task') in ('backup', 'backup-force-create')]
    if not backup_jobs:
        return [result('storage', 'backups', 'fail', 'no backup RecurringJob in Longhorn',
                       'add a job with task backup to longhorn_recurring_jobs and rerun --tags longhorn', 'backups')]
    results = []
    for volume in sorted(volumes or [], key=_name):
        labels = _labels(volume)
        job_labels = [k for k in labels if k.startswith(('recurring-job.longhorn.io/',
                                                         'recurring-job-group.longhorn.io/'))]
        covering = []
        for job in backup_jobs:
            spec = job.get('spec') or {}
            name = spec.get('name') or _name(job)
            groups = spec.get('groups') or []
            if (labels.get('recurring-job.longhorn.io/' + name) == 'enabled'
                    or any(labels.get('recurring-job-group.longhorn.io/' + g) == 'enabled' for g in groups)
                    or (not job_labels and 'default' in groups)):
                covering.append(spec.get('cron', ''))
        if not covering:
            continue
        check = 'backup of {0}'.format(_name(volume))
        status = volume.get('status') or {}
        if status.get('state') == 'detached' and not detached_volumes:
            results.append(result('storage', check, 'skipped', 'volume detached; Longhorn backs up attached '
                                  'volumes only (longhorn_recurring_jobs_detached_volumes)'))
            continue
        if max_age_hours and float(max_age_hours) > 0:
            limit = float(max_age_hours)
        else:
            gaps = [g for g in (cron_interval_hours(c) for c in covering) if g]
            if not gaps:
                results.append(result('storage', check, 'fail', 'cannot read the schedule {0}'.format(covering),
                                      'set verify_backup_max_age_hours', 'backups'))
                continue
            limit = min(gaps) + float(grace_hours)
        last = _parse_time(status.get('lastBackupAt'))
        if last is None:
            results.append(result('storage', check, 'fail', 'never backed up (allowed age {0:g} h)'.format(limit),
                                  'run a backup now (Longhorn UI: Volume > Create Backup) and check the backup '
                                  'target and the RecurringJob\'s pods in longhorn-system', 'backups'))
            continue
        age = (now - last).total_seconds() / 3600.0
        if age > limit:
            results.append(result('storage', check, 'fail', 'last backup {0} is {1:.1f} h old; the schedule allows '
                                  '{2:g} h'.format(status.get('lastBackupAt'), age, limit),
                                  'a run was missed: check the backup target and the RecurringJob\'s pods in '
                                  'longhorn-system (kubectl -n longhorn-system get pods -l '
                                  'recurring-job.longhorn.io)', 'backups'))
        else:
            results.append(result('storage', check, 'pass', 'last backup {0:.1f} h old (allowed {1:g} h)'.format(
                age, limit)))
    if not results:
        results.append(result('storage', 'backups', 'pass', 'no volume is covered by a backup job yet'))
    return results


def verify_storage(longhorn_reads, storage_classes, now, *, rwx_class, storage_nodes, backup_target='',  # noqa: PLR0913
                   grace_hours=6, max_age_hours=0, detached_volumes=False):
    """The storage area in one: the default and RWX StorageClasses, Longhorn's nodes, the backup target and the age
    of each protected volume's last backup.

    longhorn_reads: one entry per Longhorn kind read, with the kind as `_verify_kind` and the objects as
    `resources` (tasks/check_storage.yml); storage_classes: every StorageClass; now: ISO 8601 time."""
    read = {}
    for entry in longhorn_reads or []:
        read[entry.get('_verify_kind')] = entry.get('resources') or []
    targets = [t for t in read.get('BackupTarget', []) if _name(t) == 'default']
    return (verify_storage_classes(storage_classes, rwx_class)
            + verify_longhorn_nodes(read.get('Node', []), storage_nodes)
            + verify_backup_target(targets[0] if targets else {}, backup_target)
            + verify_backups(read.get('Volume', []), read.get('RecurringJob', []), now, grace_hours=grace_hours,
                             max_age_hours=max_age_hours, configured=len(backup_target or '') > 0,
                             detached_volumes=boolean(detached_volumes, strict=False)))


# --- GPU ---------------------------------------------------------------------------------------------------------

def verify_gpu_nodes(api_nodes, gpu_nodes, resource):
    by_name = {_name(n): n for n in api_nodes or []}
    results = []
    for name in sorted(gpu_nodes or []):
        check = '{0} on {1}'.format(resource, name)
        allocatable = ((by_name.get(name) or {}).get('status') or {}).get('allocatable') or {}
        try:
            count = int(str(allocatable.get(resource, '0')))
        except ValueError:
            count = 0
        if name not in by_name:
            results.append(result('gpu', check, 'fail', 'node not registered', 'see the k3s node check',
                                  'gpu'))
        elif count > 0:
            results.append(result('gpu', check, 'pass', '{0} allocatable'.format(count)))
        else:
            results.append(result('gpu', check, 'fail', 'no {0} allocatable'.format(resource),
                                  'the Intel GPU device plugin does not see /dev/dri on {0}: check its pod in '
                                  'plex_gpu_plugin_namespace and the LXC\'s device passthrough'.format(name), 'gpu'))
    return results


def verify_plex_pod(pods, resource, render_gids):
    """The running Plex pod requests the GPU resource and runs with the render group(s) the collection computed."""
    running = [p for p in pods or [] if ((p.get('status') or {}).get('phase')) == 'Running']
    if not running:
        return [result('gpu', 'Plex holds the GPU', 'fail', 'no running Plex pod',
                       'kubectl -n <plex_namespace> describe pod -l app.kubernetes.io/name=plex', 'gpu')]
    pod = running[0]
    spec = pod.get('spec') or {}
    problems = []
    holds = any(resource in ((c.get('resources') or {}).get('limits') or {}) for c in spec.get('containers') or [])
    if resource and not holds:
        problems.append('no container has a {0} limit'.format(resource))
    groups = set(int(g) for g in (spec.get('securityContext') or {}).get('supplementalGroups') or [])
    missing = sorted(set(int(g) for g in render_gids or []) - groups)
    if missing:
        problems.append('render group(s) {0} not in supplementalGroups {1}'.format(missing, sorted(groups)))
    if problems:
        return [result('gpu', 'Plex holds the GPU', 'fail', '{0}: {1}'.format(_name(pod), '; '.join(problems)),
                       'rerun --tags plex (plex_gpu_mode, plex_gpu_render_gid)', 'gpu')]
    return [result('gpu', 'Plex holds the GPU', 'pass', '{0} on {1}: {2}groups {3}'.format(
        _name(pod), spec.get('nodeName', '?'), resource + ', ' if resource else '', sorted(groups)))]


def verify_plex_device(stdout, return_code, device, render_gids):
    """Output of `stat -c %g <device>; id -G` run in the Plex container (k8s_exec)."""
    lines = (stdout or '').split('\n')
    if return_code != 0 or len(lines) < 2 or not lines[0].strip().isdigit():
        return [result('gpu', 'Plex sees {0}'.format(device), 'fail', 'not visible in the Plex container: {0}'.format(
            (stdout or '').strip() or 'exit {0}'.format(return_code)),
            'check the device plugin allocation (kubectl describe node) or the LXC device passthrough', 'gpu')]
    owner = int(lines[0].strip())
    groups = set(int(g) for g in lines[1].split() if g.isdigit())
    if owner not in groups or (render_gids and owner not in set(int(g) for g in render_gids)):
        return [result('gpu', 'Plex sees {0}'.format(device), 'fail',
                       '{0} is owned by group {1}; Plex runs with groups {2}, the collection computed {3}'.format(
                           device, owner, sorted(groups), list(render_gids or [])),
                       'set plex_gpu_render_gid (or the gpu_render_gid fact) to {0} and rerun --tags plex'.format(
                           owner),
                       'gpu')]
    return [result('gpu', 'Plex sees {0}'.format(device), 'pass', 'group {0}, which Plex holds'.format(owner))]


def verify_gpu(node_reads, plex_pods, mode, gpu_nodes, resource, render_gids):  # noqa: PLR0917
    """The GPU nodes and the Plex pod: with plex_gpu_mode device_plugin, the resource allocatable on every GPU node
    (verify_gpu_nodes) and the Plex pod holding it; in the other modes that node check is skipped and the Plex pod
    is judged on its render groups only (verify_plex_pod).

    node_reads: reads of the nodes, each with the nodes read as `resources` (tasks/check_gpu.yml reads them all
    once)."""
    device_plugin = mode == 'device_plugin'
    if device_plugin:
        api_nodes = [n for entry in node_reads or [] for n in (entry.get('resources') or [])]
        results = verify_gpu_nodes(api_nodes, gpu_nodes, resource)
    else:
        results = verify_skipped([resource + ' allocatable'], 'gpu',
                                 'plex_gpu_mode {0} uses no device plugin resource'.format(mode))
    return results + verify_plex_pod(plex_pods, resource if device_plugin else '', render_gids)


def verify_plex_exec(outcome, device, render_gids, not_run_reason=''):
    """What the Plex container sees: the registered kubernetes.core.k8s_exec result of `stat -c %g <device> && id
    -G` judged by verify_plex_device, or a skipped result (not_run_reason, else no running Plex pod) when the
    command did not run."""
    outcome = outcome or {}
    if not outcome or outcome.get('skipped'):
        return verify_skipped(['Plex sees ' + device], 'gpu', not_run_reason or 'no running Plex pod')
    stdout = outcome.get('stdout') or outcome.get('msg') or ''
    return verify_plex_device(stdout, outcome.get('rc', outcome.get('return_code', 1)), device, render_gids)


# --- apps --------------------------------------------------------------------------------------------------------

def verify_enabled_apps(pairs, defaults):
    """pairs: [(app, media_stack_<app>_enabled from the inventory or '__default__')]; the role's default fills in."""
    apps = []
    for app, value in pairs or []:
        enabled = value
        if value == '__default__':
            enabled = (defaults or {}).get('media_stack_{0}_enabled'.format(app), False)
        if boolean(enabled, strict=False):
            apps.append(app)
    return apps


def verify_app_endpoints(apps, catalog, access, *, urls=None, services=None, pods=None, nodes=None,
                         controller='localhost'):
    """Where each app's API is called from: url mode, the controller against media_stack_api_urls; node mode, the
    node that runs the app's pod against the Service's ClusterIP (the media NetworkPolicy admits host traffic from
    that node only). [{app, url, host, probe, port, error}]; error is set when the app cannot be reached."""
    endpoints = []
    host_of = {n['name']: n.get('host', n['name']) for n in nodes or []}
    services = {_name(s): s for s in services or []}
    for app in apps or []:
        entry = {'app': app, 'probe': catalog[app].get('probe', 'tcp'), 'port': catalog[app]['port'], 'url': '',
                 'host': controller, 'error': ''}
        if access == 'url':
            entry['url'] = str((urls or {}).get(app, '')).rstrip('/')
            if not entry['url']:
                entry['error'] = 'no URL in media_stack_api_urls'
        else:
            ip = ((services.get(app) or {}).get('spec') or {}).get('clusterIP', '')
            placed = [p for p in pods or [] if _labels(p).get('app.kubernetes.io/name') == app
                      and ((p.get('status') or {}).get('phase')) == 'Running' and (p.get('spec') or {}).get('nodeName')]
            if not ip or ip == 'None':
                entry['error'] = 'no Service with a ClusterIP'
            elif not placed:
                entry['error'] = 'no running pod'
            elif placed[0]['spec']['nodeName'] not in host_of:
                entry['error'] = 'its node {0} is not in the inventory'.format(placed[0]['spec']['nodeName'])
            else:
                entry['url'] = 'http://{0}:{1}'.format(ip, entry['port'])
                entry['host'] = host_of[placed[0]['spec']['nodeName']]
        endpoints.append(entry)
    return endpoints


def verify_app_health(probes):
    """probes: [{app, url, ok, detail}] from the health-endpoint tasks."""
    results = []
    for probe in probes or []:
        if probe.get('ok'):
            results.append(result('apps', '{0} health'.format(probe['app']), 'pass', probe.get('url', '')))
        else:
            where = '{0}: '.format(probe['url']) if probe.get('url') else ''
            results.append(result('apps', '{0} health'.format(probe['app']), 'fail', where + (
                probe.get('detail') or 'no answer'),
                'kubectl -n <media_stack_namespace> logs deploy/{0}; kubectl describe pod -l '
                'app.kubernetes.io/name={0}'.format(probe['app']), 'apps'))
    return results


def verify_probes(endpoints, registered):
    """[{app, url, ok, detail}] from the endpoints and the registered results of the uri / wait_for probes."""
    by_app = {}
    for item in registered or []:
        endpoint = item.get('_verify_endpoint') or {}
        by_app[endpoint.get('app')] = item
    probes = []
    for endpoint in endpoints or []:
        url = endpoint.get('url', '')
        if endpoint.get('error'):
            probes.append({'app': endpoint['app'], 'url': url, 'ok': False, 'detail': endpoint['error']})
            continue
        item = by_app.get(endpoint['app']) or {}
        if endpoint.get('probe', 'tcp') != 'tcp':
            url = url + endpoint['probe']
        ok = (bool(item) and not item.get('failed') and not item.get('skipped')
              and item.get('status', 200) == 200)
        detail = item.get('msg') or ('HTTP {0}'.format(item['status']) if 'status' in item else 'no answer')
        probes.append({'app': endpoint['app'], 'url': url, 'ok': ok, 'detail': '' if ok else detail})
    return probes


def verify_b64decode_values(data):
    """A Secret's data, decoded (values that are not base64 text are left out)."""
    decoded = {}
    for key, value in (data or {}).items():
        try:
            decoded[key] = base64.b64decode(str(value), validate=True).decode('utf-8')
        except (ValueError, UnicodeDecodeError):
            continue
    return decoded


def verify_wiring_items(registered, what, app=None):
    """[{app, what, result}] from the registered results of a looped wiring task; `what` is formatted with the item."""
    items = []
    for entry in registered or []:
        item = entry.get('_verify_item') or {}
        items.append({'app': app or item.get('app', '?'), 'what': what.format(**item), 'result': entry})
    return items


def verify_wiring(checks):
    """checks: [{app, what, result}], result being the registered result of a wiring module run in check mode."""
    results = []
    for item in checks or []:
        outcome = item.get('result') or {}
        check = 'wiring {0}: {1}'.format(item['app'], item['what'])
        if outcome.get('skipped'):
            results.append(result('apps', check, 'skipped', outcome.get('skip_reason') or 'skipped'))
        elif outcome.get('failed'):
            results.append(result('apps', check, 'fail', 'could not be checked: {0}'.format(outcome.get('msg', '')),
                                  'see the app health check', 'wiring'))
        elif outcome.get('changed'):
            results.append(result('apps', check, 'fail', 'drift: {0}'.format(_drift(outcome)),
                                  'rerun --tags media to put the wiring back', 'wiring'))
        else:
            results.append(result('apps', check, 'pass', 'as the collection configured it'))
    return results


def _registered_loop(registered):
    return (registered or {}).get('results') or []


def verify_media_wiring(healthy_apps, *, qbittorrent=None, root_folders=None, download_clients=None,  # noqa: PLR0913
                        prowlarr=None, jellyfin=None, jellyfin_setup=True):
    """The wiring re-checked in check mode (roles/verify/tasks/wiring.yml), judged by verify_wiring: each argument is
    the registered result of one wiring task (the looped ones with their `results`). qBittorrent and Jellyfin are
    judged only when they answered their health check (healthy_apps), Jellyfin only with its setup on."""
    healthy = list(healthy_apps or [])
    checks = []
    if 'qbittorrent' in healthy:
        checks.append({'app': 'qbittorrent', 'what': 'preferences and categories', 'result': qbittorrent})
    checks += verify_wiring_items(_registered_loop(root_folders), 'root folder {path}')
    checks += verify_wiring_items(_registered_loop(download_clients), 'download client qBittorrent/{category}')
    checks += verify_wiring_items(_registered_loop(prowlarr), 'application {name}', app='prowlarr')
    if boolean(jellyfin_setup, strict=False) and 'jellyfin' in healthy:
        checks.append({'app': 'jellyfin', 'what': 'admin, server name and libraries', 'result': jellyfin})
    return verify_wiring(checks)


def _drift(outcome):
    diff = outcome.get('diff')
    if isinstance(diff, list):
        diff = diff[0] if diff else {}
    if isinstance(diff, dict) and ('before' in diff or 'after' in diff):
        before, after = diff.get('before'), diff.get('after')
        if not before:
            return 'missing, would be created'
        if isinstance(before, dict) and isinstance(after, dict):
            keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
            if keys:
                return 'would change ' + ', '.join(str(k) for k in keys)
    return outcome.get('msg') or 'would change'


# --- test objects ------------------------------------------------------------------------------------------------

def verify_job(area, check, job, timeout, *, log='', pass_detail='', fix='', runbook=''):
    """Verdict of a test Job from its last read state."""
    status = (job or {}).get('status') or {}
    if status.get('succeeded'):
        return [result(area, check, 'pass', pass_detail or 'the test Job succeeded')]
    if status.get('failed'):
        return [result(area, check, 'fail', 'the test Job failed: {0}'.format(
            (log or '').strip()[-300:] or 'no log'), fix, runbook)]
    return [result(area, check, 'fail', 'the test Job did not finish within {0} s'.format(timeout),
                   'check that the cluster can run its pod (kubectl get events -n <namespace>); raise '
                   'verify_job_timeout for slow first pulls', runbook)]


def verify_probe(pod, timeout, check, *, fix='', runbook='network-policy'):
    """Verdict of the NetworkPolicy probe pod: it must fail to connect (phase Failed)."""
    status = (pod or {}).get('status') or {}
    phase = status.get('phase')
    exits = [((c.get('state') or {}).get('terminated') or {}).get('exitCode')
             for c in status.get('containerStatuses') or []]
    if phase == 'Failed' and exits and all(isinstance(e, int) and e != 0 for e in exits):
        return [result('network-policy', check, 'pass', 'the connection was refused or dropped, as the policy says')]
    if phase == 'Failed':
        # ended without running its command (deadline during an image pull, eviction): no verdict on the policy
        return [result('network-policy', check, 'fail', 'the probe pod ended without running ({0})'.format(
            status.get('reason') or status.get('message') or 'no container exit code'),
            'kubectl get events in the probe namespace; verify_test_image must be pullable', runbook)]
    if phase == 'Succeeded':
        return [result('network-policy', check, 'fail', 'a pod in another namespace connected',
                       fix or 'check media_stack_network_policy is true and that the CNI enforces policies (k3s\'s '
                       'embedded kube-router: no --disable-network-policy)', runbook)]
    return [result('network-policy', check, 'fail',
                   'the probe pod did not finish within {0} s (phase {1})'.format(timeout, phase or 'unknown'),
                   'kubectl get events in the probe namespace', runbook)]


def verify_finished(status):
    """True once a Job has succeeded or failed, or a Pod has ended."""
    status = status or {}
    return bool(status.get('succeeded') or status.get('failed') or status.get('phase') in ('Succeeded', 'Failed'))


def verify_outcome(obj, kind, area, check, timeout, *, log='', pass_detail='', fix='', runbook=''):
    """The verdict of the watched test object: a Job (verify_job) or the probe Pod (verify_probe)."""
    if kind == 'Pod':
        return verify_probe(obj, timeout, check, fix=fix, runbook=runbook or 'network-policy')
    return verify_job(area, check, obj, timeout, log=log, pass_detail=pass_detail, fix=fix, runbook=runbook)


def verify_claim_volumes(volume_names, longhorn_namespace):
    """[api_version, kind, namespace, name] of what a deleted test claim leaves behind with reclaim policy Retain:
    its PersistentVolume and the Longhorn Volume of the same name."""
    items = []
    for name in volume_names or []:
        items.append(['v1', 'PersistentVolume', '', name])
        items.append(['longhorn.io/v1beta2', 'Volume', longhorn_namespace, name])
    return items


# --- report ------------------------------------------------------------------------------------------------------

def verify_summary(results):
    counts = dict((s, 0) for s in STATUSES)
    for item in results or []:
        counts[item['status']] += 1
    return counts


def verify_report(results, generated_at='', cluster=''):
    """The JSON report: summary counts, every result, and the what-to-do list."""
    return {'generated_at': generated_at, 'cluster': cluster, 'summary': verify_summary(results),
            'failed': any(r['status'] == 'fail' for r in results or []),
            'results': list(results or []), 'what_to_do': verify_what_to_do(results)}


def verify_table(results, width=60):
    """The console table, one line per check."""
    rows = [('AREA', 'CHECK', 'STATUS', 'DETAIL')]
    for item in results or []:
        if item['status'] == 'skipped':
            rows.append((item['area'], item['check'], 'skipped: ' + item['detail'], ''))
            continue
        detail = item['detail'] if len(item['detail']) <= width else item['detail'][:width - 3] + '...'
        rows.append((item['area'], item['check'], item['status'], detail))
    widths = [max(len(str(r[i])) for r in rows) for i in range(2)] + [len('STATUS')]
    lines = ['{0}  {1}  {2}  {3}'.format(r[0].ljust(widths[0]), r[1].ljust(widths[1]), r[2].ljust(widths[2]),
                                         r[3]).rstrip() for r in rows]
    counts = verify_summary(results)
    lines.append('{pass} passed, {fail} failed, {skipped} skipped'.format(**counts))
    return lines


def verify_what_to_do(results):
    """One line per failure: what failed, what to do, and the runbook section."""
    return ['{0} / {1}: {2}. What to do: {3} (see {4}#{5})'.format(
        r['area'], r['check'], r['detail'], r['fix'], RUNBOOK_DOC, r['runbook'])
        for r in results or [] if r['status'] == 'fail']


class FilterModule(object):
    def filters(self):
        return {
            'verify_result': verify_result,
            'verify_skipped': verify_skipped,
            'verify_cloud_mount_result': verify_cloud_mount_result,
            'verify_cloud_mounts': verify_cloud_mounts,
            'verify_skip_reasons': verify_skip_reasons,
            'verify_k3s': verify_k3s,
            'verify_storage': verify_storage,
            'verify_gpu': verify_gpu,
            'verify_plex_exec': verify_plex_exec,
            'verify_media_wiring': verify_media_wiring,
            'verify_k3s_nodes': verify_k3s_nodes,
            'verify_etcd': verify_etcd,
            'verify_vip': verify_vip,
            'verify_failover': verify_failover,
            'verify_drill_plan': verify_drill_plan,
            'verify_storage_classes': verify_storage_classes,
            'verify_longhorn_nodes': verify_longhorn_nodes,
            'verify_backup_target': verify_backup_target,
            'verify_backups': verify_backups,
            'verify_gpu_nodes': verify_gpu_nodes,
            'verify_plex_pod': verify_plex_pod,
            'verify_plex_device': verify_plex_device,
            'verify_app_health': verify_app_health,
            'verify_probes': verify_probes,
            'verify_enabled_apps': verify_enabled_apps,
            'verify_app_endpoints': verify_app_endpoints,
            'verify_wiring': verify_wiring,
            'verify_wiring_items': verify_wiring_items,
            'verify_b64decode_values': verify_b64decode_values,
            'verify_job': verify_job,
            'verify_probe': verify_probe,
            'verify_finished': verify_finished,
            'verify_outcome': verify_outcome,
            'verify_claim_volumes': verify_claim_volumes,
            'verify_summary': verify_summary,
            'verify_report': verify_report,
            'verify_table': verify_table,
            'verify_what_to_do': verify_what_to_do,
        }
