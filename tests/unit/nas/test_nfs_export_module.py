"""nfs_export module: read -> compare -> act. Same desired state means changed=False and zero writes; check mode
writes nothing; diff shows the file; bad input fails before any file changes; exportfs failure restores the file."""

import json
import pathlib
from unittest import mock

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.homelab.mediacluster.plugins.modules import nfs_export

FIXTURES = pathlib.Path(__file__).parent / 'fixtures'
DATA_OPTS = ['rw', 'sync', 'no_subtree_check', 'all_squash', 'anonuid=1000', 'anongid=1000']


class Host(object):
    """A fake /etc: exports file, exports.d, and counters of every write and exportfs call."""

    def __init__(self, tmp_path, exportfs_rc=0):
        self.main = tmp_path / 'exports'
        self.dropins = tmp_path / 'exports.d'
        self.dropins.mkdir()
        self.exportfs_rc = exportfs_rc
        self.moves = 0
        self.unlinks = 0
        self.commands = []

    def run(self, capsys, **args):
        args.setdefault('exports_dir', str(self.dropins))
        real_move = basic.AnsibleModule.atomic_move
        real_unlink = nfs_export.NfsExport.remove
        host = self

        def counting_move(module, src, dest, *a, **kw):
            host.moves += 1
            return real_move(module, src, dest, *a, **kw)

        def counting_unlink(runner):
            host.unlinks += 1
            return real_unlink(runner)

        def fake_run(module, cmd, *a, **kw):
            host.commands.append(cmd)
            return (host.exportfs_rc, '', 'exportfs: bad option' if host.exportfs_rc else '')

        with patch_module_args(args), \
                mock.patch.object(nfs_export, 'MAIN_EXPORTS', str(self.main)), \
                mock.patch.object(basic.AnsibleModule, 'atomic_move', counting_move), \
                mock.patch.object(nfs_export.NfsExport, 'remove', counting_unlink), \
                mock.patch.object(basic.AnsibleModule, 'run_command', fake_run), \
                mock.patch.object(basic.AnsibleModule, 'get_bin_path', lambda m, name, *a, **k: '/usr/sbin/' + name):
            with pytest.raises(SystemExit):
                nfs_export.main()
        return json.loads(capsys.readouterr().out)

    @property
    def writes(self):
        return self.moves + self.unlinks


def data_args(**extra):
    args = dict(name='data', path='/srv/nas/data', allowed_root='/srv/nas',
                clients=[dict(host='10.82.0.0/24', options=DATA_OPTS)])
    args.update(extra)
    return args


def test_create_then_rerun_is_unchanged_with_zero_writes(tmp_path, capsys):
    host = Host(tmp_path)
    first = host.run(capsys, **data_args())
    assert first['changed'] is True and first['reloaded'] is True
    assert host.moves == 1 and host.commands == [['/usr/sbin/exportfs', '-ra']]
    dest = host.dropins / 'data.exports'
    assert first['dest'] == str(dest)
    assert dest.read_text() == ('# homelab.mediacluster nfs_export: data\n/srv/nas/data 10.82.0.0/24(rw,sync,'
                                'no_subtree_check,all_squash,anonuid=1000,anongid=1000)\n')
    assert oct(dest.stat().st_mode & 0o777) == '0o644'
    second = host.run(capsys, **data_args())
    assert second['changed'] is False and second['reloaded'] is False
    assert host.moves == 1 and len(host.commands) == 1  # no write, no exportfs on the rerun


def test_check_mode_and_diff_write_nothing(tmp_path, capsys):
    host = Host(tmp_path)
    result = host.run(capsys, _ansible_check_mode=True, _ansible_diff=True, **data_args())
    assert result['changed'] is True
    assert result['diff']['before'] == '' and '/srv/nas/data 10.82.0.0/24(' in result['diff']['after']
    assert host.writes == 0 and host.commands == []
    assert not (host.dropins / 'data.exports').exists()


def test_shared_etc_exports_keeps_foreign_lines_byte_for_byte(tmp_path, capsys):
    host = Host(tmp_path)
    original = (FIXTURES / 'handwritten.exports').read_text()
    host.main.write_text(original)
    result = host.run(capsys, _ansible_diff=True, **data_args(dest=str(host.main)))
    assert result['changed'] is True
    text = host.main.read_text()
    assert text.startswith(original)
    assert result['diff']['before'] == original and result['diff']['after'] == text
    # change the options: the owned line changes in place, the foreign text stays a prefix
    host.run(capsys, **data_args(dest=str(host.main), clients=[dict(host='10.82.0.0/24', options=['ro'])]))
    assert host.main.read_text() == (original + '# homelab.mediacluster nfs_export: data\n'
                                     '/srv/nas/data 10.82.0.0/24(ro)\n')
    # absent gives back the original file exactly, and keeps /etc/exports even if it were empty
    result = host.run(capsys, name='data', state='absent', dest=str(host.main))
    assert result['changed'] is True and host.main.read_text() == original
    assert host.moves == 3


def test_absent_removes_the_dropin_file_and_is_idempotent(tmp_path, capsys):
    host = Host(tmp_path)
    host.run(capsys, **data_args())
    result = host.run(capsys, name='data', state='absent')
    assert result['changed'] is True and host.unlinks == 1
    assert not (host.dropins / 'data.exports').exists()
    again = host.run(capsys, name='data', state='absent')
    assert again['changed'] is False and host.unlinks == 1 and len(host.commands) == 2


def _bad_cases():
    return [
        (dict(path='srv/nas/data'), "path 'srv/nas/data' is not absolute"),
        (dict(path='/etc'), 'outside the allowed root /srv/nas'),
        (dict(clients=[dict(host='*', options=['rw'])]), 'set allow_world=true'),
        (dict(clients=[dict(host='10.82.0.0/24', options=['rw', 'no_such_option'])]),
         "unknown export option 'no_such_option'"),
        (dict(clients=[dict(host='10.82.0.0/24', options=['rw', 'root_squash', 'no_root_squash'])]),
         'root_squash and no_root_squash conflict'),
        (dict(clients=[dict(host='10.82.0.0/24', options=['rw', 'all_squash', 'no_root_squash'])]),
         'all_squash and no_root_squash conflict'),
        (dict(clients=[dict(host='10.82.0.0/33', options=['rw'])]), 'invalid prefix'),
        (dict(clients=[dict(host='10.82.0.0/24', options=['rw', 'fsid=0'])]), 'fsid=0 is already used by /srv/nfs4'),
        (dict(path='/srv/nas/data', allowed_root=None, name='x', dest=None), None),
    ]


@pytest.mark.parametrize('extra, message', [c for c in _bad_cases() if c[1]])
def test_bad_input_fails_before_any_file_changes(tmp_path, capsys, extra, message):
    host = Host(tmp_path)
    original = (FIXTURES / 'handwritten.exports').read_text()
    host.main.write_text(original)
    result = host.run(capsys, **data_args(dest=str(host.main), **extra))
    assert result.get('failed') is True
    assert message in result['msg'] and 'export data' in result['msg']
    assert host.main.read_text() == original and host.writes == 0 and host.commands == []
    assert list(host.dropins.iterdir()) == []


def test_path_exported_by_a_foreign_line_is_refused(tmp_path, capsys):
    host = Host(tmp_path)
    host.main.write_text('/srv/nas/data 10.0.0.0/8(ro)\n')
    result = host.run(capsys, **data_args())
    assert result['failed'] is True and 'already exported by ' + str(host.main) in result['msg']
    assert host.writes == 0 and not (host.dropins / 'data.exports').exists()


def test_exportfs_failure_restores_the_previous_file(tmp_path, capsys):
    host = Host(tmp_path, exportfs_rc=1)
    host.main.write_text('/srv/other 10.0.0.1(ro)\n')
    result = host.run(capsys, **data_args(dest=str(host.main)))
    assert result['failed'] is True
    assert 'exportfs -ra rejected' in result['msg'] and 'previous file was restored' in result['msg']
    assert host.main.read_text() == '/srv/other 10.0.0.1(ro)\n'
    assert host.commands == [['/usr/sbin/exportfs', '-ra']] * 2


def test_reload_false_writes_without_exportfs(tmp_path, capsys):
    host = Host(tmp_path)
    result = host.run(capsys, reload=False, **data_args())
    assert result['changed'] is True and result['reloaded'] is False and host.commands == []


def test_invalid_name(tmp_path, capsys):
    host = Host(tmp_path)
    result = host.run(capsys, **data_args(name='../evil'))
    assert result['failed'] is True and "nfs_export name '../evil'" in result['msg'] and host.writes == 0
