"""homelab.mediacluster.tcp_probe, the preflight's VIP and NAS probe (issue 18: the probes at once, not one
wait_for timeout after another): on loopback, a listening port is open and a closed one is refused at once; ports
that do not answer cost the timeout once for all of them, not once each."""

import importlib
import socket
import threading
import time

import pytest

from ..module_runner import MODULES, run_module

tcp_probe = importlib.import_module(MODULES + 'tcp_probe')  # after module_runner put the collection on the path


def _closed_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]  # nothing listens there once the socket is closed


def test_open_and_refused_ports_on_loopback():
    with socket.socket() as server:
        server.bind(('127.0.0.1', 0))
        server.listen(4)
        port = server.getsockname()[1]
        closed = _closed_port()
        started = time.monotonic()
        result = run_module('tcp_probe', {'targets': [{'host': '127.0.0.1', 'port': port},
                                                      {'host': '127.0.0.1', 'port': closed}]}, check=True)
    assert time.monotonic() - started < 1.5  # a refusal does not wait for the timeout
    assert result['changed'] is False
    first, second = result['results']
    assert (first['port'], first['open'], first['error']) == (port, True, '')
    assert (second['port'], second['open']) == (closed, False) and 'refused' in second['error'].lower()


def test_silent_ports_cost_the_timeout_once(monkeypatch):
    def silent(address, timeout):
        time.sleep(timeout)
        raise socket.timeout()

    monkeypatch.setattr(tcp_probe.socket, 'create_connection', silent)
    started = time.monotonic()
    ports = ((6443, 'vip'), (22, 'vip'), (2049, 'nas'))
    targets = [{'host': '192.0.2.1', 'port': port, 'name': name} for port, name in ports]
    results = tcp_probe.probe_all(targets, 0.5)
    assert time.monotonic() - started < 1.2  # three timeouts of 0.5 s side by side, not 1.5 s in a row
    assert [(r['port'], r['name']) for r in results] == [(6443, 'vip'), (22, 'vip'), (2049, 'nas')]
    assert all(not r['open'] and r['error'] == 'timed out after 0.5 s' for r in results)


def test_a_timeout_of_zero_is_refused():
    result = run_module('tcp_probe', {'targets': [{'host': '127.0.0.1', 'port': 22}], 'timeout': 0})
    assert result['failed'] and 'timeout must be more than 0 seconds' in result['msg']


@pytest.mark.parametrize('port', [0, 70000])
def test_a_port_outside_the_tcp_range_is_named(port):
    result = run_module('tcp_probe', {'targets': [{'host': '127.0.0.1', 'port': port}]})
    assert result['failed'] and '127.0.0.1:{0} is not a TCP port'.format(port) in result['msg']


def test_a_target_is_not_waited_for_once_the_port_that_settles_it_answers(monkeypatch):
    # the VIP's API answers at once, its SSH port would cost the timeout: a rerun's preflight does not wait for it
    def connect(address, timeout):
        if address[1] == 6443:
            return socket.socket()
        time.sleep(timeout)
        raise socket.timeout()

    monkeypatch.setattr(tcp_probe.socket, 'create_connection', connect)
    targets = [{'host': '192.0.2.1', 'port': 6443, 'name': 'vip'},
               {'host': '192.0.2.1', 'port': 22, 'name': 'vip', 'unless_open': 6443},
               {'host': '192.0.2.9', 'port': 22, 'name': 'nas', 'unless_open': 6443}]  # another host: waited for
    started = time.monotonic()
    results = tcp_probe.probe_all(targets, 1.0)
    assert 0.9 < time.monotonic() - started < 1.6  # the NAS's timeout only, once
    api, ssh, nas = results
    assert (api['open'], api['waited']) == (True, True)
    assert (ssh['open'], ssh['waited']) == (False, False)
    assert ssh['error'] == 'not waited for: port 6443 of 192.0.2.1 answered'
    assert (nas['open'], nas['waited'], nas['error']) == (False, True, 'timed out after 1 s')

    # when the settling port does not answer, the target is waited for as usual
    targets = [{'host': '192.0.2.1', 'port': 2222, 'name': 'vip'},
               {'host': '192.0.2.1', 'port': 22, 'name': 'vip', 'unless_open': 2222}]
    results = tcp_probe.probe_all(targets, 0.3)
    assert [(r['open'], r['waited']) for r in results] == [(False, True), (False, True)]


def test_wait_keeps_trying_a_port_until_it_answers():
    # the proxmox_guests role waits so for the SSH of the guests it started: the port opens 1.2 s after the start
    with socket.socket() as server:
        server.bind(('127.0.0.1', 0))
        port = server.getsockname()[1]
        opener = threading.Timer(1.2, server.listen, args=(4,))
        opener.start()
        started = time.monotonic()
        try:
            result = run_module('tcp_probe', {'targets': [{'host': '127.0.0.1', 'port': port, 'name': 'guest'}],
                                              'wait': 10})
        finally:
            opener.cancel()
        took = time.monotonic() - started
    assert result['results'][0]['open'] is True and result['results'][0]['error'] == '', result
    assert 1.1 < took < 4, took  # one attempt a second, not the whole wait


def test_a_wait_that_runs_out_reports_the_last_error():
    closed = _closed_port()
    started = time.monotonic()
    result = run_module('tcp_probe', {'targets': [{'host': '127.0.0.1', 'port': closed}], 'wait': 1.5})
    took = time.monotonic() - started
    assert result['results'][0]['open'] is False and 'refused' in result['results'][0]['error'].lower()
    assert 1.0 < took < 3.5, took
    assert run_module('tcp_probe', {'targets': [], 'wait': -1})['msg'] == (
        'tcp_probe: wait must be 0 or more seconds (got -1.0).')


def test_neighbours_are_read_after_the_probes(monkeypatch):
    """The preflight's ARP evidence for a taken VIP comes from the probe's own result (issue 18: no command task of
    its own): what `ip neigh show <address>` prints, per address asked for. The lab test
    (tests/lab/test_lab.py::test_preflight_finds_a_vip_that_another_machine_holds) reads a real entry."""
    calls = []

    def shown(argv, **_kwargs):
        calls.append(argv[1:])
        line = '10.77.0.101 dev mclab lladdr 0a:58:0a:4d:00:65 REACHABLE\n' if argv[-1] == '10.77.0.101' else ''
        return type('Done', (), {'returncode': 0, 'stdout': line})()

    monkeypatch.setattr(tcp_probe.shutil, 'which', lambda name: '/usr/sbin/ip' if name == 'ip' else None)
    monkeypatch.setattr(tcp_probe.subprocess, 'run', shown)
    result = run_module('tcp_probe', {'targets': [{'host': '127.0.0.1', 'port': _closed_port()}],
                                      'neighbours': ['10.77.0.101', '10.77.0.102']})
    assert result['neighbours'] == {'10.77.0.101': '10.77.0.101 dev mclab lladdr 0a:58:0a:4d:00:65 REACHABLE',
                                    '10.77.0.102': ''}
    assert calls == [['neigh', 'show', '10.77.0.101'], ['neigh', 'show', '10.77.0.102']]

    # a host without the ip command: no entry to read, not a failure
    monkeypatch.setattr(tcp_probe.shutil, 'which', lambda name: None)
    result = run_module('tcp_probe', {'targets': [], 'neighbours': ['10.77.0.101']})
    assert result['neighbours'] == {'10.77.0.101': ''} and not result.get('failed')
    assert run_module('tcp_probe', {'targets': []})['neighbours'] == {}
