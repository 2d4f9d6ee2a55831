"""playbooks/70_plex.yml in the delivery layer's export mode (GitOps): with the share-manager export pinned in
plex_config_share no cluster is contacted; the kustomize trees hold every object, and a rerun is changed=0."""

import json

import yaml

from ..conftest import VENV_BIN, run_logged, tail
from .test_plex_role_emulator import HERE, PLAYBOOK, recap_changed

SHARE = {'server': '10.43.17.201', 'path': '/pvc-64ffe0e2-1120-4278-93f0-0f353a1d890d',
         'volume': 'pvc-64ffe0e2-1120-4278-93f0-0f353a1d890d'}


def run(tmp_path, name, *args):
    tmp_path.mkdir(parents=True, exist_ok=True)
    extra = tmp_path / 'extra.json'
    extra.write_text(json.dumps({'k8s_delivery_mode': 'export', 'k8s_delivery_export_dir': str(tmp_path / 'gitops'),
                                 'k8s_delivery_kubernetes_version': '1.33', 'plex_config_share': SHARE,
                                 # no cluster here: a kubeconfig that points nowhere proves nothing is contacted
                                 'k8s_kubeconfig': str(tmp_path / 'no-such-kubeconfig')}))
    return run_logged('plex-export-' + name, [str(VENV_BIN / 'ansible-playbook'), '-i', str(HERE / 'inventory'),
                                              str(PLAYBOOK), '-e', '@' + str(extra), *args], timeout=600)


def test_export_writes_kustomize_trees_without_a_cluster(tmp_path):
    code, output = run(tmp_path, 'first')
    assert code == 0, tail(output, 60)
    trees = {}
    for app in ('plex-storage', 'plex'):
        folder = tmp_path / 'gitops' / app
        kustomization = yaml.safe_load((folder / 'kustomization.yaml').read_text())
        trees[app] = [yaml.safe_load((folder / f).read_text()) for f in kustomization['resources']]
    kinds = {(d['kind'], d['metadata']['name']) for docs in trees.values() for d in docs}
    assert {('DaemonSet', 'intel-gpu-plugin'), ('PersistentVolumeClaim', 'plex-config'),
            ('Deployment', 'plex-config-holder')} <= {(d['kind'], d['metadata']['name']) for d in trees['plex-storage']}
    assert {('PersistentVolume', 'media-plex-config-nfs'), ('StatefulSet', 'plex'), ('Ingress', 'plex')} <= kinds
    pv = next(d for d in trees['plex'] if d['kind'] == 'PersistentVolume' and d['metadata']['name'].endswith('nfs'))
    assert pv['spec']['nfs'] == {'server': SHARE['server'], 'path': SHARE['path']}

    code, output = run(tmp_path, 'rerun')
    assert code == 0 and recap_changed(output) == 0, tail(output, 60)


def test_tags_plex_runs_the_whole_role(tmp_path):
    """`--tags plex` is the documented Plex-only rerun: the role's included task files (render, deliver) and the
    delivery role it includes run too (they inherit the role's tag), so the trees equal a full run's."""
    trees = {}
    for name, args in (('full', ()), ('tags-plex', ('--tags', 'plex'))):
        code, output = run(tmp_path / name, name, *args)
        assert code == 0, tail(output, 60)
        trees[name] = {app: sorted(p.name for p in (tmp_path / name / 'gitops' / app).iterdir())
                       for app in ('plex-storage', 'plex')}
    assert trees['tags-plex'] == trees['full'] and len(trees['full']['plex']) > 3, trees
