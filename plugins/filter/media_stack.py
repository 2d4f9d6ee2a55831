# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The media_stack role's decisions that used to be Jinja programs in its tasks and vars: the credentials (given,
else kept, else generated), where each wiring call is made, the apps' API addresses, Bazarr's links to Sonarr and
Radarr, and the traffic the stack declares to the delivery layer. Each filter's documentation is
plugins/filter/<filter name>.yml; tests in tests/media_stack/test_role_filters.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import re
import string

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.utils.encrypt import random_password

from ansible_collections.homelab.mediacluster.plugins.filter.qbittorrent_password_hash import (
    qbittorrent_password_hash,
)

_API_KEY_CHARS = string.digits + 'abcdef'
_PASSWORD_CHARS = string.ascii_letters + string.digits
_IPV4 = re.compile(r'^[0-9]+([.][0-9]+){3}$')


def _stored(resources):
    """The data of the Secret(s) read with k8s_info, base64-decoded (as the b64decode filter does)."""
    stored = {}
    for resource in resources or []:
        for key, value in (resource.get('data') or {}).items():
            stored[key] = to_text(base64.b64decode(to_bytes(value, errors='surrogate_or_strict')), encoding='utf-8')
    return stored


def media_stack_credentials(resources, apps, api_key_apps, given, mode='apply'):
    """The credentials Secret's data: each value given in the inventory wins, else the one already stored in the
    Secret is kept, else one is generated (once: the next run finds it stored).

    resources: the Secret as k8s_info returns it ([] when absent or in export mode); apps: the enabled apps;
    api_key_apps: the apps whose API keys the collection makes; given: the inventory's values (api_keys,
    qbittorrent_username, qbittorrent_password, arr_username, arr_password, jellyfin_admin_username,
    jellyfin_admin_password, namespace); mode: k8s_delivery_mode."""
    if mode not in ('apply', 'export'):
        raise AnsibleFilterError('media_stack_credentials: mode must be apply or export, not {0!r}'.format(mode))
    stored = _stored(resources)
    api_keys = given.get('api_keys') or {}
    result = {}
    # keys of apps that are off (SABnzbd, Bazarr by default) are only made once the app is enabled
    for app in api_key_apps:
        name = app + '-api-key'
        if app in apps or app in api_keys or name in stored:
            result[name] = api_keys.get(app) or stored.get(name, None)
            if result[name] is None:
                result[name] = random_password(32, _API_KEY_CHARS)
    password = given.get('qbittorrent_password') or _kept_or_new(stored, 'qbittorrent-password', 24)
    salt = stored.get('qbittorrent-password-salt')
    if salt is None:
        # export mode keeps no state: the salt is derived from the password there, so the tree does not change
        salt = (hashlib.sha256(to_bytes(password + given['namespace'])).hexdigest()[:24] if mode == 'export'
                else random_password(16, _PASSWORD_CHARS))
    result.update({'qbittorrent-username': given['qbittorrent_username'], 'qbittorrent-password': password,
                   'qbittorrent-password-salt': salt,
                   'qbittorrent-password-pbkdf2': qbittorrent_password_hash(password, salt)})
    # the *arr apps' login: only the wiring (apply mode) uses it, so export mode writes it only when given (nothing
    # would remember a generated one there)
    if given.get('arr_password') or mode == 'apply':
        result.update({'arr-username': given['arr_username'],
                       'arr-password': given.get('arr_password') or _kept_or_new(stored, 'arr-password', 24)})
    # the Jellyfin admin password: set by the startup wizard, then only used to log in
    result.update({'jellyfin-admin-username': given['jellyfin_admin_username'],
                   'jellyfin-admin-password': given.get('jellyfin_admin_password')
                   or _kept_or_new(stored, 'jellyfin-admin-password', 24)})
    return result


def _kept_or_new(stored, key, length):
    """The stored value (even an empty one, as before), else a new password of letters and digits."""
    if key in stored:
        return stored[key]
    return random_password(length, _PASSWORD_CHARS)


def media_stack_wire_hosts(apps, access, nodes, pods, api_host):
    """{app: inventory host the app's wiring calls run on}. node mode: the host of the node that runs the app's
    first placed pod ('' when that node is not in the inventory; the app is missing when no pod is placed). url
    mode: api_host for every app.

    apps: the wired apps that are enabled; nodes: the node model (k3s_node_model: name, host); pods: the Running
    pods (k8s_info resources)."""
    hosts = {}
    by_node = dict((node['name'], node['host']) for node in nodes or [])
    for app in apps:
        if access != 'node':
            hosts[app] = api_host
            continue
        for pod in pods or []:
            labels = (pod.get('metadata') or {}).get('labels') or {}
            node = (pod.get('spec') or {}).get('nodeName')
            if labels.get('app.kubernetes.io/name', '') == app and node is not None:
                hosts[app] = by_node.get(node, '')
                break
    return hosts


def media_stack_api_urls(services, access, urls, catalog):
    """{app: API base URL}. url mode: media_stack_api_urls as given. node mode: http://<ClusterIP>:<port> of each
    app whose Service was found with a ClusterIP (a headless or missing Service gives no address).

    services: the loop results of the Service lookups (each with its app under its loop variable)."""
    if access == 'url':
        return dict(urls or {})
    found = {}
    for result in services or []:
        app = result[result.get('ansible_loop_var', 'item')]
        resources = result.get('resources') or []
        address = (resources[0].get('spec') or {}).get('clusterIP', '') if resources else ''
        if address and address != 'None':
            found[app] = 'http://{0}:{1}'.format(address, catalog[app]['port'])
    return found


def media_stack_bazarr_links(apps, svc, catalog, credentials):
    """Bazarr's settings for the enabled Sonarr/Radarr ({'settings', 'secrets'}): use_<app> on, each app's Service
    address, port, base URL and no TLS; the API keys apart, for the module's secret_settings."""
    linked = [app for app in ('sonarr', 'radarr') if app in apps]
    settings = {'general': {}}
    secrets = {}
    for app in linked:
        settings['general']['use_' + app] = True
        settings[app] = {'ip': svc.format(app), 'port': catalog[app]['port'], 'base_url': '/', 'ssl': False}
        secrets[app] = {'apikey': credentials[app + '-api-key']}
    return {'settings': settings, 'secrets': secrets}


def media_stack_flows(apps, namespace, catalog, app_calls, ingress_namespaces, nfs_server,  # noqa: PLR0917
                      wired_from_nodes):
    """The traffic the stack needs, for the delivery layer's NetworkPolicy check (docs/delivery.md).

    apps: enabled apps; app_calls: [client, server] API calls; ingress_namespaces: where the ingress controller
    runs ([] when no route is rendered); nfs_server: the NAS (an IPv4 address adds the nodes' NFS mounts);
    wired_from_nodes: the enabled apps the wiring calls from the node running their pod (node mode, apply)."""
    def pod(app):
        return {'kind': 'pod', 'namespace': namespace, 'labels': {'app.kubernetes.io/name': app}}

    def app_port(app):
        return {'namespace': namespace, 'labels': {'app.kubernetes.io/name': app}, 'port': catalog[app]['port'],
                'protocol': 'TCP'}

    flows = [{'name': '{0} calls the {1} API'.format(client, server), 'source': pod(client),
              'destination': app_port(server)}
             for client, server in app_calls if client in apps and server in apps]
    nfs = bool(_IPV4.match(str(nfs_server or '')))
    for app in apps:
        for ns in ingress_namespaces:
            flows.append({'name': 'the ingress controller in {0} reaches {1}'.format(ns, app),
                          'source': {'kind': 'pod', 'namespace': ns, 'labels': {}}, 'destination': app_port(app)})
        for protocol in ('UDP', 'TCP'):
            flows.append({'name': '{0} resolves names (DNS over {1})'.format(app, protocol), 'source': pod(app),
                          'destination': {'namespace': 'kube-system', 'labels': {'k8s-app': 'kube-dns'}, 'port': 53,
                                          'protocol': protocol}})
        flows.append({'name': app + ' reaches the internet (indexers, metadata, updates)', 'source': pod(app),
                      'destination': {'address': '1.1.1.1', 'port': 443, 'protocol': 'TCP'}})
        if catalog[app]['data'] and nfs:
            flows.append({'name': 'the node running {0} mounts /data from the NAS (NFS)'.format(app),
                          'source': {'kind': 'host', 'node': 'same'},
                          'destination': {'address': nfs_server, 'port': 2049, 'protocol': 'TCP'}})
        if app in wired_from_nodes:
            flows.append({'name': 'wiring: the node running {0} calls its API'.format(app),
                          'source': {'kind': 'host', 'node': 'same'}, 'destination': app_port(app)})
    return flows


class FilterModule(object):
    def filters(self):
        return {
            'media_stack_credentials': media_stack_credentials,
            'media_stack_wire_hosts': media_stack_wire_hosts,
            'media_stack_api_urls': media_stack_api_urls,
            'media_stack_bazarr_links': media_stack_bazarr_links,
            'media_stack_flows': media_stack_flows,
        }
