"""Issue 18: the callback homelab.mediacluster.gc_threshold (plugins/callback/gc_threshold.py) raises the first
threshold of Python's cyclic garbage collector in ansible-playbook's main process (the workers it forks inherit it),
from its option, and refuses a value that would turn the collector off (ansible-playbook warns and runs with Python's
default)."""

import gc
import importlib.util

import pytest
import yaml

from tests.conftest import ROOT, VENV_BIN, run_logged

_spec = importlib.util.spec_from_file_location('gc_threshold', ROOT / 'plugins' / 'callback' / 'gc_threshold.py')
gc_threshold = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gc_threshold)

PLAYBOOK = [{'name': 'One task', 'hosts': 'localhost', 'gather_facts': False,
             'tasks': [{'name': 'Say hello', 'ansible.builtin.debug': {'msg': 'hello'}}]}]


def _run(tmp_path, name, **env):
    playbook = tmp_path / 'pb.yml'
    playbook.write_text(yaml.safe_dump(PLAYBOOK))
    return run_logged(name, [str(VENV_BIN / 'ansible-playbook'), '-i', 'localhost,', '-c', 'local', '-vvvv',
                             str(playbook)], **env)


def test_the_checkouts_ansible_cfg_raises_the_threshold_from_the_option(tmp_path):
    code, out = _run(tmp_path, 'gc-threshold-default')
    assert code == 0, out[-2000:]
    assert 'homelab.mediacluster.gc_threshold: first threshold 100000 (was 700)' in out, out[-2000:]
    code, out = _run(tmp_path, 'gc-threshold-env', MEDIACLUSTER_GC_THRESHOLD='5000')
    assert code == 0 and 'first threshold 5000 (was 700)' in out, out[-2000:]


def test_a_threshold_that_turns_the_collector_off_is_refused(tmp_path):
    code, out = _run(tmp_path, 'gc-threshold-zero', MEDIACLUSTER_GC_THRESHOLD='0')
    assert code == 0, out[-2000:]
    flat = ' '.join(out.split())
    assert ("Failed to load callback plugin 'homelab.mediacluster.gc_threshold': homelab.mediacluster.gc_threshold: "
            'threshold=0 is not a positive number of objects') in flat, out[-2000:]
    assert 'first threshold' not in out


def test_only_the_first_threshold_changes():
    before = gc.get_threshold()
    try:
        assert gc_threshold.apply_threshold(50000) == before
        assert gc.get_threshold() == (50000,) + before[1:]
        for bad in (0, -1, True, '100'):
            with pytest.raises(Exception, match='is not a positive number of objects'):
                gc_threshold.apply_threshold(bad)
        assert gc.get_threshold() == (50000,) + before[1:]
    finally:
        gc.set_threshold(*before)
