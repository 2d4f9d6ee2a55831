# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse, validate and render exports(5) files for the nfs_export module.

The parser keeps every line of a file as it was read. An export the collection owns is the entry that directly
follows a marker comment ``# homelab.mediacluster nfs_export: <name>``; everything else in the file (comments, blank
lines, other exports, continuation lines) is foreign and is written back byte for byte.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import posixpath
import re

MARKER_PREFIX = '# homelab.mediacluster nfs_export: '

# exports(5) options of nfs-utils 2.x: flags, and options that take a value.
FLAG_OPTIONS = frozenset([
    'secure', 'insecure', 'rw', 'ro', 'async', 'sync', 'wdelay', 'no_wdelay', 'hide', 'nohide', 'crossmnt',
    'nocrossmnt', 'subtree_check', 'no_subtree_check', 'insecure_locks', 'no_auth_nlm', 'secure_locks',
    'auth_nlm', 'mountpoint', 'mp', 'nordirplus', 'pnfs', 'no_pnfs', 'security_label', 'root_squash',
    'no_root_squash', 'all_squash', 'no_all_squash', 'acl', 'no_acl',
])
VALUE_OPTIONS = frozenset(['mountpoint', 'mp', 'fsid', 'refer', 'replicas', 'sec', 'anonuid', 'anongid',
                           'xprtsec'])
# Pairs that cancel each other: an export carrying both is ambiguous (the last one wins in exportfs).
CONFLICTS = (
    ('rw', 'ro'), ('sync', 'async'), ('wdelay', 'no_wdelay'), ('hide', 'nohide'), ('crossmnt', 'nocrossmnt'),
    ('subtree_check', 'no_subtree_check'), ('secure', 'insecure'), ('secure_locks', 'insecure_locks'),
    ('auth_nlm', 'no_auth_nlm'), ('pnfs', 'no_pnfs'), ('acl', 'no_acl'),
    ('root_squash', 'no_root_squash'), ('all_squash', 'no_all_squash'),
    # all_squash maps root too, so no_root_squash next to it says two different things
    ('all_squash', 'no_root_squash'),
)
SEC_FLAVOURS = frozenset(['sys', 'krb5', 'krb5i', 'krb5p', 'none'])
XPRTSEC_POLICIES = frozenset(['none', 'tls', 'mtls'])
# characters that end or bend a client token or its option list: never inside a host or an option value
_UNSAFE_IN_CLIENT = ' \t\n\v\f\r"#\\,()'
# fsid: exportfs reads a number with strtoul(base 0) - decimal, 0x hex or 0 octal - or a UUID of 32 hex digits
_FSID_NUMBER = re.compile(r'^(0[xX][0-9a-fA-F]{1,8}|0[0-7]*|[1-9][0-9]{0,9})$')
_FSID_UUID = re.compile(r'^(?=(?:[^0-9a-fA-F]*[0-9a-fA-F]){32}[^0-9a-fA-F]*$)[0-9a-fA-F]+(-[0-9a-fA-F]+)*$')
_FSLOC_HOST = re.compile(r'^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$')

_HOST_LABEL = re.compile(r'^[A-Za-z0-9*?]([A-Za-z0-9*?_-]*[A-Za-z0-9*?])?$')


class ExportsError(Exception):
    """Every error of the exports code: the message names the export, the cause and the fix."""


class Entry(object):
    """One export (possibly continued over several physical lines) as read from a file."""

    def __init__(self, raw, path, clients, default_options, *, owner=None, line=None):
        self.raw = raw                      # the exact text, continuation lines and line ending included
        self.path = path                    # the unquoted, unescaped path
        self.clients = clients              # [(host, [options])]
        self.default_options = default_options  # options given as "-opts" after the path
        self.owner = owner                  # the nfs_export name when a marker comment precedes it
        self.line = line                    # number of its first physical line
        self.ignored = False                # after a Stop line: exportfs never reads it

    def options_for(self, host):
        for name, opts in self.clients:
            if name == host:
                return self.default_options + opts
        return None

    def all_options(self):
        result = list(self.default_options)
        for _host, opts in self.clients:
            result.extend(opts)
        return result


class Comment(object):
    """A comment or blank line (kept verbatim)."""

    def __init__(self, raw):
        self.raw = raw


class Stop(Comment):
    """A line where exportfs stops reading the file: at the start of an export, after blanks, tabs, newlines and
    comments, it meets a CR, VT or FF (a blank line of a CRLF file, "\\r\\n", is one). Every export after it is
    ignored by exportfs, silently."""


# exportfs reads the file byte by byte (support/nfs/xio.c): C isspace() separates tokens, a backslash directly before
# LF continues the line, a double quote toggles quoting anywhere in a token, a backslash and three octal digits stand
# for one byte, and "#" at the start of a token comments out the rest of the physical line. Text here is the file's
# bytes decoded as UTF-8 with surrogateescape, so every byte (valid UTF-8 or not) maps to one code point and back.
_C_SPACE = ' \t\n\v\f\r'
_STOP_LINE = re.compile('^[ \t]*[\r\v\f]')
_OCTAL = '01234567'
ENCODING = 'utf-8'
ERRORS = 'surrogateescape'


def decode(data):
    """File bytes -> text that encodes back to exactly the same bytes."""
    if isinstance(data, bytes):
        return data.decode(ENCODING, ERRORS)
    return data


def encode(text):
    return text.encode(ENCODING, ERRORS)


def _byte_char(value):
    """The code point that stands for one byte in surrogateescape text."""
    return chr(value) if value < 0x80 else chr(0xdc00 + value)


def _physical_lines(text):
    """Lines split at LF only (a lone CR, VT, FF or U+2028 is not a line break for exportfs), each with its LF."""
    return [line for line in re.split(r'(?<=\n)', text) if line]


class _Scanner(object):
    """Read one export from text[pos:] the way exportfs does; return (tokens, end) with end after its final LF."""

    def __init__(self, text, pos):
        self.text = text
        self.pos = pos

    def scan(self):
        text = self.text
        tokens = []
        current = []
        started = False   # a token is open (it may be empty so far, e.g. "" in quotes)
        quoted = False
        i = self.pos
        while i < len(text):
            char = text[i]
            if char == '\\' and text.startswith('\n', i + 1):
                # continuation: one blank, and the next line's leading blanks and tabs are skipped
                i += 2
                while i < len(text) and text[i] in ' \t':
                    i += 1
                if quoted:
                    current.append(' ')
                elif started:
                    tokens.append(''.join(current))
                    current, started = [], False
                continue
            if char == '\n' and not quoted:
                i += 1
                break
            if char == '"':
                quoted = not quoted
                started = True
                i += 1
                continue
            if char in _C_SPACE and not quoted:
                if started:
                    tokens.append(''.join(current))
                    current, started = [], False
                i += 1
                continue
            if char == '#' and not quoted and not started:
                newline = text.find('\n', i)
                i = len(text) if newline < 0 else newline + 1
                break
            current.append(char)
            started = True
            if (len(current) >= 4 and current[-4] == '\\' and all(c in _OCTAL for c in current[-3:])
                    and int(''.join(current[-3:]), 8) < 256):
                value = int(''.join(current[-3:]), 8)
                del current[-4:]
                current.append(_byte_char(value))
            i += 1
        if quoted:
            raise ExportsError('unbalanced double quote')
        if started:
            tokens.append(''.join(current))
        return tokens, i


def _normal_text(token):
    """Re-decode a token whose escapes produced raw bytes, so \\303\\251 reads as the same path as an e-acute."""
    return decode(encode(token))


def _blank_or_comment(line):
    stripped = line.strip(_C_SPACE)
    return not stripped or stripped.startswith('#')


def _marker_owner(line):
    stripped = line.strip(_C_SPACE)
    if stripped.startswith(MARKER_PREFIX.strip()):
        return stripped[len(MARKER_PREFIX.strip()):].strip(_C_SPACE) or None
    return None


def split_options(text):
    return [opt.strip(_C_SPACE) for opt in text.split(',') if opt.strip(_C_SPACE)]


def parse_client(token):
    """'host(opt,opt)' -> ('host', ['opt', 'opt']); '(opts)' alone means every host ('*')."""
    match = re.match(r'^([^()]*)(?:\(([^()]*)\))?$', token)
    if not match:
        raise ExportsError('client {0!r}: expected host or host(options)'.format(token))
    host = match.group(1) or '*'
    return host, split_options(match.group(2) or '')


def _entry_from_tokens(tokens, raw, owner, line):
    path = _normal_text(tokens[0])
    default_options = []
    clients = []
    for token in tokens[1:]:
        client = _normal_text(token)
        if client.startswith('-') and not clients:
            default_options.extend(split_options(client[1:]))
        else:
            clients.append(parse_client(client))
    if not clients:
        clients.append(('*', []))  # exportfs: no client means every host
    return Entry(raw, path, clients, default_options, owner=owner, line=line)


def parse(data, where='exports file'):
    """Parse an exports file (bytes, or text from decode()) into Entry and Comment items whose raw texts add up to
    the text exactly. Errors name where (the file) and the line."""
    text = decode(data)
    items = []
    pos = 0
    number = 1
    pending_owner = None
    while pos < len(text):
        newline = text.find('\n', pos)
        line_end = len(text) if newline < 0 else newline + 1
        line = text[pos:line_end]
        if _STOP_LINE.match(line):
            items.append(Stop(line))
            pos, number = line_end, number + 1
            continue
        if _blank_or_comment(line):
            items.append(Comment(line))
            owner = _marker_owner(line)
            if owner is not None:
                pending_owner = owner
            elif line.strip(_C_SPACE):
                pending_owner = None
            pos, number = line_end, number + 1
            continue
        try:
            tokens, end = _Scanner(text, pos).scan()
        except ExportsError as exc:
            raise ExportsError('{0} line {1}: {2}; fix the line by hand'.format(where, number, exc)) from None
        raw = text[pos:end]
        # A marker comment on a line reached through a continuation ends the entry before it (exportfs reads the
        # "#" as the start of a comment): keep the marker as its own item so the export after it is found.
        marker_line = None
        lines = _physical_lines(raw)
        if len(lines) > 1 and _marker_owner(lines[-1]) is not None and raw.endswith(lines[-1]):
            marker_line = lines[-1]
            raw = raw[:-len(marker_line)]
        if not tokens:
            items.append(Comment(raw))  # only continuations and blanks: exportfs reads nothing here
        else:
            try:
                items.append(_entry_from_tokens(tokens, raw, pending_owner, number))
            except ExportsError as exc:
                raise ExportsError('{0} line {1}: {2}; fix the line by hand'.format(where, number, exc)) from None
            pending_owner = None
        if marker_line is not None:
            items.append(Comment(marker_line))
            pending_owner = _marker_owner(marker_line)
        number += raw.count('\n') + (1 if marker_line is not None else 0)
        pos = end
    stopped = False
    for item in items:
        stopped = stopped or isinstance(item, Stop)
        if stopped and isinstance(item, Entry):
            item.ignored = True
    return items


def first_stop(items):
    """(line number, item index) of the first Stop line, or (None, None)."""
    number = 1
    for index, item in enumerate(items):
        if isinstance(item, Stop):
            return number, index
        number += item.raw.count('\n')
    return None, None


def escape_path(path):
    """Render a path the way exportfs reads it back (and writes it in etab): characters that would end or bend the
    token (control characters, white space other than a plain blank, double quote, backslash, "#") as \\ooo octal
    escapes, and double quotes around it when it holds a blank."""
    out = []
    for char in path:
        if ord(char) < 0x20 or ord(char) == 0x7f or char in '"\\#' or (char in _C_SPACE and char != ' '):
            out.append('\\{0:03o}'.format(ord(char)))
        else:
            out.append(char)
    escaped = ''.join(out)
    return '"{0}"'.format(escaped) if ' ' in escaped else escaped


def _eol_of(text):
    """The line ending the file uses at its end: CRLF when its last complete line ends so, else LF."""
    body = text if text.endswith('\n') else text[:text.rfind('\n') + 1]
    return '\r\n' if body.endswith('\r\n') else '\n'


def render_entry(path, clients, eol='\n'):
    """One owned export line: path then host(options) for each client, in the order given."""
    parts = [escape_path(path)]
    for host, options in clients:
        parts.append('{0}({1})'.format(host, ','.join(options)) if options else host)
    return ' '.join(parts) + eol


def marker(name, eol='\n'):
    return MARKER_PREFIX + name + eol


def owned_block(items, name):
    """Index of the marker comment and of the entry owned by name, or (None, None)."""
    for index, item in enumerate(items):
        if isinstance(item, Entry) and item.owner == name:
            for back in range(index - 1, -1, -1):
                if _marker_owner(items[back].raw) == name:
                    return back, index
    return None, None


def apply(data, name, path, clients, state='present', *, where='exports file'):
    """Return the new file content with the export owned by name set to (path, clients) or removed.

    data is bytes (the result is bytes) or text. Foreign items are copied verbatim. A marker without an entry after
    it (a damaged owned block) is replaced. A new block goes at the end: when the file does not end with a line
    ending, the block starts with one and ends without one, so removing the block gives back the original bytes.
    In a file with a Stop line (where exportfs stops reading) it goes right before that line instead.
    """
    as_bytes = isinstance(data, bytes)
    text = decode(data)
    items = parse(text, where)
    start, end = owned_block(items, name)
    if start is None:
        # a stray marker of ours (entry deleted by hand) is ours to clean up
        for index, item in enumerate(items):
            if isinstance(item, Comment) and _marker_owner(item.raw) == name:
                start = end = index
                break
    _line, stop = first_stop(items)
    if start is not None and stop is not None and start > stop and state == 'present':
        # our export sits where exportfs never reads: take it out, it goes in again before the stop line
        text = apply(text, name, None, None, 'absent', where=where)
        items = parse(text, where)
        start = end = None
        _line, stop = first_stop(items)
    if start is None:
        if state == 'absent':
            return data
        if stop is not None:
            # exportfs stops reading at that line: the block goes right before it (a line start), so it is read
            eol = '\r\n' if items[stop].raw.endswith('\r\n') else '\n'
            before = ''.join(item.raw for item in items[:stop])
            after = ''.join(item.raw for item in items[stop:])
            result = before + marker(name, eol) + render_entry(path, clients, eol) + after
        else:
            eol = _eol_of(text)
            if text and not text.endswith('\n'):
                block = eol + marker(name, eol) + render_entry(path, clients, '')
            else:
                block = marker(name, eol) + render_entry(path, clients, eol)
            result = text + block
    else:
        before = ''.join(item.raw for item in items[:start])
        after = ''.join(item.raw for item in items[end + 1:])
        old_block = ''.join(item.raw for item in items[start:end + 1])
        eol = '\r\n' if items[start].raw.endswith('\r\n') else '\n'
        at_end_unterminated = not after and not old_block.endswith('\n')
        if state == 'absent':
            if at_end_unterminated and before.endswith(eol):
                before = before[:-len(eol)]
            result = before + after
        else:
            last = '' if at_end_unterminated else eol
            result = before + marker(name, eol) + render_entry(path, clients, last) + after
    return encode(result) if as_bytes else result


def entries(data, where='exports file'):
    return [item for item in parse(data, where) if isinstance(item, Entry)]


# --------------------------------------------------------------------------------------------------------------
# Validation


def validate_path(path, allowed_root=None, name='export'):
    if not path or not path.startswith('/'):
        raise ExportsError('{0}: path {1!r} is not absolute; exports(5) needs an absolute path such as '
                           '/srv/nas/data'.format(name, path))
    normal = posixpath.normpath(path)
    if normal != path.rstrip('/') and path != '/':
        raise ExportsError('{0}: path {1!r} is not normalised (".." or "//"); write it as {2}'.format(
            name, path, normal))
    if allowed_root:
        root = posixpath.normpath(allowed_root)
        if not (normal == root or normal.startswith(root.rstrip('/') + '/')):
            raise ExportsError('{0}: path {1} is outside the allowed root {2}; export a directory under {2} or '
                               'change allowed_root'.format(name, path, root))
    bad = [char for char in path if not char.isprintable() and char != ' ']
    if bad:
        raise ExportsError('{0}: path {1!r} holds the control character {2!r}; an exports file cannot carry it, '
                           'rename the directory'.format(name, path, bad[0]))
    return normal


def validate_host(host, allow_world=False, name='export'):
    """Raise ExportsError unless host is valid exports(5) client syntax."""
    unsafe = [char for char in host if not char.isprintable() or char in _UNSAFE_IN_CLIENT]
    if not host or unsafe:
        raise ExportsError('{0}: client {1!r} holds {2}; a client is one host, network or @netgroup without '
                           'white space, control characters, quotes, "#", "," or parentheses'.format(
                               name, host, repr(unsafe[0]) if unsafe else 'nothing'))
    if host == '*':
        if not allow_world:
            raise ExportsError('{0}: client "*" exports to every host on every network; restrict it to the cluster '
                               'subnet (e.g. 192.168.1.0/24), or set allow_world=true if you really mean it'.format(
                                   name))
        return
    if host.startswith('@'):
        if not re.match(r'^@[A-Za-z0-9._-]+$', host):
            raise ExportsError('{0}: netgroup {1!r} is not a valid name'.format(name, host))
        return
    if host.startswith('gss/'):
        raise ExportsError('{0}: client {1!r} uses the removed gss/ syntax; give a host or subnet and put '
                           'sec=krb5 in the options'.format(name, host))
    if re.match(r'^[0-9.]+(/.*)?$', host) or ':' in host:
        address, _sep, mask = host.partition('/')
        try:
            ip = ipaddress.ip_address(address.strip('[]'))
        except ValueError:
            raise ExportsError('{0}: client {1!r} is not a valid IP address or network'.format(name, host)) from None
        if mask:
            try:
                if mask.isdigit():
                    ipaddress.ip_network('{0}/{1}'.format(ip, mask), strict=False)
                    if int(mask) > ip.max_prefixlen:
                        raise ValueError
                else:
                    ipaddress.ip_network('{0}/{1}'.format(ip, mask), strict=False)
            except ValueError:
                raise ExportsError('{0}: client {1!r} has an invalid prefix or netmask'.format(name, host)) from None
        return
    labels = host.split('.')
    if len(host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        raise ExportsError('{0}: client {1!r} is neither a host name (wildcards * and ? allowed), an IP '
                           'address/network nor a @netgroup'.format(name, host))


def _value_error(where, option, grammar):
    return ExportsError('{0}: option {1!r}: {2}; see exports(5)'.format(where, option, grammar))


def _safe_path_value(value, extra=''):
    """An absolute path inside an option list: printable, no white space, quotes, "#", backslash, "," or
    parentheses (they would end the option list or the client), nor the separators given in extra."""
    return (value.startswith('/') and all(char.isprintable() and char not in _UNSAFE_IN_CLIENT + extra
                                          for char in value))


def _fsloc_ok(value):
    """refer=/ replicas= grammar: path@host[+host][:path@host[+host]]..."""
    for location in value.split(':'):
        path, at, hosts = location.partition('@')
        if not at or not _safe_path_value(path, '@:+') or not hosts:
            return False
        for host in hosts.split('+'):
            if not _FSLOC_HOST.match(host):
                return False
    return True


def _strtoul(value):
    """C strtoul(value, base 0) for a string _FSID_NUMBER accepts."""
    if value[:2] in ('0x', '0X'):
        return int(value[2:], 16)
    if value.startswith('0'):
        return int(value, 8)
    return int(value)


def _check_value(where, option, key, value):
    if key in ('anonuid', 'anongid'):
        if not re.match(r'^-?[0-9]{1,10}$', value) or not -2 ** 31 <= int(value) < 2 ** 31:
            raise ExportsError('{0}: {1} must be a number, got {2!r}'.format(where, key, value))
    elif key == 'fsid':
        if not (value == 'root' or _FSID_NUMBER.match(value) or (_FSID_UUID.match(value) and not value.isdigit())):
            raise ExportsError('{0}: fsid must be a number, "root" or a UUID (32 hex digits), got {1!r}'.format(
                where, value))
        if _FSID_NUMBER.match(value) and _strtoul(value) >= 2 ** 32:
            raise ExportsError('{0}: fsid {1} does not fit 32 bits'.format(where, value))
    elif key == 'sec':
        if not value or not all(f in SEC_FLAVOURS for f in value.split(':')):
            raise ExportsError('{0}: sec={1} holds an unknown flavour; use {2} separated by ":"'.format(
                where, value, '/'.join(sorted(SEC_FLAVOURS))))
    elif key == 'xprtsec':
        if not value or not all(p in XPRTSEC_POLICIES for p in value.split(':')):
            raise _value_error(where, option, 'xprtsec takes {0} separated by ":"'.format(
                '/'.join(sorted(XPRTSEC_POLICIES))))
    elif key in ('mountpoint', 'mp'):
        if not _safe_path_value(value):
            raise _value_error(where, option, '{0}= takes an absolute path without white space, control '
                                              'characters, quotes, "#", "," or parentheses'.format(key))
    elif key in ('refer', 'replicas'):
        if not _fsloc_ok(value):
            raise _value_error(where, option, '{0}= takes path@host[+host][:path@host...], absolute paths and '
                                              'host names or IPv4 addresses'.format(key))


def validate_options(options, name='export', host=None):
    """Raise ExportsError on unknown options, bad values and conflicting pairs. Return options without duplicates.

    Every value is checked against its grammar, so no value can close the option list and add a client or a line."""
    where = '{0}{1}'.format(name, ' client {0}'.format(host) if host else '')
    seen = []
    for option in options:
        key, has_value, value = option.partition('=')
        if has_value:
            if key not in VALUE_OPTIONS:
                raise ExportsError('{0}: option {1!r} takes no value or is unknown; see exports(5)'.format(
                    where, option))
            _check_value(where, option, key, value)
        elif key not in FLAG_OPTIONS:
            raise ExportsError('{0}: unknown export option {1!r}; see exports(5) for the valid options'.format(
                where, option))
        if option not in seen:
            seen.append(option)
    keys = set(option.partition('=')[0] for option in seen)
    for first, second in CONFLICTS:
        if first in keys and second in keys:
            raise ExportsError('{0}: options {1} and {2} conflict; keep one of them'.format(where, first, second))
    for key in ('fsid', 'anonuid', 'anongid'):
        values = set(option for option in seen if option.startswith(key + '='))
        if len(values) > 1:
            raise ExportsError('{0}: {1} is given twice with different values ({2})'.format(
                where, key, ', '.join(sorted(values))))
    return seen


def fsid_of(options):
    for option in options:
        if option.startswith('fsid='):
            value = option.split('=', 1)[1]
            if value == 'root':
                return '0'
            return str(_strtoul(value)) if _FSID_NUMBER.match(value) else value.lower()
    return None


def check_foreign_conflicts(name, path, clients, files, label=None):
    """Fail when another export (in any of files: {filename: text}) already exports path or uses our fsid.

    Entries owned by this name are ignored. Returns nothing; raises ExportsError naming the file and the fix.
    """
    our_fsids = set(fsid_of(opts) for _host, opts in clients) - set([None])
    label = label or 'export {0}'.format(name)
    for filename in sorted(files):
        try:
            found = entries(files[filename], filename)
        except ExportsError as exc:
            raise ExportsError('{0}: cannot check for conflicts: {1}'.format(label, exc)) from None
        for entry in found:
            if entry.owner == name:
                continue
            if entry.path == path:
                raise ExportsError(
                    '{0}: {1} is already exported by {2} line {3} ({4}), a line this module does not own; remove that '
                    'line or manage it with nfs_export (name it and let the module write it) so the export is '
                    'defined once'.format(label, path, filename, entry.line, printable(entry.raw.strip(_C_SPACE))))
            their = fsid_of(entry.all_options())
            if their is not None and their in our_fsids:
                raise ExportsError(
                    '{0}: fsid={1} is already used by {2} in {3} line {4}; every export needs its own fsid, pick '
                    'another'.format(label, their, printable(entry.path), filename, entry.line))


def normalise_clients(clients, allow_world=False, name='export'):
    """Validate the module's clients list ([{'host':..., 'options': [...]}]) and return [(host, [options])]."""
    if not clients:
        raise ExportsError('{0}: no clients given; list at least one host or subnet'.format(name))
    result = []
    hosts = []
    for client in clients:
        host = client['host']
        validate_host(host, allow_world, name)
        if host in hosts:
            raise ExportsError('{0}: client {1} is listed twice; merge its options into one entry'.format(
                name, host))
        hosts.append(host)
        result.append((host, validate_options(client.get('options') or [], name, host)))
    fsids = set(fsid_of(opts) for _host, opts in result)
    if len(fsids) > 1:
        raise ExportsError('{0}: clients give different fsid values; one export has one fsid'.format(name))
    return result


def printable(text):
    """Text for a message: bytes that are not UTF-8 shown as \\xNN instead of breaking the JSON of a result."""
    return encode(text).decode(ENCODING, 'backslashreplace')


def read_file(filename):
    """The exact bytes of an exports file, or None when it does not exist."""
    try:
        with open(filename, 'rb') as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except (IOError, OSError) as exc:
        raise ExportsError('cannot read {0}: {1}; check its permissions'.format(filename, exc.strerror)) from None


def exports_files(main_file='/etc/exports', directory='/etc/exports.d'):
    """Every file exportfs reads, as {path: bytes} (missing ones left out)."""
    found = {}
    candidates = [main_file]
    if os.path.isdir(directory):
        candidates.extend(os.path.join(directory, f) for f in sorted(os.listdir(directory)) if f.endswith('.exports'))
    for candidate in candidates:
        if os.path.isfile(candidate):
            data = read_file(candidate)
            if data is not None:
                found[candidate] = data
    return found
