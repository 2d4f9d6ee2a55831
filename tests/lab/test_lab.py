"""The local lab: up, smoke (twice: the rerun changes nothing), down leaving nothing behind; and the bad inputs
(missing podman, a taken port, a failure half-way) fail with a clear message and leave no container behind."""

import base64
import json
import re
import socket
import subprocess
import tempfile
import urllib.parse

import pytest
import yaml

from ..conftest import ROOT, VENV_BIN, run_logged, tail

pytestmark = pytest.mark.lab
LAB = [str(VENV_BIN / 'python'), str(ROOT / 'scripts' / 'lab.py')]


def _labelled(kind, name):
    cmd = ['podman', kind, 'ls', '-a'] if kind == 'container' else ['podman', 'network', 'ls']
    out = subprocess.run(cmd + ['--filter', 'label=mediacluster.lab=' + name, '--format', '{{.Names}}'
                                if kind == 'container' else '{{.Name}}'], capture_output=True, text=True,
                         check=False).stdout
    return out.split()


def _recap(output):
    """host -> changed count, from the PLAY RECAP of an ansible-playbook run."""
    return {m[0]: int(m[1]) for m in
            (line.split()[0::3][:1] + [line.split('changed=')[1].split()[0]]
             for line in output.splitlines() if ' changed=' in line and ' ok=' in line)}


@pytest.fixture
def scratch_inventory(tmp_path):
    """A one-node lab of its own (own name, subnet, ports, state dir) so a developer's lab is never touched."""
    def make(nodes=1, kube_port=None, extra_args=None):
        inv = tmp_path / 'inventory'
        (inv / 'group_vars').mkdir(parents=True)
        hosts = {'labtest-{0}'.format(i): {'ansible_host': '10.79.0.{0}'.format(10 + i)} for i in range(nodes)}
        if extra_args:
            hosts['labtest-{0}'.format(nodes - 1)]['lab_podman_args'] = extra_args
        (inv / 'hosts.yml').write_text(yaml.safe_dump({'all': {'children': {'lab_nodes': {'hosts': hosts}}}}))
        (inv / 'group_vars' / 'all.yml').write_text(yaml.safe_dump({
            'lab_name': 'labtest', 'lab_network': 'mclabtest', 'lab_subnet': '10.79.0.0/24',
            'lab_pve_port': 18906, 'lab_kube_port': kube_port or 18943}))
        return inv
    yield make
    subprocess.run(LAB + ['down', '-i', str(tmp_path / 'inventory')], capture_output=True,
                   env={'MEDIACLUSTER_LAB_DIR': str(tmp_path / 'state'), 'PATH': '/usr/bin:/bin:/usr/sbin:/sbin'},
                   check=False)


def test_lab_up_smoke_rerun_down():
    was_up = subprocess.run(LAB + ['status'], capture_output=True, check=False).returncode == 0
    code, output = run_logged('lab-up', LAB + ['up'])
    assert code == 0, tail(output)
    try:
        playbook = [str(VENV_BIN / 'ansible-playbook'), '-i', 'inventory/lab', 'playbooks/smoke.yml']
        code, first = run_logged('lab-smoke-1', playbook)
        assert code == 0, tail(first)
        hosts = json.loads(subprocess.run([str(VENV_BIN / 'ansible-inventory'), '-i', 'inventory/lab', '--list'],
                                          capture_output=True, text=True, cwd=ROOT,
                                          check=False).stdout)['lab_nodes']['hosts']
        recap = _recap(first)
        assert set(hosts) <= set(recap), 'smoke did not reach every lab node: {0}'.format(sorted(set(hosts) -
                                                                                                 set(recap)))
        assert 'Proxmox VE: nodes' in first and 'marker ConfigMap read back' in first
        code, second = run_logged('lab-smoke-2', playbook)
        assert code == 0, tail(second)
        assert set(_recap(second).values()) == {0}, 'the smoke rerun changed something:\n' + tail(second, 20)
    finally:
        if not was_up:
            code, output = run_logged('lab-down', LAB + ['down'])
            assert code == 0, tail(output)
    if not was_up:
        assert _labelled('container', 'lab') == [] and _labelled('network', 'lab') == []
        assert not (ROOT / '.lab').exists()
        for port in (8006, 16443):
            with socket.socket() as sock:
                assert sock.connect_ex(('127.0.0.1', port)) != 0, 'port {0} still answers after down'.format(port)


def test_missing_podman_is_named(scratch_inventory, tmp_path):
    inv = scratch_inventory()
    result = subprocess.run(LAB + ['up', '-i', str(inv)], capture_output=True, text=True,
                            env={'PATH': str(tmp_path / 'empty-bin'), 'MEDIACLUSTER_LAB_DIR': str(tmp_path / 's')},
                            check=False)
    assert result.returncode == 1
    assert 'podman' in result.stderr and 'make host-setup' in result.stderr
    assert _labelled('container', 'labtest') == []


def test_taken_port_is_named_before_anything_starts(scratch_inventory, tmp_path):
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        inv = scratch_inventory(kube_port=port)
        code, output = run_logged('lab-port-taken', LAB + ['up', '-i', str(inv)],
                                  MEDIACLUSTER_LAB_DIR=str(tmp_path / 'state'))
    assert code == 1
    assert 'port {0} on 127.0.0.1 (for the kube emulator) is taken'.format(port) in output
    assert _labelled('container', 'labtest') == [] and _labelled('network', 'labtest') == []


def test_failure_half_way_leaves_nothing(scratch_inventory, tmp_path):
    inv = scratch_inventory(nodes=2, extra_args=['--no-such-podman-flag'])
    code, output = run_logged('lab-half-way', LAB + ['up', '-i', str(inv)],
                              MEDIACLUSTER_LAB_DIR=str(tmp_path / 'state'))
    assert code == 1
    assert 'up failed; tearing down' in output and 'removed containers: labtest-0' in output
    assert _labelled('container', 'labtest') == [] and _labelled('network', 'labtest') == []


# Secret keys whose values are meant to be shown (a user name is not a secret).
NOT_SECRET_KEYS = {'username', 'user', 'WEBUI_USERNAME'}


def _lab_secrets():
    """name -> value of every secret the lab run handled: the Proxmox token and password (.lab/), the k3s token
    (first server's token file), and every value of every Secret in the Kubernetes emulator."""
    lab_dir = ROOT / '.lab'
    secrets = {name: (lab_dir / name).read_text().strip() for name in ('pve-token', 'pve-password')}
    token = subprocess.run(['podman', 'exec', 'lab-cp1', 'cat', '/var/lib/rancher/k3s/server/token'],
                           capture_output=True, text=True, check=False)
    if token.returncode == 0 and token.stdout.strip():
        secrets['k3s token'] = token.stdout.strip()
    # the emulator lists every namespace's Secrets at the API path (kubectl's discovery has no entry for them)
    listing = subprocess.run(['kubectl', '--kubeconfig', str(lab_dir / 'kubeconfig'), 'get', '--raw',
                              '/api/v1/secrets'], capture_output=True, text=True, check=True)
    for item in json.loads(listing.stdout)['items']:
        for key, value in (item.get('data') or {}).items():
            if key not in NOT_SECRET_KEYS:
                name = '{0}/{1}[{2}]'.format(item['metadata']['namespace'], item['metadata']['name'], key)
                secrets[name] = base64.b64decode(value).decode('utf-8', 'replace')
    return {name: value for name, value in secrets.items() if len(value) >= 8}


def _leaks(output, secrets):
    """Which secrets appear in output as they are, base64-encoded or URL-encoded (forms, not values, are named)."""
    found = []
    for name, value in secrets.items():
        forms = {'plain': value, 'base64': base64.b64encode(value.encode()).decode(),
                 'url-encoded': urllib.parse.quote(value, safe=''), 'url-encoded+': urllib.parse.quote_plus(value)}
        found += ['{0} ({1})'.format(name, form) for form, text in forms.items() if text in output]
    return found


def test_site_runs_end_to_end_on_the_lab_and_reruns_unchanged():
    """The README's main command: site.yml against the lab (fakepve guests, podman nodes, ganesha NAS, Kubernetes
    emulator; k3s in install/configure-only mode unless MEDIACLUSTER_K3S_BINARY is set), then a no-op rerun.
    The first run is at -vvv, and no secret it handled may appear in its output in any form (issue 16, item 13).
    Then each numbered playbook runs alone with an empty fact cache and changes nothing (issue 20)."""
    was_up = subprocess.run(LAB + ['status'], capture_output=True, check=False).returncode == 0
    code, output = run_logged('lab-up-site', LAB + ['up'])
    assert code == 0, tail(output)
    try:
        playbook = [str(VENV_BIN / 'ansible-playbook'), '-i', 'inventory/lab', 'playbooks/site.yml']
        code, first = run_logged('lab-site-1', playbook + ['-vvv'], timeout=1800)
        assert code == 0, tail(first, 80)
        secrets = _lab_secrets()
        assert len(secrets) >= 8, sorted(secrets)
        assert _leaks(first, secrets) == [], 'secrets in the -vvv output of site.yml (.cache/test-logs/lab-site-1.log)'
        hosts = json.loads(subprocess.run([str(VENV_BIN / 'ansible-inventory'), '-i', 'inventory/lab', '--list'],
                                          capture_output=True, text=True, cwd=ROOT,
                                          check=False).stdout)['lab_nodes']['hosts']
        assert set(hosts) <= set(_recap(first)), 'site.yml did not reach every lab node'
        assert 'The inventory passed every check.' in first and 'Manual step left' in first
        code, second = run_logged('lab-site-2', playbook, timeout=1800)
        assert code == 0, tail(second, 80)
        changed = {host: n for host, n in _recap(second).items() if n}
        assert not changed, 'the no-op rerun of site.yml changed something: {0}'.format(changed)
        _each_playbook_alone_with_an_empty_fact_cache()
    finally:
        if not was_up:
            code, output = run_logged('lab-down-site', LAB + ['down'])
            assert code == 0, tail(output)


def _each_playbook_alone_with_an_empty_fact_cache():
    """Issue 20: any numbered playbook runs alone on a fresh controller (an empty fact cache of its own) against the
    converged lab, and changes nothing: no value reaches a later playbook through the fact cache. The cache is the
    jsonfile one of ansible.cfg, in a new empty directory per playbook."""
    playbooks = sorted(p.name for p in (ROOT / 'playbooks').glob('[0-9][0-9]_*.yml'))
    assert len(playbooks) >= 11, playbooks
    failures = []
    for name in playbooks:
        with tempfile.TemporaryDirectory(prefix='empty-fact-cache.') as cache:
            command = [str(VENV_BIN / 'ansible-playbook'), '-i', 'inventory/lab', 'playbooks/' + name]
            code, out = run_logged('lab-alone-' + name[:-4], command, timeout=900,
                                   ANSIBLE_CACHE_PLUGIN='jsonfile', ANSIBLE_CACHE_PLUGIN_CONNECTION=cache)
        changed = {host: n for host, n in _recap(out).items() if n}
        if code != 0 or changed:
            failures.append('{0}: exit {1}, changed {2} (.cache/test-logs/lab-alone-{3}.log)'.format(
                name, code, changed, name[:-4]))
    assert failures == [], failures


def test_preflight_finds_a_vip_that_another_machine_holds():
    """A machine holding the VIP with no port open (no SSH, no API) is found through the controller's ARP table; the
    free VIP of the lab passes."""
    was_up = subprocess.run(LAB + ['status'], capture_output=True, check=False).returncode == 0
    code, output = run_logged('lab-up-vip', LAB + ['up'])
    assert code == 0, tail(output)
    squatter = 'lab-vip-squatter'
    try:
        # a bare container on the lab network: it answers ARP for 10.77.0.101 and nothing else (no init, no sshd)
        subprocess.run(['podman', 'run', '-d', '--rm', '--name', squatter, '--label', 'mediacluster.lab=lab',
                        '--network', 'mclab', '--ip', '10.77.0.101', '--runtime', 'runc', '--ulimit',
                        'nofile=20000:20000', '--ulimit', 'nproc=32768:32768', 'localhost/mediacluster-node:bookworm',
                        'sleep', '600'], check=True, capture_output=True)
        playbook = [str(VENV_BIN / 'ansible-playbook'), '-i', 'inventory/lab', 'playbooks/00_preflight.yml']
        code, taken = run_logged('lab-preflight-vip-taken', playbook + ['-e', 'k3s_common_vip=10.77.0.101'])
        flat = ' '.join(taken.split())
        assert code != 0, tail(taken)
        assert re.search(r'the VIP 10\.77\.0\.101 is taken: the machine with MAC [0-9a-f:]{17} answers ARP for it, '
                         r'but nothing answers the Kubernetes API on 6443', flat), tail(taken)
        assert 'answers on SSH' not in flat
        code, free = run_logged('lab-preflight-vip-free', playbook)
        assert code == 0, tail(free)
        assert 'The inventory passed every check.' in free
    finally:
        subprocess.run(['podman', 'rm', '-f', '-t', '0', squatter], capture_output=True, check=False)
        if not was_up:
            code, output = run_logged('lab-down-vip', LAB + ['down'])
            assert code == 0, tail(output)
