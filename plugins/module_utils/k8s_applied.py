# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which objects of an app the cluster already holds as this collection last applied them.

Before the server-side dry runs (roles/k8s_delivery/tasks/apply.yml), each object of the app is read back from the
cluster, one LIST per kind and namespace, and is left out of the dry run only when both hold:

- the object carries the content hash (HASH_ANNOTATION) of exactly this definition: the collection applied this
  definition last, so a server-side apply of it would remove no field (a field the collection stopped setting changes
  the hash);
- every field the definition sets has that value on the cluster (the definition is contained in the live object):
  nobody changed a field since (drift).

Everything else (a new object, a changed definition, drift, a kind the cluster does not serve, a read that failed, a
value the API server stores in another form) goes to the dry run, which decides. Being wrong here can only cost a dry
run, never skip a change.

The hash leaves out the values of a Secret (its keys are kept), so that no hash of a password reaches the cluster in
the clear; a Secret's values are compared by containment, against its base64 ``data``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import concurrent.futures
import copy
import hashlib
import json

from ansible_collections.homelab.mediacluster.plugins.module_utils.module_body import ModuleFailure

HASH_ANNOTATION = 'homelab.mediacluster/applied-hash'


def _plain(value):
    return json.loads(json.dumps(value))


def _without_hash(definition):
    plain = _plain(definition)
    annotations = (plain.get('metadata') or {}).get('annotations')
    if isinstance(annotations, dict):
        annotations.pop(HASH_ANNOTATION, None)
        if not annotations:
            del plain['metadata']['annotations']
    return plain


def _digest(plain):
    """content_hash of a plain copy that no longer carries the hash annotation (left as it is)."""
    shape = dict(plain)
    if shape.get('kind') == 'Secret':
        for field in ('data', 'stringData'):
            if isinstance(shape.get(field), dict):
                shape[field] = dict.fromkeys(shape[field], '')
    encoded = json.dumps(shape, sort_keys=True, separators=(',', ':'), ensure_ascii=False)
    return hashlib.sha256(encoded.encode('utf-8')).hexdigest()


def content_hash(definition):
    """sha256 of the definition as JSON (keys sorted), without the hash annotation and without a Secret's values."""
    return _digest(_without_hash(definition))


def annotate(definition):
    """A copy of the definition carrying its content hash."""
    annotated = _without_hash(definition)
    digest = _digest(annotated)
    annotated.setdefault('metadata', {}).setdefault('annotations', {})[HASH_ANNOTATION] = digest
    return annotated


def _as_stored(definition):
    """The definition as the API server stores it: a Secret's stringData merged into data, base64-encoded."""
    if definition.get('kind') != 'Secret' or not isinstance(definition.get('stringData'), dict):
        return definition
    stored = copy.deepcopy(definition)
    data = dict(stored.get('data') or {})
    for key, value in stored.pop('stringData').items():
        data[key] = base64.b64encode(str(value).encode('utf-8')).decode('ascii')
    stored['data'] = data
    return stored


def contains(desired, live):
    """Every field of desired is in live with the same value; lists must match item by item."""
    if isinstance(desired, dict):
        return isinstance(live, dict) and all(key in live and contains(value, live[key])
                                              for key, value in desired.items())
    if isinstance(desired, list):
        return (isinstance(live, list) and len(desired) == len(live)
                and all(contains(item, other) for item, other in zip(desired, live, strict=True)))
    if isinstance(desired, bool) or isinstance(live, bool):
        return desired is live
    return desired == live and (desired is None) == (live is None)


def unchanged(annotated, live):
    """Whether live (the object read from the cluster, or None) is what applying annotated would leave as it is."""
    if not isinstance(live, dict):
        return False
    wanted = annotated.get('metadata', {}).get('annotations', {}).get(HASH_ANNOTATION)
    held = ((live.get('metadata') or {}).get('annotations') or {}).get(HASH_ANNOTATION)
    return wanted is not None and wanted == held and contains(_as_stored(annotated), live)


def _reason(err):
    summary = getattr(err, 'summary', None)
    return summary() if callable(summary) else str(err) or type(err).__name__


# Concurrent reads: the groups' requests go out together, so a read costs about its slowest request, not their sum.
READERS = 4


def _read_group(client, resource, namespace, names):
    """{name: live object} of one group: a GET for a group of one, else one LIST of the kind in the namespace."""
    if len(names) == 1:
        return {names[0]: client.get(resource, name=names[0], namespace=namespace).to_dict()}
    items = client.get(resource, namespace=namespace).to_dict().get('items') or []
    return {(item.get('metadata') or {}).get('name'): item for item in items}


def read_live(client, definitions):
    """The live object of each definition (None when absent or unreadable), one LIST per kind and namespace (one GET
    for a group of one), how many requests that took, and why a group could not be read. `client` is
    kubernetes.core's API client (module_utils/k8s/client.py, get_api_client). The kinds are resolved one after the
    other (the discovery cache is shared), then the groups are read concurrently."""
    groups = {}
    for index, definition in enumerate(definitions):
        metadata = definition.get('metadata') or {}
        key = (definition.get('apiVersion'), definition.get('kind'), metadata.get('namespace'))
        groups.setdefault(key, []).append((index, metadata.get('name')))
    live, unread, reads = [None] * len(definitions), [], []
    for (api_version, kind, namespace), members in groups.items():
        try:
            resource = client.resource(kind, api_version)
        except Exception as err:  # pylint: disable=broad-except  # a kind not served (yet): the dry run decides
            _note_unread(unread, err, kind, api_version, namespace)
            continue
        if getattr(resource, 'namespaced', False) and not namespace:
            continue  # the context's default namespace would decide: left to the dry run
        reads.append(((api_version, kind, namespace), resource, members))
    with concurrent.futures.ThreadPoolExecutor(max_workers=READERS) as pool:
        futures = [pool.submit(_read_group, client, resource, key[2], [name for _index, name in members])
                   for key, resource, members in reads]
    for (key, _resource, members), future in zip(reads, futures, strict=True):
        try:
            found = future.result()
        except Exception as err:  # pylint: disable=broad-except  # not found, refused: the dry run decides
            _note_unread(unread, err, key[1], key[0], key[2])
            continue
        for index, name in members:
            live[index] = found.get(name)
    return live, len(reads), unread


def _note_unread(unread, err, kind, api_version, namespace):
    if getattr(err, 'status', None) != 404:
        where = ' in ' + namespace if namespace else ''
        unread.append('{0} {1}{2}: {3}'.format(kind, api_version, where, _reason(err)))


def compare(client, definitions):
    """{'to_compare': the definitions the cluster does not hold as applied, in the order given, each carrying its
    content hash, 'unchanged': one flag per definition, 'requests': API requests made, 'unread': the groups that
    could not be read, and why}."""
    annotated = [annotate(definition) for definition in definitions]
    live, requests, unread = read_live(client, annotated)
    flags = [unchanged(a, b) for a, b in zip(annotated, live, strict=True)]
    return {'to_compare': [a for a, same in zip(annotated, flags, strict=True) if not same], 'unchanged': flags,
            'requests': requests, 'unread': unread}


def api_client(params):
    """kubernetes.core's API client (module_utils/k8s/client.py, get_api_client) for a module's connection options
    (kubernetes.core's AUTH_ARG_SPEC: kubeconfig, context, host, ...); ModuleFailure with what to check when it cannot
    be built."""
    # imported here, not at the top: preloading a module that imports this file (plugins/callback/preload.py) must
    # not load the Kubernetes client into playbooks that never talk to a cluster
    try:
        from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC  # noqa: PLC0415
        from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import (  # noqa: PLC0415
            get_api_client,
        )
        return get_api_client(**{key: params.get(key) for key in AUTH_ARG_SPEC})
    except Exception as err:  # pylint: disable=broad-except  # a missing client library, an unreadable kubeconfig
        raise ModuleFailure('Cannot build a Kubernetes API client to read the objects to apply: {0}; check '
                            'k8s_kubeconfig (kubeconfig), k8s_context (context) and that the kubernetes Python '
                            'package is installed.'.format(err)) from err
