"""homelab.mediacluster.k8s_manifests (plugins/filter/k8s_yaml.py) parses a rendered manifest stream as
ansible.builtin.from_yaml_all does (YAML 1.1 safe types, empty documents left out as the roles' `| select` did), but
returns plain data: no value carries Ansible's data tags, which made every copy of the manifests fifty times dearer."""

import copy
import json
import sys
import time

from ansible.module_utils._internal._datatag import AnsibleTagHelper
from ansible.plugins.filter.core import from_yaml_all

from ..conftest import ROOT

sys.path.insert(0, str(ROOT / '.collections'))
from ansible_collections.homelab.mediacluster.plugins.filter.k8s_yaml import k8s_manifests  # noqa: E402

STREAM = """\
---
# a template's comment-only document (an app switched off)
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: media
  labels: {app.kubernetes.io/part-of: media-stack}
data:
  enabled: "yes"
  script: |
    #!/bin/sh
    echo hardlinks
  answer: "42"
---

---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: media}
spec:
  replicas: 1
  paused: no
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.27
          ports: [{containerPort: 8080}]
          resources: {limits: {cpu: 0.5, memory: 64Mi}}
"""


def _tagged(value):
    found = 1 if AnsibleTagHelper.tags(value) else 0
    if isinstance(value, dict):
        return found + sum(_tagged(k) + _tagged(v) for k, v in value.items())
    if isinstance(value, list):
        return found + sum(_tagged(v) for v in value)
    return found


def test_the_same_objects_as_from_yaml_all_without_empty_documents():
    expected = [doc for doc in from_yaml_all(STREAM) if doc]
    got = k8s_manifests(STREAM)
    assert json.dumps(got) == json.dumps(expected)
    assert [d['kind'] for d in got] == ['ConfigMap', 'Deployment']
    spec = got[1]['spec']
    # YAML 1.1 as Ansible reads it: `no` is false, 0.5 a float, a quoted "yes" stays a string
    assert spec['paused'] is False and spec['template']['spec']['containers'][0]['resources']['limits']['cpu'] == 0.5
    assert got[0]['data']['enabled'] == 'yes' and got[0]['data']['script'].endswith('echo hardlinks\n')


def test_plain_data_with_no_tags_and_cheap_to_copy():
    many = '\n---\n'.join([STREAM] * 40)
    plain, tagged = k8s_manifests(many), [doc for doc in from_yaml_all(many) if doc]
    assert _tagged(plain) == 0 and _tagged(tagged) > 1000
    assert {type(doc) for doc in plain} == {dict}  # not a tagged dict subclass

    def cost(data):
        started = time.perf_counter()
        for _unused in range(3):
            copy.deepcopy(data)
        return time.perf_counter() - started

    assert cost(plain) * 5 < cost(tagged), 'plain manifests should copy far faster than tagged ones'
