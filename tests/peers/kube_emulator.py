"""Serve the kmock Kubernetes API emulator on loopback, with the CRDs this collection manages registered.

Used by the lab (`scripts/lab.py up`) and by the apply-path tests. kmock emulates create/get/patch/apply/delete
for `kubernetes.core.k8s`; it does not validate, set status or honour resourceVersion (see docs/development.md).
Added here: every CRD it registers is also stored as a CustomResourceDefinition object (apiextensions.k8s.io/v1,
status Established) as a real cluster holds it, and list responses carry kind and apiVersion, so that
`kubernetes.core.k8s_info` can list CRDs (the k8s_delivery role reads the cluster's CRDs that way).

    python tests/peers/kube_emulator.py --port 16443 --kubeconfig .lab/kubeconfig
"""

import argparse
import asyncio
import base64
import copy
import os
import pathlib
import signal
import sys

import aiohttp.web
import kmock
import yaml
from kmock._internal import parsing as kmock_parsing

HERE = pathlib.Path(__file__).resolve().parent
if __package__ in (None, ''):  # run as a script (the lab, tests/media_stack): the checkout's tests package
    sys.path.insert(0, str(HERE.parent.parent))
from tests.yaml_files import documents  # noqa: E402  (after the path of a script run)

CRD_DIR = HERE.parent / 'schemas' / 'crds'


CRD_RESOURCE = 'apiextensions.k8s.io/v1/customresourcedefinitions'


def crd_documents(crd_dir=CRD_DIR, extra_crds=()):
    """Yield every CustomResourceDefinition document in crd_dir's *.yaml files and in the extra CRD files. The
    documents are shared by every caller (tests/yaml_files.py): read them, copy what you change (established()
    does)."""
    paths = sorted(crd_dir.glob('*.yaml')) if crd_dir.is_dir() else []
    for path in paths + [pathlib.Path(extra) for extra in extra_crds]:
        yield from (doc for doc in documents(path) if doc.get('kind') == 'CustomResourceDefinition')


def crd_resources(crd_dir=CRD_DIR, extra_crds=()):
    """Yield (CRD spec, version) for every served version of every CRD in crd_dir and in the extra CRD files."""
    for doc in crd_documents(crd_dir, extra_crds):
        spec = doc['spec']
        for version in spec['versions']:
            if version.get('served', True):
                yield spec, version['name']


def established(crd):
    """The CRD object as the API server stores it once it has accepted it (status Established, names accepted)."""
    stored = copy.deepcopy(crd)
    stored['status'] = {
        'acceptedNames': copy.deepcopy(crd['spec']['names']),
        'conditions': [{'type': 'NamesAccepted', 'status': 'True', 'reason': 'NoConflicts'},
                       {'type': 'Established', 'status': 'True', 'reason': 'InitialNamesAccepted'}],
        'storedVersions': [v['name'] for v in crd['spec']['versions'] if v.get('storage')],
    }
    return stored


def _parse_path(path, _original=kmock_parsing.parse_path):
    """kmock reads /api/v1/namespaces/<name> as "namespace <name>, no resource" and then 404s every request on a
    Namespace object; the API server reads it as the Namespace named <name>. And it cannot parse the list of all
    Namespaces (/api/v1/namespaces) at all."""
    if path.strip('/').split('?')[0] == 'api/v1/namespaces':
        return kmock_parsing.ParsedPath('', 'v1', 'namespaces', None, None, None)
    parsed = _original(path)
    if parsed.group == '' and parsed.plural is None and parsed.namespace and parsed.name is None:
        return kmock_parsing.ParsedPath(parsed.group, parsed.version, 'namespaces', None, parsed.namespace, None)
    return parsed


kmock_parsing.parse_path = _parse_path


def _merged(base, changes):
    """kmock's patch rule (dicts merge recursively, everything else is replaced), on copies."""
    result = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merged(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _fold_string_data(resource, body):
    """A real API server folds a Secret's stringData into data (base64, overwriting the same keys) on every write,
    dry runs included, and never stores or returns stringData. kmock stores the body as sent."""
    if (getattr(resource, 'group', None) == '' and getattr(resource, 'plural', None) == 'secrets'
            and isinstance(body, dict) and isinstance(body.get('stringData'), dict)):
        data = dict(body.get('data') or {})
        for key, value in body.pop('stringData').items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        body['data'] = data


def _status(code, reason, message):
    return aiohttp.web.json_response({'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Failure',
                                      'reason': reason, 'message': message, 'code': code}, status=code)


class ApplyEmulator(kmock.KubernetesEmulator):
    """kmock's emulator plus three rules of the real API server it lacks: a server-side apply (PATCH with
    Content-Type application/apply-patch+yaml) of an object that does not exist creates it, a dry run
    (`?dryRun=All`, what kubernetes.core sends in check mode) answers with the would-be object but stores nothing,
    and a Secret's stringData is folded into data on every write.

    Also: kmock keeps every request it ever served and matches each new one by scanning that whole history, so a
    request costs time in proportion to all the requests before it (50 ms a GET after a few hundred; a real API
    server answers in milliseconds whatever its past). Nothing reads kmock's own history (the tests and the lab
    count requests themselves), so each request is forgotten once it has been served."""

    async def _dry_run(self, request, content_type):
        data = request.data if isinstance(request.data, dict) else {}
        namespace = request.namespace or data.get('metadata', {}).get('namespace')
        name = request.name or data.get('metadata', {}).get('name')
        async with self._lock:
            key = (request.resource, namespace, name)
            stored = self._objects[key] if name and key in self._objects else None
            current = copy.deepcopy(stored.raw) if stored is not None and not stored.deleted else None
        if request.action == kmock.action.CREATE:
            if current is not None:
                return _status(409, 'AlreadyExists', '{0} "{1}" already exists'.format(request.resource, name))
            return aiohttp.web.json_response(data, status=201)
        if request.action == kmock.action.DELETE:
            if current is None:
                return _status(404, 'NotFound', '{0} "{1}" not found'.format(request.resource, name))
            return aiohttp.web.json_response(current)
        if current is None and not content_type.startswith('application/apply-patch'):
            return _status(404, 'NotFound', '{0} "{1}" not found'.format(request.resource, name))
        return aiohttp.web.json_response(_merged(current or {}, data), status=200 if current else 201)

    async def _serve_list(self, request):
        """kmock's list without kind and apiVersion makes the Kubernetes Python client fail ('kind'); add them."""
        payload = await super()._serve_list(request)
        try:
            kind = self.resources[request.resource].kind
        except KeyError:
            kind = None
        if kind:
            resource = request.resource
            payload['kind'] = kind + 'List'
            payload['apiVersion'] = '{0}/{1}'.format(resource.group, resource.version) if resource.group \
                else resource.version
        return payload

    async def _handle(self, request):
        content_type = request.headers.get('Content-Type', '') if request.headers else ''
        if request.resource is not None and request.action in (kmock.action.CREATE, kmock.action.UPDATE):
            _fold_string_data(request.resource, request.data)
        if (request.resource is not None and (request.params or {}).get('dryRun')
                and request.action in (kmock.action.CREATE, kmock.action.UPDATE, kmock.action.DELETE)):
            return await self._dry_run(request, content_type)
        if (request.resource is not None and request.action == kmock.action.UPDATE and request.name
                and content_type.startswith('application/apply-patch') and isinstance(request.data, dict)):
            key = (request.resource, request.namespace, request.name)
            async with self._lock:
                if key not in self._objects:
                    self._objects[key] = {}
                elif self._objects[key].deleted:
                    self._objects[key].create({})
        try:
            return await super()._handle(request)
        finally:
            self._forget(request)

    def _forget(self, request):
        """Drop a served request from kmock's history (by identity: an equal request may still be in flight)."""
        for index in range(len(self._requests) - 1, -1, -1):
            if self._requests[index] is request:
                del self._requests[index]
                break


def build_emulator(crd_dir=CRD_DIR, extra_crds=()):
    emulator = ApplyEmulator()
    emulator.resources.load_bundled()  # the built-in kinds of a default k3s cluster
    for spec, version in crd_resources(crd_dir, extra_crds):
        names = spec['names']
        key = '{0}/{1}/{2}'.format(spec['group'], version, names['plural'])
        emulator.resources[key] = kmock.ResourceInfo(
            kind=names['kind'], singular=names.get('singular', names['kind'].lower()),
            namespaced=spec.get('scope', 'Namespaced') == 'Namespaced',
            shortnames=set(names.get('shortNames', [])),
            verbs={'get', 'list', 'create', 'patch', 'update', 'delete'},
        )
    for crd in crd_documents(crd_dir, extra_crds):
        emulator.objects[CRD_RESOURCE, None, crd['metadata']['name']] = established(crd)
    return emulator


def write_kubeconfig(path, url):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    config = {
        'apiVersion': 'v1', 'kind': 'Config', 'current-context': 'lab',
        'clusters': [{'name': 'lab', 'cluster': {'server': url}}],
        'users': [{'name': 'lab', 'user': {'token': 'lab-emulator'}}],
        'contexts': [{'name': 'lab', 'context': {'cluster': 'lab', 'user': 'lab'}}],
    }
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as handle:
        yaml.safe_dump(config, handle)


async def serve(host, port, kubeconfig, ready_file=None, extra_crds=()):
    async with build_emulator(extra_crds=extra_crds) as emulator, \
            kmock.Server(emulator, host=host, port=port) as server:
        url = 'http://{0}:{1}'.format(server.host, server.port)
        if kubeconfig:
            write_kubeconfig(kubeconfig, url)
        print('kube emulator listening on {0}'.format(url), flush=True)
        if ready_file:
            pathlib.Path(ready_file).write_text(url + '\n')
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=0)
    parser.add_argument('--kubeconfig')
    parser.add_argument('--ready-file')
    parser.add_argument('--crd', action='append', default=[], metavar='FILE',
                        help='register the kinds of this CRD file too and store it as a CRD object (repeatable), '
                             'e.g. the Gateway API HTTPRoute')
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port, args.kubeconfig, args.ready_file, args.crd))


if __name__ == '__main__':
    main()
