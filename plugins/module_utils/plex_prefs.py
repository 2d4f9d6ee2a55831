# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Edit the attributes of Plex Media Server's Preferences.xml without rewriting anything else.

Plex keeps every server setting as one attribute of the single ``<Preferences .../>`` element. A parse-and-serialise
round trip (ElementTree, lxml) would change the XML declaration's quoting, the attribute quoting and escaping of
settings the collection does not own, so this module edits the raw text of the root start tag in place: an existing
attribute keeps its position, a new one is appended before the tag closes, an unset one is cut out with its leading
whitespace. The document is still parsed with ElementTree first, so a broken file is reported, never edited.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import xml.parsers.expat  # noqa: S410 (the file is Plex's own, on a volume the collection manages)

ROOT_TAG = 'Preferences'
# Attributes whose values are secrets: never shown in a diff, returned or logged. Besides these, every preference
# whose name ends in "Token" (any case) is treated as one.
SECRET_ATTRIBUTES = frozenset(['PlexOnlineToken'])

# XML 1.0 (fifth edition) Name production, without ":" (a prefix would need a namespace declaration).
_NAME_START = ('A-Z_a-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D'
               '\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\U00010000-\U000EFFFF')
_NAME_CHAR = _NAME_START + '\\-.0-9\u00B7\u0300-\u036F\u203F-\u2040'
_NAME = '[' + _NAME_START + '][' + _NAME_CHAR + ']*'
_NAME_RE = re.compile('^' + _NAME + '$')
# XML 1.0 Char production: what an attribute value can hold at all (escaped or not)
_NOT_XML_CHAR = re.compile('[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]')
_XML_SPACE = '[ \t\r\n]'
_ATTRIBUTE = re.compile('(' + _XML_SPACE + '+)(' + _NAME + ')(' + _XML_SPACE + '*=' + _XML_SPACE
                        + '*)("[^"]*"|\'[^\']*\')')
_CLOSE = re.compile(_XML_SPACE + '*/?>')


class PlexPreferencesError(Exception):
    """Raised with a message naming the file, the cause and the fix."""


def is_secret(name):
    """PlexOnlineToken and every other preference named like a token hold credentials."""
    return name in SECRET_ATTRIBUTES or name.lower().endswith('token')


def to_pref_value(value):
    """Plex stores booleans as "1"/"0" and everything else as text."""
    if isinstance(value, bool):
        return '1' if value else '0'
    if value is None:
        return ''
    return str(value)


def _escape(value):
    return (value.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;').replace('"', '&quot;')
            .replace('\n', '&#10;').replace('\r', '&#13;').replace('\t', '&#9;'))


def _parser_accepts(name):
    """The XML parser Python uses (expat) follows an older edition of the Name rules; ask it too."""
    parser = xml.parsers.expat.ParserCreate()
    try:
        parser.Parse(('<x ' + name + '=""/>').encode('utf-8'), True)
    except xml.parsers.expat.ExpatError:
        return False
    return True


def validate_name(name):
    """Raise unless name can be an attribute of <Preferences>: an XML Name without ":" and not reserved (xml...)."""
    if not isinstance(name, str) or not _NAME_RE.match(name) or name.lower().startswith('xml') \
            or not _parser_accepts(name):
        raise PlexPreferencesError(
            '{0!r} is not a valid preference name: a preference is an XML attribute name (a letter or "_", then '
            'letters, digits, ".", "-" or "_"; no spaces, quotes, "=", ":" or "<>", not starting with "xml"). Fix '
            'the name in preferences/absent (Plex\'s own names look like HardwareDevicePath); the file was not '
            'changed.'.format(name))


def validate_value(name, value):
    bad = _NOT_XML_CHAR.search(value)
    if bad:
        raise PlexPreferencesError(
            'Preference {0}: the value holds the character {1!r}, which XML cannot carry, even escaped; remove it '
            'from the value. The file was not changed.'.format(name, bad.group(0)))


def _locate_root(text, where):
    """Parse the document and return (root tag, root attributes, offset of the root's start tag in text)."""
    data = text.encode('utf-8', 'surrogatepass')
    parser = xml.parsers.expat.ParserCreate()
    found = {}

    def start(name, attributes):
        if not found:
            found.update(tag=name, attributes=attributes, offset=parser.CurrentByteIndex)

    parser.StartElementHandler = start
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as err:
        raise PlexPreferencesError(
            '{0} is not well-formed XML ({1}); Plex cannot read it either. Restore it from a backup (docs/plex.md, '
            '"Database or preferences corruption"), or fix it by hand. Keep the file: it holds the server\'s '
            'identity (MachineIdentifier) and its claim (PlexOnlineToken).'.format(
                where, xml.parsers.expat.ErrorString(err.code) + ': line {0}, column {1}'.format(
                    err.lineno, err.offset))) from err
    return found['tag'], found['attributes'], len(data[:found['offset']].decode('utf-8', 'surrogatepass'))


class StartTag:
    """The root element's start tag located in the document text: its attributes and where each one sits. The
    root is found by the XML parser, so a <Preferences inside a comment, a processing instruction or a DOCTYPE is
    never mistaken for it."""

    def __init__(self, text, where='Preferences.xml'):
        self.text = text
        tag, values, offset = _locate_root(text, where)
        if tag != ROOT_TAG:
            raise PlexPreferencesError(
                '{0}: the root element is <{1}>, not <{2}>; point path at Plex Media Server\'s Preferences.xml '
                '(<config>/Library/Application Support/Plex Media Server/Preferences.xml).'.format(
                    where, tag, ROOT_TAG))
        self.values = dict(values)
        self.offset = offset  # where "<Preferences" starts
        if not text.startswith('<' + ROOT_TAG, offset):  # pragma: no cover - the parser reported this offset
            raise PlexPreferencesError('{0}: cannot find the <{1}> start tag.'.format(where, ROOT_TAG))
        pos = offset + len(ROOT_TAG) + 1
        self.spans = {}
        self.order = []
        while True:
            attr = _ATTRIBUTE.match(text, pos)
            if attr is None:
                break
            self.spans[attr.group(2)] = (attr.start(), attr.end())
            self.order.append(attr.group(2))
            pos = attr.end()
        close = _CLOSE.match(text, pos)
        if close is None or set(self.spans) != set(self.values):
            raise PlexPreferencesError(
                '{0}: cannot read the attributes of <{1}> near offset {2}; the file was edited by hand in a way '
                'this module does not understand. Fix it by hand or restore it from a backup; the file was not '
                'changed.'.format(where, ROOT_TAG, pos))
        self.insert_at = pos


def plan(text, set_values, unset_names, where='Preferences.xml'):
    """Return (new_text, changes) for the wanted edits. changes is a list of (name, before, after) with None for
    an absent attribute; an empty list means the file already has the wanted values (and new_text == text)."""
    for name in list(set_values) + list(unset_names):
        validate_name(name)
    for name in set_values:
        validate_value(name, set_values[name])
    tag = StartTag(text, where)
    changes = []
    edits = []  # (start, end, replacement), applied from the end of the text backwards
    appended = []
    for name in sorted(set_values):
        wanted = set_values[name]
        if name in tag.values:
            if tag.values[name] == wanted:
                continue
            start, end = tag.spans[name]
            original = text[start:end]
            lead = re.match(r'\s+' + re.escape(name) + r'\s*=\s*', original).group(0)
            edits.append((start, end, '{0}"{1}"'.format(lead, _escape(wanted))))
            changes.append((name, tag.values[name], wanted))
        else:
            appended.append(' {0}="{1}"'.format(name, _escape(wanted)))
            changes.append((name, None, wanted))
    for name in sorted(set(unset_names)):
        if name in set_values:
            raise PlexPreferencesError(
                'Preference {0} is both set and unset; list it in preferences or in absent, not both.'.format(name))
        if name in tag.values:
            start, end = tag.spans[name]
            edits.append((start, end, ''))
            changes.append((name, tag.values[name], None))
    if appended:
        edits.append((tag.insert_at, tag.insert_at, ''.join(appended)))
    new_text = text
    for start, end, replacement in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        new_text = new_text[:start] + replacement + new_text[end:]
    if changes:
        # the result must parse again with the wanted values; a bug here must never reach the disk
        try:
            check = StartTag(new_text, where).values
        except PlexPreferencesError as err:
            check = err
        wanted = dict(tag.values, **set_values)
        for name in unset_names:
            wanted.pop(name, None)
        if check != wanted:
            raise PlexPreferencesError(
                '{0}: the edit of {1} did not give the wanted document ({2}); nothing was written. This is a bug '
                'in plex_preferences, please report it with the names and values you set.'.format(
                    where, ', '.join(c[0] for c in changes), check if isinstance(check, Exception) else
                    'values differ'))
    return new_text, changes


def redact(name, value):
    if value is None or not is_secret(name):
        return value
    return '********'


def render_for_diff(values):
    """One attribute per line, sorted, secrets masked: a readable before/after for --diff."""
    return ''.join('{0}="{1}"\n'.format(name, redact(name, values[name])) for name in sorted(values))


def new_document(set_values):
    for name in set_values:
        validate_name(name)
        validate_value(name, set_values[name])
    attrs = ''.join(' {0}="{1}"'.format(name, _escape(set_values[name])) for name in sorted(set_values))
    return '<?xml version="1.0" encoding="utf-8"?>\n<{0}{1}/>\n'.format(ROOT_TAG, attrs)
