#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tcp_probe
short_description: Try, in parallel, whether TCP ports answer
version_added: 0.1.0
description:
  - One TCP connection attempt to each target, all at the same time, each bounded by O(timeout). The preflight asks
    whether the control-plane VIP is free (or already this cluster's API) and whether the NAS answers; a port that
    refuses is answered at once, and one that does not answer costs O(timeout) once for all targets, not once each.
  - By default it does not wait for a port to open; it reports what answers now. With O(wait) it keeps trying the
    ports that do not answer yet, all at the same time, until each answers or the wait runs out (the role
    C(homelab.mediacluster.proxmox_guests) waits so for the SSH of the guests it started, one task for them all).
  - Read-only. It never fails because a port does not answer; the caller decides.
author:
  - homelab.mediacluster developers (@homelab-mediacluster)
extends_documentation_fragment:
  - homelab.mediacluster.attributes.read_only
options:
  targets:
    description: The host and port of each probe.
    type: list
    elements: dict
    required: true
    suboptions:
      host:
        description: Address or name.
        type: str
        required: true
      port:
        description: TCP port.
        type: int
        required: true
      name:
        description: A label returned with the result, so the caller can pick its probes out.
        type: str
        default: ''
      unless_open:
        description:
          - Another port of the same host that settles the question when it answers. Once it has answered, this
            target is no longer waited for (it may only be costing the timeout); its result then says RV(results[].open)
            C(false), RV(results[].waited) C(false) and why.
          - The preflight probes the VIP's SSH port only to name who holds the address when the Kubernetes API does
            not answer there, so a rerun, where the API answers on the VIP, does not wait for SSH's timeout.
        type: int
  timeout:
    description: Seconds each connection attempt may take.
    type: float
    default: 2
  wait:
    description:
      - Seconds to keep trying a target that does not answer, one attempt a second (each bounded by O(timeout)),
        until it answers. V(0) tries each target once.
    type: float
    default: 0
  neighbours:
    description:
      - Addresses whose entry in the kernel's neighbour table (C(ip neigh show <address>)) is returned in
        RV(neighbours), read after the probes. A connection attempt makes the kernel resolve an address on its own
        network, so a machine that holds it shows up there with its MAC even when none of its ports answers.
      - The preflight looks the VIP up so, in the same task as its probes.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Probe the VIP and the NAS
  homelab.mediacluster.tcp_probe:
    targets:
      - {host: 192.168.1.50, port: 6443, name: vip}
      - {host: 192.168.1.50, port: 22, name: vip}
      - {host: 192.168.1.20, port: 22, name: nas}
  register: probes

- name: Say whether the API answers on the VIP
  ansible.builtin.debug:
    msg: "{{ (probes.results | selectattr('port', 'equalto', 6443) | first).open }}"
"""

RETURN = r"""
results:
  description: One entry per target, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    host:
      description: The host probed.
      type: str
    port:
      description: The port probed.
      type: int
    name:
      description: The target's label.
      type: str
    open:
      description: Whether the connection was accepted.
      type: bool
    error:
      description: Why not (refused, timed out, no route, unknown name); empty when open.
      type: str
    waited:
      description: False when the target was not waited for, because its O(targets[].unless_open) port answered.
      type: bool
  sample: [{host: 192.168.1.50, port: 6443, name: vip, open: false, error: '[Errno 111] Connection refused'}]
neighbours:
  description: For each address in O(neighbours), what C(ip neigh show) printed for it (empty when the table has no
    entry, or when this host has no C(ip) command).
  returned: always
  type: dict
  sample: {192.168.1.50: '192.168.1.50 dev eth0 lladdr 52:54:00:12:34:56 REACHABLE'}
"""

import shutil
import socket
import subprocess
import threading
import time

from ansible_collections.homelab.mediacluster.plugins.module_utils.module_body import ModuleBody, ModuleFailure


def probe(host, port, timeout):
    """(open, error) of one connection attempt."""
    try:
        connection = socket.create_connection((host, port), timeout=timeout)
    except socket.timeout:
        return False, 'timed out after {0:g} s'.format(timeout)
    except (OSError, socket.error) as exc:
        return False, str(exc)
    connection.close()
    return True, ''


def probe_until(host, port, timeout, wait):
    """(open, error) of connection attempts to one port, one a second until it answers or wait seconds are over."""
    deadline = time.monotonic() + wait
    while True:
        started = time.monotonic()
        is_open, error = probe(host, port, timeout)
        if is_open or started + 1 > deadline:
            return is_open, error
        time.sleep(max(0.0, started + 1 - time.monotonic()))


def probe_all(targets, timeout, wait=0):
    """Probe every (host, port) at once (for wait seconds, until it answers); results in the order given. A target
    with unless_open is not waited for once that port of its host has answered."""
    results = [None] * len(targets)
    opened = set()  # the (host, port) that answered, read and written under `done`
    done = threading.Condition()

    def run(index, target):
        is_open, error = probe_until(target['host'], target['port'], timeout, wait)
        with done:
            if is_open:
                opened.add((target['host'], target['port']))
            if results[index] is None:  # not already given up on (unless_open)
                results[index] = dict(host=target['host'], port=target['port'], name=target.get('name') or '',
                                      open=is_open, error=error, waited=True)
            done.notify_all()

    def settled(index, target):
        other = target.get('unless_open')
        return results[index] is None and other is not None and (target['host'], other) in opened

    for index, target in enumerate(targets):
        thread = threading.Thread(target=run, args=(index, target))
        thread.daemon = True  # a target no longer waited for is left to time out on its own
        thread.start()
    with done:
        while True:
            for index, target in enumerate(targets):
                if settled(index, target):
                    results[index] = dict(host=target['host'], port=target['port'], name=target.get('name') or '',
                                          open=False, waited=False,
                                          error='not waited for: port {0} of {1} answered'.format(
                                              target['unless_open'], target['host']))
            if all(result is not None for result in results):
                return [dict(result) for result in results]
            done.wait()


def run(params, check_mode, diff):
    if params['timeout'] <= 0:
        raise ModuleFailure('tcp_probe: timeout must be more than 0 seconds (got {0}).'.format(params['timeout']))
    if params['wait'] < 0:
        raise ModuleFailure('tcp_probe: wait must be 0 or more seconds (got {0}).'.format(params['wait']))
    for target in params['targets']:
        if not 0 < target['port'] < 65536:
            raise ModuleFailure('tcp_probe: {0}:{1} is not a TCP port (1-65535); fix the port the caller '
                                'gives.'.format(target['host'], target['port']))
    results = probe_all(params['targets'], params['timeout'], params['wait'])
    return dict(changed=False, results=results, neighbours=read_neighbours(params['neighbours']))


def read_neighbours(addresses):
    """{address: the output of `ip neigh show <address>`}; empty text without an entry or an `ip` command."""
    ip = shutil.which('ip') if addresses else None
    found = {}
    for address in addresses:
        text = ''
        if ip:
            shown = subprocess.run([ip, 'neigh', 'show', address], capture_output=True, text=True, check=False)
            text = shown.stdout.strip() if shown.returncode == 0 else ''
        found[address] = text
    return found


# in the controller's process over the local connection (plugins/action/tcp_probe.py), as a module elsewhere
BODY = ModuleBody(dict(
    targets=dict(type='list', elements='dict', required=True, options=dict(
        host=dict(type='str', required=True),
        port=dict(type='int', required=True),
        name=dict(type='str', default=''),
        unless_open=dict(type='int'),
    )),
    timeout=dict(type='float', default=2),
    wait=dict(type='float', default=0),
    neighbours=dict(type='list', elements='str', default=[]),
), run)


def main():
    BODY.main()


if __name__ == '__main__':
    main()
