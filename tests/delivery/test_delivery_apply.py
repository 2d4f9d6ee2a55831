"""The k8s_delivery role's apply path against the kmock API emulator: --check --diff on an empty cluster writes
nothing, the first run creates every object, a rerun changes nothing and sends no write, a changed value is shown in
check mode and applied in a normal run, Secret values never reach the output, invalid manifests stop the run before
anything is sent, and an API that does not answer fails in preflight."""

from .conftest import applied, changed_items, demo_play, demo_vars, recap, run_playbook, write_playbook
from .sample import SECRET_VALUE, manifests

OBJECTS = 7


def test_apply_check_first_rerun_and_change(kube, tmp_path):
    docs = manifests()
    playbook = write_playbook(tmp_path / 'pb', demo_play(docs))

    # 1. --check --diff on an empty cluster: every object would be created, nothing is written.
    code, out = run_playbook('delivery-apply-1-check', playbook, '--check', '--diff', extra_vars=demo_vars(kube))
    assert code == 0, out[-3000:]
    assert len(changed_items(out)) == OBJECTS, out[-3000:]
    assert '"TZ": "Etc/UTC"' in out  # the diff is shown
    assert kube.writes() == [], 'check mode sent writes: {0}'.format(kube.writes())
    assert kube.stored('v1', 'configmaps', 'demo', 'settings') is None
    assert SECRET_VALUE not in out

    # 2. First run creates every object (one apply call per batch without --diff).
    mark = len(kube.calls)
    code, out = run_playbook('delivery-apply-2-first', playbook, extra_vars=demo_vars(kube))
    assert code == 0, out[-3000:]
    assert len(applied(out)) == OBJECTS, out[-3000:]
    assert len(kube.writes(mark)) == OBJECTS
    assert kube.stored('v1', 'configmaps', 'demo', 'settings')['data'] == {'TZ': 'Etc/UTC', 'LOG_LEVEL': 'info'}
    assert kube.stored('apps/v1', 'deployments', 'demo', 'web')['spec']['replicas'] == 1
    assert kube.stored('longhorn.io/v1beta2', 'recurringjobs', 'longhorn-system', 'demo-backup')['spec']['retain'] == 7
    assert kube.stored('v1', 'namespaces', None, 'demo') is not None
    assert SECRET_VALUE not in out

    # 3. Rerun: changed=0 and not a single write call.
    mark = len(kube.calls)
    code, out = run_playbook('delivery-apply-3-rerun', playbook, extra_vars=demo_vars(kube))
    assert code == 0, out[-3000:]
    assert recap(out)['changed'] == 0, out[-3000:]
    assert kube.writes(mark) == [], 'the rerun sent writes: {0}'.format(kube.writes(mark))

    # 4. A changed value: check --diff shows it and writes nothing; the normal run applies only that object.
    docs[1]['data']['LOG_LEVEL'] = 'debug'
    playbook = write_playbook(tmp_path / 'pb2', demo_play(docs))
    mark = len(kube.calls)
    code, out = run_playbook('delivery-apply-4-change-check', playbook, '--check', '--diff', extra_vars=demo_vars(kube))
    assert code == 0, out[-3000:]
    assert changed_items(out) == ['ConfigMap demo/settings'], out[-3000:]
    assert '"LOG_LEVEL": "debug"' in out
    assert kube.writes(mark) == []
    assert kube.stored('v1', 'configmaps', 'demo', 'settings')['data']['LOG_LEVEL'] == 'info'

    code, out = run_playbook('delivery-apply-5-change', playbook, extra_vars=demo_vars(kube))
    assert code == 0, out[-3000:]
    assert applied(out) == ['ConfigMap demo/settings'], out[-3000:]
    assert len(kube.writes(mark)) == 1
    assert kube.stored('v1', 'configmaps', 'demo', 'settings')['data']['LOG_LEVEL'] == 'debug'


def test_invalid_manifest_stops_before_anything_is_sent(kube, tmp_path):
    docs = manifests()
    docs[6]['spec']['retain'] = 'seven'
    docs[4]['spec']['template']['spec']['containers'][0]['imagePullPolcy'] = 'Always'  # typo: unknown field
    docs[2]['stringData']['API_KEY'] = [SECRET_VALUE]  # a Secret's value of the wrong type
    playbook = write_playbook(tmp_path / 'pb', demo_play(docs))
    # -vvv: the check's task is not no_log; neither its failure nor anything else may show the Secret's value
    code, out = run_playbook('delivery-apply-invalid', playbook, '-vvv', extra_vars=demo_vars(kube))
    assert code != 0
    assert "RecurringJob longhorn-system/demo-backup: spec.retain: 'seven' is not of type 'integer'" in out
    assert "Deployment demo/web: spec.template.spec.containers[0]" in out and 'imagePullPolcy' in out
    assert 'Secret demo/api-key: stringData.API_KEY' in out
    assert kube.writes() == [] and not [c for c in kube.calls if c[0] in ('CREATE', 'UPDATE', 'DELETE')]
    assert SECRET_VALUE not in out


def test_unreachable_api_fails_in_preflight(tmp_path):
    kubeconfig = tmp_path / 'kubeconfig'
    kubeconfig.write_text(
        'apiVersion: v1\nkind: Config\ncurrent-context: x\nclusters: [{name: x, cluster: {server: "http://127.0.0.1:9"}}]\n'
        'users: [{name: x, user: {token: x}}]\ncontexts: [{name: x, context: {cluster: x, user: x}}]\n')
    playbook = write_playbook(tmp_path / 'pb', demo_play(manifests()))
    code, out = run_playbook('delivery-apply-unreachable', playbook,
                             extra_vars={'k8s_kubeconfig': str(kubeconfig), 'k8s_delivery_wait': False})
    assert code != 0
    assert 'The Kubernetes API did not answer through kubeconfig {0}'.format(kubeconfig) in out

    code, out = run_playbook('delivery-apply-no-kubeconfig', playbook,
                             extra_vars={'k8s_kubeconfig': str(tmp_path / 'missing'), 'k8s_delivery_wait': False})
    assert code != 0
    assert 'k8s_kubeconfig={0} does not exist'.format(tmp_path / 'missing') in out


def test_version_mismatch_and_unsupported_version_fail_in_preflight(kube, tmp_path):
    playbook = write_playbook(tmp_path / 'pb', demo_play(manifests()))
    code, out = run_playbook('delivery-apply-version-mismatch', playbook,
                             extra_vars=dict(demo_vars(kube), k8s_delivery_kubernetes_version='1.33'))
    assert code != 0
    assert 'k8s_delivery_kubernetes_version=1.33 but the cluster runs 1.26' in out
    assert kube.writes() == []


WIDGET_CRD = {
    'apiVersion': 'apiextensions.k8s.io/v1', 'kind': 'CustomResourceDefinition',
    'metadata': {'name': 'widgets.example.com'},
    'spec': {'group': 'example.com', 'scope': 'Namespaced',
             'names': {'kind': 'Widget', 'plural': 'widgets', 'singular': 'widget', 'listKind': 'WidgetList'},
             'versions': [{'name': 'v1', 'served': True, 'storage': True, 'schema': {'openAPIV3Schema': {
                 'type': 'object', 'properties': {'spec': {'type': 'object', 'properties': {
                     'size': {'type': 'integer'}}}}}}}]}}
WIDGET = {'apiVersion': 'example.com/v1', 'kind': 'Widget', 'metadata': {'name': 'w1', 'namespace': 'demo'},
          'spec': {'size': 3}}


def test_check_mode_reports_objects_whose_crd_comes_in_the_same_run(kube, tmp_path):
    """The emulator, like a real API server, cannot dry-run a Widget before its CRD exists: check mode reports it as
    to be created (and writes nothing); a real run stops with the server's refusal, naming the object."""
    docs = manifests() + [WIDGET_CRD, WIDGET]
    playbook = write_playbook(tmp_path / 'pb', demo_play(docs))
    code, out = run_playbook('delivery-apply-crd-check', playbook, '--check', '--diff', extra_vars=demo_vars(kube))
    assert code == 0, out[-3000:]
    flat = ' '.join(out.split())
    assert 'Widget demo/w1 would be created; the API server cannot dry-run it yet' in flat
    assert kube.writes() == []

    code, out = run_playbook('delivery-apply-crd-real', playbook, extra_vars=demo_vars(kube))
    assert code != 0
    assert 'The API server refused Widget demo/w1 (app demo):' in ' '.join(out.split())
