"""homelab.mediacluster.node_files: the drop-ins of the common and node_prep roles kept in one round trip per
call (issue 18). Run on this machine's file system: read and compare first, no write for the same desired state,
check and diff mode, and a refusal (before any change) where a path is not what the collection owns."""

import grp
import os
import pwd

from ..module_runner import run_module

OWNER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name


def entries(base, text='MaxUse=200M\n', mode='0644'):
    return [dict(path=str(base / 'conf.d'), state='directory', mode='0755', owner=OWNER, group=GROUP),
            dict(path=str(base / 'conf.d' / 'mediacluster.conf'), content=text, mode=mode, owner=OWNER,
                 group=GROUP)]


def snapshot(path):
    found = os.stat(path)
    return found.st_ino, found.st_mtime_ns, found.st_mode & 0o7777


def test_creates_then_a_rerun_writes_nothing(tmp_path):
    result = run_module('node_files', {'files': entries(tmp_path)})
    conf = tmp_path / 'conf.d' / 'mediacluster.conf'
    assert result['changed'] and result['changed_paths'] == [str(tmp_path / 'conf.d'), str(conf)]
    assert conf.read_text() == 'MaxUse=200M\n'
    assert snapshot(conf)[2] == 0o644 and snapshot(tmp_path / 'conf.d')[2] == 0o755
    before = snapshot(conf), snapshot(tmp_path / 'conf.d')
    again = run_module('node_files', {'files': entries(tmp_path)}, diff=True)
    assert again == {'changed': False, 'changed_paths': [], 'diff': [], 'invocation': again['invocation']}
    assert (snapshot(conf), snapshot(tmp_path / 'conf.d')) == before  # same inode and mtime: not rewritten


def test_check_mode_predicts_and_changes_nothing(tmp_path):
    result = run_module('node_files', {'files': entries(tmp_path)}, check=True, diff=True)
    assert result['changed'] and len(result['changed_paths']) == 2
    assert [d['after_header'] for d in result['diff']] == result['changed_paths']
    assert result['diff'][1]['after'] == 'MaxUse=200M\n'
    assert not (tmp_path / 'conf.d').exists()


def test_changed_contents_are_diffed_and_replaced(tmp_path):
    run_module('node_files', {'files': entries(tmp_path)})
    conf = tmp_path / 'conf.d' / 'mediacluster.conf'
    checked = run_module('node_files', {'files': entries(tmp_path, 'MaxUse=500M\n')}, check=True, diff=True)
    assert checked['changed_paths'] == [str(conf)] and conf.read_text() == 'MaxUse=200M\n'
    assert (checked['diff'][0]['before'], checked['diff'][0]['after']) == ('MaxUse=200M\n', 'MaxUse=500M\n')
    result = run_module('node_files', {'files': entries(tmp_path, 'MaxUse=500M\n')})
    assert result['changed_paths'] == [str(conf)] and conf.read_text() == 'MaxUse=500M\n'
    assert snapshot(conf)[2] == 0o644
    assert not [name for name in os.listdir(conf.parent) if name.startswith('.node_files.')]  # no temp file left


def test_a_mode_alone_is_set_and_diffed(tmp_path):
    run_module('node_files', {'files': entries(tmp_path)})
    conf = tmp_path / 'conf.d' / 'mediacluster.conf'
    inode = snapshot(conf)[0]
    result = run_module('node_files', {'files': entries(tmp_path, mode='0600')}, diff=True)
    assert result['changed_paths'] == [str(conf)]
    assert result['diff'] == [{'before_header': str(conf), 'after_header': str(conf),
                               'before': {'mode': '0644'}, 'after': {'mode': '0600'}}]
    assert snapshot(conf)[0] == inode and snapshot(conf)[2] == 0o600  # the contents were not rewritten


def test_a_link_or_a_directory_in_the_way_is_refused_before_any_change(tmp_path):
    (tmp_path / 'conf.d').mkdir()
    target = tmp_path / 'elsewhere.conf'
    target.write_text('owned by someone else\n')
    (tmp_path / 'conf.d' / 'mediacluster.conf').symlink_to(target)
    wanted = [dict(path=str(tmp_path / 'first.conf'), content='x\n', mode='0644')] + entries(tmp_path)[1:]
    result = run_module('node_files', {'files': wanted})
    assert result['failed'] and 'is a symbolic link' in result['msg'] and 'mediacluster.conf' in result['msg']
    assert not (tmp_path / 'first.conf').exists() and target.read_text() == 'owned by someone else\n'

    (tmp_path / 'conf.d' / 'mediacluster.conf').unlink()
    (tmp_path / 'conf.d' / 'mediacluster.conf').mkdir()
    result = run_module('node_files', {'files': entries(tmp_path)})
    assert result['failed'] and 'exists but is not a regular file' in result['msg']


def test_a_directory_gets_its_missing_parents(tmp_path):
    deep = tmp_path / 'multipath'  # /etc/multipath, before multipath-tools is installed
    checked = run_module('node_files', {'files': entries(deep)}, check=True)
    assert checked['changed_paths'] == [str(deep / 'conf.d'), str(deep / 'conf.d' / 'mediacluster.conf')]
    assert not deep.exists()
    run_module('node_files', {'files': entries(deep)})
    assert snapshot(deep)[2] == 0o755 and (deep / 'conf.d' / 'mediacluster.conf').read_text() == 'MaxUse=200M\n'


def test_a_missing_directory_or_a_bad_mode_is_named(tmp_path):
    result = run_module('node_files', {'files': entries(tmp_path)[1:]})
    assert result['failed'] and 'its directory {0} does not exist'.format(tmp_path / 'conf.d') in result['msg']
    # in check mode an earlier task (a package install) may still create it: a change is predicted, not an error
    checked = run_module('node_files', {'files': entries(tmp_path)[1:]}, check=True)
    assert checked['changed'] and 'failed' not in checked
    result = run_module('node_files', {'files': entries(tmp_path, mode='rw-r--r--')})
    assert result['failed'] and "mode 'rw-r--r--' is not an octal string" in result['msg']
    assert not (tmp_path / 'conf.d').exists()


def test_a_link_to_a_directory_counts_as_that_directory(tmp_path):
    pool = tmp_path / 'pool'  # e.g. a ZFS dataset's mount point the data directory links to
    pool.mkdir(mode=0o700)
    (tmp_path / 'data').symlink_to(pool)
    wanted = [dict(path=str(tmp_path / 'data'), state='directory', mode='0775', owner=OWNER, group=GROUP)]
    result = run_module('node_files', {'files': wanted})
    assert result['changed_paths'] == [str(tmp_path / 'data')]
    assert (tmp_path / 'data').is_symlink() and snapshot(pool)[2] == 0o775  # the link stays; its target is kept
    assert run_module('node_files', {'files': wanted})['changed'] is False
    (tmp_path / 'gone').symlink_to(tmp_path / 'nowhere')
    dangling = run_module('node_files', {'files': [dict(wanted[0], path=str(tmp_path / 'gone'))]})
    assert dangling['failed'] and 'is a symbolic link' in dangling['msg']
