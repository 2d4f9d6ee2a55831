"""plex_preferences on realistic Preferences.xml files: set, unset, preserve, idempotence, check and diff, and a
count of the write calls (zero when nothing changes)."""

import os
import re
import shutil
import xml.etree.ElementTree as ET  # noqa: S405

import pytest

from ansible_collections.homelab.mediacluster.plugins.module_utils import plex_prefs
from ansible_collections.homelab.mediacluster.plugins.modules import plex_preferences

from ..module_runner import run_module

GPU_PREFS = {
    'HardwareAcceleratedCodecs': True,
    'HardwareAcceleratedEncoders': True,
    'HardwareDevicePath': '/dev/dri/renderD128',
    'customConnections': 'https://plex.media.example:443,http://plex.media.example:80',
    'secureConnections': 1,
}


@pytest.fixture(params=['claimed.xml', 'fresh.xml'])
def prefs(request, tmp_path, samples):
    path = tmp_path / 'Preferences.xml'
    shutil.copy(samples / request.param, path)
    os.chmod(path, 0o640)
    return path


@pytest.fixture
def writes(monkeypatch):
    calls = []
    original = plex_preferences.write_text

    def counting(module, path, text):
        calls.append(path)
        return original(module, path, text)

    monkeypatch.setattr(plex_preferences, 'write_text', counting)
    return calls


def attrs(path):
    return dict(ET.parse(path).getroot().attrib)  # noqa: S314 (test samples)


def run(**kwargs):
    check = kwargs.pop('check', False)
    diff = kwargs.pop('diff', False)
    return run_module(plex_preferences, kwargs, check=check, diff=diff)


def test_set_then_rerun_is_unchanged_with_zero_writes(prefs, writes):
    before = attrs(prefs)
    first = run(path=str(prefs), preferences=GPU_PREFS)
    assert first['changed'] is True and len(writes) == 1
    after = attrs(prefs)
    assert after['HardwareAcceleratedCodecs'] == '1'
    assert after['HardwareAcceleratedEncoders'] == '1'
    assert after['HardwareDevicePath'] == '/dev/dri/renderD128'
    assert after['secureConnections'] == '1'
    assert after['customConnections'] == GPU_PREFS['customConnections']
    for name, value in before.items():  # every other attribute is kept, value for value
        if name not in GPU_PREFS:
            assert after[name] == value, name
    mtime = os.stat(prefs).st_mtime_ns
    second = run(path=str(prefs), preferences=GPU_PREFS)
    assert second['changed'] is False and second['changes'] == []
    assert len(writes) == 1, 'the rerun wrote the file'
    assert os.stat(prefs).st_mtime_ns == mtime


def test_untouched_text_is_byte_identical(prefs, writes):
    original = prefs.read_text()
    run(path=str(prefs), preferences={'TranscoderTempDirectory': '/transcode', 'NewSetting': 'x'})
    text = prefs.read_text()
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>\n<Preferences ')
    # the only differences are the edited value in place and the new attribute before the tag closes
    expected = re.sub(r'TranscoderTempDirectory="[^"]*"', 'TranscoderTempDirectory="/transcode"', original)
    expected = expected.replace('/>', ' NewSetting="x"/>', 1)
    assert text == expected


def test_existing_attribute_keeps_its_position(tmp_path, samples, writes):
    path = tmp_path / 'Preferences.xml'
    shutil.copy(samples / 'claimed.xml', path)
    order = list(attrs(path))
    result = run(path=str(path), preferences={'HardwareAcceleratedEncoders': True,
                                              'customConnections': 'https://plex.media.example:443'})
    assert result['changed'] is True
    assert list(attrs(path)) == order
    assert [c['name'] for c in result['changes']] == ['HardwareAcceleratedEncoders', 'customConnections']
    assert result['changes'][0] == {'name': 'HardwareAcceleratedEncoders', 'before': '0', 'after': '1'}
    # the escaped FriendlyName survives byte for byte
    assert 'FriendlyName="Tom &amp; Jerry&apos;s &quot;plex&quot; &lt;k3s&gt;"' in path.read_text()


def test_unset_removes_only_that_attribute(tmp_path, samples, writes):
    path = tmp_path / 'Preferences.xml'
    shutil.copy(samples / 'claimed.xml', path)
    before = attrs(path)
    result = run(path=str(path), absent=['customConnections', 'NotThere'])
    assert result['changed'] is True
    assert result['changes'] == [{'name': 'customConnections', 'before': 'https://plex.old.example:443',
                                  'after': None}]
    after = attrs(path)
    assert 'customConnections' not in after
    assert {k: v for k, v in before.items() if k != 'customConnections'} == after
    again = run(path=str(path), absent=['customConnections', 'NotThere'])
    assert again['changed'] is False and len(writes) == 1


def test_check_mode_reports_but_never_writes(prefs, writes):
    original = prefs.read_bytes()
    result = run(path=str(prefs), preferences=GPU_PREFS, check=True, diff=True)
    assert result['changed'] is True
    assert {c['name'] for c in result['changes']} >= {'HardwareDevicePath', 'customConnections'}
    assert writes == [] and prefs.read_bytes() == original
    assert 'HardwareDevicePath="/dev/dri/renderD128"' in result['diff']['after']
    assert 'HardwareDevicePath' not in result['diff']['before']


def test_diff_masks_the_token_and_result_never_returns_it(tmp_path, samples, writes):
    path = tmp_path / 'Preferences.xml'
    shutil.copy(samples / 'claimed.xml', path)
    result = run(path=str(path), preferences={'PlexOnlineToken': 'new-secret-token'}, diff=True)
    blob = repr(result)
    assert 'xQ9-sample-token-not-real' not in blob and 'new-secret-token' not in blob
    assert 'PlexOnlineToken="********"' in result['diff']['before']
    assert result['claimed'] is True


def test_claimed_and_identity_are_reported(tmp_path, samples, writes):
    for name, claimed in (('claimed.xml', True), ('fresh.xml', False)):
        path = tmp_path / name
        shutil.copy(samples / name, path)
        result = run(path=str(path))
        assert result['changed'] is False and result['claimed'] is claimed
        assert result['machine_identifier'] == attrs(path)['MachineIdentifier']
    assert writes == []


def test_mode_and_owner_are_preserved(prefs, writes):
    stat = os.stat(prefs)
    run(path=str(prefs), preferences=GPU_PREFS)
    after = os.stat(prefs)
    assert (after.st_mode & 0o7777, after.st_uid, after.st_gid) == (0o640, stat.st_uid, stat.st_gid)


def test_values_with_xml_specials_round_trip(prefs, writes):
    value = 'https://a.example:443,"b"&<c>'
    run(path=str(prefs), preferences={'customConnections': value})
    assert attrs(prefs)['customConnections'] == value
    assert run(path=str(prefs), preferences={'customConnections': value})['changed'] is False


def test_missing_file_fails_with_a_fix_unless_create(tmp_path, writes):
    path = tmp_path / 'Preferences.xml'
    result = run(path=str(path), preferences=GPU_PREFS)
    assert result['failed'] and 'Start Plex once' in result['msg'] and 'create=true' in result['msg']
    checked = run(path=str(path), preferences=GPU_PREFS, create=True, check=True)
    assert checked['changed'] is True and not path.exists()
    created = run(path=str(path), preferences=GPU_PREFS, create=True)
    assert created['changed'] is True and attrs(path)['HardwareDevicePath'] == '/dev/dri/renderD128'
    assert path.read_text().startswith('<?xml version="1.0" encoding="utf-8"?>\n<Preferences ')
    assert run(path=str(path), preferences=GPU_PREFS, create=True)['changed'] is False


@pytest.mark.parametrize('content, expected', [
    ('<?xml version="1.0" encoding="utf-8"?>\n<Preferences MachineIdentifier="x"', 'not well-formed'),
    ('<?xml version="1.0" encoding="utf-8"?>\n<Settings a="1"/>', 'root element is <Settings>'),
])
def test_broken_files_are_reported_not_edited(tmp_path, writes, content, expected):
    path = tmp_path / 'Preferences.xml'
    path.write_text(content)
    result = run(path=str(path), preferences=GPU_PREFS)
    assert result['failed'] and expected in result['msg'] and str(path) in result['msg']
    assert writes == [] and path.read_text() == content


def test_set_and_unset_same_name_is_refused(prefs, writes):
    result = run(path=str(prefs), preferences={'secureConnections': 1}, absent=['secureConnections'])
    assert result['failed'] and 'both set and unset' in result['msg'] and writes == []


def test_plan_handles_single_quotes_and_newlines():
    text = "<?xml version='1.0'?>\n<Preferences\n  A='1'\n  B=\"x\"\n/>\n"
    new, changes = plex_prefs.plan(text, {'A': '2', 'C': '3'}, ['B'])
    assert changes == [('A', '1', '2'), ('C', None, '3'), ('B', 'x', None)]
    assert new.startswith("<?xml version='1.0'?>\n<Preferences\n  A=\"2\"")
    root = ET.fromstring(new)  # noqa: S314
    assert root.attrib == {'A': '2', 'C': '3'}
