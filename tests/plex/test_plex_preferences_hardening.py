"""Issue 16, items 6-8: plex_preferences refuses attribute names that are not XML names (and never tells the user to
delete a healthy Preferences.xml for an input error), edits the real root element rather than a <Preferences inside a
comment or processing instruction, and keeps token values out of the module's invocation, its journal line and a
-vvv run's output."""

import json
import sys
import xml.etree.ElementTree as ET  # noqa: S405

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.homelab.mediacluster.plugins.module_utils import plex_prefs
from ansible_collections.homelab.mediacluster.plugins.module_utils.plex_prefs import PlexPreferencesError
from ansible_collections.homelab.mediacluster.plugins.modules import plex_preferences

from ..conftest import VENV_BIN, run_logged, tail
from ..module_runner import run_module

PLAIN = '<?xml version="1.0" encoding="utf-8"?>\n<Preferences MachineIdentifier="m-1" PlexOnlineToken="old-tok"/>\n'


def write(tmp_path, text=PLAIN):
    path = tmp_path / 'Preferences.xml'
    path.write_text(text)
    return path


# ---- item 6: attribute names must be XML names; an input error never suggests deleting the file

@pytest.mark.parametrize('name', ['a="1" zz', 'bad name', '1leading', 'x>y', 'a/b', 'ns:name', '', 'tab\tname'])
def test_item6_invalid_attribute_names_are_refused_and_file_kept(tmp_path, name):
    path = write(tmp_path)
    result = run_module('plex_preferences', {'path': str(path), 'preferences': {name: 'x'}})
    assert result.get('failed') is True
    assert 'not a valid preference name' in result['msg'] and repr(name) in result['msg']
    assert 'delete' not in result['msg'].lower()
    assert path.read_text() == PLAIN


def test_item6_invalid_absent_name_is_refused(tmp_path):
    path = write(tmp_path)
    result = run_module('plex_preferences', {'path': str(path), 'absent': ['a b']})
    assert result.get('failed') is True and 'not a valid preference name' in result['msg']


def test_item6_plan_refuses_injection():
    with pytest.raises(PlexPreferencesError, match='not a valid preference name'):
        plex_prefs.plan(PLAIN, {'a="1" zz': 'x'}, [])


@pytest.mark.parametrize('value', ['bell\x07', 'nul\x00', 'esc\x1b[0m'])
def test_item6_values_xml_cannot_hold_are_refused_without_suggesting_deletion(tmp_path, value):
    path = write(tmp_path)
    result = run_module('plex_preferences', {'path': str(path), 'preferences': {'FriendlyName': value}})
    assert result.get('failed') is True and 'FriendlyName' in result['msg']
    assert 'delete' not in result['msg'].lower()
    assert path.read_text() == PLAIN


def test_item6_broken_file_message_does_not_suggest_deleting_it(tmp_path):
    path = write(tmp_path, '<?xml version="1.0"?>\n<Preferences MachineIdentifier="x"')
    result = run_module('plex_preferences', {'path': str(path), 'preferences': {'A': '1'}})
    assert result.get('failed') is True and 'not well-formed' in result['msg']
    assert 'delete' not in result['msg'].lower() and 'backup' in result['msg']


# ---- item 7: the real root element is edited, not a <Preferences inside a comment or a PI

@pytest.mark.parametrize('prolog', [
    '<!-- old: <Preferences A="0" B="0"/> -->\n',
    '<?plex-note <Preferences A="0"/> ?>\n',
    '<!-- <Preferences --><?x <Preferences?>\n',
])
def test_item7_root_element_behind_comment_or_pi(prolog):
    text = '<?xml version="1.0" encoding="utf-8"?>\n' + prolog + '<Preferences A="1" B="1"/>\n'
    new, changes = plex_prefs.plan(text, {'A': '2', 'C': '3'}, ['B'])
    assert changes == [('A', '1', '2'), ('C', None, '3'), ('B', '1', None)]
    assert ET.fromstring(new).attrib == {'A': '2', 'C': '3'}  # noqa: S314
    assert new.startswith('<?xml version="1.0" encoding="utf-8"?>\n' + prolog)
    assert plex_prefs.plan(new, {'A': '2', 'C': '3'}, ['B']) == (new, [])


def test_item7_cdata_inside_the_root_is_not_the_root():
    text = '<Preferences A="1"><![CDATA[<Preferences A="0"/>]]></Preferences>'
    new, _changes = plex_prefs.plan(text, {'A': '2'}, [])
    assert new == '<Preferences A="2"><![CDATA[<Preferences A="0"/>]]></Preferences>'


# ---- item 8: token values never reach the invocation, the journal or a -vvv run

TOKEN = 'tok-Zq8-not-a-real-token'
OTHER = 'other-Kx3-not-a-real-token'


def run_for_output(path, monkeypatch, **params):
    """Run the module in-process with ansible's own exit path (no_log filtering included) and return the JSON it
    prints and every message it sends to the journal."""
    logged = []
    monkeypatch.setattr(basic.AnsibleModule, 'log', lambda self, msg, log_args=None: logged.append((msg, log_args)))
    out = []
    monkeypatch.setattr(basic.AnsibleModule, '_record_module_result',
                        lambda self, o: out.append(json.dumps(o, default=str)))  # warnings are objects in 2.19
    params['path'] = str(path)
    with patch_module_args(params):
        with pytest.raises(SystemExit):
            plex_preferences.main()
    return json.loads(out[0]), repr(logged)


def test_item8_tokens_are_no_log_in_invocation_and_journal(tmp_path, monkeypatch):
    path = write(tmp_path)
    result, journal = run_for_output(path, monkeypatch, preferences={'PlexOnlineToken': TOKEN,
                                                                     'CustomAuthToken': OTHER,
                                                                     'FriendlyName': 'nas'})
    assert result['changed'] is True
    blob = json.dumps(result)
    assert TOKEN not in blob and OTHER not in blob
    assert result['invocation']['module_args']['preferences']['FriendlyName'] == 'nas'
    assert TOKEN not in journal and OTHER not in journal and 'Invoked' in journal
    assert ET.parse(path).getroot().attrib['PlexOnlineToken'] == TOKEN  # noqa: S314


def test_item8_vvv_run_does_not_show_the_token(tmp_path):
    path = write(tmp_path)
    args = json.dumps({'path': str(path), 'preferences': {'PlexOnlineToken': TOKEN, 'SessionToken': OTHER}})
    cmd = [str(VENV_BIN / 'ansible'), 'localhost', '-i', 'localhost,', '-c', 'local', '-vvv',
           '-m', 'homelab.mediacluster.plex_preferences', '-a', args,
           '-e', 'ansible_python_interpreter=' + sys.executable]
    code, output = run_logged('plex-prefs-no-log', cmd, timeout=300)
    assert code == 0, tail(output)
    assert '"module_args"' in output, tail(output)
    assert TOKEN not in output and OTHER not in output
    assert ET.parse(path).getroot().attrib['SessionToken'] == OTHER  # noqa: S314


def test_decode_error_names_the_file_and_the_line(tmp_path):
    path = tmp_path / 'Preferences.xml'
    path.write_bytes(b'<?xml version="1.0" encoding="utf-8"?>\n<Preferences\n  FriendlyName="caf\xe9"/>\n')
    result = run_module('plex_preferences', {'path': str(path), 'preferences': {'A': '1'}})
    assert result.get('failed') is True and str(path) + ' line 3 is not UTF-8' in result['msg']
    assert 'delete' not in result['msg'].lower()
