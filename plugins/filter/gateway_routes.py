# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The gateway_routes filter; its documentation is plugins/filter/gateway_routes.yml."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.errors import AnsibleFilterError

GATEWAY_GROUP = 'gateway.networking.k8s.io'


def _gateway_namespaces(parent_refs, namespace):
    """The namespaces of the Gateways the routes attach to, other than the routes' own (a parentRef without a
    namespace means the route's namespace)."""
    found = []
    for ref in parent_refs:
        if ref.get('kind', 'Gateway') != 'Gateway' or ref.get('group', GATEWAY_GROUP) != GATEWAY_GROUP:
            continue
        ref_namespace = ref.get('namespace') or namespace
        if ref_namespace != namespace and ref_namespace not in found:
            found.append(ref_namespace)
    return found


def gateway_routes(routes, namespace, parent_refs, listeners, secrets, grant_name, labels=None):  # noqa: PLR0917
    if not isinstance(parent_refs, list) or not parent_refs or not all(
            isinstance(ref, dict) and ref.get('name') for ref in parent_refs):
        raise AnsibleFilterError('gateway_routes: parent_refs must be a non-empty list of parentRefs, each with a '
                                 'name (the Gateway), got {0!r}'.format(parent_refs))
    listeners = listeners or {}
    https, http = listeners.get('https') or '', listeners.get('http') or ''
    labels = dict(labels or {})
    docs = []
    secure_refs = [dict(ref, sectionName=ref.get('sectionName') or https) if https else dict(ref)
                   for ref in parent_refs]
    for route in routes:
        if not route.get('name') or not route.get('hostnames') or not route.get('rules'):
            raise AnsibleFilterError('gateway_routes: each route needs a name, hostnames and rules, got {0!r}'.format(
                route))
        meta = {'name': route['name'], 'namespace': namespace}
        if route.get('labels') or labels:
            meta['labels'] = dict(route.get('labels') or labels)
        # a JSON round trip copies plain dicts and lists (as module_utils/k8s_yaml.py does); copy.deepcopy fails on
        # ansible-core's lazy containers of values set inside an included template
        docs.append({'apiVersion': GATEWAY_GROUP + '/v1', 'kind': 'HTTPRoute', 'metadata': meta,
                     'spec': {'parentRefs': json.loads(json.dumps(secure_refs)), 'hostnames': list(route['hostnames']),
                              'rules': json.loads(json.dumps(route['rules']))}})
        if http:
            meta = dict(meta, name=route['name'] + '-http')
            docs.append({'apiVersion': GATEWAY_GROUP + '/v1', 'kind': 'HTTPRoute', 'metadata': meta,
                         'spec': {'parentRefs': [dict(ref, sectionName=http) for ref in parent_refs],
                                  'hostnames': list(route['hostnames']),
                                  'rules': [{'filters': [{'type': 'RequestRedirect',
                                                          'requestRedirect': {'scheme': 'https',
                                                                              'statusCode': 301}}]}]}})
    gateway_namespaces = _gateway_namespaces(parent_refs, namespace)
    names = []
    for name in secrets or []:
        if name and name not in names:
            names.append(name)
    if gateway_namespaces and names and routes:
        meta = {'name': grant_name, 'namespace': namespace}
        if labels:
            meta['labels'] = labels
        docs.append({'apiVersion': GATEWAY_GROUP + '/v1beta1', 'kind': 'ReferenceGrant', 'metadata': meta,
                     'spec': {'from': [{'group': GATEWAY_GROUP, 'kind': 'Gateway', 'namespace': ns}
                                       for ns in gateway_namespaces],
                              'to': [{'group': '', 'kind': 'Secret', 'name': name} for name in names]}})
    return docs


class FilterModule(object):
    def filters(self):
        return {'gateway_routes': gateway_routes}
