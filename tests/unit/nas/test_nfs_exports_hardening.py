"""Issue 16, items 1-5: the exports editor keeps every byte it does not own (line endings, final newline, bytes
that are not UTF-8), refuses option values that would smuggle clients or lines into the file, writes paths with
double quotes so they parse back, terminates a dangling continuation line, and names file and line in every parse
error."""

import json

import pytest

from ansible_collections.homelab.mediacluster.plugins.module_utils import nfs_exports as ne
from ansible_collections.homelab.mediacluster.plugins.module_utils.nfs_exports import ExportsError

from .test_nfs_export_module import Host, data_args

DATA = [('10.82.0.0/24', ['rw', 'sync', 'no_subtree_check', 'all_squash', 'anonuid=1000', 'anongid=1000'])]

CRLF_FILE = (b'# /etc/exports written on Windows\r\n'
             b'/srv/a 10.0.0.1(ro,sync)\r\n'
             b'# caf\xe9 latin-1 comment, not UTF-8\r\n'
             b'/srv/b 10.0.0.2(rw,sync)\n'
             b'/srv/c 10.0.0.3(ro)')


# ---- item 1: line endings, final newline and non-UTF-8 bytes survive add, rerun and remove

def test_item1_crlf_and_non_utf8_bytes_survive_add_and_remove(tmp_path, capsys):
    host = Host(tmp_path)
    host.main.write_bytes(CRLF_FILE)
    added = host.run(capsys, _ansible_diff=True, **data_args(dest=str(host.main)))
    assert added.get('failed') is not True, added.get('msg')
    assert added['changed'] is True
    assert host.main.read_bytes().startswith(CRLF_FILE)
    # the diff shows the CRs and the latin-1 byte of the unchanged lines the same on both sides
    assert added['diff']['before'].startswith('# /etc/exports written on Windows\\r\n')
    assert '# caf\\xe9 latin-1' in added['diff']['before'] and added['diff']['after'].startswith(
        added['diff']['before'])
    rerun = host.run(capsys, **data_args(dest=str(host.main)))
    assert rerun['changed'] is False
    removed = host.run(capsys, name='data', state='absent', dest=str(host.main))
    assert removed['changed'] is True
    assert host.main.read_bytes() == CRLF_FILE


def test_item1_crlf_file_is_not_turned_into_lf(tmp_path, capsys):
    host = Host(tmp_path)
    original = b'# hand written\r\n/srv/a 10.0.0.1(ro,sync)\r\n'
    host.main.write_bytes(original)
    host.run(capsys, **data_args(dest=str(host.main)))
    assert host.main.read_bytes().startswith(original)
    host.run(capsys, name='data', state='absent', dest=str(host.main))
    assert host.main.read_bytes() == original


def test_item1_apply_on_bytes_restores_the_original_exactly():
    for original in (CRLF_FILE, CRLF_FILE + b'\r\n', b'', b'\n', b'/srv/x 10.0.0.1(ro)\r\n'):
        added = ne.apply(original, 'data', '/srv/nas/data', DATA)
        assert isinstance(added, bytes)
        assert ne.apply(added, 'data', '/srv/nas/data', DATA) == added
        assert ne.apply(added, 'data', None, None, 'absent') == original


# ---- item 2: option values are validated against their grammar

@pytest.mark.parametrize('option', [
    'mp=/x) *(rw,no_root_squash',
    'mountpoint=/x) *(rw,no_root_squash',
    'mp=/srv/a\n/etc 10.0.0.0/8(rw,no_root_squash)',
    'refer=/x@host) *(rw',
    'replicas=/x@a b',
    'refer=/export@nas\n/ *(rw)',
    'xprtsec=tls) *(rw',
    'xprtsec=bogus',
    'mp=relative/path',
    'fsid=deadbeef',
    'anonuid=1\t',
])
def test_item2_hostile_option_values_are_refused(option):
    with pytest.raises(ExportsError, match='export data client 10.0.0.0/8'):
        ne.validate_options(['rw', option], 'export data', '10.0.0.0/8')


def test_item2_allow_world_cannot_be_bypassed_through_an_option_value(tmp_path, capsys):
    host = Host(tmp_path)
    result = host.run(capsys, **data_args(clients=[dict(host='10.82.0.0/24',
                                                        options=['rw', 'mp=/x) *(rw,no_root_squash'])]))
    assert result.get('failed') is True and 'mp=' in result['msg']
    assert host.writes == 0 and list(host.dropins.iterdir()) == []


@pytest.mark.parametrize('option', ['mp', 'mountpoint', 'mp=/srv/nas', 'refer=/export/a@nas1+nas2:/b@10.0.0.9',
                                    'replicas=/srv/x@nas.lan', 'xprtsec=tls:mtls', 'xprtsec=none',
                                    'fsid=1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809', 'fsid=0x10'])
def test_item2_valid_option_values_are_accepted(option):
    assert ne.validate_options([option]) == [option]


# ---- item 3: a path with a double quote is written so that it parses back

@pytest.mark.parametrize('path', ['/srv/say"hi', '/srv/say "hi" twice', '/srv/back\\slash', '/srv/hash#tag',
                                  '/srv/caf\u00e9'])
def test_item3_paths_with_quotes_round_trip(path):
    text = ne.apply('/srv/other 10.0.0.1(ro)\n', 'q', path, [('10.0.0.1', ['ro'])])
    owned = [e for e in ne.entries(text) if e.owner == 'q']
    assert len(owned) == 1 and owned[0].path == path
    # and a second export in the same file still parses
    both = ne.apply(text, 'r', '/srv/r', [('10.0.0.2', ['ro'])])
    assert sorted(e.path for e in ne.entries(both)) == sorted(['/srv/other', path, '/srv/r'])


# ---- item 4: a last line ending in a continuation does not swallow the appended marker

@pytest.mark.parametrize('original', ['/srv/a 10.0.0.1(ro) \\\n', '/srv/a 10.0.0.1(ro) \\'])
def test_item4_dangling_continuation_keeps_the_marker(original):
    added = ne.apply(original, 'data', '/srv/nas/data', DATA)
    owned = [e for e in ne.entries(added) if e.owner == 'data']
    assert len(owned) == 1 and owned[0].path == '/srv/nas/data'
    foreign = [e for e in ne.entries(added) if e.owner is None]
    assert [(e.path, e.clients) for e in foreign] == [('/srv/a', [('10.0.0.1', ['ro'])])]
    assert ne.apply(added, 'data', '/srv/nas/data', DATA) == added
    assert ne.apply(added, 'data', None, None, 'absent') == original


def test_item4_module_rerun_after_dangling_continuation(tmp_path, capsys):
    host = Host(tmp_path)
    host.main.write_bytes(b'/srv/a 10.0.0.1(ro) \\\n')
    assert host.run(capsys, **data_args(dest=str(host.main)))['changed'] is True
    again = host.run(capsys, **data_args(dest=str(host.main)))
    assert again.get('failed') is not True, again.get('msg')
    assert again['changed'] is False


# ---- item 5: every parse or decode error names the file and the line

def test_item5_parse_error_in_a_foreign_file_names_file_and_line(tmp_path, capsys):
    host = Host(tmp_path)
    host.main.write_bytes(b'# hand written\n/srv/ok 10.0.0.1(ro)\n"/srv/broken 10.0.0.1(rw)\n')
    result = host.run(capsys, **data_args())
    assert result.get('failed') is True
    assert str(host.main) in result['msg'] and 'line 3' in result['msg']
    assert host.writes == 0


def test_item5_non_utf8_dropin_is_read_not_crashed_on(tmp_path, capsys):
    host = Host(tmp_path)
    (host.dropins / 'legacy.exports').write_bytes(b'# \xff\xfe legacy\n/srv/caf\xe9 10.0.0.1(ro)\n')
    result = host.run(capsys, **data_args())
    assert result.get('failed') is not True, result.get('msg')
    assert result['changed'] is True


def test_item5_parse_names_the_file_and_the_first_line_of_a_continued_entry():
    with pytest.raises(ExportsError, match=r'/etc/exports line 2: unbalanced double quote'):
        ne.parse('# x\n"/srv/broken \\\n  10.0.0.1(rw)\n', '/etc/exports')


# ---- found by the exportfs oracle: a line starting with CR/VT/FF ends exportfs' reading of the file

STOPPED = b'/srv/a 10.0.0.1(ro)\r\n\r\n/srv/b 10.0.0.2(ro)\r\n'


def test_export_goes_before_a_line_where_exportfs_stops_reading():
    added = ne.apply(STOPPED, 'data', '/srv/nas/data', DATA)
    assert added == (b'/srv/a 10.0.0.1(ro)\r\n' + ne.marker('data', '\r\n').encode()
                     + ne.render_entry('/srv/nas/data', DATA, '\r\n').encode() + b'\r\n/srv/b 10.0.0.2(ro)\r\n')
    assert [e.path for e in ne.entries(added) if e.ignored] == ['/srv/b']
    assert ne.apply(added, 'data', '/srv/nas/data', DATA) == added
    assert ne.apply(added, 'data', None, None, 'absent') == STOPPED
    # an export of ours left after such a line (an older version appended it) moves before it
    late = STOPPED + ne.marker('data').encode() + b'/srv/nas/data 10.0.0.9(ro)\n'
    moved = ne.apply(late, 'data', '/srv/nas/data', DATA)
    assert moved == added


def test_module_warns_which_exports_exportfs_ignores(tmp_path, capsys, monkeypatch):
    # the module runs in this process: once another test has loaded Ansible's controller code, module warnings go
    # to the controller's display instead of the result; run it as a module on a target, as it really does
    from ansible.module_utils import _internal
    monkeypatch.setattr(_internal, 'is_controller', False)
    host = Host(tmp_path)
    host.main.write_bytes(STOPPED)
    result = host.run(capsys, **data_args(dest=str(host.main)))
    assert result['changed'] is True
    warnings = json.dumps(result.get('warnings', []))  # ansible-core 2.19: structured warning summaries
    assert 'line 4: exportfs stops reading' in warnings and '(/srv/b)' in warnings
