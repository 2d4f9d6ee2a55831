"""plugins/filter/k8s_yaml.py: manifests dumped readable and loss-free."""

import yaml

from ansible_collections.homelab.mediacluster.plugins.filter.k8s_yaml import k8s_yaml

from .sample import manifests


def test_round_trip_and_style():
    doc = {'apiVersion': 'helm.cattle.io/v1', 'kind': 'HelmChart', 'metadata': {'name': 'x', 'namespace': 'y'},
           'spec': {'version': '1.13', 'valuesContent': 'a:\n  b: 1\n', 'set': {'on': 'true'},
                    'list': ['one', 2], 'spaces': 'trailing \nline'}}
    text = k8s_yaml(doc)
    assert yaml.safe_load(text) == doc
    assert text.splitlines()[0] == 'apiVersion: helm.cattle.io/v1'  # key order kept
    assert '  valuesContent: |\n    a:\n      b: 1\n' in text
    assert "version: '1.13'" in text  # a string that looks like a number stays a string
    assert '  list:\n    - one\n    - 2\n' in text
    for manifest in manifests():
        assert yaml.safe_load(k8s_yaml(manifest)) == manifest
