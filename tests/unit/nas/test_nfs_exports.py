"""module_utils/nfs_exports: parse real-world exports files, render owned entries, never alter foreign lines,
and refuse bad input with messages that say how to fix it."""

import pathlib

import pytest

from ansible_collections.homelab.mediacluster.plugins.module_utils import nfs_exports as ne
from ansible_collections.homelab.mediacluster.plugins.module_utils.nfs_exports import ExportsError

FIXTURES = pathlib.Path(__file__).parent / 'fixtures'
REAL_FILES = sorted(p.name for p in FIXTURES.glob('*.exports'))
DATA = [('10.82.0.0/24', ['rw', 'sync', 'no_subtree_check', 'all_squash', 'anonuid=1000', 'anongid=1000'])]


def read(name):
    return (FIXTURES / name).read_text()


@pytest.mark.parametrize('name', REAL_FILES)
def test_parse_keeps_every_byte(name):
    text = read(name)
    assert ''.join(item.raw for item in ne.parse(text)) == text


def test_debian_default_is_only_comments():
    assert ne.entries(read('debian_default.exports')) == []


def test_handwritten_entries():
    found = {e.path: e for e in ne.entries(read('handwritten.exports'))}
    assert sorted(found) == ['/srv/Movies and TV', '/srv/nfs4', '/srv/nfs4/media', '/srv/public',
                             '/srv/scratch space', '/srv/transcode']
    # trailing comment is not an option
    assert found['/srv/nfs4'].clients == [('192.168.1.0/24', ['rw', 'sync', 'fsid=0', 'crossmnt',
                                                              'no_subtree_check'])]
    # continuation lines join into one entry with three clients, one IPv6, one wildcard
    assert found['/srv/nfs4/media'].clients == [
        ('192.168.1.0/24', ['ro', 'sync', 'no_subtree_check']),
        ('fd00:10::/64', ['ro', 'sync', 'no_subtree_check']),
        ('*.lan', ['ro'])]
    assert found['/srv/nfs4/media'].raw.count('\n') == 4
    # quoted path with spaces and "-defaults"
    movies = found['/srv/Movies and TV']
    assert movies.default_options == ['sync', 'no_subtree_check']
    assert movies.options_for('2001:db8::1') == ['sync', 'no_subtree_check', 'rw']
    # \040 escape, netgroup, ? wildcard
    assert found['/srv/scratch space'].clients == [('@trusted', ['rw', 'no_root_squash']),
                                                   ('?ack.example.org', ['ro'])]
    # "/path (ro)" is the classic pitfall: (ro) for every host
    assert found['/srv/public'].clients == [('*', ['ro'])]
    assert ne.fsid_of(found['/srv/nfs4'].all_options()) == '0'


def test_unraid_and_omv_entries():
    unraid = {e.path: e for e in ne.entries(read('unraid.exports'))}
    assert unraid['/mnt/user/media'].options_for('*')[:1] == ['fsid=101']
    assert ne.fsid_of(unraid['/mnt/user/longhorn_backup'].all_options()) == '102'
    omv = {e.path: e for e in ne.entries(read('omv.exports'))}
    assert ne.fsid_of(omv['/export'].all_options()) == '0'
    assert ne.fsid_of(omv['/export/Kubernetes'].all_options()).startswith('1a2b3c4d')


@pytest.mark.parametrize('name', REAL_FILES)
def test_add_update_remove_leave_foreign_lines_alone(name):
    text = read(name)
    added = ne.apply(text, 'data', '/srv/nas/data', DATA)
    assert added.startswith(text if text.endswith('\n') else text + '\n')
    assert added.endswith(ne.marker('data') + '/srv/nas/data 10.82.0.0/24(rw,sync,no_subtree_check,all_squash,'
                          'anonuid=1000,anongid=1000)\n')
    # re-applying the same export is a no-op
    assert ne.apply(added, 'data', '/srv/nas/data', DATA) == added
    # the owned entry is found again after parsing
    owned = [e for e in ne.entries(added) if e.owner == 'data']
    assert len(owned) == 1 and owned[0].clients == DATA
    # update in place: same position, foreign text intact
    updated = ne.apply(added, 'data', '/srv/nas/data', [('10.82.0.0/24', ['ro'])])
    assert updated == added.replace('(rw,sync,no_subtree_check,all_squash,anonuid=1000,anongid=1000)', '(ro)')
    # absent restores exactly the original text
    assert ne.apply(updated, 'data', None, None, 'absent') == text


def test_owned_entry_in_the_middle_is_updated_in_place():
    text = 'a\n'.replace('a', '/srv/a 10.0.0.1(ro)')
    text += ne.marker('mine') + '/srv/mine 10.0.0.1(ro)\n# after\n/srv/b 10.0.0.2(rw)\n'
    result = ne.apply(text, 'mine', '/srv/mine', [('10.0.0.0/8', ['rw'])])
    assert result == ('/srv/a 10.0.0.1(ro)\n' + ne.marker('mine') + '/srv/mine 10.0.0.0/8(rw)\n# after\n'
                      '/srv/b 10.0.0.2(rw)\n')


def test_other_owners_are_not_touched():
    text = ne.marker('backup') + '/srv/nas/backup 10.0.0.0/8(rw)\n'
    result = ne.apply(text, 'data', '/srv/nas/data', DATA)
    assert result.startswith(text)
    assert ne.apply(result, 'data', None, None, 'absent') == text


def test_stray_marker_is_reclaimed():
    text = '/srv/x 10.0.0.1(ro)\n' + ne.marker('data')
    result = ne.apply(text, 'data', '/srv/nas/data', DATA)
    assert result.count(ne.marker('data')) == 1 and result.startswith('/srv/x 10.0.0.1(ro)\n')


def test_file_without_final_newline():
    # the block brings the line ending the last line lacked and leaves its own line open, so the file still has no
    # final newline and removing the block gives back the original bytes
    added = ne.apply('/srv/x 10.0.0.1(ro)', 'd', '/srv/d', [('10.0.0.1', ['ro'])])
    assert added == '/srv/x 10.0.0.1(ro)\n' + ne.marker('d') + '/srv/d 10.0.0.1(ro)'
    assert ne.apply(added, 'd', '/srv/d', [('10.0.0.1', ['ro'])]) == added
    assert ne.apply(added, 'd', None, None, 'absent') == '/srv/x 10.0.0.1(ro)'


def test_path_with_spaces_round_trips():
    text = ne.apply('', 'tv', '/srv/Movies and TV', [('fd00::/64', ['rw'])])
    assert '"/srv/Movies and TV" fd00::/64(rw)\n' in text
    entry = ne.entries(text)[0]
    assert entry.path == '/srv/Movies and TV' and entry.owner == 'tv'


def test_unbalanced_quote_is_reported_with_the_line():
    with pytest.raises(ExportsError, match='line 2: unbalanced double quote'):
        ne.parse('# x\n"/srv/broken 10.0.0.1(rw)\n')


@pytest.mark.parametrize('host', ['10.82.0.0/24', '192.168.1.29', '10.0.0.0/255.0.0.0', 'fd00:10::/64',
                                  '2001:db8::1', 'nas.lan', '*.lan', 'node?.lan', '@cluster', 'k3s-w1'])
def test_valid_hosts(host):
    ne.validate_host(host)


@pytest.mark.parametrize('host, message', [
    ('*', 'set allow_world=true'),
    ('10.0.0.0/33', 'invalid prefix'),
    ('300.1.1.1', 'not a valid IP'),
    ('fd00::zz', 'not a valid IP'),
    ('bad host', 'without white space'),
    ('-dash.lan', 'neither a host name'),
    ('gss/krb5', 'removed gss/ syntax'),
    ('@bad group', 'netgroup'),
])
def test_invalid_hosts(host, message):
    with pytest.raises(ExportsError, match=message):
        ne.validate_host(host, name='export data')


def test_world_with_opt_in():
    ne.validate_host('*', allow_world=True)


@pytest.mark.parametrize('options, message', [
    (['rw', 'bogus'], "unknown export option 'bogus'"),
    (['rw=1'], "option 'rw=1' takes no value"),
    (['root_squash', 'no_root_squash'], 'root_squash and no_root_squash conflict'),
    (['all_squash', 'no_root_squash'], 'all_squash and no_root_squash conflict'),
    (['rw', 'ro'], 'rw and ro conflict'),
    (['sync', 'async'], 'sync and async conflict'),
    (['anonuid=media'], 'anonuid must be a number'),
    (['fsid=abc'], 'fsid must be a number'),
    (['fsid=1', 'fsid=2'], 'fsid is given twice'),
    (['sec=krb6'], 'unknown flavour'),
])
def test_invalid_options(options, message):
    with pytest.raises(ExportsError, match=message):
        ne.validate_options(options, 'export data', '10.0.0.0/8')


def test_options_deduplicated_and_ordered():
    assert ne.validate_options(['rw', 'sync', 'rw', 'fsid=root', 'sec=sys:krb5']) == ['rw', 'sync', 'fsid=root',
                                                                                      'sec=sys:krb5']


@pytest.mark.parametrize('path, root, message', [
    ('srv/nas/data', None, 'is not absolute'),
    ('', None, 'is not absolute'),
    ('/srv/nas/../etc', None, 'not normalised'),
    ('/etc', '/srv/nas', 'outside the allowed root /srv/nas'),
    ('/srv/nasty', '/srv/nas', 'outside the allowed root'),
])
def test_invalid_paths(path, root, message):
    with pytest.raises(ExportsError, match=message):
        ne.validate_path(path, root, 'export data')


def test_valid_paths():
    assert ne.validate_path('/srv/nas/data', '/srv/nas') == '/srv/nas/data'
    assert ne.validate_path('/srv/nas', '/srv/nas/') == '/srv/nas'


def test_foreign_conflicts():
    files = {'/etc/exports': read('handwritten.exports')}
    with pytest.raises(ExportsError, match='already exported by /etc/exports'):
        ne.check_foreign_conflicts('x', '/srv/transcode', DATA, files)
    with pytest.raises(ExportsError, match='fsid=0 is already used by /srv/nfs4'):
        ne.check_foreign_conflicts('x', '/srv/nas', [('10.0.0.0/8', ['ro', 'fsid=root'])], files)
    # our own entry of the same path is no conflict
    ours = {'/etc/exports.d/x.exports': ne.apply('', 'x', '/srv/nas', [('10.0.0.0/8', ['ro', 'fsid=0'])])}
    ne.check_foreign_conflicts('x', '/srv/nas', [('10.0.0.0/8', ['ro', 'fsid=0'])], ours)


def test_clients_validation():
    with pytest.raises(ExportsError, match='no clients given'):
        ne.normalise_clients([], name='export data')
    with pytest.raises(ExportsError, match='listed twice'):
        ne.normalise_clients([{'host': '10.0.0.1', 'options': []}, {'host': '10.0.0.1', 'options': ['ro']}])
    with pytest.raises(ExportsError, match='different fsid'):
        ne.normalise_clients([{'host': '10.0.0.1', 'options': ['fsid=1']},
                              {'host': '10.0.0.2', 'options': ['fsid=2']}])


def test_exports_files_reads_main_and_dropins(tmp_path):
    main = tmp_path / 'exports'
    main.write_text('/a 10.0.0.1(ro)\n')
    drop = tmp_path / 'exports.d'
    drop.mkdir()
    (drop / 'x.exports').write_text('/b 10.0.0.1(ro)\n')
    (drop / 'ignored.txt').write_text('/c 10.0.0.1(ro)\n')
    assert sorted(ne.exports_files(str(main), str(drop))) == [str(main), str(drop / 'x.exports')]
