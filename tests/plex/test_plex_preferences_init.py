"""roles/plex/files/plex-preferences.sh, the export-mode init container that writes the Preferences.xml attributes
the collection owns, run on real files with dash, bash and busybox sh (the linuxserver/plex image is Ubuntu: dash and
mawk; busybox stands in for a minimal image). The oracle for an edit is the plex_preferences module's own planner
(plugins/module_utils/plex_prefs.py): the script must produce the same bytes."""

import os
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET  # noqa: S405 (test data written by the test)

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.homelab.mediacluster.plugins.module_utils.plex_prefs import _escape, plan

from ..media_stack.conftest import SHELLS, shell_command
from .conftest import ROOT, SAMPLES

SCRIPT = ROOT / 'roles' / 'plex' / 'files' / 'plex-preferences.sh'
REL = os.path.join('Library', 'Application Support', 'Plex Media Server', 'Preferences.xml')
WANTED = {'HardwareAcceleratedCodecs': '1', 'HardwareAcceleratedEncoders': '1',
          'HardwareDevicePath': '/dev/dri/renderD128', 'TranscoderTempDirectory': '/transcode',
          'customConnections': 'https://plex.media.example:443,http://10.0.0.5:32400', 'secureConnections': '1'}


def run_script(config, wanted, shell='dash', check=True):
    prefs_file = config.parent / (config.name + '.preferences')
    # sorted like Python's sorted(): new attributes are then appended in the planner's order
    prefs_file.write_text(''.join('{0}={1}\n'.format(k, _escape(v)) for k, v in sorted(wanted.items())))
    with tempfile.TemporaryDirectory() as bindir:
        prefix, path = shell_command(shell, bindir)
        env = dict(os.environ, PATH=path, PLEX_CONFIG_DIR=str(config), PLEX_PREFS_FILE=str(prefs_file))
        result = subprocess.run(prefix + [str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30,
                                check=False)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def place(tmp_path, text, name='config'):
    config = tmp_path / name
    target = config / REL
    target.parent.mkdir(parents=True)
    target.write_bytes(text.encode('utf-8'))
    return config, target


@pytest.mark.parametrize('shell', SHELLS)
def test_fresh_config_gets_a_file_with_the_owned_attributes(tmp_path, shell):
    config = tmp_path / 'config'
    run_script(config, WANTED, shell)
    target = config / REL
    assert ET.parse(target).getroot().attrib == WANTED  # noqa: S314
    assert target.read_text().startswith('<?xml version="1.0" encoding="utf-8"?>\n<Preferences ')
    assert oct(target.stat().st_mode & 0o777) == '0o600', 'the file will hold the Plex token: owner only'
    before, stamp = target.read_bytes(), target.stat().st_mtime_ns
    result = run_script(config, WANTED, shell)
    assert target.read_bytes() == before and target.stat().st_mtime_ns == stamp, 'a restart rewrote the file'
    assert result.stdout == ''


@pytest.mark.parametrize('shell', SHELLS)
@pytest.mark.parametrize('sample', ['claimed.xml', 'fresh.xml'])
def test_existing_file_changes_exactly_like_the_module_would(tmp_path, shell, sample):
    text = (SAMPLES / sample).read_text()
    config, target = place(tmp_path, text)
    target.chmod(0o644)
    run_script(config, WANTED, shell)
    expected, changes = plan(text, WANTED, [])
    assert changes and target.read_text() == expected
    assert oct(target.stat().st_mode & 0o777) == '0o644', 'the mode of the file was changed'
    before = target.read_bytes()
    run_script(config, WANTED, shell)
    assert target.read_bytes() == before


@pytest.mark.parametrize('shell', SHELLS)
def test_quoting_line_ends_and_escapes_are_kept(tmp_path, shell):
    # single quotes, CRLF, spaces around "=", no newline at the end, an escaped value of an attribute not owned
    text = ("<?xml version='1.0' encoding='utf-8'?>\r\n<Preferences  A='x &amp; y'\r\n"
            "  TranscoderTempDirectory = '/tmp' FriendlyName=\"Tom &amp; Jerry&apos;s\" secureConnections='1'"
            " Say='it&apos;s &#x9;'   />")
    config, target = place(tmp_path, text)
    # secureConnections and Say already hold the wanted values, quoted and escaped otherwise: left as they are
    wanted = {'TranscoderTempDirectory': '/transcode', 'FriendlyName': 'Tom & "Jerry" <k3s>',
              'secureConnections': '1', 'Say': "it's \t"}
    run_script(config, wanted, shell)
    expected, _unused = plan(text, wanted, [])
    assert target.read_bytes().decode() == expected
    assert ET.parse(target).getroot().attrib == {'A': 'x & y', **wanted}  # noqa: S314
    assert "secureConnections='1' Say='it&apos;s &#x9;'" in expected


@pytest.mark.parametrize('shell', SHELLS)
@pytest.mark.parametrize('text, why', [
    ('', 'the file is empty'),
    ('<?xml version="1.0"?>\n<Settings a="1"/>\n', 'no <Preferences> element'),
    ('<?xml version="1.0"?>\n<Preferences a="1" b=oops/>\n', 'cannot read the attributes of <Preferences>'),
    ('<Preferences TranscoderTempDirectory="/a" TranscoderTempDirectory="/b"/>\n', 'appears twice'),
])
def test_unreadable_file_is_refused_and_left_alone(tmp_path, shell, text, why):
    config, target = place(tmp_path, text)
    result = run_script(config, WANTED, shell, check=False)
    assert result.returncode != 0 and why in result.stderr, result.stderr
    assert str(target) in result.stderr and 'restore' in result.stderr
    assert target.read_bytes() == text.encode()
    assert sorted(os.listdir(target.parent)) == ['Preferences.xml'], 'a temporary file was left behind'


def test_busybox_is_what_the_image_like_shells_use():
    """The busybox runs above must not silently fall back to the host's tools."""
    if not shutil.which('busybox'):
        pytest.skip('busybox is not installed (scripts/host-setup.sh installs it)')
    with tempfile.TemporaryDirectory() as bindir:
        _unused, path = shell_command('busybox', bindir)
        assert os.path.realpath(os.path.join(path, 'awk')) == os.path.realpath(shutil.which('busybox'))


# ------------------------------------------------------------------- any file Plex may have written, any wish
_NAMES = st.sampled_from(['A', 'b_2', 'TranscoderTempDirectory', 'customConnections', 'FriendlyName', 'x'])
_VALUES = st.text(st.characters(codec='utf-8', exclude_categories=['Cs', 'Cc']) | st.sampled_from('&<>"\'\t\n'),
                  max_size=12)


@st.composite
def _documents(draw):
    attrs = draw(st.dictionaries(_NAMES, _VALUES, max_size=5))
    parts = []
    for name, value in attrs.items():
        quote = draw(st.sampled_from(['"', "'"]))
        text = _escape(value).replace("'", '&apos;')
        parts.append('{0}{1}{2}={3}{4}{3}'.format(draw(st.sampled_from([' ', '  ', '\n  ', '\r\n '])), name,
                                                  draw(st.sampled_from(['', ' '])), quote, text))
    end = draw(st.sampled_from(['/>', ' />', '/>\n', '/>\r\n', '></Preferences>\n']))
    return '<?xml version="1.0" encoding="utf-8"?>\n<Preferences' + ''.join(parts) + end


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_documents(), wanted=st.dictionaries(_NAMES, _VALUES, min_size=1, max_size=4))
def test_any_document_changes_exactly_like_the_module_would(tmp_path_factory, text, wanted):
    if not shutil.which('dash'):
        pytest.skip('dash is not installed (scripts/host-setup.sh installs it)')
    tmp_path = tmp_path_factory.mktemp('prefs')
    config, target = place(tmp_path, text)
    run_script(config, wanted)
    expected, _unused = plan(text, wanted, [])
    assert target.read_bytes().decode() == expected
