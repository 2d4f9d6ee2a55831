"""Serve the kmock Kubernetes API emulator on loopback, with the CRDs this collection manages registered.

Used by the lab (`scripts/lab.py up`) and by the apply-path tests. kmock emulates create/get/patch/apply/delete
for `kubernetes.core.k8s`; it does not validate, list, set status or honour resourceVersion (see docs/development.md).

    python tests/peers/kube_emulator.py --port 16443 --kubeconfig .lab/kubeconfig
"""

import argparse
import asyncio
import os
import pathlib
import signal

import kmock
import yaml

HERE = pathlib.Path(__file__).resolve().parent
CRD_DIR = HERE.parent / 'schemas' / 'crds'


def crd_resources(crd_dir=CRD_DIR):
    """Yield 'group/version/plural' for every served version of every CRD in crd_dir."""
    if not crd_dir.is_dir():
        return
    for path in sorted(crd_dir.glob('*.yaml')):
        with path.open() as handle:
            for doc in yaml.safe_load_all(handle):
                if not doc or doc.get('kind') != 'CustomResourceDefinition':
                    continue
                spec = doc['spec']
                for version in spec['versions']:
                    if version.get('served', True):
                        yield spec, version['name']


class ApplyEmulator(kmock.KubernetesEmulator):
    """kmock's emulator plus one rule of the real API server it lacks: a server-side apply (PATCH with
    Content-Type application/apply-patch+yaml) of an object that does not exist creates it."""

    async def _handle(self, request):
        content_type = request.headers.get('Content-Type', '') if request.headers else ''
        if (request.resource is not None and request.action == kmock.action.UPDATE and request.name
                and content_type.startswith('application/apply-patch') and isinstance(request.data, dict)):
            key = (request.resource, request.namespace, request.name)
            async with self._lock:
                if key not in self._objects:
                    self._objects[key] = {}
                elif self._objects[key].deleted:
                    self._objects[key].create({})
        return await super()._handle(request)


def build_emulator(crd_dir=CRD_DIR):
    emulator = ApplyEmulator()
    emulator.resources.load_bundled()  # the built-in kinds of a default k3s cluster
    for spec, version in crd_resources(crd_dir):
        names = spec['names']
        key = '{0}/{1}/{2}'.format(spec['group'], version, names['plural'])
        emulator.resources[key] = kmock.ResourceInfo(
            kind=names['kind'], singular=names.get('singular', names['kind'].lower()),
            namespaced=spec.get('scope', 'Namespaced') == 'Namespaced',
            shortnames=set(names.get('shortNames', [])), verbs={'get', 'create', 'patch', 'update', 'delete'},
        )
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


async def serve(host, port, kubeconfig, ready_file=None):
    async with build_emulator() as emulator, kmock.Server(emulator, host=host, port=port) as server:
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
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port, args.kubeconfig, args.ready_file))


if __name__ == '__main__':
    main()
