"""Apply mode validates custom resources whose CRD the collection does not ship against the CRD the cluster itself
serves: the k8s_delivery role lists the cluster's CustomResourceDefinitions (kubernetes.core.k8s_info) only when
the offline validation found kinds without a schema, writes the matching CRDs to a private temp dir and validates
again. The cluster here is the kmock emulator holding tests/gateway_api/httproute-constrained-test-crd.yaml (TEST
DATA: a small HTTPRoute schema that limits backendRefs[].port to 1..65535), so a route that only the cluster's schema
forbids proves the cluster's CRD is used. No k8s_delivery_crd_paths anywhere in this file."""

import glob
import os

from .conftest import ROOT, applied, demo_play, demo_vars, recap, run_playbook, write_playbook

CLUSTER_CRD = ROOT / 'tests' / 'gateway_api' / 'httproute-constrained-test-crd.yaml'
NAMESPACE = {'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {'name': 'demo'}}
SERVICE = {'apiVersion': 'v1', 'kind': 'Service', 'metadata': {'name': 'web', 'namespace': 'demo'},
           'spec': {'selector': {'app': 'web'}, 'ports': [{'name': 'http', 'port': 8080, 'targetPort': 8080}]}}


# the check's task when it runs again with the cluster's CRDs (roles/k8s_delivery/tasks/validate_with_cluster_crds.yml)
CHECK_WITH_CLUSTER_CRDS = ("Check the manifests (schemas, Pod Security, scheduling, NetworkPolicy) of demo, with the "
                           "cluster's CRDs")


def _private_tmp(tmp_path):
    """A TMPDIR of the test's own for its ansible-playbook runs, and the pattern of the role's private CRD directory
    in it: other tests running in parallel (pytest-xdist) create theirs in the system temp directory."""
    tmp = tmp_path / 'tmp'
    tmp.mkdir(exist_ok=True)
    return {'TMPDIR': str(tmp)}, os.path.join(str(tmp), 'k8s_delivery_crds.*')


def _route(port=8080):
    return {'apiVersion': 'gateway.networking.k8s.io/v1', 'kind': 'HTTPRoute',
            'metadata': {'name': 'web', 'namespace': 'demo'},
            'spec': {'parentRefs': [{'name': 'homelab', 'namespace': 'gateway'}], 'hostnames': ['web.home.arpa'],
                     'rules': [{'matches': [{'path': {'type': 'PathPrefix', 'value': '/'}}],
                                'backendRefs': [{'kind': 'Service', 'name': 'web', 'port': port}]}]}}


def _crd_lists(kube, since=0):
    return [c for c in kube.calls[since:] if c[0] == 'LIST' and "group='apiextensions.k8s.io'" in c[1]
            and "plural='customresourcedefinitions'" in c[1]]


def test_route_validated_against_the_cluster_crd_then_applied_and_rerun_is_quiet(kube_with_crds, tmp_path):
    kube = kube_with_crds(CLUSTER_CRD)
    env, tmp_pattern = _private_tmp(tmp_path)
    before = set(glob.glob(tmp_pattern))
    playbook = write_playbook(tmp_path / 'pb', demo_play([NAMESPACE, SERVICE, _route()]))

    # --check --diff: the cluster's CRD is read and used in check mode too; nothing is written
    code, out = run_playbook('cluster-crds-0-check', playbook, '--check', '--diff', extra_vars=demo_vars(kube), **env)
    assert code == 0, out[-3000:]
    assert CHECK_WITH_CLUSTER_CRDS in out
    assert len(_crd_lists(kube)) == 1 and kube.writes() == []
    assert set(glob.glob(tmp_pattern)) == before

    mark = len(kube.calls)
    code, out = run_playbook('cluster-crds-1-first', playbook, extra_vars=demo_vars(kube), **env)
    assert code == 0, out[-3000:]
    assert len(_crd_lists(kube, mark)) == 1, kube.calls  # read once, because HTTPRoute had no schema offline
    assert CHECK_WITH_CLUSTER_CRDS in out
    assert sorted(applied(out)) == ['HTTPRoute demo/web', 'Namespace /demo', 'Service demo/web'], out[-3000:]
    assert len(kube.writes(mark)) == 3
    stored = kube.stored('gateway.networking.k8s.io/v1', 'httproutes', 'demo', 'web')
    assert stored['spec']['rules'][0]['backendRefs'] == [{'kind': 'Service', 'name': 'web', 'port': 8080}]
    assert set(glob.glob(tmp_pattern)) == before, 'the private CRD directory was left behind'

    mark = len(kube.calls)
    code, out = run_playbook('cluster-crds-2-rerun', playbook, extra_vars=demo_vars(kube), **env)
    assert code == 0, out[-3000:]
    assert recap(out)['changed'] == 0, out[-3000:]
    assert kube.writes(mark) == [], 'the rerun sent writes: {0}'.format(kube.writes(mark))
    assert set(glob.glob(tmp_pattern)) == before


def test_no_crd_read_when_every_kind_has_a_schema(kube_with_crds, tmp_path):
    kube = kube_with_crds(CLUSTER_CRD)
    playbook = write_playbook(tmp_path / 'pb', demo_play([NAMESPACE, SERVICE]))
    code, out = run_playbook('cluster-crds-not-needed', playbook, extra_vars=demo_vars(kube))
    assert code == 0, out[-3000:]
    assert _crd_lists(kube) == [], 'CRDs were read although nothing needed them'
    assert len(kube.writes()) == 2


def test_route_the_cluster_schema_forbids_is_rejected_before_any_write(kube_with_crds, tmp_path):
    kube = kube_with_crds(CLUSTER_CRD)
    playbook = write_playbook(tmp_path / 'pb', demo_play([NAMESPACE, SERVICE, _route(port=70000)]))
    code, out = run_playbook('cluster-crds-invalid', playbook, extra_vars=demo_vars(kube))
    assert code != 0
    assert 'HTTPRoute demo/web: spec.rules[0].backendRefs[0].port: 70000 is greater than the maximum of 65535' in out
    assert len(_crd_lists(kube)) == 1
    assert kube.writes() == [] and not [c for c in kube.calls if c[0] in ('CREATE', 'UPDATE', 'DELETE')]


def test_cluster_without_the_crd_fails_with_what_to_install(kube, tmp_path):
    env, tmp_pattern = _private_tmp(tmp_path)
    before = set(glob.glob(tmp_pattern))
    playbook = write_playbook(tmp_path / 'pb', demo_play([NAMESPACE, SERVICE, _route()]))
    code, out = run_playbook('cluster-crds-absent', playbook, extra_vars=demo_vars(kube), **env)
    assert code != 0
    assert ('the cluster has no CRD for HTTPRoute gateway.networking.k8s.io/v1: install Gateway API (standard '
            'channel) first, or pass its CRD file in k8s_delivery_crd_paths') in out, out[-3000:]
    assert 'HTTPRoute demo/web' in out
    assert len(_crd_lists(kube)) == 1
    assert kube.writes() == [] and not [c for c in kube.calls if c[0] in ('CREATE', 'UPDATE', 'DELETE')]
    assert set(glob.glob(tmp_pattern)) == before


def test_cluster_crd_without_the_version_names_the_versions_it_has(kube_with_crds, tmp_path):
    kube = kube_with_crds(CLUSTER_CRD)
    route = dict(_route(), apiVersion='gateway.networking.k8s.io/v1beta1')
    playbook = write_playbook(tmp_path / 'pb', demo_play([NAMESPACE, SERVICE, route]))
    code, out = run_playbook('cluster-crds-version', playbook, extra_vars=demo_vars(kube))
    assert code != 0
    assert ("the CRD httproutes.gateway.networking.k8s.io on the cluster does not serve "
            "gateway.networking.k8s.io/v1beta1 (it has v1): upgrade Gateway API (standard channel) on the "
            "cluster") in out, out[-3000:]
    assert kube.writes() == []
