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

_HOST_LABEL = re.compile(r'^[A-Za-z0-9*?]([A-Za-z0-9*?_-]*[A-Za-z0-9*?])?$')


class ExportsError(Exception):
    """Every error of the exports code: the message names the export, the cause and the fix."""


class Entry(object):
    """One export line (possibly continued over several physical lines) as read from a file."""

    def __init__(self, raw, path, clients, default_options, owner=None):
        self.raw = raw                      # the exact text, continuation lines and trailing newline included
        self.path = path                    # the unquoted, unescaped path
        self.clients = clients              # [(host, [options])]
        self.default_options = default_options  # options given as "-opts" after the path
        self.owner = owner                  # the nfs_export name when a marker comment precedes it

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


def unescape_path(token):
    """Undo exports(5) quoting: surrounding double quotes and \\ooo octal escapes."""
    if len(token) >= 2 and token[0] == '"' and token[-1] == '"':
        token = token[1:-1]
    return re.sub(r'\\([0-7]{3})', lambda m: chr(int(m.group(1), 8)), token)


def quote_path(path):
    """Render a path the way exportfs reads it back: double quotes when it holds white space."""
    if re.search(r'\s', path):
        if '"' in path:
            raise ExportsError('export path {0!r}: a path with both spaces and double quotes cannot be written to an '
                               'exports file; rename the directory'.format(path))
        return '"{0}"'.format(path)
    return path


def _tokenize(text):
    """Split a logical export line into tokens; double-quoted strings may hold spaces."""
    tokens = []
    current = ''
    in_quotes = False
    for char in text:
        if char == '"':
            in_quotes = not in_quotes
            current += char
        elif char.isspace() and not in_quotes:
            if current:
                tokens.append(current)
            current = ''
        else:
            current += char
    if in_quotes:
        raise ExportsError('unbalanced double quote in export line {0!r}'.format(text.strip()))
    if current:
        tokens.append(current)
    return tokens


def split_options(text):
    return [opt.strip() for opt in text.split(',') if opt.strip()]


def parse_client(token):
    """'host(opt,opt)' -> ('host', ['opt', 'opt']); '(opts)' alone means every host ('*')."""
    match = re.match(r'^([^()]*)(?:\(([^()]*)\))?$', token)
    if not match:
        raise ExportsError('client {0!r}: expected host or host(options)'.format(token))
    host = match.group(1) or '*'
    return host, split_options(match.group(2) or '')


def parse_entry_text(logical, raw, owner=None):
    # a comment after the export on the same line ends it
    if '#' in logical:
        logical = _strip_trailing_comment(logical)
    tokens = _tokenize(logical)
    path = unescape_path(tokens[0])
    default_options = []
    clients = []
    for token in tokens[1:]:
        if token.startswith('-') and not clients:
            default_options.extend(split_options(token[1:]))
        else:
            clients.append(parse_client(token))
    if not clients:
        clients.append(('*', []))  # exportfs: no client means every host
    return Entry(raw, path, clients, default_options, owner)


def _strip_trailing_comment(text):
    in_quotes = False
    for index, char in enumerate(text):
        if char == '"':
            in_quotes = not in_quotes
        elif char == '#' and not in_quotes:
            return text[:index]
    return text


def parse(text):
    """Parse the text of an exports file into a list of Entry and Comment items whose raw texts add up to text."""
    items = []
    lines = text.splitlines(True)
    index = 0
    pending_owner = None
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if not stripped or stripped.startswith('#'):
            items.append(Comment(line))
            if stripped.startswith(MARKER_PREFIX.strip()):
                pending_owner = stripped[len(MARKER_PREFIX.strip()):].strip()
            elif stripped:
                pending_owner = None
            index += 1
            continue
        raw = line
        logical = line.rstrip('\r\n')
        while logical.endswith('\\') and index + 1 < len(lines):
            index += 1
            raw += lines[index]
            logical = logical[:-1] + ' ' + lines[index].rstrip('\r\n')
        if logical.endswith('\\'):
            logical = logical[:-1]
        try:
            items.append(parse_entry_text(logical, raw, pending_owner))
        except ExportsError as exc:
            raise ExportsError('line {0}: {1}'.format(index + 1, exc)) from None
        pending_owner = None
        index += 1
    return items


def render_entry(path, clients):
    """One owned export line: path then host(options) for each client, in the order given."""
    parts = [quote_path(path)]
    for host, options in clients:
        parts.append('{0}({1})'.format(host, ','.join(options)) if options else host)
    return ' '.join(parts) + '\n'


def marker(name):
    return MARKER_PREFIX + name + '\n'


def owned_block(items, name):
    """Index of the marker comment and of the entry owned by name, or (None, None)."""
    for index, item in enumerate(items):
        if isinstance(item, Entry) and item.owner == name:
            for back in range(index - 1, -1, -1):
                if items[back].raw.strip().startswith(MARKER_PREFIX.strip()):
                    return back, index
    return None, None


def apply(text, name, path, clients, state='present'):
    """Return the new file text with the export owned by name set to (path, clients) or removed.

    Foreign items are copied verbatim. A marker without an entry after it (a damaged owned block) is replaced.
    """
    items = parse(text)
    start, end = owned_block(items, name)
    if start is None:
        # a stray marker of ours (entry deleted by hand) is ours to clean up
        for index, item in enumerate(items):
            if isinstance(item, Comment) and item.raw.strip() == marker(name).strip():
                start = end = index
                break
    new_block = [] if state == 'absent' else [marker(name), render_entry(path, clients)]
    if start is None:
        if not new_block:
            return text
        prefix = text
        if prefix and not prefix.endswith('\n'):
            prefix += '\n'
        return prefix + ''.join(new_block)
    before = ''.join(item.raw for item in items[:start])
    after = ''.join(item.raw for item in items[end + 1:])
    return before + ''.join(new_block) + after


def entries(text):
    return [item for item in parse(text) if isinstance(item, Entry)]


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
    if '\n' in path or '#' in path:
        raise ExportsError('{0}: path {1!r} holds a newline or "#", which an exports file cannot carry'.format(
            name, path))
    return normal


def validate_host(host, allow_world=False, name='export'):
    """Raise ExportsError unless host is valid exports(5) client syntax."""
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


def validate_options(options, name='export', host=None):
    """Raise ExportsError on unknown options, bad values and conflicting pairs. Return options without duplicates."""
    where = '{0}{1}'.format(name, ' client {0}'.format(host) if host else '')
    seen = []
    for option in options:
        key, has_value, value = option.partition('=')
        if has_value:
            if key not in VALUE_OPTIONS:
                raise ExportsError('{0}: option {1!r} takes no value or is unknown; see exports(5)'.format(
                    where, option))
            if key in ('anonuid', 'anongid') and not re.match(r'^-?[0-9]+$', value):
                raise ExportsError('{0}: {1} must be a number, got {2!r}'.format(where, key, value))
            if key == 'fsid' and not (re.match(r'^[0-9]+$', value) or value == 'root'
                                      or re.match(r'^[0-9a-fA-F-]{8,}$', value)):
                raise ExportsError('{0}: fsid must be a number, "root" or a UUID, got {1!r}'.format(where, value))
            if key == 'sec' and not all(f in SEC_FLAVOURS for f in value.split(':')):
                raise ExportsError('{0}: sec={1} holds an unknown flavour; use {2} separated by ":"'.format(
                    where, value, '/'.join(sorted(SEC_FLAVOURS))))
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
            return '0' if value == 'root' else value
    return None


def check_foreign_conflicts(name, path, clients, files, label=None):
    """Fail when another export (in any of files: {filename: text}) already exports path or uses our fsid.

    Entries owned by this name are ignored. Returns nothing; raises ExportsError naming the file and the fix.
    """
    our_fsids = set(fsid_of(opts) for _host, opts in clients) - set([None])
    label = label or 'export {0}'.format(name)
    for filename in sorted(files):
        for entry in entries(files[filename]):
            if entry.owner == name:
                continue
            if entry.path == path:
                raise ExportsError(
                    '{0}: {1} is already exported by {2} ({3}), a line this module does not own; remove that line or '
                    'manage it with nfs_export (name it and let the module write it) so the export is defined '
                    'once'.format(label, path, filename, entry.raw.strip()))
            their = fsid_of(entry.all_options())
            if their is not None and their in our_fsids:
                raise ExportsError(
                    '{0}: fsid={1} is already used by {2} in {3}; every export needs its own fsid, pick '
                    'another'.format(label, their, entry.path, filename))


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


def exports_files(main_file='/etc/exports', directory='/etc/exports.d'):
    """Every file exportfs reads, as {path: text} (missing ones left out)."""
    found = {}
    candidates = [main_file]
    if os.path.isdir(directory):
        candidates.extend(os.path.join(directory, f) for f in sorted(os.listdir(directory)) if f.endswith('.exports'))
    for candidate in candidates:
        if os.path.isfile(candidate):
            with open(candidate, 'r') as handle:
                found[candidate] = handle.read()
    return found
