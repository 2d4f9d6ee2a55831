# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The input rules of every role, once, in Python.

Called by the roles' own preflight (``homelab.mediacluster.role_problems``: the role run alone, e.g. --tags plex)
and by playbooks/00_preflight.yml for the whole inventory (``homelab.mediacluster.inventory_problems``). Nothing
here contacts a host: the rules read the variables the inventory gives (merged over the role defaults) and the
controller's own files (zoneinfo, airgap files).

Every rule reports one line per problem: where (host, group or file and variable), what is wrong, how to fix it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import functools
import hashlib
import ipaddress
import os
import re
import zoneinfo

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.homelab.mediacluster.plugins.module_utils import cloud_mounts
from ansible_collections.homelab.mediacluster.plugins.module_utils.cron import cron_expression
from ansible_collections.homelab.mediacluster.plugins.module_utils.k3s_tokens import split_token

# an XML attribute name as Plex's Preferences.xml uses them
XML_NAME = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')
KNOWN_GROUPS = ('all', 'ungrouped', 'controller', 'proxmox_hosts', 'k3s_cluster', 'k3s_servers', 'k3s_agents',
                'storage_nodes', 'gpu_nodes', 'nas')
EXCLUSIVE_GROUPS = (('k3s_servers', 'k3s_agents'),)

DNS_LABEL = re.compile(r'^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$')
DNS_NAME = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')
QUANTITY = re.compile(r'^[0-9]+(\.[0-9]+)?([KMGTPE]i?|k)?$')
PINNED_IMAGE = re.compile(r'^[^:@]+(:[0-9A-Za-z][^:]*|@sha256:[0-9a-f]{64})$')
CLAIM_TOKEN = re.compile(r'^claim-[A-Za-z0-9_-]{10,}$')
K3S_VERSION = re.compile(r'^v1\.(2[89]|3[0-5])\.[0-9]+\+k3s[0-9]+$')
ZONEINFO_DIRS = ('/usr/share/zoneinfo', '/usr/lib/zoneinfo', '/usr/share/lib/zoneinfo')
# what a role's variables default to when the default is a template (computed here from the inventory instead)
# roles/media_stack/vars/main.yml _media_stack_api_key_apps (a unit test keeps them in step)
MEDIA_STACK_API_KEY_APPS = ('prowlarr', 'sonarr', 'radarr', 'sabnzbd', 'bazarr')
# roles/media_stack/vars/main.yml _media_stack_catalog (the apps a cloud remote may name; a test keeps them in step)
MEDIA_STACK_APPS = ('prowlarr', 'sonarr', 'radarr', 'qbittorrent', 'jellyfin', 'bazarr', 'sabnzbd', 'seerr')
LONGHORN_RETAINING_TASKS = ('snapshot', 'backup', 'snapshot-force-create', 'backup-force-create')
LONGHORN_BACKUP_TASKS = ('backup', 'backup-force-create')


class Report(object):
    """Problems as 'where: what; fix' lines. Identical problems at several places collapse into one line."""

    def __init__(self):
        self._items = {}

    def add(self, where, what, fix=''):
        key = (what, fix)
        places = self._items.setdefault(key, [])
        for place in ([where] if isinstance(where, str) else list(where)):
            if place and place not in places:
                places.append(place)

    def extend(self, lines):
        for line in lines:
            self.add('', line)

    def lines(self):
        out = []
        for (what, fix), places in self._items.items():
            where = ', '.join(places)
            text = '{0}: {1}'.format(where, what) if where else what
            out.append('{0}; {1}'.format(text, fix) if fix else text)
        return out

    def __len__(self):
        return len(self._items)


def close_to(name, candidates):
    found = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.75)
    swapped = [c for c in found if sorted(c) == sorted(name)]  # two letters swapped beats one letter changed
    return (swapped or found or [None])[0]


def is_template(value):
    return isinstance(value, str) and ('{{' in value or '{%' in value)


def parse_ip(value):
    try:
        return ipaddress.ip_address(str(value))
    except ValueError:
        return None


def looks_like_ip(value):
    """An address written as an IP literal (digits and dots only, or with ':'), valid or not."""
    text = str(value)
    return bool(re.match(r'^[0-9.]+$', text)) or (':' in text and bool(re.match(r'^[0-9a-fA-F:.]+$', text)))


def timezone_exists(name):
    if not isinstance(name, str) or not name or name.startswith('/') or '..' in name:
        return False
    for base in ZONEINFO_DIRS:
        if os.path.isfile(os.path.join(base, name)):
            return True
    try:
        zoneinfo.ZoneInfo(name)
        return True
    except Exception:  # noqa: BLE001 - any failure means the name is not a zone
        return False


@functools.lru_cache(maxsize=16)
def _sha256_cached(path, size, mtime):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def _sha256(path):
    stat = os.stat(path)
    return _sha256_cached(path, stat.st_size, stat.st_mtime)


def cron_ok(expr):
    return cron_expression(expr)


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _where(v, name):
    return v.get('__where__', {}).get(name) or name


# ---------------------------------------------------------------------------------------------------------------
# Role rules. Each takes ``v`` (the role's variables: defaults merged with what the inventory gives; the key
# '__where__' maps a variable to the file defining it) and ``ctx`` (groups, hostvars, network) and fills a Report.
# ---------------------------------------------------------------------------------------------------------------

def rules_common(v, ctx, report, host=''):
    size = str(v.get('common_journald_max_use', '200M'))
    if not re.match(r'^[0-9]+[KMGT]?$', size):
        report.add(_where(v, 'common_journald_max_use'), 'common_journald_max_use={0} is not a size'.format(size),
                   'use a number with K, M, G or T, e.g. 200M')
    _timezone(v, 'common_timezone', report)


def _timezone(v, name, report, allow_empty=False):
    zone = v.get(name)
    if zone in (None, '') and allow_empty:
        return
    if not timezone_exists(zone):
        report.add(_where(v, name), '{0}={1} is not a time zone of the tz database'.format(name, zone),
                   'use a name such as Europe/Berlin or America/Chicago (ls /usr/share/zoneinfo)')


def rules_node_prep(v, ctx, report, host=''):
    flavour = v.get('node_prep_flavour', '')
    if flavour not in ('', 'vm', 'lxc', 'pi', None):
        report.add(host or _where(v, 'node_prep_flavour'),
                   'node_flavour/node_prep_flavour={0} is not a flavour'.format(flavour),
                   'use vm, lxc or pi, or leave it empty to detect it')


def rules_k3s_common(v, ctx, report, host=''):
    mode = v.get('k3s_common_install_mode', 'download')
    if not str(v.get('k3s_common_vip') or ''):
        report.add(_where(v, 'k3s_common_vip'), 'k3s_common_vip is empty',
                   'set it to a free address in the servers\' subnet for kube-vip (group_vars/all/cluster.yml)')
    version = str(v.get('k3s_common_version', ''))
    if not K3S_VERSION.match(version):
        report.add(_where(v, 'k3s_common_version'),
                   'k3s_common_version={0} is not a supported k3s release (v1.28 to v1.35, written like '
                   'v1.33.5+k3s1)'.format(version), 'pin one of the releases listed on the k3s release page')
    if mode == 'airgap':
        binary = str(v.get('k3s_common_airgap_binary') or '')
        digest = str(v.get('k3s_common_airgap_binary_sha256') or '')
        if not binary:
            report.add(_where(v, 'k3s_common_airgap_binary'), 'k3s_common_install_mode=airgap needs '
                       'k3s_common_airgap_binary', 'set it to the k3s binary\'s path on the controller')
        if not re.match(r'^[0-9a-fA-F]{64}$', digest):
            report.add(_where(v, 'k3s_common_airgap_binary_sha256'),
                       'k3s_common_airgap_binary_sha256={0!r} is not 64 hex digits'.format(digest),
                       'copy it from the release\'s sha256sum-<arch>.txt')
        missing = [p for p in [binary] + _as_list(v.get('k3s_common_airgap_images')) if p and not os.path.exists(p)]
        if missing:
            report.add(_where(v, 'k3s_common_airgap_images'),
                       'airgap file(s) missing on the controller: {0}'.format(', '.join(missing)),
                       'copy them there or fix k3s_common_airgap_binary / k3s_common_airgap_images')
        elif binary and re.match(r'^[0-9a-fA-F]{64}$', digest) and os.path.isfile(binary):
            actual = _sha256(binary)
            if actual != digest.lower():
                report.add(_where(v, 'k3s_common_airgap_binary_sha256'), 'the sha256 of {0} is {1}, not '
                           'k3s_common_airgap_binary_sha256={2}'.format(binary, actual, digest),
                           'the file is not the release you pinned: download it again and compare with '
                           'sha256sum-<arch>.txt')
    server_secret = split_token(v.get('k3s_common_token'))[1]
    if server_secret and split_token(v.get('k3s_common_agent_token'))[1] == server_secret:
        report.add(_where(v, 'k3s_common_agent_token'),
                   'k3s_common_agent_token is the same secret as k3s_common_token: agents would then hold the server '
                   'secret, which is full administrator access to the cluster',
                   'give the agents their own secret, or leave k3s_common_agent_token empty to have one generated')
    for name in ('k3s_common_gpu_taint',):
        taint = v.get(name)
        if taint and not re.match(r'^[A-Za-z0-9./_-]+(=[A-Za-z0-9._-]*)?:(NoSchedule|PreferNoSchedule|NoExecute)$',
                                  str(taint)):
            report.add(_where(v, name), '{0}={1} is not a taint'.format(name, taint),
                       'write it key=value:Effect, e.g. gpu=true:NoSchedule')


def rules_k8s_delivery(v, ctx, report, host=''):
    app = v.get('k8s_delivery_app')
    if app is not None and not DNS_LABEL.match(str(app)):
        report.add(_where(v, 'k8s_delivery_app'), 'k8s_delivery_app={0} is not a lower-case DNS label'.format(app),
                   'use letters, digits and -')
    mode = v.get('k8s_delivery_mode', 'apply')
    if mode not in ('apply', 'export'):
        report.add(_where(v, 'k8s_delivery_mode'), 'k8s_delivery_mode={0} is not apply or export'.format(mode),
                   'set k8s_delivery_mode: apply (to the cluster) or export (a kustomize tree for GitOps)')
    if mode == 'export':
        if not str(v.get('k8s_delivery_export_dir') or '').startswith('/'):
            report.add(_where(v, 'k8s_delivery_export_dir'), 'k8s_delivery_mode=export needs k8s_delivery_export_dir '
                       'as an absolute path (now {0!r})'.format(v.get('k8s_delivery_export_dir', '')),
                       'set it to a directory on the controller')
        if not str(v.get('k8s_delivery_kubernetes_version') or ''):
            report.add(_where(v, 'k8s_delivery_kubernetes_version'), 'k8s_delivery_mode=export has no cluster to ask '
                       'its version', 'set k8s_delivery_kubernetes_version to the version your GitOps cluster runs, '
                       'e.g. "1.33"')


def rules_longhorn(v, ctx, report, host=''):
    groups = ctx.get('groups', {})
    hostvars = ctx.get('hostvars', {})
    storage = _as_list(v.get('longhorn_storage_nodes', groups.get('storage_nodes', [])))
    replicas = v.get('longhorn_replica_count', 2)
    try:
        replicas = int(replicas)
    except (TypeError, ValueError):
        replicas = None  # the argument spec reports the type
    if replicas is not None and (replicas < 1 or replicas > max(len(storage), 0) or not storage):
        report.add(_where(v, 'longhorn_replica_count'),
                   'longhorn_replica_count={0} needs at least that many storage nodes, and there are {1} ({2})'.format(
                       replicas, len(storage), ', '.join(storage) or 'none'),
                   'add nodes to the storage_nodes group or lower longhorn_replica_count (Longhorn never places two '
                   'replicas of a volume on one node)')
    nodes = v.get('longhorn_nodes')
    lxc = [h for h in dict.fromkeys(storage + (_as_list(nodes) if isinstance(nodes, list) else []))
           if (hostvars.get(h) or {}).get('node_flavour') == 'lxc']
    if lxc:
        report.add(lxc, 'node_flavour lxc cannot run Longhorn (no iSCSI, no block devices in a container)',
                   'remove it from storage_nodes and longhorn_nodes')
    target = str(v.get('longhorn_backup_target') or '')
    if target and not is_template(target) and not (re.match(r'^nfs://[^/:]+:/\S+$', target) or
                                                   re.match(r'^s3://[^@/]+@[^/]+/\S*$', target)):
        report.add(_where(v, 'longhorn_backup_target'),
                   'longhorn_backup_target={0} is not a Longhorn backup target'.format(target),
                   'use nfs://<server>:/<export path> (e.g. nfs://192.168.1.29:/mnt/user/longhorn_backup) or '
                   's3://<bucket>@<region>/<path>')
    if target.startswith('s3://') and not v.get('longhorn_backup_target_credential_secret'):
        report.add(_where(v, 'longhorn_backup_target_credential_secret'),
                   'an s3:// longhorn_backup_target needs longhorn_backup_target_credential_secret',
                   'name the Secret holding the S3 credentials')
    jobs = v.get('longhorn_recurring_jobs') or []
    names = []
    for job in jobs if isinstance(jobs, list) else []:
        if not isinstance(job, dict):
            report.add(_where(v, 'longhorn_recurring_jobs'), 'a RecurringJob entry is not a mapping ({0!r})'.format(
                job), 'write each job as {name: ..., task: ..., cron: ..., retain: ...}')
            continue
        name = job.get('name', '(no name)')
        names.append(name)
        place = '{0} job {1}'.format(_where(v, 'longhorn_recurring_jobs'), name)
        if not re.match(r'^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$', str(name)):
            report.add(place, 'the RecurringJob name is not a lower-case name of at most 40 characters',
                       'rename it (letters, digits, -)')
        if not cron_ok(job.get('cron')):
            report.add(place, 'cron={0!r} is not a valid five-field cron schedule'.format(job.get('cron')),
                       'write it like "0 3 * * *"')
        task = job.get('task')
        if not task:
            report.add(place, 'the RecurringJob has no task', 'set task: backup, snapshot, snapshot-cleanup, ...')
        retain = job.get('retain')
        if task in LONGHORN_RETAINING_TASKS and not (isinstance(retain, int) and not isinstance(retain, bool)
                                                     and retain >= 1):
            report.add(place, 'retain={0!r} must be a whole number >= 1 for a {1} job'.format(retain, task),
                       'set retain: 7 (how many to keep)')
        if task in LONGHORN_BACKUP_TASKS and not target:
            report.add(place, 'a backup job needs longhorn_backup_target', 'set longhorn_backup_target (nfs:// or '
                       's3://) or drop the backup job')
        if not isinstance(job.get('groups', ['default']), list):
            report.add(place, 'groups must be a list', 'write groups: [default]')
    dupes = sorted(set(n for n in names if names.count(n) > 1))
    if dupes:
        report.add(_where(v, 'longhorn_recurring_jobs'), 'RecurringJob names repeat: {0}'.format(', '.join(dupes)),
                   'give each job its own name')
    expose = v.get('longhorn_ui_expose', 'none')
    if expose in ('ingress', 'httproute') and not DNS_NAME.match(str(v.get('longhorn_ui_host') or '')):
        report.add(_where(v, 'longhorn_ui_host'), 'longhorn_ui_host={0!r} is not a DNS name'.format(
            v.get('longhorn_ui_host')), 'set it to the UI\'s host name, e.g. longhorn.homelab')
    if expose == 'httproute' and not v.get('longhorn_ui_gateway_parent_refs'):
        report.add(_where(v, 'longhorn_ui_gateway_parent_refs'), 'longhorn_ui_expose=httproute has no Gateway',
                   'set longhorn_ui_gateway_parent_refs: [{name: homelab, namespace: gateway}]')
    _ui_auth(v, report)
    _timezone(v, 'longhorn_timezone', report, allow_empty=True)


def _ui_auth(v, report):
    """Issue 22: the Longhorn UI can delete volumes, so a published UI always has authentication in front."""
    expose = v.get('longhorn_ui_expose', 'none')
    auth = v.get('longhorn_ui_auth', 'basic')
    if expose not in ('ingress', 'httproute'):
        return
    if auth not in ('basic', 'forward'):
        report.add(_where(v, 'longhorn_ui_auth'),
                   'longhorn_ui_expose={0} publishes the Longhorn UI (which can delete volumes) with no '
                   'authentication in front of it'.format(expose),
                   'set longhorn_ui_auth: basic with longhorn_ui_auth_username and longhorn_ui_auth_password '
                   '(vaulted), or forward with longhorn_ui_forward_auth_address (Authelia, Authentik), or '
                   'longhorn_ui_expose: none (kubectl port-forward)')
    elif auth == 'basic' and not v.get('longhorn_ui_auth_htpasswd') and not (
            v.get('longhorn_ui_auth_username') and v.get('longhorn_ui_auth_password')):
        report.add(_where(v, 'longhorn_ui_auth'),
                   'longhorn_ui_auth=basic has no credentials: the Longhorn UI would be published with no login',
                   'set longhorn_ui_auth_username and longhorn_ui_auth_password in the vault (or ready htpasswd '
                   'lines in longhorn_ui_auth_htpasswd)')
    elif auth == 'forward' and not re.match(r'^https?://\S+$', str(v.get('longhorn_ui_forward_auth_address') or '')):
        report.add(_where(v, 'longhorn_ui_forward_auth_address'),
                   'longhorn_ui_auth=forward needs the URL of the forward-auth endpoint',
                   'set longhorn_ui_forward_auth_address, e.g. http://authelia.auth.svc.cluster.local/api/verify?'
                   'rd=https://auth.home.arpa/')


def rules_cert_manager(v, ctx, report, host=''):
    issuer = v.get('cert_manager_issuer', 'homelab_ca')
    if issuer not in ('homelab_ca', 'acme_dns01'):
        report.add(_where(v, 'cert_manager_issuer'), 'cert_manager_issuer={0!r} is not an issuer kind'.format(issuer),
                   'use homelab_ca (a CA the collection creates) or acme_dns01 (Let\'s Encrypt by DNS-01)')
    name = str(v.get('cert_manager_cluster_issuer', 'homelab'))
    if not DNS_NAME.match(name):
        report.add(_where(v, 'cert_manager_cluster_issuer'), 'cert_manager_cluster_issuer={0!r} is not a '
                   'Kubernetes name'.format(name), 'use lower-case letters, digits and -, e.g. homelab')
    for var in ('cert_manager_ca_duration', 'cert_manager_certificate_duration',
                'cert_manager_certificate_renew_before'):
        value = str(v.get(var, '2160h'))
        if not is_template(value) and not re.match(r'^([0-9]+(\.[0-9]+)?(h|m|s))+$', value):
            report.add(_where(v, var), '{0}={1!r} is not a duration'.format(var, value),
                       'write it in hours, as cert-manager does, e.g. 2160h')
    if issuer == 'acme_dns01':
        if not re.match(r'^[^@\s]+@[^@\s]+\.[^@\s]+$', str(v.get('cert_manager_acme_email') or '')):
            report.add(_where(v, 'cert_manager_acme_email'), 'cert_manager_issuer=acme_dns01 needs an account e-mail',
                       'set cert_manager_acme_email (the ACME CA sends expiry warnings there)')
        if not v.get('cert_manager_acme_solver') and not v.get('cert_manager_acme_dns01_api_token'):
            report.add(_where(v, 'cert_manager_acme_dns01_api_token'), 'cert_manager_issuer=acme_dns01 has no DNS '
                       'API token', 'put the DNS provider\'s API token in the vault as '
                       'cert_manager_acme_dns01_api_token (or give a whole solver in cert_manager_acme_solver)')
        provider = v.get('cert_manager_acme_dns01_provider', 'cloudflare')
        if not v.get('cert_manager_acme_solver') and provider != 'cloudflare':
            report.add(_where(v, 'cert_manager_acme_dns01_provider'), 'only cloudflare is built in',
                       'give the solver block for your provider in cert_manager_acme_solver')


def rules_nas_nfs(v, ctx, report, host=''):
    where = host or 'nas'
    clients = _as_list(v.get('nas_nfs_clients'))
    if not clients:
        report.add('{0} nas_nfs_clients'.format(where), 'nas_nfs_clients is empty',
                   'list the hosts or subnets that may mount the NAS, e.g. nas_nfs_clients: [192.168.1.0/24]')
    if '*' in clients and not v.get('nas_nfs_allow_world'):
        report.add('{0} nas_nfs_clients'.format(where), 'nas_nfs_clients contains "*", which exports the media and '
                   'the backups to every network', 'use the cluster subnet, or set nas_nfs_allow_world: true on an '
                   'isolated network')
    root = str(v.get('nas_nfs_root', '/srv/nas'))
    if not root.startswith('/'):
        report.add('{0} nas_nfs_root'.format(where), 'nas_nfs_root={0} is not an absolute path'.format(root),
                   'use a path such as /srv/nas')
    norm_root = os.path.normpath(root)
    paths = {}
    for name in ('nas_nfs_data_dir', 'nas_nfs_backup_dir'):
        path = str(v.get(name, ''))
        norm = os.path.normpath(path) if path else ''
        paths[name] = norm
        if not path.startswith('/') or norm == norm_root or not norm.startswith(norm_root.rstrip('/') + '/'):
            report.add('{0} {1}'.format(where, name), '{0}={1} must be an absolute directory below nas_nfs_root={2}'
                       .format(name, path, root), 'use e.g. {0}/data'.format(norm_root))
    data, backup = paths['nas_nfs_data_dir'], paths['nas_nfs_backup_dir']
    if data and backup and ((data + '/').startswith(backup + '/') or (backup + '/').startswith(data + '/')):
        report.add('{0} nas_nfs_data_dir'.format(where), 'nas_nfs_data_dir={0} and nas_nfs_backup_dir={1} overlap'
                   .format(data, backup), 'give them separate directories (the backup export is no_root_squash)')
    mode = str(v.get('nas_nfs_dir_mode', '2775'))
    if not re.match(r'^[0-7]?[0-7]{3}$', mode) or mode[-2] not in '67':
        report.add('{0} nas_nfs_dir_mode'.format(where), 'nas_nfs_dir_mode={0} is not an octal mode with a group '
                   'digit of 6 or 7'.format(mode), 'use e.g. "2775" (the apps write into the same directories)')


def _later(v, *names):
    """True when one of the variables is a template the preflight cannot resolve yet (wired to a fact a later play
    publishes, e.g. nas_nfs_facts): the role checks it when it runs."""
    return any(is_template(v.get(name)) for name in names)


def rules_media_stack(v, ctx, report, host=''):
    if not _later(v, 'media_stack_nfs_server', 'media_stack_nfs_path') and (
            not v.get('media_stack_nfs_server') or not str(v.get('media_stack_nfs_path') or '').startswith('/')):
        report.add(_where(v, 'media_stack_nfs_path'), 'media_stack_nfs_server={0!r} / media_stack_nfs_path={1!r} do '
                   'not name an NFS export'.format(v.get('media_stack_nfs_server', ''), v.get('media_stack_nfs_path',
                                                                                              '')),
                   'set both to the export that holds /data (absolute path), e.g. mediacluster_nas_server and '
                   '/mnt/user/data')
    for name in ('media_stack_namespace', 'media_stack_data_claim'):
        if name in v and not DNS_LABEL.match(str(v[name])):
            report.add(_where(v, name), '{0}={1} is not a DNS label'.format(name, v[name]),
                       'use lower-case letters, digits and -')
    for name in ('media_stack_puid', 'media_stack_pgid'):
        value = v.get(name, 1000)
        if isinstance(value, int) and not isinstance(value, bool) and value <= 0:
            report.add(_where(v, name), '{0}={1} is root or negative'.format(name, value),
                       'use the non-root owner of the media files, e.g. 1000')
    if v.get('media_stack_route', 'ingress') == 'httproute':
        refs = v.get('media_stack_gateway_parent_refs') or []
        if not refs or any(not isinstance(r, dict) or 'name' not in r for r in refs):
            report.add(_where(v, 'media_stack_gateway_parent_refs'), 'media_stack_route=httproute needs a Gateway '
                       'with a name', 'set media_stack_gateway_parent_refs: [{name: homelab, namespace: gateway}]')
    domain = v.get('media_stack_domain')
    if domain and not DNS_NAME.match(str(domain)):
        report.add(_where(v, 'media_stack_domain'), 'media_stack_domain={0} is not a DNS name'.format(domain),
                   'use lower case, e.g. homelab or home.example.org')
    for name in sorted(v):
        if name.startswith('media_stack_') and name.endswith('_image') and isinstance(v[name], str) \
                and not is_template(v[name]):
            _pinned(v, name, report)
        if name.startswith('media_stack_') and name.endswith('_config_size') and \
                not re.match(r'^[0-9]+(Mi|Gi|Ti)$', str(v[name])):
            report.add(_where(v, name), '{0}={1} is not a size'.format(name, v[name]), 'use e.g. 2Gi')
    capacity = str(v.get('media_stack_nfs_capacity', '1Ti'))
    if not re.match(r'^[0-9]+(Ki|Mi|Gi|Ti|Pi)$', capacity):
        report.add(_where(v, 'media_stack_nfs_capacity'), 'media_stack_nfs_capacity={0} is not a size'.format(
            capacity), 'use e.g. 2Ti')
    for name, allowed in (('media_stack_route', ('ingress', 'httproute', 'none')),
                          ('media_stack_api_access', ('node', 'url'))):
        if name in v and v[name] not in allowed:
            report.add(_where(v, name), '{0}={1} is not one of {2}'.format(name, v[name], ', '.join(allowed)),
                       'pick one of them')
    for name in sorted(v):
        if name.startswith('media_stack_') and name.endswith('_resources') and not (
                isinstance(v[name], dict) and v[name].get('limits')):
            report.add(_where(v, name), '{0} has no limits'.format(name),
                       'give requests and limits, e.g. {requests: {cpu: 100m, memory: 256Mi}, limits: {memory: 1Gi}}')
    keys = v.get('media_stack_api_keys') or {}
    for app, key in (keys.items() if isinstance(keys, dict) else []):
        if app not in MEDIA_STACK_API_KEY_APPS:
            report.add(_where(v, 'media_stack_api_keys'), 'media_stack_api_keys.{0}: the collection sets no API key '
                       'for {0}'.format(app), 'give keys for {0} only'.format(', '.join(MEDIA_STACK_API_KEY_APPS)))
        elif not re.match(r'^[0-9a-f]{32}$', str(key)):
            report.add(_where(v, 'media_stack_api_keys'), 'media_stack_api_keys.{0} is not 32 lower-case hex '
                       'characters'.format(app), 'make one with openssl rand -hex 16, or leave it out')
    user = v.get('media_stack_qbittorrent_username', 'admin')
    if not is_template(user) and (not isinstance(user, str) or not user or re.search(r'[\x00-\x1f\x7f]', user)):
        report.add(_where(v, 'media_stack_qbittorrent_username'), 'media_stack_qbittorrent_username={0!r} is empty, '
                   'not a string or holds control characters'.format(user),
                   'use a non-empty name without control characters (any other character, including , ; \\ " '
                   'spaces and non-ASCII, is written escaped into qBittorrent.conf)')
    _media_stack_export_inputs(v, report)
    _media_stack_login_inputs(v, report)
    _media_stack_wiring_inputs(v, ctx, report)
    _timezone(v, 'media_stack_timezone', report)


def _media_stack_login_inputs(v, report):
    """SABnzbd and Bazarr get their own login with the *arr apps' user and password (issue 22): apply mode generates
    the password once and keeps it, export mode writes the login from the init containers and needs it given."""
    apps = [app for app in ('bazarr', 'sabnzbd') if truthy(v.get('media_stack_{0}_enabled'.format(app)))]
    if not apps or v.get('media_stack_arr_auth_method', 'forms') == 'none':
        return
    user = v.get('media_stack_arr_username', 'admin')
    if not is_template(user) and (not isinstance(user, str) or not user.strip()):
        report.add(_where(v, 'media_stack_arr_username'), 'media_stack_arr_username is empty, and SABnzbd and Bazarr '
                   '(enabled: {0}) take their login from it'.format(', '.join(apps)),
                   'give the user name of the admin UIs, e.g. admin')
    password = v.get('media_stack_arr_password', '')
    if v.get('k8s_delivery_mode', 'apply') == 'export' and not password and not _later(v, 'media_stack_arr_password'):
        report.add(_where(v, 'media_stack_arr_password'), 'SABnzbd and Bazarr (enabled: {0}) get their own login, and '
                   'k8s_delivery_mode=export keeps no state, so a generated password would change every run'.format(
                       ', '.join(apps)), 'give media_stack_arr_password, preferably from a vault')
    elif isinstance(password, str) and password and not is_template(password) and not password.strip('*'):
        report.add(_where(v, 'media_stack_arr_password'), 'media_stack_arr_password is made only of * characters, '
                   'which SABnzbd ignores as a password (its UI shows a stored one that way)',
                   'choose another password')
    if 'sabnzbd' not in apps:
        return
    # sabnzbd.ini is a configobj file: a # starts a comment, a comma makes a list, quotes are syntax; SABnzbd decodes
    # an encoded password byte by byte, so only ASCII survives
    if isinstance(user, str) and user.strip() and not is_template(user) and not re.match(r'^[A-Za-z0-9._@-]+$', user):
        report.add(_where(v, 'media_stack_arr_username'), 'media_stack_arr_username={0!r} cannot be written into '
                   "SABnzbd's sabnzbd.ini as it is".format(user), 'use letters, digits and . _ @ - only')
    if isinstance(password, str) and not is_template(password) and re.search(r'[^\x20-\x7e]', password):
        report.add(_where(v, 'media_stack_arr_password'), 'media_stack_arr_password holds characters other than '
                   'printable ASCII, which SABnzbd decodes wrongly', 'use printable ASCII characters only')


# the apps the wiring configures through their APIs (roles/media_stack/vars/main.yml _media_stack_wired_apps)
MEDIA_STACK_WIRED_APPS = ('prowlarr', 'sonarr', 'radarr', 'qbittorrent', 'sabnzbd', 'bazarr')


def _media_stack_wiring_inputs(v, ctx, report):
    """How the wiring reaches the apps, and the Jellyfin libraries its first run creates."""
    jellyfin = truthy(v.get('media_stack_jellyfin_enabled', True)) and \
        truthy(v.get('media_stack_jellyfin_setup', True))
    if truthy(v.get('media_stack_wire', True)):
        wired = [app for app in MEDIA_STACK_WIRED_APPS + (('jellyfin',) if jellyfin else ())
                 if truthy(v.get('media_stack_{0}_enabled'.format(app)))]
        access = v.get('media_stack_api_access', 'node')
        if access == 'node' and not v.get('media_stack_api_node') and not ctx.get('groups', {}).get('k3s_servers'):
            report.add(_where(v, 'media_stack_api_node'), 'media_stack_api_access=node makes the wiring calls from a '
                       'k3s node, but there is no k3s_servers group and no media_stack_api_node',
                       'set media_stack_api_node, or media_stack_api_access: url with media_stack_api_urls, or '
                       'media_stack_wire: false to deploy without wiring')
        urls = v.get('media_stack_api_urls') or {}
        missing = [app for app in wired if app not in (urls if isinstance(urls, dict) else {})]
        if access == 'url' and missing and not _later(v, 'media_stack_api_urls'):
            report.add(_where(v, 'media_stack_api_urls'), 'media_stack_api_access=url has no URL for {0}'.format(
                ', '.join(missing)), 'give media_stack_api_urls for every wired app, e.g. {sonarr: '
                'https://sonarr.example}, or media_stack_wire: false')
    libraries = v.get('media_stack_jellyfin_libraries') or []
    if not jellyfin or not isinstance(libraries, list) or is_template(libraries):
        return
    names = [str((lib or {}).get('name', '')).lower() for lib in libraries if isinstance(lib, dict)]
    bad = [lib for lib in libraries if not isinstance(lib, dict) or not lib.get('name')
           or not isinstance(lib.get('paths'), list) or not lib.get('paths')
           or any(not re.match(r'^/data(/|$)', str(path)) for path in lib.get('paths'))]
    if bad or len(set(names)) != len(names):
        report.add(_where(v, 'media_stack_jellyfin_libraries'), 'media_stack_jellyfin_libraries: each library needs '
                   'a unique name (compared case-insensitively) and a list of paths under /data, the only media '
                   'volume Jellyfin mounts', 'e.g. {name: Movies, type: movies, paths: [/data/media/movies]}')
    if not str(v.get('media_stack_jellyfin_admin_username', 'admin') or ''):
        report.add(_where(v, 'media_stack_jellyfin_admin_username'), 'media_stack_jellyfin_admin_username is empty',
                   'give the Jellyfin admin a name, e.g. admin')
    _cloud_rules(v, 'media_stack', MEDIA_STACK_APPS, report)


_BINARY = {'': 2 ** 10, 'K': 2 ** 10, 'M': 2 ** 20, 'G': 2 ** 30, 'T': 2 ** 40, 'P': 2 ** 50}
_K8S = {'Ki': 2 ** 10, 'Mi': 2 ** 20, 'Gi': 2 ** 30, 'Ti': 2 ** 40, 'Pi': 2 ** 50, 'k': 10 ** 3, 'K': 10 ** 3,
        'M': 10 ** 6, 'G': 10 ** 9, 'T': 10 ** 12, 'P': 10 ** 15, '': 1}


def _rclone_bytes(size):
    """An rclone size (10G = 10 GiB; a bare number is KiB) in bytes; None for off or garbage."""
    match = re.match(r'^([0-9]+(?:\.[0-9]+)?)([KMGTP]?)$', str(size))
    return int(float(match.group(1)) * _BINARY[match.group(2)]) if match else None


def _quantity_bytes(size):
    match = re.match(r'^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|k|K|M|G|T|P|)$', str(size))
    return int(float(match.group(1)) * _K8S[match.group(2)]) if match else None


def _cloud_rules(v, prefix, apps, report):
    """Cloud libraries (module_utils/cloud_mounts.py): the remotes, the mount root, the rclone image and the cache
    size of <prefix>_cloud_*."""
    remotes = v.get(prefix + '_cloud_remotes') or []
    if not remotes or is_template(remotes):
        return
    if prefix == 'plex' and isinstance(remotes, list):
        # every Plex remote mounts into Plex; `apps` (e.g. when given media_stack_cloud_remotes) is ignored
        remotes = [dict(r, apps=['plex']) if isinstance(r, dict) else r for r in remotes]
    root = v.get(prefix + '_cloud_mount_root', '/cloud')
    for name, what, fix in cloud_mounts.remote_problems(remotes, root, list(apps), prefix):
        report.add(_where(v, name), what, fix)
    _pinned(dict(v, **{prefix + '_cloud_rclone_image': v.get(prefix + '_cloud_rclone_image', '')}),
            prefix + '_cloud_rclone_image', report)
    limit = _quantity_bytes(v.get(prefix + '_cloud_cache_size', '25Gi'))
    if limit is None:
        report.add(_where(v, prefix + '_cloud_cache_size'), '{0}_cloud_cache_size={1} is not a Kubernetes '
                   'quantity'.format(prefix, v.get(prefix + '_cloud_cache_size')), 'use e.g. 25Gi')
        return
    for app in apps:
        mine = cloud_mounts.remotes_for([r for r in remotes if isinstance(r, dict)], app)
        total = sum(_rclone_bytes(r['vfs_cache_max_size']) or 0 for r in mine)
        if mine and total >= limit:
            report.add(_where(v, prefix + '_cloud_cache_size'), 'the VFS caches of {0} ({1}) may grow to {2} GiB, '
                       'not below {3}_cloud_cache_size={4}: the kubelet evicts the pod when its cache emptyDir is '
                       'full'.format(app, ', '.join(r['name'] for r in mine), round(total / 2 ** 30, 1), prefix,
                                     v.get(prefix + '_cloud_cache_size', '25Gi')),
                       'raise {0}_cloud_cache_size above the sum (with room to spare) or lower the remotes\' '
                       'vfs_cache_max_size'.format(prefix))


def cloud_plan(v, prefix, namespace):
    """One line for the preflight's plan: what the cloud libraries turn on and what that costs in privileges."""
    remotes = [r for r in (v.get(prefix + '_cloud_remotes') or []) if isinstance(r, dict)]
    if not remotes or is_template(remotes):
        return '{0}: cloud libraries off'.format(prefix)
    mounts = '; '.join('{0} ({1}) into {2}'.format(r.get('name'), r.get('remote'),
                                                   'plex' if prefix == 'plex' else ', '.join(cloud_mounts.apps_of(r)))
                       for r in remotes)
    return ('{0}: cloud libraries ON: {1}. SECURITY: each of these pods gets one privileged rclone sidecar per '
            'remote (every host device, every capability: a compromised sidecar or rclone image is root on its node); '
            'namespace {2} enforces Pod Security "privileged" so the cluster admits them, and therefore no longer '
            'refuses privileged pods applied there by anyone else; the collection\'s checker still holds every other '
            'container it renders to "baseline" (label {3})'.format(prefix, mounts, namespace,
                                                                    cloud_mounts.COLLECTION_LEVEL_LABEL))


def truthy(value):
    """A boolean variable as Ansible's bool filter reads it (true/yes/on/1/y/t)."""
    return boolean(value, strict=False)


def _media_stack_export_inputs(v, report):
    """Export mode (GitOps) keeps no state between runs and has no cluster to read: what apply mode generates or
    reads from the cluster must be given."""
    if v.get('k8s_delivery_mode', 'apply') != 'export':
        return
    if v.get('media_stack_route', 'ingress') == 'httproute' and not v.get('k8s_delivery_crd_paths'):
        report.add(_where(v, 'k8s_delivery_crd_paths'), 'media_stack_route=httproute in k8s_delivery_mode=export has '
                   'no HTTPRoute CRD to validate the routes against (the collection does not ship it and there is no '
                   'cluster to read it from)', 'set k8s_delivery_crd_paths to the standard-install.yaml of the '
                   'Gateway API release your GitOps cluster runs')
    keys = v.get('media_stack_api_keys') or {}
    keys = keys if isinstance(keys, dict) else {}
    missing = [app for app in MEDIA_STACK_API_KEY_APPS if truthy(v.get('media_stack_{0}_enabled'.format(app)))
               and app not in keys]
    if missing and not _later(v, 'media_stack_api_keys'):
        report.add(_where(v, 'media_stack_api_keys'), 'k8s_delivery_mode=export keeps no state between runs, so '
                   'generated API keys would change every run ({0})'.format(', '.join(missing)),
                   'give media_stack_api_keys for {0} (32 hex characters each, e.g. openssl rand -hex 16), '
                   'preferably from a vault'.format(', '.join(missing)))
    needed = [('media_stack_qbittorrent_password', truthy(v.get('media_stack_qbittorrent_enabled', True))),
              ('media_stack_jellyfin_admin_password', truthy(v.get('media_stack_jellyfin_enabled', True))
               and truthy(v.get('media_stack_jellyfin_setup', True)))]
    for name, wanted in needed:
        if wanted and not v.get(name) and not _later(v, name):
            report.add(_where(v, name), 'k8s_delivery_mode=export keeps no state between runs, so a generated '
                       '{0} would change every run'.format(name), 'give {0}, preferably from a vault'.format(name))


def _pinned(v, name, report):
    image = str(v.get(name) or '')
    if not PINNED_IMAGE.match(image) or image.endswith(':latest'):
        report.add(_where(v, name), '{0}={1} is not pinned'.format(name, image),
                   'use a version tag or a digest (image:1.2.3 or image@sha256:...), never :latest')


def rules_plex(v, ctx, report, host=''):
    groups = ctx.get('groups', {})
    gpu_group = v.get('plex_gpu_group', 'gpu_nodes')
    if not groups.get(gpu_group):
        report.add(_where(v, 'plex_gpu_group'), 'No {0}={1} node: inventory group {2} is empty or missing'.format(
            v.get('plex_gpu_label_key', 'gpu'), v.get('plex_gpu_label_value', 'true'), gpu_group),
            'add the GPU node(s) to {0}, or point plex_gpu_group at the group that holds them'.format(gpu_group))
    if v.get('plex_gpu_mode', 'device_plugin') != 'none' and not re.match(
            r'^/dev/dri/(renderD(12[89]|1[3-9][0-9]|2[0-5][0-9])|card[0-9]+)$', str(v.get('plex_gpu_device_path'))):
        report.add(_where(v, 'plex_gpu_device_path'), 'plex_gpu_device_path={0} is not a device Plex can transcode '
                   'with (a DRI render or card node)'.format(v.get('plex_gpu_device_path')),
                   'use /dev/dri/renderD128 for the first GPU (ls -l /dev/dri on the GPU node lists them)')
    if not _later(v, 'plex_media_nfs_server', 'plex_media_nfs_path', 'plex_media_claim') and \
            not v.get('plex_media_claim') and not (v.get('plex_media_nfs_server') and
                                                   str(v.get('plex_media_nfs_path') or '').startswith('/')):
        report.add(_where(v, 'plex_media_nfs_path'), "Missing NAS export for Plex's media "
                   '(plex_media_nfs_server={0!r}, plex_media_nfs_path={1!r})'.format(v.get('plex_media_nfs_server', ''),
                                                                                     v.get('plex_media_nfs_path', '')),
                   'set plex_media_nfs_server and an absolute plex_media_nfs_path, or plex_media_claim')
    if v.get('plex_db_backup_enabled') and not _later(v, 'plex_db_backup_nfs_server', 'plex_db_backup_nfs_path') \
            and not (v.get('plex_db_backup_nfs_server') and
                     str(v.get('plex_db_backup_nfs_path') or '').startswith('/')):
        report.add(_where(v, 'plex_db_backup_nfs_path'), 'plex_db_backup_enabled=true needs the NAS export for the '
                   'copies', 'set plex_db_backup_nfs_server and an absolute plex_db_backup_nfs_path')
    domain = str(v.get('plex_domain') or '')
    if domain and not DNS_NAME.match(domain):
        report.add(_where(v, 'plex_domain'), 'plex_domain={0} is not a DNS name'.format(domain),
                   'use lower case, e.g. home.example.org (Plex is served at plex.<domain>)')
    token = v.get('plex_claim_token') or ''
    if token and not CLAIM_TOKEN.match(str(token)):
        report.add(_where(v, 'plex_claim_token'), 'plex_claim_token is not a claim token (it must start with claim-)',
                   'paste a fresh token from https://www.plex.tv/claim (valid 4 minutes), or leave it empty')
    for name in ('plex_config_size', 'plex_transcode_size'):
        if name in v and not QUANTITY.match(str(v[name])):
            report.add(_where(v, name), '{0}={1} is not a Kubernetes quantity'.format(name, v[name]),
                       'use e.g. 10Gi')
    job = v.get('plex_backup_recurring_job') or {}
    if job:
        if not DNS_LABEL.match(str(job.get('name', ''))):
            report.add(_where(v, 'plex_backup_recurring_job'), 'plex_backup_recurring_job.name={0!r} is not a DNS '
                       'label'.format(job.get('name', '')), 'name it like plex-config-nightly-backup')
        if not cron_ok(job.get('cron')) or not (isinstance(job.get('retain'), int) and job.get('retain') >= 1):
            report.add(_where(v, 'plex_backup_recurring_job'), 'plex_backup_recurring_job needs a five-field cron '
                       'and retain >= 1', 'e.g. {name: plex-config-nightly-backup, cron: "0 3 * * *", retain: 7}')
        if v.get('plex_backup_group', 'default') == 'default':
            report.add(_where(v, 'plex_backup_group'), 'plex_backup_recurring_job needs a plex_backup_group of its '
                       'own', 'set plex_backup_group: plex (the default group belongs to the longhorn role)')
    for name in ('plex_image', 'plex_gpu_device_plugin_image', 'plex_config_holder_image', 'plex_db_backup_image'):
        if name in v:
            _pinned(v, name, report)
    _timezone(v, 'plex_timezone', report)
    _plex_route(v, report)
    _plex_namespaces(v, report)
    _plex_config_storage(v, groups, report)
    names = [name for name in (v.get('plex_preferences') or {}) if not XML_NAME.match(str(name))]
    if names and isinstance(v.get('plex_preferences'), dict):
        report.add(_where(v, 'plex_preferences'), 'plex_preferences names {0} are not Preferences.xml attribute '
                   'names'.format(', '.join(sorted(map(str, names)))),
                   'use the names Plex writes, letters, digits and _ (e.g. TranscoderQuality)')
    if v.get('plex_cloud_remotes') and not is_template(v.get('plex_cloud_remotes')):
        if not v.get('plex_namespace_own'):
            report.add(_where(v, 'plex_cloud_remotes'), 'plex_cloud_remotes needs privileged rclone sidecars, which '
                       'the shared media namespace (Pod Security baseline) refuses', 'set plex_namespace_own: true and '
                       'a plex_namespace of its own (e.g. plex): only Plex then runs where "privileged" is enforced')
        root = str(v.get('plex_cloud_mount_root', '/cloud')).rstrip('/')
        if root == str(v.get('plex_media_mount_path', '/data')).rstrip('/'):
            report.add(_where(v, 'plex_cloud_mount_root'), 'plex_cloud_mount_root={0} is the media mount path'.format(
                root), 'use a directory of its own, e.g. /cloud')
        _cloud_rules(v, 'plex', ('plex',), report)


def _plex_config_storage(v, groups, report):
    """longhorn mode: the config claim is mounted by a holder pod on a storage node that is not a GPU node (an LXC
    GPU node cannot mount through Longhorn's CSI driver); a pinned share-manager export names all of it."""
    if v.get('plex_config_mode', 'longhorn') == 'longhorn':
        def nodes(group):  # Kubernetes node names: the k3s roles name nodes after the short inventory hostname
            return sorted({str(host).split('.', 1)[0] for host in groups.get(group) or []})
        gpu_group, storage_group = v.get('plex_gpu_group', 'gpu_nodes'), v.get('plex_storage_group', 'storage_nodes')
        gpu, storage = nodes(gpu_group), nodes(storage_group)
        if not [node for node in storage if node not in gpu]:
            report.add(_where(v, 'plex_storage_group'), 'plex_config_mode=longhorn needs Longhorn storage nodes that '
                       'are not GPU nodes for the config holder (it mounts the claim through Longhorn\'s CSI driver, '
                       'which an LXC GPU node cannot): group {0} has {1}, Plex\'s nodes ({2}) are {3}, which leaves '
                       'none'.format(storage_group, storage, gpu_group, gpu),
                       'fix the inventory groups, or use plex_config_mode=local')
    share = v.get('plex_config_share') or {}
    if share and not is_template(share) and not (
            isinstance(share, dict) and share.get('server') and str(share.get('path') or '').startswith('/')
            and share.get('volume')):
        report.add(_where(v, 'plex_config_share'), 'plex_config_share must have server (the share-manager Service '
                   'ClusterIP), path (/<volume>) and volume', 'e.g. {server: 10.43.17.201, path: /pvc-64ff..., '
                   'volume: pvc-64ff...}; or leave it empty to look it up in the cluster')


def _plex_route(v, report):
    route = v.get('plex_route', 'ingress')
    if route not in ('ingress', 'httproute'):
        report.add(_where(v, 'plex_route'), 'plex_route={0} is not ingress or httproute'.format(route),
                   'pick one of them')
    if route != 'httproute' or not v.get('plex_domain'):
        return
    refs = v.get('plex_gateway_parent_refs') or []
    if not refs or any(not isinstance(ref, dict) or 'name' not in ref for ref in refs):
        report.add(_where(v, 'plex_gateway_parent_refs'), 'plex_route=httproute attaches an HTTPRoute for '
                   'plex.<plex_domain> to the Gateway(s) in plex_gateway_parent_refs, and none has a name',
                   'give at least one parentRef with a name, e.g. plex_gateway_parent_refs: [{name: homelab, '
                   'namespace: gateway}]')
    if v.get('k8s_delivery_mode', 'apply') == 'export' and not v.get('k8s_delivery_crd_paths'):
        report.add(_where(v, 'k8s_delivery_crd_paths'), 'plex_route=httproute in k8s_delivery_mode=export has no '
                   'HTTPRoute CRD to validate the route against (the collection does not ship it and there is no '
                   'cluster to read it from)', 'set k8s_delivery_crd_paths to the standard-install.yaml of the '
                   'Gateway API release your GitOps cluster runs')


def _plex_namespaces(v, report):
    """Pod Security admission (docs/plex.md): a pod its namespace's enforce level forbids is never created, while
    its StatefulSet or DaemonSet is accepted; such combinations are refused before anything changes."""
    namespace = str(v.get('plex_namespace', 'media'))
    plugin = str(v.get('plex_gpu_plugin_namespace', 'intel-gpu-plugin'))
    media = str(v.get('media_stack_namespace', 'media'))
    if v.get('plex_gpu_mode', 'device_plugin') == 'device_plugin' and (
            not DNS_LABEL.match(plugin) or len(plugin) > 63 or
            plugin in (namespace, str(v.get('plex_longhorn_namespace', 'longhorn-system')), 'default', 'kube-system')):
        report.add(_where(v, 'plex_gpu_plugin_namespace'), 'plex_gpu_plugin_namespace={0} must be a DNS label naming '
                   'a namespace that holds the Intel GPU device plugin alone: the role labels it Pod Security '
                   'enforce privileged for the plugin\'s hostPath volumes, so it must not be plex_namespace ({1}), '
                   'the Longhorn namespace, default or kube-system'.format(plugin, namespace),
                   'keep the default intel-gpu-plugin')
    own = truthy(v.get('plex_namespace_own', False))
    if v.get('plex_gpu_mode', 'device_plugin') == 'privileged':
        access = 'plex_gpu_mode=privileged (a privileged container with a hostPath /dev/dri)'
    elif v.get('plex_config_mode', 'longhorn') == 'local':
        access = 'plex_config_mode=local (a hostPath /config)'
    else:
        access = ''
    if access and not own:
        report.add(_where(v, 'plex_namespace_own'), '{0} needs Pod Security "privileged", which the media stack '
                   'namespace {1} does not allow (it enforces baseline: the StatefulSet would be accepted and plex-0 '
                   'never created)'.format(access, namespace),
                   'give Plex a namespace of its own, e.g. plex_namespace: plex with plex_namespace_own: true, or '
                   'keep plex_gpu_mode=device_plugin and plex_config_mode=longhorn, which baseline admits')
    if own and namespace in (media, plugin):
        report.add(_where(v, 'plex_namespace'), 'plex_namespace_own=true needs a namespace Plex does not share, but '
                   'plex_namespace={0} is the {1}'.format(namespace, 'media stack\'s' if namespace == media else
                                                          'GPU plugin\'s'),
                   'set plex_namespace to a namespace of its own, e.g. plex')


def _lxc_gpu_device(v, report):
    """The GPU device both sides of the LXC setup use (the k3s_lxc_node role reads the proxmox_k3s_lxc variable)."""
    device = str(v.get('proxmox_k3s_lxc_gpu_device', '/dev/dri/renderD128'))
    if not re.match(r'^/dev/[A-Za-z0-9]', device):
        report.add(_where(v, 'proxmox_k3s_lxc_gpu_device'), 'proxmox_k3s_lxc_gpu_device={0} is not a path under '
                   '/dev/'.format(device), 'use e.g. /dev/dri/renderD128')


# Variables the k3s_lxc_node role took over when proxmox_k3s_lxc was split (issue 20): the old name is still obeyed
# (with a deprecation warning from the role), so the preflight knows it.
DEPRECATED_NAMES = {
    'proxmox_k3s_lxc_kmsg_fallback': 'k3s_lxc_node_kmsg_fallback',
    'proxmox_k3s_lxc_render_group': 'k3s_lxc_node_render_group',
}
GROUP_NAME = re.compile(r'^[a-z_][a-z0-9_-]{0,31}$')


def rules_k3s_lxc_node(v, ctx, report, host=''):
    _lxc_gpu_device(v, report)
    name = 'proxmox_k3s_lxc_render_group' if 'proxmox_k3s_lxc_render_group' in v else 'k3s_lxc_node_render_group'
    group = v.get(name, 'render')
    if not isinstance(group, str) or not GROUP_NAME.match(group):
        report.add(_where(v, name), '{0}={1} is not a group name'.format(name, group),
                   'use the name of the group that owns the render device, e.g. render')


def rules_proxmox_k3s_lxc(v, ctx, report, host=''):
    for name in ('proxmox_k3s_lxc_raw_keys', 'proxmox_k3s_lxc_gpu_raw_keys'):
        keys = v.get(name) or {}
        wrong = sorted(str(key) for key in (keys if isinstance(keys, dict) else {}) if not str(key).startswith('lxc.'))
        if wrong:
            report.add(_where(v, name), '{0} holds {1}, which are not raw lxc.* keys'.format(name, ', '.join(wrong)),
                       'keep only lxc.* keys there; Proxmox options (features, devN) have variables of their own')
    _lxc_gpu_device(v, report)
    sysctls = v.get('proxmox_k3s_lxc_sysctls') or {}
    per_netns = sorted(str(key) for key in (sysctls if isinstance(sysctls, dict) else {})
                       if str(key).startswith('net.'))
    if per_netns:
        report.add(_where(v, 'proxmox_k3s_lxc_sysctls'), 'proxmox_k3s_lxc_sysctls holds {0}: net.* keys are per '
                   'network namespace, so on the PVE host they never reach the containers (k3s sets them inside) and '
                   'only change how the hypervisor routes and filters its bridges'.format(', '.join(per_netns)),
                   'remove them from proxmox_k3s_lxc_sysctls')


def rules_proxmox_guests(v, ctx, report, host=''):
    hostvars = ctx.get('hostvars', {})
    controller = v
    only = _as_list(v.get('proxmox_guests_hosts'))
    guests = [h for h in (only or list(hostvars)) if (hostvars.get(h) or {}).get('proxmox_guest') is not None]
    if guests and not controller.get('proxmox_api_host'):
        report.add(_where(v, 'proxmox_api_host'), 'guests are declared ({0}) but proxmox_api_host is not set'
                   .format(', '.join(sorted(guests))), 'set proxmox_api_host and credentials in '
                   'group_vars/all/proxmox.yml')
    if guests and 'proxmox_api_password' not in controller and 'proxmox_api_token_id' not in controller:
        report.add(_where(v, 'proxmox_api_host'), 'no Proxmox credentials (neither proxmox_api_password nor '
                   'proxmox_api_token_id)', 'set proxmox_api_token_id + proxmox_api_token_secret or '
                   'proxmox_api_password (from the vault)')
    auth = controller.get('proxmox_guests_auth', 'auto')
    if auth == 'password' and 'proxmox_api_password' not in controller:
        report.add(_where(v, 'proxmox_guests_auth'), 'proxmox_guests_auth=password needs proxmox_api_password',
                   'set it (from the vault) or use proxmox_guests_auth: auto')
    if auth == 'token' and not (controller.get('proxmox_api_token_id') and 'proxmox_api_token_secret' in controller):
        report.add(_where(v, 'proxmox_api_token_id'), 'proxmox_guests_auth=token needs proxmox_api_token_id and '
                   'proxmox_api_token_secret', 'set both (the secret from the vault)')
    defaults = controller.get('proxmox_guests_defaults') or {}
    pve_nodes = set(ctx.get('groups', {}).get('proxmox_hosts', []))
    vmids = {}
    for name in sorted(guests):
        raw = hostvars[name].get('proxmox_guest')
        if raw is None:
            continue
        place = '{0} proxmox_guest'.format(name)
        if not isinstance(raw, dict):
            report.add(place, 'proxmox_guest is not a mapping', 'see inventory/example/host_vars/k3s-w1')
            continue
        guest = dict(defaults, **raw)
        if guest.get('type') not in ('lxc', 'vm'):
            report.add(place, 'type={0!r} is not lxc or vm'.format(guest.get('type')), 'set type: vm or type: lxc')
        node = guest.get('node') or controller.get('proxmox_node')
        if not node:
            report.add(place, 'no Proxmox node', 'set proxmox_guest.node or proxmox_node')
        elif pve_nodes and node not in pve_nodes and not any(
                node in ((hostvars.get(p) or {}).get('proxmox_node_name'), (hostvars.get(p) or {}).get('proxmox_node'))
                for p in pve_nodes):
            close = close_to(str(node), pve_nodes)
            report.add(place, 'node={0} is not a host of the proxmox_hosts group ({1})'.format(
                node, ', '.join(sorted(pve_nodes))),
                'did you mean {0}?'.format(close) if close else
                'use the name of the Proxmox node (a proxmox_hosts host, or the proxmox_node it sets)')
        vmid = guest.get('vmid')
        if vmid is not None:
            if not re.match(r'^[1-9][0-9]{2,8}$', str(vmid)):
                report.add(place, 'vmid={0} is not a Proxmox id (100 to 999999999)'.format(vmid),
                           'use a free id such as 114')
            else:
                vmids.setdefault(int(vmid), []).append(name)
        if not str(guest.get('template') or ''):
            report.add(place, 'no template', 'set template (CT template volume for lxc, template for vm)')
        for size, low in (('cores', 1), ('memory', 16), ('disk', 1)):
            if size in guest:
                try:
                    bad = int(guest[size]) < low
                except (TypeError, ValueError):
                    bad = True
                if bad:
                    report.add(place, '{0}={1} is not a size (at least {2})'.format(size, guest[size], low),
                               'give {0} as a whole number (memory in MB, disk in GB)'.format(size))
        devices = guest.get('devices') or []
        if devices and guest.get('type') != 'lxc':
            report.add(place, 'devices are for LXC containers only', 'use PCI passthrough (hostpci) for a VM')
        for dev in devices if isinstance(devices, list) else []:
            path = dev.get('path') if isinstance(dev, dict) else dev
            if not re.match(r'^/dev/[A-Za-z0-9]', str(path)):
                report.add(place, 'device {0} is not under /dev/'.format(path), 'use e.g. /dev/dri/renderD128')
    for vmid, names in sorted(vmids.items()):
        if len(names) > 1:
            report.add(['{0} proxmox_guest.vmid'.format(n) for n in names], 'vmid {0} is used by {1}'.format(
                vmid, ' and '.join(names)), 'give each guest its own vmid')


ROLE_RULES = {
    'common': rules_common,
    'node_prep': rules_node_prep,
    'k3s_common': rules_k3s_common,
    'k8s_delivery': rules_k8s_delivery,
    'cert_manager': rules_cert_manager,
    'longhorn': rules_longhorn,
    'nas_nfs': rules_nas_nfs,
    'media_stack': rules_media_stack,
    'plex': rules_plex,
    'proxmox_guests': rules_proxmox_guests,
    'proxmox_k3s_lxc': rules_proxmox_k3s_lxc,
    'k3s_lxc_node': rules_k3s_lxc_node,
}


def role_problems(role, variables, groups=None, hostvars=None, host=''):
    """The problems of one role's inputs: the entry point of a role's own preflight."""
    report = Report()
    rule = ROLE_RULES.get(role)
    if rule:
        rule(dict(variables or {}), {'groups': groups or {}, 'hostvars': hostvars or {}}, report, host)
    return report.lines()


# ---------------------------------------------------------------------------------------------------------------
# Cross-role consistency and structure.
# ---------------------------------------------------------------------------------------------------------------

def cross_role(controller, groups, hostvars, network, report):
    gpu_nodes = groups.get(controller.get('plex_gpu_group', 'gpu_nodes'), [])
    label_key = str(controller.get('plex_gpu_label_key', 'gpu'))
    label_value = str(controller.get('plex_gpu_label_value', 'true'))
    taint_key = str(controller.get('plex_gpu_taint_key', 'gpu'))
    for node in gpu_nodes:
        hv = hostvars.get(node) or {}
        labels = dict(hv.get('k3s_common_node_labels') or {})
        labels.update(hv.get('k3s_common_gpu_labels', {'gpu': 'true'}) or {})
        if str(labels.get(label_key)) != label_value:
            report.add('{0} k3s_common_gpu_labels'.format(node), 'the GPU node is labelled {0}={1} but Plex selects '
                       '{0}={2}'.format(label_key, labels.get(label_key), label_value),
                       'make k3s_common_gpu_labels and plex_gpu_label_key/plex_gpu_label_value agree')
        taint = str(hv.get('k3s_common_gpu_taint', 'gpu=true:NoSchedule') or '')
        if taint and taint.split('=', maxsplit=1)[0].split(':', maxsplit=1)[0] != taint_key:
            report.add('{0} k3s_common_gpu_taint'.format(node), 'the GPU node is tainted {0} but Plex tolerates the '
                       'key {1}'.format(taint, taint_key), 'make k3s_common_gpu_taint and plex_gpu_taint_key agree')
    # NAS exports must let every node mount them
    nas = groups.get('nas', [])
    nodes = groups.get('k3s_cluster', [])
    for nas_host in nas:
        clients = _as_list((hostvars.get(nas_host) or {}).get('nas_nfs_clients'))
        if not clients or '*' in clients:
            continue
        nets = []
        names = set()
        for client in clients:
            try:
                nets.append(ipaddress.ip_network(str(client), strict=False))
            except ValueError:
                names.add(str(client))
        uncovered = []
        for node in nodes:
            addr = str((hostvars.get(node) or {}).get('ansible_host') or node)
            ip = parse_ip(addr)
            if node in names or addr in names:
                continue
            if ip is None or not any(ip in n for n in nets):
                uncovered.append(node)
        if uncovered:
            report.add('{0} nas_nfs_clients'.format(nas_host), 'the NFS exports do not cover {0}'.format(
                ', '.join(uncovered)), 'add the cluster subnet ({0}) to nas_nfs_clients'.format(network or
                                                                                                'e.g. 192.168.1.0/24'))
    # CIDRs of the pods and services must not overlap the LAN
    try:
        lan = ipaddress.ip_network(str(network), strict=False) if network else None
    except ValueError:
        lan = None
    if lan is not None:
        for server in groups.get('k3s_servers', [])[:1]:
            extra = (hostvars.get(server) or {}).get('k3s_server_extra_config') or {}
            for key, default in (('cluster-cidr', '10.42.0.0/16'), ('service-cidr', '10.43.0.0/16')):
                value = str(extra.get(key, default))
                try:
                    cidr = ipaddress.ip_network(value.split(',', maxsplit=1)[0], strict=False)
                except ValueError:
                    report.add('k3s_server_extra_config.{0}'.format(key), '{0} is not a CIDR'.format(value),
                               'write it like 10.42.0.0/16')
                    continue
                if cidr.version == lan.version and cidr.overlaps(lan):
                    report.add('k3s_server_extra_config.{0}'.format(key), 'the {0} {1} overlaps the LAN {2} '
                               '(mediacluster_network)'.format(key, cidr, lan),
                               'pick a private range the LAN does not use (k3s defaults: 10.42.0.0/16 pods, '
                               '10.43.0.0/16 services)')


def structure(groups, hostvars, report):
    for group in groups:
        if group in KNOWN_GROUPS:
            continue
        close = close_to(group, KNOWN_GROUPS)
        if close:
            report.add('group {0}'.format(group), 'unknown group name {0} (its hosts get no role)'.format(group),
                       'did you mean {0}?'.format(close))
    for first, second in EXCLUSIVE_GROUPS:
        for host in groups.get(first, []):
            if host in groups.get(second, []):
                report.add('', '{0} is in both {1} and {2}'.format(host, first, second),
                           'a node is either a server (which also runs workloads) or an agent: keep it in one')
    for host in sorted(set(h for g, members in groups.items() if g not in ('all', 'ungrouped', 'controller')
                           for h in members)):
        hv = hostvars.get(host) or {}
        if hv.get('ansible_connection') == 'local':
            continue
        addr = hv.get('ansible_host')
        if addr is None and not ('.' in host or looks_like_ip(host)):
            report.add(host, 'no address: no ansible_host and the name {0} is not a DNS name'.format(host),
                       'set ansible_host: <IP or DNS name> in hosts.yml')
        value = str(addr if addr is not None else host)
        if looks_like_ip(value) and parse_ip(value) is None:
            report.add('{0} ansible_host'.format(host), '{0} is not a valid IP address'.format(value),
                       'fix the typo (four numbers 0-255 for IPv4)')


def unknown_variables(given_by_host, specs, report, where_of):
    """Variables carrying a role prefix that no role knows, with the closest known name."""
    prefixes = sorted(specs, key=len, reverse=True)
    known = set()
    for spec in specs.values():
        known.update(spec)
    for host, names in given_by_host.items():
        for name in names:
            if name in known or name in DEPRECATED_NAMES or name.startswith('_'):
                continue
            role = next((r for r in prefixes if name.startswith(r + '_')), None)
            if role is None:
                continue
            close = close_to(name, specs[role]) or close_to(name, known)
            place = where_of(name) or '{0} {1}'.format(host, name)
            report.add(place, '{0} is not a variable of the {1} role'.format(name, role),
                       'did you mean {0}?'.format(close) if close else
                       'see docs/variables.md for the {0}_* variables'.format(role))
