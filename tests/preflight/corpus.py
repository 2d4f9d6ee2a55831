"""Broken and legitimate copies of inventory/example, each made by a small realistic edit.

BROKEN: (id, edit, message fragment, place fragment). The preflight must print a line holding both fragments.
LEGIT: (id, edit). The preflight must find nothing.
An edit is a function of the inventory directory (a copy of inventory/example) that changes it in place."""

import hashlib

import yaml

CLUSTER = 'group_vars/all/cluster.yml'
APPS = 'group_vars/all/apps.yml'
NAS = 'group_vars/all/nas.yml'
PROXMOX = 'group_vars/all/proxmox.yml'
VAULT = 'group_vars/all/vault.yml'
KUBE = 'group_vars/all/kubernetes.yml'


def _load(path):
    return yaml.safe_load(path.read_text()) or {}


def _dump(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def gv(file, **values):
    def edit(inv):
        data = _load(inv / file)
        data.update(values)
        _dump(inv / file, data)
    return edit


def gv_del(file, *names):
    def edit(inv):
        data = _load(inv / file)
        for name in names:
            data.pop(name, None)
        _dump(inv / file, data)
    return edit


def text(file, old, new, count=1):
    def edit(inv):
        body = (inv / file).read_text()
        assert old in body, '{0} not in {1}'.format(old, file)
        (inv / file).write_text(body.replace(old, new, count))
    return edit


def _groups(data):
    top = data['all']['children']
    return top, top['k3s_cluster']['children']


def hosts(change):
    def edit(inv):
        data = _load(inv / 'hosts.yml')
        change(*_groups(data))
        _dump(inv / 'hosts.yml', data)
    return edit


def hostvar(host, **values):
    def change(top, k3s):
        for group in list(k3s.values()) + [top['proxmox_hosts']]:
            if host in (group.get('hosts') or {}):
                group['hosts'][host] = dict(group['hosts'][host] or {}, **values)
    return hosts(change)


def guest(host, **values):
    def edit(inv):
        path = inv / 'host_vars' / host / 'proxmox_guest.yml'
        data = _load(path)
        data['proxmox_guest'].update(values)
        for key, value in list(values.items()):
            if value is None:
                data['proxmox_guest'].pop(key)
        _dump(path, data)
    return edit


def rename_group(old, new):
    def change(top, k3s):
        for parent in (top, k3s):
            if old in parent:
                parent[new] = parent.pop(old)
    return hosts(change)


def add_to(group, host, **values):
    def change(top, k3s):
        target = k3s.get(group) or top.get(group)
        target['hosts'] = dict(target.get('hosts') or {})
        target['hosts'][host] = values or None
    return hosts(change)


def managed_nas(**values):
    def change(top, k3s):
        top['nas']['hosts'] = {'nas1': dict({'ansible_host': '192.168.1.29', 'ansible_user': 'root',
                                             'nas_nfs_clients': ['192.168.1.0/24']}, **values)}
    return hosts(change)


def both(*edits):
    def edit(inv):
        for one in edits:
            one(inv)
    return edit


def backup_job(**values):
    job = dict({'name': 'nightly-backup', 'task': 'backup', 'cron': '0 3 * * *', 'retain': 7, 'concurrency': 1,
                'groups': ['default']}, **values)
    return gv(APPS, longhorn_recurring_jobs=[job])


BROKEN = [
    # undefined or unresolvable variables
    ('vault-k3s-token-missing', gv_del(VAULT, 'vault_k3s_token'), 'add vault_k3s_token to group_vars/all/vault.yml',
     'group_vars/all/cluster.yml k3s_common_token'),
    ('vault-claim-missing', gv_del(VAULT, 'vault_plex_claim_token'), 'add vault_plex_claim_token to',
     'group_vars/all/apps.yml plex_claim_token'),
    ('vault-qbit-missing', gv_del(VAULT, 'vault_qbittorrent_password'), 'refers to vault_qbittorrent_password',
     'apps.yml media_stack_qbittorrent_password'),
    ('vault-pve-password-missing', gv(PROXMOX, proxmox_api_password='{{ vault_proxmox_api_password }}'),
     'add vault_proxmox_api_password',
     'proxmox.yml proxmox_api_password'),
    ('vault-pve-token-missing', gv_del(VAULT, 'vault_proxmox_api_token_secret'),
     'add vault_proxmox_api_token_secret', 'proxmox.yml proxmox_api_token_secret'),
    ('typo-in-reference', gv(APPS, plex_claim_token='{{ vault_plex_claim }}'), 'refers to vault_plex_claim,',
     'apps.yml plex_claim_token'),
    ('reference-to-unknown-var', gv(NAS, media_stack_nfs_server='{{ mediacluster_nas }}'),
     'define mediacluster_nas in the inventory', 'nas.yml media_stack_nfs_server'),
    ('bad-filter-in-template', gv(NAS, plex_media_nfs_server='{{ mediacluster_nas_server | nosuchfilter }}'),
     'cannot be resolved', 'nas.yml plex_media_nfs_server'),
    # group names and membership
    ('group-k3s-agent', rename_group('k3s_agents', 'k3s_agent'), 'did you mean k3s_agents?', 'group k3s_agent'),
    ('group-storage-node', rename_group('storage_nodes', 'storage_node'), 'did you mean storage_nodes?',
     'group storage_node'),
    ('group-gpu-node', rename_group('gpu_nodes', 'gpu_node'), 'did you mean gpu_nodes?', 'group gpu_node'),
    ('group-k3s-server', rename_group('k3s_servers', 'k3s_server'), 'did you mean k3s_servers?', 'group k3s_server'),
    ('group-proxmox-host', rename_group('proxmox_hosts', 'proxmox_host'), 'did you mean proxmox_hosts?',
     'group proxmox_host'),
    ('group-k3s-clusters', rename_group('k3s_cluster', 'k3s_clusters'), 'did you mean k3s_cluster?',
     'group k3s_clusters'),
    ('server-and-agent', add_to('k3s_agents', 'k3s-cp2', ansible_host='192.168.1.21'),
     'k3s-cp2 is in both k3s_servers and k3s_agents', 'keep it in one'),
    ('host-without-address', add_to('k3s_agents', 'worker4'), 'no address', 'worker4'),
    ('gpu-node-outside-cluster', add_to('gpu_nodes', 'pve'), 'pve is in `gpu_nodes` but not in k3s_cluster',
     'remove it from gpu_nodes'),
    ('storage-node-outside-cluster', add_to('storage_nodes', 'pve'), 'pve is in `storage_nodes` but not in',
     'k3s_cluster'),
    ('no-servers', hosts(lambda top, k3s: k3s['k3s_servers'].update(hosts={})), 'k3s_servers',
     'is missing or empty'),
    # addresses
    ('ip-octet-256', hostvar('k3s-w2', ansible_host='192.168.1.256'), '192.168.1.256 is not a valid IP address',
     'k3s-w2 ansible_host'),
    ('ip-three-octets', hostvar('k3s-w1', ansible_host='192.168.1'), '192.168.1 is not a valid IP address',
     'k3s-w1 ansible_host'),
    ('ip-double-dot', hostvar('k3s-cp1', ansible_host='192.168..11'), '192.168..11 is not a valid IP address',
     'k3s-cp1 ansible_host'),
    ('pve-ip-typo', hostvar('pve', ansible_host='192.168.1.1900'), '192.168.1.1900 is not a valid IP', 'pve'),
    ('duplicate-host-block', text('hosts.yml', '            k3s-w3:', '            k3s-w2:\n'
                                  '              ansible_host: 192.168.1.23\n            k3s-w3:'),
     'the key k3s-w2 is given twice', 'hosts.yml line'),
    ('duplicate-var-key', text(CLUSTER, 'k3s_common_version:', 'k3s_common_vip: 192.168.1.101\nk3s_common_version:'),
     'the key k3s_common_vip is given twice', 'group_vars/all/cluster.yml line'),
    ('duplicate-var-key-2', text(CLUSTER, 'k3s_common_version:', 'mediacluster_preflight_probes: false\n'
                                 'k3s_common_version:'), 'the key mediacluster_preflight_probes is given twice',
     'group_vars/all/cluster.yml line'),
    ('yaml-syntax', text(APPS, 'longhorn_ui_expose: ingress', 'longhorn_ui_expose: [ingress'), 'not valid YAML',
     'group_vars/all/apps.yml'),
    ('vip-is-nas', gv(CLUSTER, k3s_common_vip='192.168.1.29'), 'k3s_common_vip=192.168.1.29 is the address of the NAS',
     'cluster.yml k3s_common_vip'),
    ('vip-is-network', gv(CLUSTER, k3s_common_vip='192.168.1.0'), 'is the network address of 192.168.1.0/24',
     'cluster.yml k3s_common_vip'),
    ('vip-is-broadcast', gv(CLUSTER, k3s_common_vip='192.168.1.255'), 'is the broadcast address of 192.168.1.0/24',
     'cluster.yml k3s_common_vip'),
    ('vip-is-node', gv(CLUSTER, k3s_common_vip='192.168.1.12'), 'k3s_common_vip=192.168.1.12 is the IP of k3s-w1',
     'Pick an unused address'),
    ('vip-is-pve', gv(CLUSTER, k3s_common_vip='192.168.1.19'), 'the VIP 192.168.1.19 is the address of pve',
     'pick an address no machine uses'),
    ('vip-outside', gv(CLUSTER, k3s_common_vip='10.0.0.100'),
     'is outside the subnet 192.168.1.0/24 of the servers (k3s-cp1, k3s-cp2, k3s-cp3)', 'Pick a free address'),
    ('vip-not-ip', gv(CLUSTER, k3s_common_vip='vip.homelab'), "k3s_common_vip='vip.homelab' is not an IP address",
     'set it to a free address'),
    ('cluster-cidr-overlap', hostvar('k3s-cp1', k3s_server_extra_config={'cluster-cidr': '192.168.0.0/16'}),
     'the cluster-cidr 192.168.0.0/16 overlaps the LAN 192.168.1.0/24', 'k3s_server_extra_config.cluster-cidr'),
    ('service-cidr-overlap', gv(CLUSTER, k3s_server_extra_config={'service-cidr': '192.168.1.0/25'}),
     'the service-cidr 192.168.1.0/25 overlaps the LAN', 'k3s_server_extra_config.service-cidr'),
    ('cidr-not-cidr', gv(CLUSTER, k3s_server_extra_config={'cluster-cidr': '10.42.0.0/33'}), 'is not a CIDR',
     'k3s_server_extra_config.cluster-cidr'),
    ('duplicate-ip', hostvar('k3s-w2', ansible_host='192.168.1.21'),
     'k3s-cp2 and k3s-w2 share the IP 192.168.1.21: give each host its own ansible_host', 'hosts.yml'),
    ('duplicate-ip-pve', hostvar('pve', ansible_host='192.168.1.11'), 'share the address 192.168.1.11',
     'its own ansible_host'),
    ('node-outside-network', hostvar('k3s-cp3', ansible_host='10.0.0.30'),
     'k3s-cp3 (10.0.0.30) is outside the cluster network 192.168.1.0/24', 'ansible_host'),
    ('network-not-cidr', gv(CLUSTER, mediacluster_network='192.168.1.0/33'), 'network `192.168.1.0/33` is not a CIDR',
     'mediacluster_network'),
    # k3s
    ('agent-secret-is-the-server-secret', gv(CLUSTER, k3s_common_token='SameSecret0123456789abcdef',
                                             k3s_common_agent_token='SameSecret0123456789abcdef'),
     'k3s_common_agent_token is the same secret as k3s_common_token', 'leave k3s_common_agent_token empty'),
    ('four-servers', add_to('k3s_servers', 'k3s-cp4', ansible_host='192.168.1.31'), 'etcd needs an odd number',
     '4 servers'),
    ('k3s-too-old', gv(CLUSTER, k3s_common_version='v1.20.4+k3s1'), 'is not a supported k3s release',
     'k3s_common_version=v1.20.4+k3s1'),
    ('k3s-version-no-suffix', gv(CLUSTER, k3s_common_version='v1.33.5'), 'is not a supported k3s release',
     'k3s_common_version=v1.33.5'),
    ('duplicate-node-name', hostvar('k3s-w1', k3s_common_node_name='k3s-w2'), "duplicate node name 'k3s-w2'",
     'k3s_common_node_name'),
    ('arch-unsupported', hostvar('k3s-cp3', k3s_common_arch='i686'), "architecture 'i686' is not supported",
     'k3s-cp3'),
    ('gpu-taint-removed', gv(CLUSTER, k3s_common_gpu_taint=''), 'has no gpu=', 'k3s-w3'),
    ('gpu-taint-malformed', gv(CLUSTER, k3s_common_gpu_taint='gpu:true'), 'k3s_common_gpu_taint=gpu:true is not a '
     'taint', 'cluster.yml k3s_common_gpu_taint'),
    ('airgap-without-files', gv(CLUSTER, k3s_common_install_mode='airgap'),
     'k3s_common_install_mode=airgap needs k3s_common_airgap_binary', 'k3s_common_airgap_binary'),
    ('airgap-file-missing', gv(CLUSTER, k3s_common_install_mode='airgap', k3s_common_airgap_binary='/nonexistent/k3s',
                               k3s_common_airgap_binary_sha256='a' * 64),
     'airgap file(s) missing on the controller: /nonexistent/k3s', 'k3s_common_airgap_images'),
    ('airgap-bad-sha', gv(CLUSTER, k3s_common_install_mode='airgap', k3s_common_airgap_binary='/bin/sh',
                          k3s_common_airgap_binary_sha256='abc'), 'is not 64 hex digits',
     'k3s_common_airgap_binary_sha256'),
    ('airgap-sha-mismatch', gv(CLUSTER, k3s_common_install_mode='airgap', k3s_common_airgap_binary='/bin/sh',
                               k3s_common_airgap_binary_sha256='b' * 64),
     'the sha256 of /bin/sh is', 'k3s_common_airgap_binary_sha256'),
    ('api-key-unknown-app', gv(APPS, media_stack_api_keys={'jellyfin': '0' * 32}), 'the collection sets no API key '
     'for jellyfin', 'media_stack_api_keys'),
    ('resources-no-limits', gv(APPS, media_stack_sonarr_resources={'requests': {'cpu': '100m'}}),
     'media_stack_sonarr_resources has no limits', 'apps.yml media_stack_sonarr_resources'),
    ('nfs-capacity', gv(APPS, media_stack_nfs_capacity='2TB'), 'media_stack_nfs_capacity=2TB is not a size',
     'media_stack_nfs_capacity'),
    ('install-mode-typo', gv(CLUSTER, k3s_common_install_mode='offline'),
     'value of k3s_common_install_mode must be one of', 'cluster.yml k3s_common_install_mode'),
    ('flavour-typo', hostvar('k3s-cp3', node_flavour='raspberry'), 'node_prep_flavour=raspberry is not a flavour',
     'k3s-cp3'),
    # unknown variables with a role prefix
    ('var-longhorn-replicas', gv(APPS, longhorn_replicas_count=3), 'did you mean longhorn_replica_count?',
     'apps.yml longhorn_replicas_count'),
    ('var-plex-claim', gv(APPS, plex_claim_tokn='claim-abcdefghijkl'), 'did you mean plex_claim_token?',
     'apps.yml plex_claim_tokn'),
    ('var-media-gpid', gv(APPS, media_stack_gpid=1000), 'did you mean media_stack_pgid?', 'media_stack_gpid'),
    ('var-k3s-vips', gv(CLUSTER, k3s_common_vips='192.168.1.100'), 'did you mean k3s_common_vip?',
     'cluster.yml k3s_common_vips'),
    ('var-common-timezon', gv(CLUSTER, common_timezon='America/Chicago'), 'did you mean common_timezone?',
     'common_timezon'),
    ('var-host-level', hostvar('k3s-cp3', k3s_server_quorum_onyl=True), 'did you mean k3s_server_quorum_only?',
     'k3s_server_quorum_onyl'),
    ('var-nas-clients', gv(NAS, nas_nfs_client=['192.168.1.0/24']), 'did you mean nas_nfs_clients?',
     'nas.yml nas_nfs_client'),
    # longhorn
    ('replicas-above-nodes', gv(APPS, longhorn_replica_count=3), 'longhorn_replica_count=3 needs at least that many',
     'apps.yml longhorn_replica_count'),
    ('replicas-zero', gv(APPS, longhorn_replica_count=0), 'longhorn_replica_count=0 needs', 'longhorn_replica_count'),
    ('backup-target-no-colon', gv(NAS, longhorn_backup_target='nfs://192.168.1.29/mnt/user/longhorn_backup'),
     'is not a Longhorn backup target', 'nas.yml longhorn_backup_target'),
    ('backup-target-smb', gv(NAS, longhorn_backup_target='smb://192.168.1.29/backup'),
     'is not a Longhorn backup target', 'longhorn_backup_target'),
    ('s3-without-secret', gv(NAS, longhorn_backup_target='s3://backups@us-east-1/longhorn'),
     'needs longhorn_backup_target_credential_secret', 'longhorn_backup_target_credential_secret'),
    ('cron-four-fields', backup_job(cron='0 3 * *'), "cron='0 3 * *' is not a valid five-field cron",
     'longhorn_recurring_jobs job nightly-backup'),
    ('cron-words', backup_job(cron='every night'), 'is not a valid five-field cron schedule', 'job nightly-backup'),
    ('retain-zero', backup_job(retain=0), 'retain=0 must be a whole number >= 1', 'job nightly-backup'),
    ('retain-string', backup_job(retain='7'), "retain='7' must be a whole number >= 1", 'job nightly-backup'),
    ('backup-job-no-target', both(backup_job(), gv(NAS, longhorn_backup_target='')),
     'a backup job needs longhorn_backup_target', 'job nightly-backup'),
    ('job-name-upper', backup_job(name='Nightly'), 'is not a lower-case name', 'job Nightly'),
    ('job-names-repeat', gv(APPS, longhorn_recurring_jobs=[
        {'name': 'nightly', 'task': 'snapshot', 'cron': '0 3 * * *', 'retain': 3},
        {'name': 'nightly', 'task': 'snapshot', 'cron': '0 4 * * *', 'retain': 3}]), 'RecurringJob names repeat: '
     'nightly', 'longhorn_recurring_jobs'),
    ('ui-expose-choice', gv(APPS, longhorn_ui_expose='sometimes'), 'value of longhorn_ui_expose must be one of',
     'apps.yml longhorn_ui_expose'),
    ('ui-httproute-no-gateway', gv(APPS, longhorn_ui_expose='httproute'), 'longhorn_ui_expose=httproute has no '
     'Gateway', 'longhorn_ui_gateway_parent_refs'),
    ('ui-host-not-dns', gv(APPS, longhorn_ui_host='Longhorn_UI'), "longhorn_ui_host='Longhorn_UI' is not a DNS name",
     'apps.yml longhorn_ui_host'),
    ('lxc-storage-node', add_to('storage_nodes', 'k3s-w3'), 'k3s-w3 is an LXC container in `storage_nodes`',
     'remove it from storage_nodes'),
    ('longhorn-timezone', gv(APPS, longhorn_timezone='CET+1'), 'longhorn_timezone=CET+1 is not a time zone',
     'longhorn_timezone'),
    # media stack
    ('nfs-path-relative', gv(NAS, media_stack_nfs_path='mnt/user/data'), 'do not name an NFS export',
     'nas.yml media_stack_nfs_path'),
    ('nfs-server-empty', gv(NAS, media_stack_nfs_server=''), 'do not name an NFS export', 'media_stack_nfs_path'),
    ('puid-string', gv(APPS, media_stack_puid='media'), "argument 'media_stack_puid' is of type",
     'apps.yml media_stack_puid'),
    ('puid-root', gv(APPS, media_stack_puid=0), 'media_stack_puid=0 is root', 'apps.yml media_stack_puid'),
    ('sonarr-latest', gv(APPS, media_stack_sonarr_image='lscr.io/linuxserver/sonarr:latest'),
     'media_stack_sonarr_image=lscr.io/linuxserver/sonarr:latest is not pinned', 'apps.yml media_stack_sonarr_image'),
    ('radarr-untagged', gv(APPS, media_stack_radarr_image='lscr.io/linuxserver/radarr'), 'is not pinned',
     'media_stack_radarr_image'),
    ('media-domain-upper', gv(APPS, media_stack_domain='Homelab'), 'media_stack_domain=Homelab is not a DNS name',
     'apps.yml media_stack_domain'),
    ('media-timezone', gv(CLUSTER, media_stack_timezone='America/Chicgo'), 'is not a time zone',
     'cluster.yml media_stack_timezone'),
    ('common-timezone', gv(CLUSTER, common_timezone='Europe/Berln'), 'common_timezone=Europe/Berln is not a time zone',
     'cluster.yml common_timezone'),
    ('api-key-short', gv(APPS, media_stack_api_keys={'sonarr': 'xyz'}), 'media_stack_api_keys.sonarr is not 32',
     'media_stack_api_keys'),
    ('media-httproute-no-gateway', gv(APPS, media_stack_route='httproute'), 'needs a Gateway with a name',
     'media_stack_gateway_parent_refs'),
    ('config-size', gv(APPS, media_stack_sonarr_config_size='2GB'), 'media_stack_sonarr_config_size=2GB is not a size',
     'apps.yml media_stack_sonarr_config_size'),
    # plex
    ('claim-token-shape', gv(VAULT, vault_plex_claim_token='abc123'), 'plex_claim_token is not a claim token',
     'apps.yml plex_claim_token'),
    ('plex-latest', gv(APPS, plex_image='lscr.io/linuxserver/plex:latest'), 'plex_image=lscr.io/linuxserver/plex:'
     'latest is not pinned', 'apps.yml plex_image'),
    ('plex-domain', gv(APPS, plex_domain='Home_Lab'), 'plex_domain=Home_Lab is not a DNS name', 'apps.yml plex_domain'),
    ('plex-no-media', gv(NAS, plex_media_nfs_path=''), "Missing NAS export for Plex's media", 'plex_media_nfs_path'),
    ('plex-device', gv(APPS, plex_gpu_device_path='/dev/dri/renderD1'), 'is not a device Plex can transcode',
     'plex_gpu_device_path'),
    ('plex-gpu-group', gv(APPS, plex_gpu_group='gpus'), 'No gpu=true node: inventory group gpus is empty',
     'plex_gpu_group'),
    ('no-gpu-node', hosts(lambda top, k3s: top['gpu_nodes'].update(hosts={})), 'No gpu=true node: inventory '
     'group gpu_nodes', 'add the GPU node'),
    ('plex-db-backup', gv(APPS, plex_db_backup_enabled=True), 'plex_db_backup_enabled=true needs the NAS export',
     'plex_db_backup_nfs_path'),
    ('plex-config-size', gv(APPS, plex_config_size='10GB'), 'plex_config_size=10GB is not a Kubernetes quantity',
     'apps.yml plex_config_size'),
    ('plex-timezone', gv(APPS, plex_timezone='Chicago'), 'plex_timezone=Chicago is not a time zone', 'plex_timezone'),
    ('plex-backup-group', gv(APPS, plex_backup_recurring_job={'name': 'plex-nightly', 'cron': '0 3 * * *',
                                                              'retain': 7}),
     'needs a plex_backup_group of its own', 'plex_backup_group'),
    ('gpu-label-value', gv(CLUSTER, k3s_common_gpu_labels={'gpu': 'yes'}), 'labelled gpu=yes but Plex selects gpu=true',
     'k3s-w3 k3s_common_gpu_labels'),
    ('plex-label-value', gv(APPS, plex_gpu_label_value='enabled'), 'but Plex selects gpu=enabled', 'k3s-w3'),
    ('gpu-taint-key', gv(CLUSTER, k3s_common_gpu_taint='intel=true:NoSchedule'), 'Plex tolerates the key gpu',
     'k3s-w3 k3s_common_gpu_taint'),
    # proxmox guests
    ('vmid-duplicate', guest('k3s-w1', vmid=111), 'vmid 111 is used by k3s-cp1 and k3s-w1',
     'k3s-cp1 proxmox_guest.vmid'),
    ('vmid-short', guest('k3s-w1', vmid=12), 'vmid=12 is not a Proxmox id', 'k3s-w1 proxmox_guest'),
    ('guest-type', guest('k3s-w1', type='container'), "type='container' is not lxc or vm", 'k3s-w1 proxmox_guest'),
    ('guest-node-unknown', guest('k3s-cp1', node='pve2'), 'node=pve2 is not a host of the proxmox_hosts group',
     'k3s-cp1 proxmox_guest'),
    ('guest-node-typo', guest('k3s-w3', node='pv'), 'did you mean pve?', 'k3s-w3 proxmox_guest'),
    ('guest-memory', guest('k3s-w1', memory=8), 'memory=8 is not a size', 'k3s-w1 proxmox_guest'),
    ('guest-cores', guest('k3s-cp1', cores=0), 'cores=0 is not a size', 'k3s-cp1 proxmox_guest'),
    ('guest-no-template', guest('k3s-w1', template=None), 'no template', 'k3s-w1 proxmox_guest'),
    ('vm-devices', guest('k3s-w1', devices=[{'path': '/dev/dri/renderD128'}]), 'devices are for LXC containers only',
     'k3s-w1 proxmox_guest'),
    ('device-path', guest('k3s-w3', devices=[{'path': 'dri/renderD128'}]), 'device dri/renderD128 is not under /dev/',
     'k3s-w3 proxmox_guest'),
    ('no-api-host', gv_del(PROXMOX, 'proxmox_api_host'), 'proxmox_api_host is not set', 'proxmox_api_host'),
    ('gpu-unprivileged', guest('k3s-w3', unprivileged=True), 'k3s-w3 is a GPU node in an unprivileged LXC',
     'unprivileged: false'),
    ('token-auth-no-secret', both(gv(PROXMOX, proxmox_guests_auth='token'), gv_del(PROXMOX, 'proxmox_api_token_id')),
     'proxmox_guests_auth=token needs proxmox_api_token_id', 'proxmox_api_token_id'),
    # delivery, journal
    ('export-no-dir', gv(KUBE, k8s_delivery_mode='export'), 'k8s_delivery_mode=export needs k8s_delivery_export_dir',
     'k8s_delivery_export_dir'),
    ('export-generated-credentials', gv(KUBE, k8s_delivery_mode='export', k8s_delivery_export_dir='/srv/gitops',
                                        k8s_delivery_kubernetes_version='1.33'),
     'so generated API keys would change every run (prowlarr, sonarr, radarr)', 'media_stack_api_keys'),
    ('delivery-mode', gv(KUBE, k8s_delivery_mode='gitops'), 'value of k8s_delivery_mode must be one of',
     'kubernetes.yml k8s_delivery_mode'),
    ('journal-size', gv(CLUSTER, common_journald_max_use='200MB'), 'common_journald_max_use=200MB is not a size',
     'cluster.yml common_journald_max_use'),
    # managed NAS
    ('nas-clients-empty', managed_nas(nas_nfs_clients=[]), 'nas_nfs_clients is empty', 'nas1 nas_nfs_clients'),
    ('nas-clients-world', managed_nas(nas_nfs_clients=['*']), 'nas_nfs_clients contains "*"', 'nas1 nas_nfs_clients'),
    ('nas-clients-miss-nodes', managed_nas(nas_nfs_clients=['192.168.1.0/28']),
     'the NFS exports do not cover k3s-cp2, k3s-cp3, k3s-w2', 'nas1 nas_nfs_clients'),
    ('nas-data-relative', managed_nas(nas_nfs_data_dir='data'), 'nas_nfs_data_dir=data must be an absolute directory',
     'nas1 nas_nfs_data_dir'),
    ('nas-data-outside-root', managed_nas(nas_nfs_data_dir='/mnt/data'), 'must be an absolute directory below '
     'nas_nfs_root', 'nas1 nas_nfs_data_dir'),
    ('nas-dir-mode', managed_nas(nas_nfs_dir_mode='2755'), 'nas_nfs_dir_mode=2755 is not an octal mode',
     'nas1 nas_nfs_dir_mode'),
    ('nas-overlap', managed_nas(nas_nfs_backup_dir='/srv/nas/data/backup'), 'overlap', 'nas1 nas_nfs_data_dir'),
    ('vip-is-managed-nas', both(managed_nas(), gv(CLUSTER, k3s_common_vip='192.168.1.29')),
     'is the address of the NAS', 'k3s_common_vip'),
]


def _single_server(inv):
    data = _load(inv / 'hosts.yml')
    top, k3s = _groups(data)
    for host in ('k3s-cp2', 'k3s-cp3'):
        k3s['k3s_servers']['hosts'].pop(host)
    _dump(inv / 'hosts.yml', data)
    (inv / 'host_vars' / 'k3s-cp3' / 'k3s.yml').unlink()


def _dns_names(inv):
    data = _load(inv / 'hosts.yml')
    top, k3s = _groups(data)
    for group in k3s.values():
        for host, hv in group['hosts'].items():
            hv['ansible_host'] = '{0}.homelab.lan'.format(host)
    top['proxmox_hosts']['hosts']['pve']['ansible_host'] = 'pve.homelab.lan'
    _dump(inv / 'hosts.yml', data)


def _bare_metal(inv):
    data = _load(inv / 'hosts.yml')
    top, k3s = _groups(data)
    top.pop('proxmox_hosts')
    for group in k3s.values():  # the VMs' login came from their cloud-init user; installed by hand now
        for hv in group['hosts'].values():
            if 'proxmox_guest' in str(hv.get('ansible_user')):
                hv['ansible_user'] = 'ubuntu'
    _dump(inv / 'hosts.yml', data)
    for host in ('k3s-cp1', 'k3s-w1', 'k3s-w3'):
        (inv / 'host_vars' / host / 'proxmox_guest.yml').unlink()
    (inv / PROXMOX).unlink()


def _airgap(inv):
    binary = inv / 'files' / 'k3s'
    binary.parent.mkdir()
    binary.write_bytes(b'k3s')
    images = inv / 'files' / 'k3s-airgap-images-amd64.tar.zst'
    images.write_bytes(b'images')
    gv(CLUSTER, k3s_common_install_mode='airgap', k3s_common_airgap_binary=str(binary),
       k3s_common_airgap_binary_sha256=hashlib.sha256(b'k3s').hexdigest(), k3s_common_airgap_images=[str(images)])(inv)


LEGIT = [
    ('example', lambda inv: None),
    ('single-server', _single_server),
    ('s3-backup-target', gv(NAS, longhorn_backup_target='s3://backups@us-east-1/longhorn',
                            longhorn_backup_target_credential_secret='longhorn-s3')),
    ('dns-names-as-hosts', _dns_names),
    ('managed-nas', managed_nas()),
    ('managed-nas-wired-to-its-facts', both(managed_nas(), gv(
        NAS, media_stack_nfs_server="{{ hostvars[groups.nas[0]].nas_nfs_facts.server }}",
        media_stack_nfs_path="{{ hostvars[groups.nas[0]].nas_nfs_facts.data_path_v4 }}",
        plex_media_nfs_server="{{ hostvars[groups.nas[0]].nas_nfs_facts.server }}",
        plex_media_nfs_path="{{ hostvars[groups.nas[0]].nas_nfs_facts.data_path_v4 }}",
        longhorn_backup_target="nfs://{{ hostvars[groups.nas[0]].nas_nfs_facts.server }}:"
                               "{{ hostvars[groups.nas[0]].nas_nfs_facts.backup_path_v4 }}"))),
    ('tokens-with-metacharacters', gv(VAULT, vault_k3s_token='K10%s.*[a-z]+$^(x)|y?\\d{2}',
                                      vault_qbittorrent_password='p%40ss.*w0rd$', vault_plex_claim_token='',
                                      vault_proxmox_api_token_secret='5f%3a.*?+[]{}()^$|\\')),
    ('claim-token', gv(VAULT, vault_plex_claim_token='claim-AbC123_xyz-987654321')),
    ('httproutes', gv(APPS, longhorn_ui_expose='httproute',
                      longhorn_ui_gateway_parent_refs=[{'name': 'homelab', 'namespace': 'gateway'}],
                      media_stack_route='httproute',
                      media_stack_gateway_parent_refs=[{'name': 'homelab', 'namespace': 'gateway'}])),
    ('airgap', _airgap),
    ('export-mode', both(gv(KUBE, k8s_delivery_mode='export', k8s_delivery_export_dir='/srv/gitops/mediacluster',
                            k8s_delivery_kubernetes_version='1.33'),
                         gv(VAULT, vault_qbittorrent_password='correct horse battery'),
                         gv(APPS, media_stack_jellyfin_admin_password='staple-9f2c',
                            media_stack_api_keys={app: hashlib.sha256(app.encode()).hexdigest()[:32]
                                                  for app in ('prowlarr', 'sonarr', 'radarr')}))),
    ('wider-network', both(gv(CLUSTER, mediacluster_network='192.168.0.0/23', k3s_common_vip='192.168.0.200'),
                           hostvar('k3s-w2', ansible_host='192.168.0.22'))),
    ('bare-metal-no-proxmox', _bare_metal),
    ('custom-gpu-label', both(gv(CLUSTER, k3s_common_gpu_labels={'gpu': 'intel'}),
                              gv(APPS, plex_gpu_label_value='intel'))),
    ('three-replicas-three-nodes', both(add_to('storage_nodes', 'k3s-cp1'), gv(APPS, longhorn_replica_count=3))),
    ('own-cidrs', gv(CLUSTER, k3s_server_extra_config={'cluster-cidr': '10.52.0.0/16',
                                                       'service-cidr': '10.53.0.0/16'})),
    ('cron-lists-and-steps', backup_job(cron='*/30 1-5 * * mon-fri')),
]
