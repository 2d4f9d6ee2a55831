"""Property-based tests (Hypothesis) of the exports parser and editor on generated files and generated edits.

Files mix LF and CRLF lines, comments with bytes that are not UTF-8, blank lines, exports with quoted and escaped
paths, default options, continuation lines (a dangling one at the end too), trailing comments, blocks owned by other
nfs_export names, and may lack a final newline. Properties: the parse keeps every byte; adding an export and
removing it gives back the original bytes; a rerun is a no-op; the foreign exports read the same before and after;
hostile paths, hosts and option values are refused or round-trip exactly, never adding a client or a line.

The runs are derandomized (fixed seed) with a bounded number of examples and no example database, so CI is
deterministic and the module stays well under its share of the 60 s budget.
"""

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.homelab.mediacluster.plugins.module_utils import nfs_exports as ne
from ansible_collections.homelab.mediacluster.plugins.module_utils.nfs_exports import ExportsError

BUDGET = settings(derandomize=True, database=None, deadline=None, max_examples=200,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

HOSTS = ['10.82.0.0/24', '192.168.1.29', 'fd00:10::/64', 'nas.lan', '*.lan', 'node?.lan', '@cluster', '*']
OPTIONS = ['rw', 'ro', 'sync', 'async', 'no_subtree_check', 'all_squash', 'anonuid=1000', 'fsid=7', 'crossmnt',
           'sec=sys:krb5', 'no_root_squash', 'insecure']
EOL = st.sampled_from([b'\n', b'\r\n'])

# ---- generated foreign files

safe_chars = st.sampled_from(list(string.ascii_letters + string.digits + '._-+@:') + ['\u00e9', '\u00fc', '\u4e2d'])
segment = st.text(safe_chars, min_size=1, max_size=8)


@st.composite
def path_tokens(draw):
    """A path as it may be written in a file: plain, with octal escapes, or double-quoted with blanks."""
    parts = draw(st.lists(segment, min_size=1, max_size=3))
    style = draw(st.sampled_from(['plain', 'escaped', 'quoted']))
    if style == 'plain':
        return ('/' + '/'.join(parts)).encode('utf-8')
    if style == 'escaped':
        return ('/' + '\\040'.join(parts)).encode('utf-8')
    return ('"/' + ' '.join(parts) + '"').encode('utf-8')


@st.composite
def clients(draw):
    host = draw(st.sampled_from(HOSTS))
    opts = draw(st.lists(st.sampled_from(OPTIONS), max_size=3))
    return (host + ('(' + ','.join(opts) + ')' if opts else '')).encode('ascii')


@st.composite
def export_lines(draw, eol):
    tokens = [draw(path_tokens())]
    if draw(st.booleans()):
        tokens.append(b'-' + ','.join(draw(st.lists(st.sampled_from(OPTIONS), min_size=1, max_size=2))).encode())
    tokens.extend(draw(st.lists(clients(), min_size=0, max_size=3)))
    out = b''
    for index, token in enumerate(tokens):
        if index:
            # separators: blanks, tabs, or a continuation (backslash directly before LF) and an indent
            out += draw(st.sampled_from([b' ', b'\t', b'  ', b' \\\n    ', b'\\\n\t']))
        out += token
    if draw(st.booleans()):
        out += b'  # ' + draw(st.binary(max_size=10)).replace(b'\n', b'').replace(b'\r', b'')
    return out + eol


@st.composite
def comment_lines(draw, eol):
    body = draw(st.one_of(st.binary(max_size=20), st.text(max_size=10).map(lambda t: t.encode('utf-8'))))
    body = body.replace(b'\n', b'').replace(b'\r', b'')
    return draw(st.sampled_from([b'', b'  ', b'\t'])) + b'#' + body + eol


@st.composite
def exports_files(draw):
    lines = []
    for _index in range(draw(st.integers(0, 7))):
        eol = draw(EOL)
        kind = draw(st.sampled_from(['comment', 'blank', 'export', 'export', 'other-owner']))
        if kind == 'comment':
            lines.append(draw(comment_lines(eol)))
        elif kind == 'blank':
            lines.append(draw(st.sampled_from([b'', b' ', b'\t '])) + eol)
        elif kind == 'export':
            lines.append(draw(export_lines(eol)))
        else:
            name = draw(st.sampled_from(['backup', 'media']))
            lines.append(ne.marker(name, eol.decode()).encode() + b'/srv/' + name.encode() + b' 10.0.0.1(ro)' + eol)
    data = b''.join(lines)
    ending = draw(st.sampled_from(['keep', 'no-final-newline', 'dangling', 'dangling-at-eof']))
    if ending == 'no-final-newline':
        data = data.rstrip(b'\r\n')
    elif ending == 'dangling':
        data += b'/srv/last 10.0.0.9(ro) \\' + draw(EOL)
    elif ending == 'dangling-at-eof':
        data += b'/srv/last 10.0.0.9(ro) \\'
    return data


def foreign(data, name):
    """The exports not owned by name, as exportfs reads them. A backslash at the very end of a file is read by
    exportfs as a client named "\\" (no host can have that name); once a line follows it, it is a continuation:
    that bogus client goes, the real ones stay. It is left out of the comparison."""
    return [(e.path, [c for c in e.clients if c[0] != '\\'], e.default_options, e.owner)
            for e in ne.entries(data) if e.owner != name]


# ---- generated edits

wanted_paths = st.lists(segment, min_size=1, max_size=3).map(lambda parts: '/srv/nas/' + '/'.join(parts)) | \
    st.sampled_from(['/srv/nas/say "hi"', '/srv/nas/back\\slash', '/srv/nas/Movies and TV', '/srv/nas/hash#tag',
                     '/srv/nas/\u00e9t\u00e9'])
wanted_clients = st.lists(
    st.tuples(st.sampled_from(HOSTS[:-1]), st.lists(st.sampled_from(['rw', 'sync', 'no_subtree_check', 'all_squash',
                                                                     'anonuid=1000', 'anongid=1000', 'fsid=41']),
                                                    max_size=4, unique=True)),
    min_size=1, max_size=3, unique_by=lambda client: client[0])


@BUDGET
@given(exports_files())
def test_parse_keeps_every_byte(data):
    items = ne.parse(data, '/etc/exports')
    assert ne.encode(''.join(item.raw for item in items)) == data


@BUDGET
@given(exports_files(), wanted_paths, wanted_clients)
def test_add_rerun_remove_restores_the_original_bytes(data, path, client_list):
    before = foreign(data, 'data')
    added = ne.apply(data, 'data', path, client_list, where='/etc/exports')
    assert isinstance(added, bytes)
    owned = [e for e in ne.entries(added) if e.owner == 'data']
    assert [(e.path, e.clients) for e in owned] == [(path, [(h, list(o)) for h, o in client_list])]
    assert foreign(added, 'data') == before
    assert ne.apply(added, 'data', path, client_list) == added                  # a rerun is a no-op
    assert ne.apply(added, 'data', None, None, 'absent') == data                 # every byte back
    assert ne.apply(data, 'data', None, None, 'absent') == data                  # absent on absent: no-op


@BUDGET
@given(exports_files(), st.lists(st.tuples(st.sampled_from(['data', 'tv', 'backup']),
                                           st.one_of(st.none(), st.tuples(wanted_paths, wanted_clients))),
                                 min_size=1, max_size=5))
def test_any_sequence_of_edits_then_removal_restores_the_file(data, edits):
    """Edits of several names in any order; the foreign exports never change, and once every name is removed in
    the reverse order of its first appearance the file is the original again."""
    before = foreign(data, None)
    current = data
    appeared = []
    for name, wanted in edits:
        if wanted is None:
            current = ne.apply(current, name, None, None, 'absent')
        else:
            current = ne.apply(current, name, wanted[0], wanted[1])
            if name not in appeared and name not in [e.owner for e in ne.entries(data)]:
                appeared.append(name)
        assert [f for f in foreign(current, None) if f[3] is None] == [f for f in before if f[3] is None]
    for name in reversed(appeared):
        current = ne.apply(current, name, None, None, 'absent')
    if not [e for e in ne.entries(data) if e.owner in ('data', 'tv', 'backup')]:
        assert current == data


# ---- hostile values: refused, or written so that they read back exactly

hostile_text = st.text(st.sampled_from(list('/abc ,()"#\\*=@:+\t\n\r\x00\x0b\x7f') + ['\u2028', '\u00e9']),
                       max_size=14)


def read_back(path, client_list):
    data = ne.apply(b'# before\n', 'h', path, client_list)
    lines = data.split(b'\n')
    assert len(lines) == 4 and lines[0] == b'# before' and lines[-1] == b'', data  # one marker, one export line
    owned = [e for e in ne.entries(data) if e.owner == 'h']
    assert len(ne.entries(data)) == 1 and len(owned) == 1
    return owned[0]


@BUDGET
@given(hostile_text)
def test_hostile_paths_are_refused_or_round_trip(text):
    path = '/srv/nas/' + text
    try:
        path = ne.validate_path(path, '/srv/nas', 'export h')
    except ExportsError:
        return
    entry = read_back(path, [('10.0.0.1', ['ro'])])
    assert entry.path == path and entry.clients == [('10.0.0.1', ['ro'])]


VALID_VALUES = {'mp': '/srv/nas', 'mountpoint': '/srv/nas/x', 'refer': '/a@nas1+nas2:/b@10.0.0.9',
                'replicas': '/srv/x@nas.lan', 'xprtsec': 'tls:mtls', 'fsid': '0x1f', 'anonuid': '1000',
                'sec': 'sys:krb5'}


@BUDGET
@given(st.sampled_from(sorted(VALID_VALUES)), hostile_text, st.integers(0, 30))
def test_hostile_option_values_are_refused_or_round_trip(key, text, at):
    """A valid value with hostile text spliced in somewhere (or nothing, or harmless letters)."""
    valid = VALID_VALUES[key]
    at = min(at, len(valid))
    option = key + '=' + valid[:at] + text + valid[at:]
    try:
        options = ne.validate_options(['ro', option], 'export h', '10.0.0.1')
    except ExportsError:
        return
    entry = read_back('/srv/nas/x', [('10.0.0.1', options)])
    assert entry.clients == [('10.0.0.1', ['ro', option])]


@BUDGET
@given(hostile_text)
def test_hostile_hosts_are_refused_or_round_trip(host):
    try:
        ne.validate_host(host, allow_world=False, name='export h')
    except ExportsError:
        return
    entry = read_back('/srv/nas/x', [(host, ['ro'])])
    assert entry.clients == [(host, ['ro'])]


@pytest.mark.parametrize('value', ['/x) *(rw,no_root_squash', '/x\n/ *(rw)', '/x,no_root_squash'])
def test_the_issue_examples_are_among_the_refused(value):
    with pytest.raises(ExportsError):
        ne.validate_options(['mp=' + value], 'export h', '10.0.0.1')
