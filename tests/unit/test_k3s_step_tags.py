"""The k3s step tags are written in four places: every `<role>_<step>` tag of k3s_common, k3s_server and k3s_agent
must also be on the k3s preflight (30_k3s.yml's first play and k3s_common's include of it), and each role's own
steps on its preflight, so that `--tags <role>_<step>` reruns that step on the plan, secrets and checks it needs
(tests/k3s/test_playbooks.py runs three of them). A step added to one role's tasks/main.yml without the others
fails here, not on a live rerun."""

import yaml

from ..conftest import ROOT

ROLES = ('k3s_common', 'k3s_server', 'k3s_agent')


def _tasks(path):
    return yaml.safe_load(path.read_text())


def _step_tags(role):
    """The `<role>_<step>` tags of the role's tasks/main.yml, its preflight's and every step's."""
    tags = set()
    for task in _tasks(ROOT / 'roles' / role / 'tasks' / 'main.yml'):
        tags.update(tag for tag in task.get('tags', []) if tag.startswith(role + '_'))
    return tags


def _preflight_tags(tasks, file):
    found = [task for task in tasks if 'preflight.yml' in str(task.get('ansible.builtin.include_tasks', ''))
             + str(task.get('ansible.builtin.import_tasks', '')) + str(task.get('ansible.builtin.import_role', ''))]
    assert len(found) == 1, '{0}: one preflight task expected, found {1}'.format(file, len(found))
    return set(found[0]['tags'])


def test_every_k3s_step_tag_runs_the_k3s_preflight():
    steps = set().union(*(_step_tags(role) for role in ROLES))
    assert {'k3s_server_config', 'k3s_agent_start', 'k3s_common_binary'} <= steps, steps
    play = _tasks(ROOT / 'playbooks' / '30_k3s.yml')[0]
    assert play['name'] == 'Check the k3s inventory', play['name']
    for file, tags in (('playbooks/30_k3s.yml', _preflight_tags(play['tasks'], '30_k3s.yml')),
                       ('roles/k3s_common/tasks/main.yml',
                        _preflight_tags(_tasks(ROOT / 'roles' / 'k3s_common' / 'tasks' / 'main.yml'), 'main.yml'))):
        assert steps <= tags, '{0}: the k3s preflight lacks the step tags {1}'.format(file, sorted(steps - tags))


def test_each_roles_preflight_carries_its_own_steps():
    for role in ('k3s_server', 'k3s_agent'):
        tags = _preflight_tags(_tasks(ROOT / 'roles' / role / 'tasks' / 'main.yml'), role)
        missing = _step_tags(role) - tags
        assert not missing, '{0}: its preflight lacks the step tags {1}'.format(role, sorted(missing))
