"""The gateway_routes filter: HTTPS route and redirect route per route, sectionName handling, the ReferenceGrant only
for Gateways in other namespaces, and the refusals."""

import importlib.util

import pytest
from ansible.errors import AnsibleFilterError

from ..conftest import ROOT

_spec = importlib.util.spec_from_file_location('gateway_routes', ROOT / 'plugins' / 'filter' / 'gateway_routes.py')
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
gateway_routes = _module.gateway_routes
GATEWAY = {'group': 'gateway.networking.k8s.io', 'kind': 'Gateway', 'namespace': 'gateway'}

ROUTE = {'name': 'sonarr', 'hostnames': ['sonarr.home.arpa'],
         'rules': [{'backendRefs': [{'kind': 'Service', 'name': 'sonarr', 'port': 8989}]}]}
LISTENERS = {'https': 'https', 'http': 'http'}
REDIRECT = [{'filters': [{'type': 'RequestRedirect', 'requestRedirect': {'scheme': 'https', 'statusCode': 301}}]}]


def kinds(docs):
    return [(d['kind'], d['metadata']['name']) for d in docs]


def test_route_redirect_and_grant_for_a_gateway_elsewhere():
    docs = gateway_routes([ROUTE], 'media', [{'name': 'gw', 'namespace': 'gateway'}], LISTENERS, ['sonarr-tls'],
                          'media-gateway-tls', {'team': 'media'})
    assert kinds(docs) == [('HTTPRoute', 'sonarr'), ('HTTPRoute', 'sonarr-http'),
                           ('ReferenceGrant', 'media-gateway-tls')]
    route, redirect, grant = docs
    assert route['spec'] == {'parentRefs': [{'name': 'gw', 'namespace': 'gateway', 'sectionName': 'https'}],
                             'hostnames': ['sonarr.home.arpa'], 'rules': ROUTE['rules']}
    assert redirect['spec'] == {'parentRefs': [{'name': 'gw', 'namespace': 'gateway', 'sectionName': 'http'}],
                                'hostnames': ['sonarr.home.arpa'], 'rules': REDIRECT}
    assert grant['apiVersion'] == 'gateway.networking.k8s.io/v1beta1'
    assert grant['spec'] == {'from': [GATEWAY],
                             'to': [{'group': '', 'kind': 'Secret', 'name': 'sonarr-tls'}]}
    assert all(d['metadata'] == {'name': d['metadata']['name'], 'namespace': 'media', 'labels': {'team': 'media'}}
               for d in docs)


def test_a_parent_ref_naming_its_section_keeps_it_for_the_https_route_only():
    docs = gateway_routes([ROUTE], 'media', [{'name': 'gw', 'sectionName': 'websecure'}], LISTENERS, ['sonarr-tls'],
                          'g')
    assert docs[0]['spec']['parentRefs'] == [{'name': 'gw', 'sectionName': 'websecure'}]
    assert docs[1]['spec']['parentRefs'] == [{'name': 'gw', 'sectionName': 'http'}]


@pytest.mark.parametrize('refs', [[{'name': 'gw'}], [{'name': 'gw', 'namespace': 'media'}]], ids=['no-ns', 'same-ns'])
def test_no_grant_when_the_gateway_shares_the_namespace(refs):
    docs = gateway_routes([ROUTE], 'media', refs, LISTENERS, ['sonarr-tls'], 'g')
    assert kinds(docs) == [('HTTPRoute', 'sonarr'), ('HTTPRoute', 'sonarr-http')]


def test_no_redirect_route_without_an_http_listener_and_one_grant_entry_per_namespace_and_secret():
    refs = [{'name': 'a', 'namespace': 'gw1'}, {'name': 'b', 'namespace': 'gw2'}, {'name': 'c', 'namespace': 'gw1'}]
    other = dict(ROUTE, name='radarr', hostnames=['radarr.home.arpa'])
    docs = gateway_routes([ROUTE, other], 'media', refs, {'https': 'https', 'http': ''},
                          ['sonarr-tls', 'radarr-tls', 'sonarr-tls'], 'g')
    assert kinds(docs) == [('HTTPRoute', 'sonarr'), ('HTTPRoute', 'radarr'), ('ReferenceGrant', 'g')]
    assert [f['namespace'] for f in docs[2]['spec']['from']] == ['gw1', 'gw2']
    assert [t['name'] for t in docs[2]['spec']['to']] == ['sonarr-tls', 'radarr-tls']


@pytest.mark.parametrize('refs, routes, fragment', [
    ([], [ROUTE], 'parent_refs must be a non-empty list'),
    ([{'namespace': 'gateway'}], [ROUTE], 'each with a name'),
    ([{'name': 'gw'}], [{'name': 'x', 'hostnames': []}], 'needs a name, hostnames and rules'),
], ids=['no-refs', 'unnamed-ref', 'route-without-host'])
def test_refusals(refs, routes, fragment):
    with pytest.raises(AnsibleFilterError, match=fragment):
        gateway_routes(routes, 'media', refs, LISTENERS, ['x-tls'], 'g')
