"""A second opinion from the real exportfs (nfs-utils) on the files nfs_export writes.

Each generated file (see test_nfs_exports_properties) gets the module's export added, then exportfs -ra reads it in a
private mount and network namespace (its own /etc with that file as /etc/exports, a tmpfs /var/lib/nfs; no kernel
nfsd is needed to parse and write etab), and the exports it lists in etab must be exactly the ones our parser reads:
same paths (escapes and quotes decoded), same clients, same ro/rw.

exportfs comes from MEDIACLUSTER_EXPORTFS (a path to the binary), PATH, /usr/sbin, or the copy scripts/host-setup.sh
extracts from Debian's nfs-kernel-server (installing that package would remove nfs-ganesha); without one, or without
root for the namespaces, the test skips and says why.
"""

import ipaddress
import os
import pathlib
import re
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings

from ansible_collections.homelab.mediacluster.plugins.module_utils import nfs_exports as ne

from .test_nfs_exports_properties import exports_files, wanted_clients, wanted_paths

PEER = '/usr/local/lib/mediacluster-test-peers/nfs-kernel-server/usr/sbin/exportfs'  # scripts/host-setup.sh


def find_exportfs():
    for candidate in (os.environ.get('MEDIACLUSTER_EXPORTFS'), shutil.which('exportfs'), '/usr/sbin/exportfs', PEER):
        if candidate and os.access(candidate, os.X_OK):
            probe = subprocess.run([candidate, '-h'], capture_output=True, timeout=30, check=False)
            if b'usage: exportfs' in probe.stdout + probe.stderr:
                return candidate
    return None


EXPORTFS = find_exportfs()
UNSHARE = shutil.which('unshare')
pytestmark = [
    pytest.mark.skipif(EXPORTFS is None, reason='exportfs not found (run scripts/host-setup.sh as root, or set '
                                                'MEDIACLUSTER_EXPORTFS to an exportfs binary)'),
    pytest.mark.skipif(UNSHARE is None or os.geteuid() != 0,
                       reason='needs root and unshare for a private mount and network namespace'),
]

ORACLE = settings(derandomize=True, database=None, deadline=None, max_examples=40,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                         HealthCheck.function_scoped_fixture])
ETAB_LINE = re.compile(rb'^(\S+)\t(\S*)\((ro|rw),')  # an export without a client has an empty host: the world
# exportfs resolves plain host names (none resolve in an empty network namespace, so it drops them); the other
# forms it keeps as written
RESOLVED_BY_NAME = re.compile(r'^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$')


def run_exportfs(root, data):
    etc = root / 'etc'
    if etc.exists():
        shutil.rmtree(etc)
    (etc / 'exports.d').mkdir(parents=True)
    for name in ('hosts', 'nsswitch.conf', 'passwd', 'group', 'host.conf'):
        if os.path.exists('/etc/' + name):
            shutil.copy('/etc/' + name, etc / name)
    (etc / 'exports').write_bytes(data)
    (root / 'nfs').mkdir(exist_ok=True)
    script = ('mount -t tmpfs none /var/lib/nfs && touch /var/lib/nfs/etab /var/lib/nfs/rmtab && '
              'mount --bind "$1" /etc && "$2" -ra >/dev/null 2>&1; cat /var/lib/nfs/etab')
    result = subprocess.run([UNSHARE, '--mount', '--net', 'sh', '-c', script, 'sh', str(etc), EXPORTFS],
                            capture_output=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr.decode(errors='replace')
    found = set()
    for line in result.stdout.splitlines():
        match = ETAB_LINE.match(line)
        assert match, line
        path = re.sub(rb'\\([0-7]{3})', lambda m: bytes([int(m.group(1), 8)]), match.group(1))
        found.add((path, match.group(2).decode() or '*', match.group(3).decode()))
    return found


def is_address(host):
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def ours(data):
    """(path bytes, host, ro|rw) of every export as our parser reads data, leaving out what exportfs drops."""
    found = set()
    for entry in ne.entries(data):
        if entry.ignored:
            continue
        for host, _opts in entry.clients:
            if (RESOLVED_BY_NAME.match(host) and not is_address(host)) or host == '\\':
                continue
            mode = 'ro'
            for option in entry.options_for(host):
                if option in ('ro', 'rw'):
                    mode = option
            found.add((ne.encode(entry.path), host, mode))
    return found


def comparable(found, data):
    """Drop modes where one path and host appear twice (exportfs merges duplicates in its own order)."""
    keys = [(p, h) for p, h, _m in ours(data)]
    return set((p, h, m if keys.count((p, h)) == 1 else '?') for p, h, m in found)


@pytest.fixture(scope='module')
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp('exportfs')


def test_exportfs_reads_the_issue_cases_as_we_do(scratch):
    data = (b'# c\r\n/srv/a\\040b 10.0.0.1(ro)\r\n/srv/c 10.0.0.3(ro) \\\n')
    data = ne.apply(data, 'data', '/srv/nas/say "hi" #1', [('10.82.0.0/24', ['rw', 'mp=/srv/nas'])])
    expected = {(b'/srv/a b', '10.0.0.1', 'ro'), (b'/srv/c', '10.0.0.3', 'ro'),
                (b'/srv/nas/say "hi" #1', '10.82.0.0/24', 'rw')}
    assert ours(data) == expected
    assert run_exportfs(pathlib.Path(scratch), data) == expected


@ORACLE
@given(exports_files(), wanted_paths, wanted_clients)
def test_exportfs_agrees_with_the_parser_on_edited_files(scratch, data, path, client_list):
    edited = ne.apply(data, 'data', path, client_list)
    mine = ours(edited)
    served = [h for h, _o in client_list if not (RESOLVED_BY_NAME.match(h) and not is_address(h))]
    assert set((ne.encode(path), h) for h in served) <= set((p, h) for p, h, _m in mine)
    assert comparable(run_exportfs(pathlib.Path(scratch), edited), edited) == comparable(mine, edited)
