"""plugins/lookup/fast_template.py renders exactly what ansible.builtin.template's lookup renders (the task's
variables, template_vars, the template_* variables, a Jinja include from the same folder, the custom markers), and
leaves ansible.builtin.template's lookup as it found it."""

import copy
import json
import sys
import textwrap

import pytest

from ..conftest import ROOT, VENV_BIN, run_logged

sys.path.insert(0, str(ROOT / '.collections'))
from ansible_collections.homelab.mediacluster.plugins.lookup import fast_template  # noqa: E402

TEMPLATE = """\
name: {{ app.name }}
path: {{ template_path | basename }}
extra: {{ extra | default('none') }}
facts: {{ groups['all'] | length }}
{% include 'part.j2' %}
{% for part in app.parts %}- {{ part }}
{% endfor %}"""


def test_the_same_text_as_the_builtin_lookup(tmp_path):
    (tmp_path / 'templates').mkdir()
    (tmp_path / 'templates' / 'app.j2').write_text(TEMPLATE)
    (tmp_path / 'templates' / 'part.j2').write_text('part: {{ app.name | upper }}\n')
    (tmp_path / 'templates' / 'markers.j2').write_text('[% app.name %] {{ not templated }}\n')
    playbook = tmp_path / 'compare.yml'
    playbook.write_text(textwrap.dedent("""\
        - hosts: localhost
          gather_facts: false
          vars:
            app: {name: demo, parts: [a, b]}
          tasks:
            - name: Render with both lookups
              ansible.builtin.copy:
                content: "{{ results | to_json }}"
                dest: "{{ playbook_dir }}/out.json"
                mode: '0600'
              vars:
                results:
                  - ["{{ lookup('ansible.builtin.template', 'app.j2') }}",
                     "{{ lookup('homelab.mediacluster.fast_template', 'app.j2') }}"]
                  - ["{{ lookup('ansible.builtin.template', 'app.j2', template_vars={'extra': 1}) }}",
                     "{{ lookup('homelab.mediacluster.fast_template', 'app.j2', template_vars={'extra': 1}) }}"]
                  - ["{{ lookup('ansible.builtin.template', 'markers.j2', variable_start_string='[%',
                                variable_end_string='%]') }}",
                     "{{ lookup('homelab.mediacluster.fast_template', 'markers.j2', variable_start_string='[%',
                                variable_end_string='%]') }}"]
            - name: The builtin lookup still deep-copies
              ansible.builtin.assert:
                that: lookup('ansible.builtin.template', 'app.j2') is string
    """))
    code, output = run_logged('fast-template', [str(VENV_BIN / 'ansible-playbook'), '-i', 'localhost,', '-c', 'local',
                                                '-e', 'ansible_python_interpreter=' + sys.executable,
                                                str(playbook)])
    assert code == 0, output[-3000:]
    results = json.loads((tmp_path / 'out.json').read_text())
    assert results[0][0].startswith('name: demo\npath: app.j2\nextra: none\nfacts: 1\npart: DEMO- a\n- b\n'), results
    assert results[1][0].splitlines()[2] == 'extra: 1'
    assert results[2][0] == 'demo {{ not templated }}\n'
    for builtin, fast in results:
        assert fast == builtin


def test_a_shallow_copy_while_it_runs_and_the_builtin_lookup_gets_its_deep_copy_back(monkeypatch):
    builtin_template = fast_template.builtin_template
    calls = []
    task_vars = {'a': [1]}

    class Boom(Exception):
        pass

    def failing_run(self, terms, variables=None, **kwargs):
        calls.append(builtin_template.deepcopy(variables))
        raise Boom()

    monkeypatch.setattr(builtin_template.LookupModule, 'run', failing_run)
    with pytest.raises(Boom):
        fast_template.LookupModule.__new__(fast_template.LookupModule).run(['x'], task_vars)
    # a shallow copy while it ran, and the deep copy back afterwards, also after an error
    assert calls[0] == task_vars and calls[0] is not task_vars and calls[0]['a'] is task_vars['a']
    assert builtin_template.deepcopy is copy.deepcopy
