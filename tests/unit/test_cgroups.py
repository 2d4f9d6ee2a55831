"""The memory cgroup decision in plugins/module_utils/cgroups.py, on what v1, hybrid and v2 kernels show."""

import importlib.util

import pytest

from ..conftest import ROOT

_spec = importlib.util.spec_from_file_location('cgroups', ROOT / 'plugins' / 'module_utils' / 'cgroups.py')
cgroups = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cgroups)

HEADER = '#subsys_name\thierarchy\tnum_cgroups\tenabled\n'
V1 = HEADER + 'cpuset\t3\t4\t1\ncpu\t1\t60\t1\nmemory\t5\t90\t1\npids\t6\t60\t1\n'
V2_WITH_ROW = HEADER + 'cpuset\t0\t90\t1\ncpu\t0\t90\t1\nmemory\t0\t90\t1\npids\t0\t90\t1\n'
V2_NO_ROW = HEADER + 'cpuset\t0\t90\t1\ncpu\t0\t90\t1\npids\t0\t90\t1\n'  # 6.11+ without CONFIG_MEMCG_V1
PI_DISABLED = HEADER + 'cpuset\t0\t39\t1\ncpu\t0\t39\t1\nmemory\t0\t39\t0\npids\t0\t39\t1\n'
V1_DISABLED = HEADER + 'cpuset\t3\t4\t1\nmemory\t0\t1\t0\n'


@pytest.mark.parametrize('kernel, args, mode', [
    ('v1', dict(proc_cgroups=V1), 'v1'),
    ('hybrid', dict(proc_cgroups=V1, hybrid_controllers=''), 'hybrid'),
    ('v2', dict(v2_controllers='cpuset cpu io memory pids\n', proc_cgroups=V2_WITH_ROW), 'v2'),
    ('v2 without a memory row', dict(v2_controllers='cpuset cpu io memory pids\n', proc_cgroups=V2_NO_ROW), 'v2'),
    ('v2, /proc/cgroups unreadable', dict(v2_controllers='cpu memory pids'), 'v2'),
])
def test_memory_available(kernel, args, mode):
    result = cgroups.memory_cgroup(**args)
    assert result['available'] is True and result['mode'] == mode and result['reason'] == '', kernel


def test_v2_decides_from_cgroup_controllers_even_when_proc_cgroups_says_enabled():
    # a container on a v2 host sees the host's /proc/cgroups but only its own delegated controllers
    result = cgroups.memory_cgroup(v2_controllers='cpu pids', proc_cgroups=V2_WITH_ROW)
    assert result['available'] is False and result['source'] == '/sys/fs/cgroup/cgroup.controllers'
    assert 'not delegated to this container' in result['reason']


@pytest.mark.parametrize('args', [
    dict(v2_controllers='cpuset cpu io pids', proc_cgroups=PI_DISABLED),
    dict(v2_controllers='cpuset cpu io pids', proc_cgroups=V2_NO_ROW),
    dict(proc_cgroups=V1_DISABLED),
    dict(proc_cgroups=PI_DISABLED.replace('\t0\t39\t0', '\t2\t39\t0'), hybrid_controllers=''),
])
def test_memory_switched_off_on_the_command_line_can_be_fixed_there(args):
    result = cgroups.memory_cgroup(**args)
    assert result['available'] is False and result['cmdline_fix'] is True
    assert 'cgroup_disable=memory' in result['reason']


def test_v1_boot_of_a_kernel_without_memcg_v1_says_to_boot_v2():
    result = cgroups.memory_cgroup(proc_cgroups=V2_NO_ROW, hybrid_controllers='')
    assert result['available'] is False and result['mode'] == 'hybrid' and result['cmdline_fix'] is False
    assert 'CONFIG_MEMCG_V1' in result['reason'] and 'systemd.unified_cgroup_hierarchy=0' in result['reason']


def test_v1_memory_enabled_but_on_no_hierarchy_is_missing():
    result = cgroups.memory_cgroup(proc_cgroups=V2_WITH_ROW)
    assert result['available'] is False and 'mounted on no cgroup v1 hierarchy' in result['reason']


def test_proc_cgroups_parser_skips_header_and_garbage():
    assert cgroups.parse_proc_cgroups(HEADER + 'memory\t5\t9\t1\nbroken line\nx\ty\tz\tw\n') == {
        'memory': {'hierarchy': 5, 'enabled': True}}
