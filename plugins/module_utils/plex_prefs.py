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
import xml.etree.ElementTree as ET  # noqa: S405 (the file is Plex's own, on a volume the collection manages)

ROOT_TAG = 'Preferences'
# Attributes whose values are secrets: never shown in a diff or returned.
SECRET_ATTRIBUTES = frozenset(['PlexOnlineToken'])

_NAME = r'[A-Za-z_:][A-Za-z0-9_.:-]*'
_ATTRIBUTE = re.compile(r'(\s+)(' + _NAME + r')(\s*=\s*)("[^"]*"|\'[^\']*\')')
_START = re.compile(r'<' + ROOT_TAG + r'(?=[\s/>])')
_CLOSE = re.compile(r'\s*/?>')


class PlexPreferencesError(Exception):
    """Raised with a message naming the file, the cause and the fix."""


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


class StartTag:
    """The root element's start tag located in the document text: its attributes and where each one sits."""

    def __init__(self, text, where='Preferences.xml'):
        self.text = text
        try:
            root = ET.fromstring(text.encode('utf-8'))  # noqa: S314
        except ET.ParseError as err:
            raise PlexPreferencesError(
                '{0} is not well-formed XML ({1}); restore it from a backup (docs/plex.md, "Database or '
                'preferences corruption") or delete it and let Plex write a fresh one.'.format(where, err)) from err
        if root.tag != ROOT_TAG:
            raise PlexPreferencesError(
                '{0}: the root element is <{1}>, not <{2}>; point path at Plex Media Server\'s Preferences.xml '
                '(<config>/Library/Application Support/Plex Media Server/Preferences.xml).'.format(
                    where, root.tag, ROOT_TAG))
        self.values = dict(root.attrib)
        match = _START.search(text)
        if match is None:  # pragma: no cover - ElementTree found the root, so the tag is there
            raise PlexPreferencesError('{0}: cannot find the <{1}> start tag.'.format(where, ROOT_TAG))
        pos = match.end()
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
        if close is None:
            raise PlexPreferencesError(
                '{0}: cannot read the attributes of <{1}> near offset {2}; the file was edited by hand in a way '
                'this module does not understand — fix or restore it.'.format(where, ROOT_TAG, pos))
        self.insert_at = pos


def plan(text, set_values, unset_names, where='Preferences.xml'):
    """Return (new_text, changes) for the wanted edits. changes is a list of (name, before, after) with None for
    an absent attribute; an empty list means the file already has the wanted values (and new_text == text)."""
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
        StartTag(new_text, where)  # the result must parse again; a bug here must never reach the disk
    return new_text, changes


def redact(name, value, secrets=SECRET_ATTRIBUTES):
    if value is None or name not in secrets:
        return value
    return '********'


def render_for_diff(values, secrets=SECRET_ATTRIBUTES):
    """One attribute per line, sorted, secrets masked: a readable before/after for --diff."""
    return ''.join('{0}="{1}"\n'.format(name, redact(name, values[name], secrets)) for name in sorted(values))


def new_document(set_values):
    attrs = ''.join(' {0}="{1}"'.format(name, _escape(set_values[name])) for name in sorted(set_values))
    return '<?xml version="1.0" encoding="utf-8"?>\n<{0}{1}/>\n'.format(ROOT_TAG, attrs)
