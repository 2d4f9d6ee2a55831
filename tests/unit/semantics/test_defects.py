"""Issue 13, defects 2 and 3, found by the cluster-semantics checker on the example inventory.

Defect 3: in export mode (GitOps) nothing but the k3s config at registration labels the nodes, and the Longhorn chart
values pin every component to mediacluster.homelab/longhorn=true: no node may carry it, so Longhorn runs nowhere.
Defect 2: the wiring calls are made from one node (a host-network source); whenever the app's pod runs on another
node the call arrives with that node's flannel.1 address, which the media NetworkPolicy (node IP /32) refuses.
"""

from ansible_collections.homelab.mediacluster.plugins.module_utils import cluster_semantics

from ...conftest import ROOT, tail
from . import render

EXAMPLE = ROOT / 'inventory' / 'example'


def test_defect3_gitops_longhorn_components_have_nodes(tmp_path):
    """Export mode, example inventory: the Longhorn HelmChart's components must have nodes to run on."""
    code, output, trees = render.render_exports(tmp_path, EXAMPLE, 'semantics-defect3', playbooks=('50_longhorn.yml',))
    assert render.refusals(output) == []
    assert code == 0, tail(output, 40)
    nodes = render.declared(tmp_path, EXAMPLE, 'export', 'semantics-defect3-model')['nodes']
    result = cluster_semantics.check(trees['longhorn'], nodes, [])
    assert result['errors'] == []
    # the components land on every node but the LXC GPU node and the quorum-only Pi
    from ansible_collections.homelab.mediacluster.plugins.module_utils import cluster_scheduling
    _unused, _unused, where = cluster_scheduling.placements(trees['longhorn'], nodes)
    assert where['DaemonSet longhorn-system/longhorn-manager'] == ['k3s-cp1', 'k3s-cp2', 'k3s-w1', 'k3s-w2']


def test_defect2_wiring_reaches_every_app_wherever_it_lands(tmp_path):
    """Apply mode, example inventory: the declared wiring flows must pass the media NetworkPolicy from wherever they
    are made, whichever node each app's pod lands on."""
    code, output, trees = render.render_exports(tmp_path, EXAMPLE, 'semantics-defect2', playbooks=('60_media.yml',))
    assert render.refusals(output) == [] and code == 0, tail(output, 40)
    declared = render.declared(tmp_path, EXAMPLE, 'apply', 'semantics-defect2-model')
    wiring = [f for f in declared['flows'] if f['name'].startswith('wiring')]
    assert {f['destination']['labels']['app.kubernetes.io/name'] for f in wiring} == {
        'prowlarr', 'sonarr', 'radarr', 'qbittorrent', 'sabnzbd', 'bazarr', 'jellyfin'}
    result = cluster_semantics.check(trees['media-stack'], declared['nodes'], declared['flows'])
    assert result['errors'] == []
