"""node_prep's memory cgroup check against the files four kinds of kernel show (issue 14 item 2).

Each case runs the role's preflight (its node_facts read of the controllers) and cgroup tasks (tasks/cgroups.yml:
the check and the harmless tasks around it; the Pi cmdline.txt edit is skipped on a vm flavour) on this machine in
a private mount and network namespace (`unshare --mount --net`), where /proc/cgroups and /sys/fs/cgroup are
replaced by the fixture: nothing outside the namespace sees them, and the run has no network. Fixtures are what
the kernels print:

- v1: every controller on its own hierarchy, /proc/cgroups lists memory with a hierarchy id;
- hybrid (systemd's default before v2): v1 controllers plus an empty cgroup2 tree at /sys/fs/cgroup/unified;
- v2: /sys/fs/cgroup is cgroup2; /proc/cgroups still has a memory row (hierarchy 0) on kernels built with
  CONFIG_MEMCG_V1;
- v2 without the row: kernels 6.11+ built without CONFIG_MEMCG_V1 (Raspberry Pi OS 6.12 kernels) list no memory
  row in /proc/cgroups at all, even though cgroup.controllers offers memory;
- and the Raspberry Pi firmware's cgroup_disable=memory without the cmdline.txt override, on both kinds of v2.
"""

import os
import shutil

import pytest
import yaml

from ..conftest import VENV_BIN, run_logged, tail

HEADER = '#subsys_name\thierarchy\tnum_cgroups\tenabled\n'


def rows(*rows_):
    return HEADER + ''.join('{0}\t{1}\t{2}\t{3}\n'.format(*r) for r in rows_)


V1_ROWS = [('cpuset', 3, 4, 1), ('cpu', 1, 60, 1), ('cpuacct', 1, 60, 1), ('memory', 5, 90, 1), ('pids', 6, 60, 1)]
V2_ROWS = [('cpuset', 0, 90, 1), ('cpu', 0, 90, 1), ('cpuacct', 0, 90, 1), ('memory', 0, 90, 1), ('pids', 0, 90, 1)]
V2_ROWS_NO_MEMCG_V1 = [r for r in V2_ROWS if r[0] != 'memory']
V2_ROWS_PI_DISABLED = [r if r[0] != 'memory' else ('memory', 0, 90, 0) for r in V2_ROWS]

# name: (/proc/cgroups, files under /sys/fs/cgroup, directories under /sys/fs/cgroup)
KERNELS = {
    'v1': (rows(*V1_ROWS), {}, ['cpuset', 'cpu,cpuacct', 'memory', 'pids', 'systemd']),
    'hybrid': (rows(*V1_ROWS), {'unified/cgroup.controllers': ''},
               ['cpuset', 'cpu,cpuacct', 'memory', 'pids', 'systemd', 'unified']),
    'v2': (rows(*V2_ROWS), {'cgroup.controllers': 'cpuset cpu io memory hugetlb pids rdma misc\n'}, []),
    'v2-no-memory-row': (rows(*V2_ROWS_NO_MEMCG_V1), {'cgroup.controllers': 'cpuset cpu io memory pids\n'}, []),
    'v2-pi-memory-disabled': (rows(*V2_ROWS_PI_DISABLED), {'cgroup.controllers': 'cpuset cpu io pids\n'}, []),
    'v2-no-memory-row-disabled': (rows(*V2_ROWS_NO_MEMCG_V1), {'cgroup.controllers': 'cpuset cpu io pids\n'}, []),
    'v1-memory-disabled': (rows(*[r if r[0] != 'memory' else ('memory', 0, 1, 0) for r in V1_ROWS]), {},
                           ['cpuset', 'cpu,cpuacct', 'pids', 'systemd']),
}

PLAY = [{
    'name': 'node_prep cgroup tasks on fixture cgroup files',
    'hosts': 'localhost',
    'connection': 'local',
    'gather_facts': True,
    'gather_subset': ['!all', '!min', 'virtual'],
    'vars': {
        # the preflight only reads and decides; nothing here loads, sets or starts anything
        'node_prep_flavour': 'vm', 'node_prep_disable_swap': False, 'node_prep_sysctls': {},
        'node_prep_reboot_allowed': False,
        'ansible_python_interpreter': '{{ ansible_playbook_python }}',
    },
    # the preflight reads the controllers (its node_facts call), the cgroup step judges them
    'tasks': [
        {'name': 'Run the preflight',
         'ansible.builtin.import_role': {'name': 'homelab.mediacluster.node_prep', 'tasks_from': 'preflight.yml'}},
        {'name': 'Run the cgroup tasks',
         'ansible.builtin.import_role': {'name': 'homelab.mediacluster.node_prep', 'tasks_from': 'cgroups.yml'}},
    ],
}]


def _run(name, tmp_path):
    if os.geteuid() != 0 or shutil.which('unshare') is None:
        pytest.skip('needs root and unshare(1) for a private mount namespace with fixture /proc/cgroups')
    proc_cgroups, files, dirs = KERNELS[name]
    (tmp_path / 'cgroups').write_text(proc_cgroups)
    playbook = tmp_path / 'play.yml'
    playbook.write_text(yaml.safe_dump(PLAY))
    setup = ['set -e', 'mount --bind {0} /proc/cgroups'.format(tmp_path / 'cgroups'),
             'mount -t tmpfs -o mode=0755 fixture /sys/fs/cgroup']
    setup += ['mkdir -p "/sys/fs/cgroup/{0}"'.format(d) for d in dirs]
    for number, (path, content) in enumerate(sorted(files.items())):
        source = tmp_path / 'file-{0}'.format(number)
        source.write_text(content)
        setup.append('mkdir -p "$(dirname /sys/fs/cgroup/{0})" && cp {1} /sys/fs/cgroup/{0}'.format(path, source))
    setup.append('exec {0} -i localhost, {1}'.format(VENV_BIN / 'ansible-playbook', playbook))
    return run_logged('node-prep-cgroup-' + name, ['unshare', '--mount', '--net', 'sh', '-c', '\n'.join(setup)],
                      timeout=300)


@pytest.mark.parametrize('name', ['v1', 'hybrid', 'v2', 'v2-no-memory-row'])
def test_memory_cgroup_available(name, tmp_path):
    code, output = _run(name, tmp_path)
    assert code == 0, tail(output)
    assert 'Check the memory cgroup controller is available' in output


@pytest.mark.parametrize('name', ['v2-pi-memory-disabled', 'v2-no-memory-row-disabled', 'v1-memory-disabled'])
def test_memory_cgroup_missing_is_refused_with_the_fix(name, tmp_path):
    code, output = _run(name, tmp_path)
    assert code != 0, tail(output)
    assert 'memory cgroup controller is not enabled' in output, tail(output)
    assert 'cgroup_enable=memory' in output, tail(output)
