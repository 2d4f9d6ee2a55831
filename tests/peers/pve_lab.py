"""Serve fakepve on loopback seeded as the lab's Proxmox VE: one node, its storages, a Debian 12 CT template
and a cloud-init VM template, reachable with a password and with an API token.

    python tests/peers/pve_lab.py --port 8006 --password-file .lab/pve-password --token-file .lab/pve-token

The same seeding is used by the pytest fixtures (tests/conftest.py) through `seed()`.
"""

import argparse
import asyncio
import os
import pathlib
import secrets
import shutil
import signal
import tempfile

from fakepve import FakePve
from fakepve.certs import make_cert

NODE = 'pve'
TOKEN_ID = 'root@pam!mediacluster'
CT_TEMPLATE = 'debian-12-standard_12.7-1_amd64.tar.zst'
VM_TEMPLATE_ID = 9000
VM_TEMPLATE_NAME = 'debian-12-cloudinit'


def seed(pve, node=NODE):
    """Give a fresh FakePve the lab's node, storages and templates; return it."""
    pve.nodes = {node: {'online': True}}
    pve.storages['local']['avail'] = 200 * 1024 ** 3
    pve.store_file('local', CT_TEMPLATE, 126 * 1024 ** 2, content='vztmpl')
    pve.add_vm(VM_TEMPLATE_ID, VM_TEMPLATE_NAME, node=node, template=True, config={
        'cores': 2, 'memory': 2048, 'ostype': 'l26', 'agent': '1', 'scsihw': 'virtio-scsi-pci',
        'scsi0': 'local-lvm:base-{0}-disk-0,size=3584M'.format(VM_TEMPLATE_ID),
        'ide2': 'local-lvm:vm-{0}-cloudinit,media=cdrom'.format(VM_TEMPLATE_ID),
        'net0': 'virtio=BC:24:11:00:90:00,bridge=vmbr0', 'serial0': 'socket', 'vga': 'serial0', 'boot': 'order=scsi0',
    })
    return pve


def _secret_from(path, generate):
    """Read a secret from path, or write a new one there (0600) when the file does not exist."""
    path = pathlib.Path(path)
    if path.exists():
        return path.read_text().strip()
    value = generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, 'w') as handle:
        handle.write(value + '\n')
    return value


async def serve(args):
    password = _secret_from(args.password_file, lambda: secrets.token_urlsafe(18))
    token = _secret_from(args.token_file, lambda: str(__import__('uuid').uuid4()))
    pve = seed(FakePve(user='root@pam', password=password, host=args.host, port=args.port))
    pve.time_scale = args.time_scale
    pve.apitokens[TOKEN_ID] = token
    tmp = tempfile.mkdtemp(prefix='mc-fakepve-')
    try:
        certfile, keyfile, _unused = make_cert(tmp, hosts=(args.host,))
        await pve.start(certfile, keyfile)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print('fakepve listening on https://{0}:{1} (node {2}, token {3})'.format(pve.host, pve.port, NODE, TOKEN_ID),
          flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await pve.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=8006)
    parser.add_argument('--password-file', required=True)
    parser.add_argument('--token-file', required=True)
    parser.add_argument('--time-scale', type=float, default=0.05,
                        help='real seconds per PVE second (default 0.05: tasks take a little real time)')
    asyncio.run(serve(parser.parse_args()))


if __name__ == '__main__':
    main()
