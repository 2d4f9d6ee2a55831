"""Benchmark (not a test): homelab.mediacluster.proxmox_lxc vs community.proxmox's `proxmox` module on one fakepve.

For each module: create a container, rerun with the same desired state (community.proxmox with update=true, its
only way to converge an existing container), then change one field (cores 4 -> 6) and count the keys the PUT sends
and whether net0 keeps its MAC address. Reports API requests (total and writes: POST/PUT/DELETE, the login
ticket excluded) and wall time per run. Both modules run in-process with the same proxmoxer, against a fresh
fakepve each (127.0.0.1, random port, time_scale 0 so tasks finish at once and the figures are client-side cost).

    .venv/bin/python bench/proxmox_modules.py [--runs 5]
"""

import argparse
import importlib
import io
import json
import pathlib
import statistics
import sys
import tempfile
import time
from contextlib import redirect_stdout
from urllib.parse import parse_qs

from ansible.module_utils.testing import patch_module_args
from fakepve import FakePve
from fakepve.certs import make_cert
from fakepve.pytest_plugin import _Serving

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / '.collections'))

from tests.peers.pve_lab import CT_TEMPLATE, NODE, seed  # noqa: E402

PASSWORD = 'secret'  # noqa: S105 - the throwaway password of a fakepve on loopback
WRITES = ('POST', 'PUT', 'DELETE')
COMMON = dict(node=NODE, vmid=113, hostname='k3s-w3', ostemplate='local:vztmpl/' + CT_TEMPLATE, cores=4,
              memory=8192, swap=0, onboot=True, unprivileged=False)
OURS = dict(COMMON, disk_size=40, net={'net0': 'name=eth0,bridge=vmbr0,ip=10.77.0.13/24,gw=10.77.0.1'},
            features={'nesting': True, 'keyctl': True}, mount_points={'mp0': 'local-lvm:100,mp=/var/lib/data'},
            state='present')
THEIRS = dict(COMMON, disk='local-lvm:40', netif={'net0': 'name=eth0,bridge=vmbr0,ip=10.77.0.13/24,gw=10.77.0.1'},
              features=['nesting=1', 'keyctl=1'], mounts={'mp0': 'local-lvm:100,mp=/var/lib/data'}, state='present',
              update=True)
MODULES = {
    'homelab.mediacluster.proxmox_lxc': ('ansible_collections.homelab.mediacluster.plugins.modules.proxmox_lxc', OURS),
    'community.proxmox.proxmox': ('ansible_collections.community.proxmox.plugins.modules.proxmox', THEIRS),
}


def run(pve, cafile, modname, args):
    module = importlib.import_module(modname)
    conn = dict(api_host=pve.host, api_port=pve.port, api_user='root@pam', api_password=PASSWORD)
    if 'community' in modname:
        conn['validate_certs'] = False
    else:
        conn['ca_path'] = cafile
    conn.update(args)
    start = len(pve.requests)
    out = io.StringIO()
    began = time.perf_counter()
    with patch_module_args(conn), redirect_stdout(out):
        try:
            module.main()
        except SystemExit:
            pass
    elapsed = time.perf_counter() - began
    result = json.loads(out.getvalue())
    reqs = [r for r in pve.requests[start:] if not r[1].endswith('/access/ticket')]
    writes = [r for r in reqs if r[0] in WRITES]
    sent = []
    for r in writes:
        if r[0] == 'PUT' and r[1].endswith('/config'):
            body = r[2].decode() if isinstance(r[2], bytes) else (r[2] or '')
            sent = sorted(k for k in parse_qs(body) if k not in ('digest', 'vmid', 'node'))
    return dict(changed=result.get('changed'), failed=result.get('failed', False), msg=result.get('msg'), sent=sent,
                requests=len(reqs), writes=len(writes), write_calls=['{0} {1}'.format(r[0], r[1]) for r in writes],
                seconds=elapsed)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--runs', type=int, default=5, help='repetitions (fresh fakepve each) for the timings')
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix='mc-bench-')
    certfile, keyfile, _unused = make_cert(tmp, hosts=('127.0.0.1',))
    rows = {}
    for label, (modname, margs) in MODULES.items():
        samples = {'create': [], 'rerun': [], 'change cores': []}
        for _unused in range(args.runs):
            pve = FakePve(user='root@pam', password=PASSWORD, host='127.0.0.1', port=0)
            pve.time_scale = 0
            serving = _Serving(seed(pve), certfile, keyfile)
            try:
                samples['create'].append(run(pve, certfile, modname, margs))
                if samples['create'][-1]['failed'] or pve.ct(113) is None:
                    raise SystemExit('{0}: create failed: {1}'.format(label, samples['create'][-1]))
                samples['rerun'].append(run(pve, certfile, modname, margs))
                mac = pve.ct(113).config.get('net0', '')
                volumes = (pve.ct(113).config.get('rootfs'), pve.ct(113).config.get('mp0'))
                one = run(pve, certfile, modname, dict(margs, cores=6))
                one['mac_kept'] = pve.ct(113).config.get('net0', '') == mac
                one['volumes_kept'] = (pve.ct(113).config.get('rootfs'), pve.ct(113).config.get('mp0')) == volumes
                one['unused'] = sorted(k for k in pve.ct(113).config if k.startswith('unused'))
                samples['change cores'].append(one)
            finally:
                serving.stop()
        rows[label] = samples
    print('| module | step | changed | requests | writes | keys in the config PUT | wall time (median of {0}) |'
          .format(args.runs))
    print('|---|---|---|---|---|---|---|')
    for label, samples in rows.items():
        for step in ('create', 'rerun', 'change cores'):
            first = samples[step][0]
            if first['failed']:
                print('| {0} | {1} | FAILED: {2} | | | | |'.format(label, step, first['msg']))
                continue
            median = statistics.median(s['seconds'] for s in samples[step])
            keys = ', '.join(first['sent']) if first['sent'] else '-'
            if 'mac_kept' in first:
                keys += ' (net0 MAC {0}; disks {1}{2})'.format(
                    'kept' if first['mac_kept'] else 'CHANGED', 'kept' if first['volumes_kept'] else 'CHANGED',
                    ', new ' + '/'.join(first['unused']) if first['unused'] else '')
            print('| {0} | {1} | {2} | {3} | {4} | {5} | {6:.0f} ms |'.format(
                label, step, first['changed'], first['requests'], first['writes'], keys, median * 1000))
    print()
    for label, samples in rows.items():
        print('{0} rerun writes: {1}'.format(label, samples['rerun'][0]['write_calls'] or 'none'))
        print('{0} rerun keys in the config PUT: {1}'.format(label, samples['rerun'][0]['sent'] or 'none'))


if __name__ == '__main__':
    main()
