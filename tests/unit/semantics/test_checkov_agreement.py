"""A second opinion on the Pod Security checker: checkov (bridgecrew, PyPI; test-only) runs its Kubernetes checks over
what the collection renders for the example inventory plus deliberately bad fixtures, and must agree with
plugins/module_utils/pod_security.py on every control both implement.

checkov cannot live in ./.venv (checkov 3.3.30 pins packaging<24, pytest 9.2.0 needs packaging>=24), so it is
installed from tests/requirements-checkov.txt into .cache/checkov-venv on first use; the test skips, saying why,
only when that install fails. checkov itself runs in a network namespace with loopback only."""

import importlib
import json
import sys

import pytest
import yaml

from tests.conftest import ROOT, run_logged, tail
from tests.tool_venv import tool_venv

sys.path.insert(0, str(ROOT / '.collections'))
PSA = importlib.import_module('ansible_collections.homelab.mediacluster.plugins.module_utils.pod_security')

REQUIREMENTS = ROOT / 'tests' / 'requirements-checkov.txt'


def violated(obj, check_id, level, needle=None):
    """Does the checker find `check_id` at `level` (and `needle` in its detail, for one part of a control)?"""
    found = PSA.evaluate(PSA.pod_spec_of(obj), level, PSA.pod_metadata_of(obj))
    return any(v['id'] == check_id and (needle is None or needle in v['detail']) for v in found)


# checkov check id -> (what it checks, relation, the checker's verdict for the same object)
#   same:             checkov FAILED  <=> the checker finds the violation
#   checkov-implies:  checkov FAILED  =>  the checker finds it (checkov's check is narrower)
#   checker-implies:  the checker finds it  =>  checkov FAILED (checkov's check is broader)
MAPPING = {
    'CKV_K8S_16': ('privileged container', 'same', lambda o: violated(o, 'privileged', 'baseline')),
    'CKV_K8S_17': ('hostPID', 'same', lambda o: violated(o, 'hostNamespaces', 'baseline', 'hostPID=true')),
    'CKV_K8S_18': ('hostIPC', 'same', lambda o: violated(o, 'hostNamespaces', 'baseline', 'hostIPC=true')),
    'CKV_K8S_19': ('hostNetwork', 'same', lambda o: violated(o, 'hostNamespaces', 'baseline', 'hostNetwork=true')),
    'CKV_K8S_20': ('allowPrivilegeEscalation', 'same',
                   lambda o: violated(o, 'allowPrivilegeEscalation', 'restricted')),
    'CKV_K8S_26': ('hostPort', 'same', lambda o: violated(o, 'hostPorts', 'baseline')),
    'CKV_K8S_37': ('capabilities drop ALL', 'same',
                   lambda o: violated(o, 'capabilities_restricted', 'restricted', 'capabilities.drop=["ALL"]')),
    # any added capability (checkov) vs one outside the baseline allow-list (checker)
    'CKV_K8S_25': ('added capabilities', 'checker-implies', lambda o: violated(o, 'capabilities_baseline', 'baseline')),
    'CKV_K8S_39': ('SYS_ADMIN added', 'checkov-implies', lambda o: violated(o, 'capabilities_baseline', 'baseline')),
    # NET_RAW or ALL dropped (checkov) vs ALL dropped (checker)
    'CKV_K8S_28': ('NET_RAW not dropped', 'checkov-implies',
                   lambda o: violated(o, 'capabilities_restricted', 'restricted', 'capabilities.drop=["ALL"]')),
    # the docker socket (checkov) vs any hostPath volume (checker)
    'CKV_K8S_27': ('docker socket hostPath', 'checkov-implies', lambda o: violated(o, 'hostPathVolumes', 'baseline')),
    # root containers: runAsNonRoot / runAsUser>=1 (checkov) vs runAsNonRoot=true and runAsUser!=0 (checker)
    'CKV_K8S_23': ('root containers', 'checkov-implies',
                   lambda o: violated(o, 'runAsNonRoot', 'restricted') or violated(o, 'runAsUser', 'restricted')),
}


def deployment(name, pod, kind='Deployment'):
    template = {'metadata': {'labels': {'app': name}}, 'spec': pod}
    meta = {'name': name, 'namespace': 'fixtures'}
    if kind == 'Pod':
        return {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': meta, 'spec': pod}
    if kind == 'CronJob':
        return {'apiVersion': 'batch/v1', 'kind': 'CronJob', 'metadata': meta,
                'spec': {'schedule': '0 3 * * *', 'jobTemplate': {'spec': {'template': template}}}}
    return {'apiVersion': 'apps/v1', 'kind': kind, 'metadata': meta,
            'spec': {'selector': {'matchLabels': {'app': name}}, 'template': template}}


def container(name='app', **security):
    return {'name': name, 'image': 'busybox:1.36', 'securityContext': security}


GOOD = {'allowPrivilegeEscalation': False, 'capabilities': {'drop': ['ALL']}}
RESTRICTED_POD = {'runAsNonRoot': True, 'seccompProfile': {'type': 'RuntimeDefault'}}

FIXTURES = [
    deployment('good-restricted', {'securityContext': RESTRICTED_POD, 'containers': [container(**GOOD)]}),
    deployment('bad-privileged', {'containers': [container(privileged=True, **GOOD)]}),
    deployment('bad-host-namespaces', {'hostNetwork': True, 'hostPID': True, 'hostIPC': True,
                                       'securityContext': RESTRICTED_POD, 'containers': [container(**GOOD)]},
               kind='DaemonSet'),
    deployment('bad-host-pid', {'hostPID': True, 'containers': [container(**GOOD)]}, kind='Pod'),
    deployment('bad-host-port', {'containers': [dict(container(**GOOD), ports=[{'containerPort': 80,
                                                                                'hostPort': 8080}])]}),
    deployment('bad-capabilities', {'containers': [container(allowPrivilegeEscalation=False,
                                                             capabilities={'add': ['SYS_ADMIN', 'NET_RAW']})]}),
    deployment('baseline-capabilities', {'containers': [container(allowPrivilegeEscalation=False, capabilities={
        'add': ['CHOWN', 'SETUID'], 'drop': ['NET_RAW']})]}, kind='StatefulSet'),
    deployment('bad-root', {'securityContext': {'runAsUser': 0},
                            'containers': [container(allowPrivilegeEscalation=True)]}, kind='Job'),
    deployment('bad-docker-socket', {'containers': [container(**GOOD)],
                                     'volumes': [{'name': 'sock', 'hostPath': {'path': '/var/run/docker.sock'}}]},
               kind='CronJob'),
    deployment('bad-init-container', {'initContainers': [container('init', privileged=True)],
                                      'containers': [container(**GOOD)]}),
]


@pytest.fixture(scope='module')
def checkov():
    """.cache/checkov-venv/bin/checkov, installed from tests/requirements-checkov.txt (once per requirements)."""
    return tool_venv('checkov', REQUIREMENTS, 'checkov')


@pytest.fixture(scope='module')
def objects(example_media_plex_export):
    # the example export, rendered once per session (tests/unit/conftest.py) for this and the Pod Security tests
    return [d for d in example_media_plex_export + FIXTURES if PSA.pod_spec_of(d) is not None]


def resource_id(obj):
    return '{0}.{1}.{2}'.format(obj['kind'], obj['metadata'].get('namespace', 'default'), obj['metadata']['name'])


@pytest.fixture(scope='module')
def verdicts(checkov, objects, tmp_path_factory):
    folder = tmp_path_factory.mktemp('checkov-input')
    for index, obj in enumerate(objects):
        (folder / '{0:03d}-{1}.yaml'.format(index, obj['metadata']['name'])).write_text(yaml.safe_dump(obj))
    cmd = [str(checkov), '-d', str(folder), '--framework', 'kubernetes', '--check', ','.join(sorted(MAPPING)),
           '-o', 'json', '--compact', '--skip-download']
    # checkov must not phone home: loopback only
    code, output = run_logged('checkov-run', ['unshare', '--net', '--', 'sh', '-c', 'ip link set lo up && exec "$@"',
                                              'offline', *cmd], timeout=900)
    assert code in (0, 1), tail(output, 40)  # 1: some check failed (the bad fixtures)
    report = json.loads(output[output.index('{'):output.rindex('}') + 1])
    results = {}
    for outcome in ('passed_checks', 'failed_checks'):
        for check in report['results'][outcome]:
            results[(check['check_id'], check['resource'])] = outcome == 'failed_checks'
    return results


def test_checkov_and_the_checker_agree(objects, verdicts):
    disagreements, missing = [], []
    seen = {check: {'checkov': 0, 'checker': 0} for check in MAPPING}
    for obj in objects:
        for check, (what, relation, checker) in MAPPING.items():
            key = (check, resource_id(obj))
            if key not in verdicts:
                missing.append(key)
                continue
            by_checkov, by_checker = verdicts[key], checker(obj)
            seen[check]['checkov'] += by_checkov
            seen[check]['checker'] += by_checker
            agrees = {'same': by_checkov == by_checker, 'checkov-implies': by_checker or not by_checkov,
                      'checker-implies': by_checkov or not by_checker}[relation]
            if not agrees:
                disagreements.append('{0} ({1}, {2}) on {3}: checkov {4}, checker {5}'.format(
                    check, what, relation, key[1], 'FAILED' if by_checkov else 'PASSED',
                    'violated' if by_checker else 'admitted'))
    assert missing == [], 'checkov did not evaluate: {0}'.format(missing)
    assert disagreements == []
    # not vacuous: every mapped check was failed by something and passed by something
    never_failed = [c for c, n in seen.items() if n['checkov'] == 0 or n['checker'] == 0]
    assert never_failed == [], seen
    assert all(n['checkov'] < len(objects) for n in seen.values()), seen


def test_the_collection_and_the_fixtures_are_both_there(objects):
    names = {(o['kind'], o['metadata']['name']) for o in objects}
    assert ('DaemonSet', 'intel-gpu-plugin') in names and ('StatefulSet', 'plex') in names
    assert {('Deployment', 'sonarr'), ('Deployment', 'plex-config-holder')} <= names
    assert len(objects) >= len(FIXTURES) + 7
