"""Issue 13, defect 1: Pod Security admission for what the example inventory renders.

playbooks/60_media.yml and playbooks/70_plex.yml run in the delivery layer's export mode against inventory/example
(inside a network namespace with only loopback: the inventory's 192.168.1.x hosts are never reachable), and every pod
template in the exported trees is evaluated by plugins/module_utils/pod_security.py against the enforce level of the
Namespace the collection renders for it. A pod a real cluster would refuse (the GPU plugin's hostPath volumes in the
baseline `media` namespace) fails here."""

import importlib
import json
import shutil
import sys

import pytest
import yaml

from ..conftest import ROOT, VENV_BIN, run_logged, tail

sys.path.insert(0, str(ROOT / '.collections'))
PSA = importlib.import_module('ansible_collections.homelab.mediacluster.plugins.module_utils.pod_security')

SHARE = {'server': '10.43.17.201', 'path': '/pvc-64ffe0e2-1120-4278-93f0-0f353a1d890d',
         'volume': 'pvc-64ffe0e2-1120-4278-93f0-0f353a1d890d'}
# export mode, secrets given (export mode cannot generate and keep them in the cluster), the share-manager export
# pinned (issue 13 defect 4 is another branch's: without it the lookup would wait for a cluster), the render group
# GID the proxmox_k3s_lxc role would have found on k3s-w3
EXPORT = {'k8s_delivery_mode': 'export', 'k8s_delivery_kubernetes_version': '1.33', 'plex_config_share': SHARE,
          'plex_gpu_render_gid': 993, 'media_stack_wire': False,
          'media_stack_api_keys': {'prowlarr': '1' * 32, 'sonarr': '2' * 32, 'radarr': '3' * 32},
          'media_stack_qbittorrent_password': 'export-Pa55word',
          'media_stack_jellyfin_admin_password': 'export-Jf-Pa55word'}


def run_offline(name, cmd, timeout=900):
    """run_logged inside a new network namespace whose only interface is loopback (nothing else is reachable)."""
    if shutil.which('unshare') is None:
        pytest.skip('unshare (util-linux) is missing: the example inventory is rendered only without a network')
    wrapped = ['unshare', '--net', '--', 'sh', '-c', 'ip link set lo up && exec "$@"', 'offline', *cmd]
    return run_logged(name, wrapped, timeout=timeout)


def export_trees(tmp_path, name, inventory, extra, playbooks=('60_media.yml', '70_plex.yml')):
    export = tmp_path / 'gitops'
    variables = tmp_path / 'extra.json'
    variables.write_text(json.dumps(dict(EXPORT, k8s_delivery_export_dir=str(export),
                                         k8s_kubeconfig=str(tmp_path / 'no-such-kubeconfig'), **extra)))
    code, output = run_offline(name, [str(VENV_BIN / 'ansible-playbook'), '-i', str(inventory),
                                      *[str(ROOT / 'playbooks' / p) for p in playbooks], '-e', '@' + str(variables)])
    assert code == 0, tail(output, 60)
    docs = []
    for kustomization in sorted(export.glob('*/kustomization.yaml')):
        for resource in yaml.safe_load(kustomization.read_text())['resources']:
            docs.extend(d for d in yaml.safe_load_all((kustomization.parent / resource).read_text()) if d)
    return docs


@pytest.fixture(scope='module')
def example(example_media_plex_export):
    return example_media_plex_export  # rendered once per session (tests/conftest.py), shared with checkov's test


def namespace_labels(docs):
    return {d['metadata']['name']: d['metadata'].get('labels', {}) for d in docs if d['kind'] == 'Namespace'}


def test_gpu_plugin_pods_are_admitted(example):
    """The device plugin's pods must pass the enforce level of the namespace they land in; on a real cluster a
    refused DaemonSet pod means no node advertises gpu.intel.com/i915 and plex-0 stays Pending."""
    plugins = [d for d in example if d['kind'] == 'DaemonSet' and d['metadata']['name'] == 'intel-gpu-plugin']
    assert len(plugins) == 1
    plugin = plugins[0]
    namespace = plugin['metadata']['namespace']
    levels = PSA.namespace_levels(namespace_labels(example).get(namespace))
    refused = PSA.check_pod_spec(PSA.pod_spec_of(plugin), levels['enforce'], PSA.pod_metadata_of(plugin))
    errors, _unused = PSA.check_objects(example, {})
    assert refused == [], '\n'.join(e for e in errors if 'intel-gpu-plugin' in e)


def test_gpu_plugin_namespace_holds_the_plugin_alone(example):
    """The fix: a Namespace of the plugin's own, enforce privileged, and nothing else in it."""
    labels = namespace_labels(example)['intel-gpu-plugin']
    assert PSA.namespace_levels(labels)['enforce'] == 'privileged'
    inside = sorted((d['kind'], d['metadata']['name']) for d in example
                    if d['metadata'].get('namespace') == 'intel-gpu-plugin')
    assert inside == [('DaemonSet', 'intel-gpu-plugin')]
    plex = next(d for d in example if d['kind'] == 'StatefulSet' and d['metadata']['name'] == 'plex')
    assert plex['metadata']['namespace'] == 'media'  # Plex itself stays with the media stack, at baseline


def test_every_pod_of_the_example_is_admitted(example):
    """Every pod template the example inventory exports (media stack and Plex) passes the enforce level of its
    namespace; warnings (restricted, warn/audit) are allowed and named."""
    errors, warnings = PSA.check_objects(example, {})
    assert errors == []
    assert len([d for d in example if PSA.pod_spec_of(d) is not None]) >= 7
    assert all('(warn, audit)' in w for w in warnings)


# Plex's own host-access modes: in a namespace of Plex's own (plex_namespace_own) the role renders it with the level
# they need; the test inventory of tests/plex has only localhost
HOST_ACCESS = {
    'device-plugin-own-namespace': ({'plex_namespace': 'plex', 'plex_namespace_own': True}, 'baseline'),
    'privileged-gpu-own-namespace': ({'plex_namespace': 'plex', 'plex_namespace_own': True,
                                      'plex_gpu_mode': 'privileged'}, 'privileged'),
    'local-config-own-namespace': ({'plex_namespace': 'plex', 'plex_namespace_own': True,
                                    'plex_config_mode': 'local', 'plex_domain': ''}, 'privileged'),
}


@pytest.mark.parametrize('case', sorted(HOST_ACCESS))
def test_plex_in_its_own_namespace_gets_the_level_it_needs(tmp_path, case):
    settings, level = HOST_ACCESS[case]
    docs = export_trees(tmp_path, 'psa-' + case, ROOT / 'tests' / 'plex' / 'inventory',
                        settings, playbooks=('70_plex.yml',))
    labels = namespace_labels(docs)
    assert PSA.namespace_levels(labels['plex'])['enforce'] == level
    assert PSA.namespace_levels(labels['plex'])['warn'] == 'restricted'
    errors, _unused = PSA.check_objects(docs, {})
    assert errors == []
    plex = next(d for d in docs if d['kind'] == 'StatefulSet')
    assert plex['metadata']['namespace'] == 'plex'
    assert PSA.lowest_level_admitting(PSA.pod_spec_of(plex)) == level
