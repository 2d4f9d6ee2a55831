"""The shared Kubernetes emulator (tests/peers/kube_emulator.py) with one gap of kmock 0.8 closed for the media
stack's apply-path test: kmock parses /api/v1/namespaces/<name> as "namespace <name>, no resource", so a Namespace
object cannot be read or applied. Here that path is parsed as the cluster-scoped resource `namespaces`, as the real
API server does; everything else is the shared emulator unchanged.

    python tests/media_stack/kube_peer.py --port 0 --ready-file F --kubeconfig K
"""

import pathlib
import sys

from kmock._internal import parsing

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / 'peers'))
import kube_emulator  # noqa: E402

_parse_path = parsing.parse_path


def parse_path(path):
    parts = path.strip('/').split('/')
    if parts[:2] == ['api', 'v1'] and len(parts) in (3, 4) and parts[2] == 'namespaces':
        return parsing.ParsedPath('', 'v1', 'namespaces', None, parts[3] if len(parts) == 4 else None, None)
    return _parse_path(path)


parsing.parse_path = parse_path

if __name__ == '__main__':
    kube_emulator.main()
