"""playbooks/00_preflight.yml itself (ansible-playbook, offline in a private network namespace): twenty different
mistakes listed in one run with nothing touched, a few corpus cases end to end, and the example inventory fast."""

import resource
import shutil
import time

import pytest

from ..conftest import ROOT, tail
from .corpus import BROKEN, LEGIT
from .runner import needs_offline, preflight, problem_count, recap_hosts

CASES = {case[0]: case for case in BROKEN}
# the text edit (a duplicated key) comes last: the others rewrite the files through a YAML dump
TWENTY = [
    'vault-k3s-token-missing',
    'group-storage-node',
    'server-and-agent',
    'ip-octet-256',
    'vip-is-nas',
    'service-cidr-overlap',
    'var-longhorn-replicas',
    'backup-target-smb',
    'cron-four-fields',
    'sonarr-latest',
    'common-timezone',
    'claim-token-shape',
    'plex-domain',
    'gpu-label-value',
    'vmid-short',
    'guest-node-unknown',
    'journal-size',
    'puid-string',
    'api-key-short',
    'duplicate-var-key-2',
]


def _copy(tmp_path):
    inv = tmp_path / 'inventory'
    shutil.copytree(ROOT / 'inventory' / 'example', inv)
    return inv


@needs_offline
def test_twenty_mistakes_are_listed_in_one_run_and_nothing_is_touched(tmp_path):
    inv = _copy(tmp_path)
    for name in TWENTY:
        CASES[name][1](inv)
    code, output = preflight('preflight-twenty', inv)
    assert code != 0, tail(output)
    missing = [name for name in TWENTY if CASES[name][2] not in output]
    assert not missing, 'not reported: {0}\n{1}'.format(missing, tail(output, 60))
    assert problem_count(output) >= 20
    assert recap_hosts(output) == [('localhost', '0')], 'the preflight touched a host or changed something'


@needs_offline
@pytest.mark.parametrize('name', ['duplicate-host-block', 'group-k3s-agent', 'vip-outside', 'nas-clients-miss-nodes',
                                  'vault-claim-missing'])
def test_corpus_case_through_ansible_playbook(tmp_path, name):
    _name, edit, message, place = CASES[name]
    inv = _copy(tmp_path)
    edit(inv)
    code, output = preflight('preflight-' + name, inv)
    assert code != 0, tail(output)
    assert message in output and place in output, tail(output, 40)
    assert recap_hosts(output) == [('localhost', '0')]


@needs_offline
@pytest.mark.parametrize('name', ['dns-names-as-hosts', 'tokens-with-metacharacters', 'managed-nas-wired-to-its-facts'])
def test_legitimate_variant_through_ansible_playbook(tmp_path, name):
    edit = dict(LEGIT)[name]
    inv = _copy(tmp_path)
    edit(inv)
    code, output = preflight('preflight-legit-' + name, inv)
    assert code == 0, tail(output, 40)
    assert 'The inventory passed every check.' in output


@needs_offline
def test_example_inventory_preflight_takes_under_five_seconds():
    """Counted in CPU seconds of ansible-playbook and its children: the test machine's cores are shared, so wall
    time measures the neighbours as much as the preflight."""
    preflight('preflight-warm', ROOT / 'inventory' / 'example')  # first run: byte-compiles the collection
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    code, output = preflight('preflight-timed', ROOT / 'inventory' / 'example')
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert code == 0, tail(output)
    assert cpu < 5, 'the preflight of the example inventory used {0:.1f}s of CPU ({1:.1f}s wall)'.format(cpu, wall)


@needs_offline
def test_probes_name_a_nas_that_does_not_answer(tmp_path):
    """With the probes on, in a network namespace with only loopback: the example inventory's NAS (an unmanaged
    NFS server, 192.168.1.29:2049) cannot be reached, which the preflight names with the reason; its VIP does not
    answer either, which is what a free VIP looks like, so it is not reported."""
    code, output = preflight('preflight-probes', ROOT / 'inventory' / 'example', '-e',
                             'mediacluster_preflight_probes=true')
    flat = ' '.join(output.split())
    assert code != 0, tail(output)
    assert 'the NAS 192.168.1.29 does not answer on port 2049 ([Errno 101] Network is unreachable)' in flat, \
        tail(output)
    assert 'is taken' not in flat and problem_count(output) == 1
