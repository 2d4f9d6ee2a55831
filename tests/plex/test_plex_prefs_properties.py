"""Property-based tests (Hypothesis) of the Preferences.xml editor on generated documents and generated edits.

Documents vary the XML declaration (quotes, present or not), comments and processing instructions before and after
the root (some holding a decoy "<Preferences"), attribute quoting, the white space between attributes (blanks, tabs,
CRLF/LF newlines), entity and character references in values, unicode, a self-closing or an open root with content,
and a final newline or not. Properties: outside the attributes it sets or unsets, every character stays identical
(the prolog, the epilogue, the untouched attributes' own text in order); the document parses to exactly the wanted
values; a rerun is a no-op; hostile names and values are refused, or round-trip exactly.

Derandomized (fixed seed), bounded examples, no example database: deterministic and well under the 60 s budget.
"""

import re
import xml.etree.ElementTree as ET  # noqa: S405

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.homelab.mediacluster.plugins.module_utils import plex_prefs
from ansible_collections.homelab.mediacluster.plugins.module_utils.plex_prefs import PlexPreferencesError

BUDGET = settings(derandomize=True, database=None, deadline=None, max_examples=200,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

NAMES = ['MachineIdentifier', 'PlexOnlineToken', 'FriendlyName', 'HardwareAcceleratedCodecs', 'customConnections',
         'secureConnections', 'TranscoderTempDirectory', 'a', 'B_2', 'x.y-z', '\u00e9t\u00e9', '_u']
XML_TEXT = st.text(st.characters(blacklist_categories=('Cs',), blacklist_characters='\x00\ufffe\uffff',
                                 codec='utf-8').filter(lambda c: c in '\t\n\r' or ord(c) >= 0x20), max_size=12)
SPACE = st.sampled_from([' ', '  ', '\t', '\n  ', '\r\n\t', ' \n'])


def raw_value(value, quote):
    """value written the way a hand or another program might: escapes where needed, some character references."""
    out = value.replace('&', '&amp;').replace('<', '&lt;').replace(quote, '&quot;' if quote == '"' else '&apos;')
    return out.replace('\n', '&#10;').replace('\r', '&#xD;').replace('\t', '&#9;')


@st.composite
def documents(draw):
    """(text, {name: value}) of a Preferences.xml."""
    attrs = draw(st.dictionaries(st.sampled_from(NAMES), XML_TEXT, max_size=6))
    parts = []
    if draw(st.booleans()):
        q = draw(st.sampled_from(['"', "'"]))
        parts.append('<?xml version={0}1.0{0} encoding={0}utf-8{0}?>'.format(q) + draw(st.sampled_from(['\n', '\r\n'])))
    for _index in range(draw(st.integers(0, 2))):
        parts.append(draw(st.sampled_from(['<!-- <Preferences Decoy="1"/> -->', '<?plex <Preferences ?>',
                                           '<!-- comment -->'])) + draw(st.sampled_from(['\n', '', '\r\n'])))
    parts.append('<Preferences')
    for name, value in attrs.items():
        quote = draw(st.sampled_from(['"', "'"]))
        parts.append(draw(SPACE) + name + draw(st.sampled_from(['=', ' = '])) + quote + raw_value(value, quote)
                     + quote)
    closing = draw(st.sampled_from(['/>', ' />', '\n/>', '><![CDATA[<Preferences A="0"/>]]></Preferences>',
                                    '></Preferences>']))
    parts.append(closing)
    parts.append(draw(st.sampled_from(['', '\n', '\r\n', '\n<!-- after -->\n'])))
    return ''.join(parts), attrs


def untouched_spans(text, touched):
    tag = plex_prefs.StartTag(text)
    return [text[s:e] for name, (s, e) in sorted(tag.spans.items(), key=lambda item: item[1]) if name not in touched]


@BUDGET
@given(documents(), st.dictionaries(st.sampled_from(NAMES), XML_TEXT, max_size=4),
       st.lists(st.sampled_from(NAMES), max_size=3))
def test_edits_touch_only_their_attributes_and_rerun_is_a_no_op(document, wanted, unset):
    text, values = document
    unset = [name for name in unset if name not in wanted]
    assert plex_prefs.StartTag(text).values == values
    new, changes = plex_prefs.plan(text, wanted, unset)
    expected = dict(values, **wanted)
    for name in unset:
        expected.pop(name, None)
    assert dict(ET.fromstring(new.encode('utf-8')).attrib) == expected  # noqa: S314
    assert plex_prefs.StartTag(new).values == expected
    assert plex_prefs.plan(new, wanted, unset) == (new, [])
    assert bool(changes) == (new != text)
    # the prolog up to the root and everything after the start tag are the same characters
    tag_before, tag_after = plex_prefs.StartTag(text), plex_prefs.StartTag(new)
    assert tag_after.offset == tag_before.offset and new[:tag_after.offset] == text[:tag_before.offset]
    assert new[tag_after.insert_at:] == text[tag_before.insert_at:]
    # the attributes not edited keep their own text, in the same order
    touched = set(name for name, _before, _after in changes)
    assert untouched_spans(new, touched) == untouched_spans(text, touched)


@BUDGET
@given(st.text(max_size=10), XML_TEXT)
def test_hostile_names_are_refused_or_round_trip(name, value):
    text = '<?xml version="1.0" encoding="utf-8"?>\n<Preferences MachineIdentifier="m"/>\n'
    try:
        new, _changes = plex_prefs.plan(text, {name: value}, [])
    except PlexPreferencesError as err:
        assert 'not a valid preference name' in str(err) and 'delete' not in str(err).lower()
        return
    root = ET.fromstring(new.encode('utf-8'))  # noqa: S314
    assert dict(root.attrib) == {'MachineIdentifier': 'm', name: value}
    assert new.startswith('<?xml version="1.0" encoding="utf-8"?>\n<Preferences MachineIdentifier="m" ')


@BUDGET
@given(st.text(max_size=16))
def test_hostile_values_are_refused_or_round_trip(value):
    text = '<Preferences A="1"/>'
    try:
        new, _changes = plex_prefs.plan(text, {'FriendlyName': value}, [])
    except PlexPreferencesError as err:
        assert 'FriendlyName' in str(err) and 'delete' not in str(err).lower()
        assert re.search('[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]', value)
        return
    assert ET.fromstring(new.encode('utf-8')).attrib == {'A': '1', 'FriendlyName': value}  # noqa: S314
    assert plex_prefs.plan(new, {'FriendlyName': value}, []) == (new, [])
