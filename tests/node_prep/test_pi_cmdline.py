"""What node_prep writes into a Raspberry Pi's cmdline.txt (issue 14 item 2).

The Pi firmware puts `cgroup_disable=memory` in front of cmdline.txt; `cgroup_enable=memory` in cmdline.txt turns
the memory controller back on (v1 and v2 alike). `cgroup_memory=1` is not a parameter current Pi kernels know (they
log it as unknown), and cpuset is not disabled by the firmware, so the role adds `cgroup_enable=memory` only, removes
the `cgroup_memory=1` that earlier versions of this role wrote, and keeps every other word of the line in its place.

The edit is evaluated exactly as the role's task "Set the cgroup kernel arguments" (roles/node_prep/tasks/
cgroups.yml) renders it, with the role's defaults."""

import json
import subprocess
import sys

import pytest

from ..conftest import ROOT

ROLE = ROOT / 'roles' / 'node_prep'
# Raspberry Pi OS Bookworm, as the imager writes it
BOOKWORM = ('console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait '
            'quiet init=/usr/lib/raspberrypi-sys-mods/firstboot cfg80211.ieee80211_regdom=GB')


# Rendered in a fresh interpreter with Ansible's collection finder, as ansible-playbook does: in this process other
# tests may already have imported the collection from sys.path, after which the finder cannot load its filters.
RENDER = r"""
import json, sys
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

args = json.load(sys.stdin)
_AnsibleCollectionFinder(paths=[args['collections']])._install()


def trust(value):
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {k: trust(v) for k, v in value.items()}
    if isinstance(value, list):
        return [trust(v) for v in value]
    return value


defaults = yaml.safe_load(open(args['defaults']).read())
tasks = yaml.safe_load(open(args['tasks']).read())
task = next(t for t in tasks if t['name'] == 'Set the cgroup kernel arguments')
variables = trust(dict(defaults, node_flavour='pi'))
variables.update(trust(task.get('vars') or {}))
# what the preflight's node_facts read found in cmdline.txt
variables['_node_prep_cmdline_path'] = '/boot/firmware/cmdline.txt'
variables['__node_prep_node'] = {'files': {'/boot/firmware/cmdline.txt': args['old'] + '\n'}}
print(json.dumps(Templar(loader=DataLoader(), variables=variables).template(
    trust(task['ansible.builtin.copy']['content']))))
"""


@pytest.fixture(scope='module')
def role_edit():
    """The role's cmdline.txt edit as a function old line -> new line."""

    def edit(old):
        args = {'old': old, 'collections': str(ROOT / '.collections'),
                'defaults': str(ROLE / 'defaults' / 'main.yml'), 'tasks': str(ROLE / 'tasks' / 'cgroups.yml')}
        result = subprocess.run([sys.executable, '-c', RENDER], input=json.dumps(args), capture_output=True,
                                text=True, check=False)
        assert result.returncode == 0, result.stderr[-3000:]
        rendered = json.loads(result.stdout)
        assert rendered.endswith('\n') and rendered.count('\n') == 1, 'cmdline.txt must stay one line'
        return rendered.rstrip('\n')
    return edit


def test_a_fresh_pi_gets_cgroup_enable_memory_only(role_edit):
    assert role_edit(BOOKWORM) == BOOKWORM + ' cgroup_enable=memory'


def test_the_edit_is_idempotent(role_edit):
    once = role_edit(BOOKWORM)
    assert role_edit(once) == once


def test_the_old_cgroup_memory_goes_and_the_users_words_stay_in_place(role_edit):
    # written by earlier versions of this role, plus the user's own cgroup_enable=cpuset and a trailing option
    old = BOOKWORM + ' cgroup_memory=1 cgroup_enable=memory cgroup_enable=cpuset video=HDMI-A-1:1920x1080@60'
    new = role_edit(old).split()
    assert [w for w in new if w.startswith('cgroup_memory')] == []
    assert new.count('cgroup_enable=memory') == 1
    assert 'cgroup_enable=cpuset' in new  # not the role's to remove
    assert [w for w in new if not w.startswith('cgroup_')] == BOOKWORM.split() + ['video=HDMI-A-1:1920x1080@60']


def test_duplicates_collapse_to_one(role_edit):
    new = role_edit(BOOKWORM + ' cgroup_enable=memory cgroup_enable=memory').split()
    assert new.count('cgroup_enable=memory') == 1 and new[:len(BOOKWORM.split())] == BOOKWORM.split()


def test_an_already_correct_line_is_left_as_it_is(role_edit):
    line = 'cgroup_enable=memory ' + BOOKWORM  # the user put it first: it keeps its place
    assert role_edit(line) == line
