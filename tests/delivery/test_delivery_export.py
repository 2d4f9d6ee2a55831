"""The k8s_delivery role's export mode: a kustomize tree whose every file validates and whose kustomization.yaml
lists every file, written without any cluster; a rerun changes nothing; check mode writes nothing; bad settings
and invalid manifests fail before a file is written."""

import os
import stat

import yaml

from ansible_collections.homelab.mediacluster.plugins.module_utils import k8s_validation

from .conftest import ROOT, changed_items, recap, run_playbook, write_playbook
from .sample import SECRET_VALUE, manifests

CRDS = ROOT / 'tests' / 'schemas' / 'crds'


def _play(docs, app='demo'):
    return [{
        'name': 'Export the demo app', 'hosts': 'localhost', 'gather_facts': False,
        'tasks': [{'name': 'Deliver', 'ansible.builtin.include_role': {'name': 'homelab.mediacluster.k8s_delivery'},
                   'vars': {'k8s_delivery_app': app, 'k8s_delivery_manifests': docs}}],
    }]


def _vars(tree, version='1.33'):
    # No kubeconfig at all: export mode must not need a cluster.
    return {'k8s_delivery_mode': 'export', 'k8s_delivery_export_dir': str(tree),
            'k8s_delivery_kubernetes_version': version}


def test_export_writes_a_valid_kustomize_tree(tmp_path):
    tree = tmp_path / 'gitops'
    playbook = write_playbook(tmp_path / 'pb', _play(manifests()))

    code, out = run_playbook('delivery-export-check', playbook, '--check', '--diff', extra_vars=_vars(tree))
    assert code == 0, out[-3000:]
    assert not tree.exists() or not any(tree.rglob('*.yaml')), 'check mode wrote files'

    code, out = run_playbook('delivery-export-first', playbook, extra_vars=_vars(tree))
    assert code == 0, out[-3000:]
    assert SECRET_VALUE not in out
    app_dir = tree / 'demo'
    kustomization = yaml.safe_load((app_dir / 'kustomization.yaml').read_text())
    assert kustomization['apiVersion'] == 'kustomize.config.k8s.io/v1beta1'
    assert kustomization['kind'] == 'Kustomization'
    files = sorted(p.name for p in app_dir.iterdir() if p.name != 'kustomization.yaml')
    assert sorted(kustomization['resources']) == files, 'kustomization.yaml must list every file'
    assert len(files) == len(manifests())
    assert kustomization['resources'][0] == 'namespace-demo.yaml'  # dependencies first

    exported = []
    for name in files:
        docs = [d for d in yaml.safe_load_all((app_dir / name).read_text()) if d]
        assert len(docs) == 1, name
        assert name == '{0}-{1}.yaml'.format(docs[0]['kind'].lower(), docs[0]['metadata']['name'])
        exported.append(docs[0])
    assert k8s_validation.validate_manifests(exported, '1.33', [CRDS]) == []
    assert sorted(map(k8s_validation.object_ref, exported)) == sorted(map(k8s_validation.object_ref, manifests()))
    assert stat.S_IMODE(os.stat(app_dir / 'secret-api-key.yaml').st_mode) == 0o600
    assert stat.S_IMODE(os.stat(app_dir / 'configmap-settings.yaml').st_mode) == 0o640

    code, out = run_playbook('delivery-export-rerun', playbook, extra_vars=_vars(tree))
    assert code == 0, out[-3000:]
    assert recap(out)['changed'] == 0, out[-3000:]

    # One object fewer: the kustomization drops it, the stale file is reported (not deleted).
    fewer = [d for d in manifests() if d['kind'] != 'Service']
    playbook = write_playbook(tmp_path / 'pb2', _play(fewer))
    code, out = run_playbook('delivery-export-fewer', playbook, extra_vars=_vars(tree))
    assert code == 0, out[-3000:]
    assert 'service-web.yaml no longer produced by this collection' in out
    kustomization = yaml.safe_load((app_dir / 'kustomization.yaml').read_text())
    assert 'service-web.yaml' not in kustomization['resources']
    assert changed_items(out) == [] or 'kustomization.yaml' not in changed_items(out)


def test_export_needs_dir_and_version(tmp_path):
    playbook = write_playbook(tmp_path / 'pb', _play(manifests()))
    code, out = run_playbook('delivery-export-no-version', playbook,
                             extra_vars={'k8s_delivery_mode': 'export',
                                         'k8s_delivery_export_dir': str(tmp_path / 'tree')})
    assert code != 0
    assert 'set k8s_delivery_kubernetes_version to the version your GitOps cluster runs' in out
    assert not (tmp_path / 'tree').exists()

    code, out = run_playbook('delivery-export-no-dir', playbook,
                             extra_vars={'k8s_delivery_mode': 'export', 'k8s_delivery_kubernetes_version': '1.33',
                                         'k8s_delivery_export_dir': 'relative/tree'})
    assert code != 0
    assert 'k8s_delivery_mode=export needs k8s_delivery_export_dir as an absolute path' in out
    assert not (tmp_path / 'pb' / 'relative').exists()


def test_export_refuses_invalid_manifests_and_unsupported_versions(tmp_path):
    docs = manifests()
    docs[6]['spec']['task'] = 'backupp'
    playbook = write_playbook(tmp_path / 'pb', _play(docs))
    code, out = run_playbook('delivery-export-invalid', playbook, extra_vars=_vars(tmp_path / 'tree'))
    assert code != 0
    assert "RecurringJob longhorn-system/demo-backup: spec.task: 'backupp' is not one of" in out
    assert not (tmp_path / 'tree').exists()

    playbook = write_playbook(tmp_path / 'pb2', _play(manifests()))
    code, out = run_playbook('delivery-export-unsupported', playbook,
                             extra_vars=_vars(tmp_path / 'tree', version='1.20'))
    assert code != 0
    assert 'Kubernetes 1.20 is not supported' in out
    assert not (tmp_path / 'tree').exists()
