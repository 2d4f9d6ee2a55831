"""plugins/module_utils/pod_security.py: every Pod Security Standards control with cases that pass and cases that fail
(rules of k8s.io/pod-security-admission policy/check_*.go, "latest" at Kubernetes 1.32/1.33), namespace label
handling, pod spec extraction per workload kind, and the messages check_objects gives."""

import copy
import importlib
import sys

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / '.collections'))
PSA = importlib.import_module('ansible_collections.homelab.mediacluster.plugins.module_utils.pod_security')


def restricted_pod():
    """A pod every level admits: the starting point each case changes one thing in."""
    return {
        'securityContext': {'runAsNonRoot': True, 'seccompProfile': {'type': 'RuntimeDefault'}},
        'initContainers': [{'name': 'init', 'image': 'busybox',
                            'securityContext': {'allowPrivilegeEscalation': False, 'capabilities': {'drop': ['ALL']}}}],
        'containers': [{'name': 'app', 'image': 'busybox', 'ports': [{'containerPort': 8080}],
                        'securityContext': {'allowPrivilegeEscalation': False, 'capabilities': {'drop': ['ALL']}}}],
        'volumes': [{'name': 'data', 'persistentVolumeClaim': {'claimName': 'data'}},
                    {'name': 'tmp', 'emptyDir': {}}],
    }


def app(pod):
    return pod['containers'][0]


def sc(pod, index=0, key='containers'):
    return pod[key][index]['securityContext']


def with_ephemeral(pod, security_context):
    pod['ephemeralContainers'] = [{'name': 'debug', 'image': 'busybox', 'securityContext': security_context}]


# (case, level, change to restricted_pod(), pod annotations, the upstream check ids violated at that level)
CASES = [
    # --- baseline: host namespaces
    ('hostNetwork', 'baseline', lambda p: p.update(hostNetwork=True), None, {'hostNamespaces'}),
    ('hostPID', 'baseline', lambda p: p.update(hostPID=True), None, {'hostNamespaces'}),
    ('hostIPC', 'baseline', lambda p: p.update(hostIPC=True), None, {'hostNamespaces'}),
    ('host namespaces false', 'baseline', lambda p: p.update(hostNetwork=False, hostPID=False, hostIPC=False), None,
     set()),
    # --- privileged
    ('privileged container', 'baseline', lambda p: sc(p).update(privileged=True), None, {'privileged'}),
    ('privileged init container', 'baseline', lambda p: sc(p, 0, 'initContainers').update(privileged=True), None,
     {'privileged'}),
    ('privileged ephemeral container', 'baseline', lambda p: with_ephemeral(p, {'privileged': True}), None,
     {'privileged'}),
    ('privileged false', 'baseline', lambda p: sc(p).update(privileged=False), None, set()),
    # --- capabilities (baseline allow-list)
    ('add SYS_ADMIN', 'baseline', lambda p: sc(p)['capabilities'].update(add=['SYS_ADMIN']), None,
     {'capabilities_baseline'}),
    ('add NET_RAW', 'baseline', lambda p: sc(p)['capabilities'].update(add=['NET_RAW']), None,
     {'capabilities_baseline'}),
    ('add CHOWN SETUID SETGID', 'baseline', lambda p: sc(p)['capabilities'].update(add=['CHOWN', 'SETUID', 'SETGID']),
     None, set()),
    ('init container adds SYS_PTRACE', 'baseline',
     lambda p: sc(p, 0, 'initContainers')['capabilities'].update(add=['SYS_PTRACE']), None, {'capabilities_baseline'}),
    # --- hostPath volumes
    ('hostPath volume', 'baseline', lambda p: p['volumes'].append({'name': 'dri', 'hostPath': {'path': '/dev/dri'}}),
     None, {'hostPathVolumes'}),
    ('nfs volume is baseline', 'baseline',
     lambda p: p['volumes'].append({'name': 'media', 'nfs': {'server': '10.0.0.1', 'path': '/data'}}), None, set()),
    # --- host ports
    ('hostPort', 'baseline', lambda p: app(p)['ports'][0].update(hostPort=8080), None, {'hostPorts'}),
    ('hostPort 0', 'baseline', lambda p: app(p)['ports'][0].update(hostPort=0), None, set()),
    ('init container hostPort', 'baseline',
     lambda p: p['initContainers'][0].update(ports=[{'containerPort': 53, 'hostPort': 53}]), None, {'hostPorts'}),
    # --- AppArmor
    ('AppArmor annotation unconfined', 'baseline', None,
     {'container.apparmor.security.beta.kubernetes.io/app': 'unconfined'}, {'appArmorProfile'}),
    ('AppArmor annotation runtime/default', 'baseline', None,
     {'container.apparmor.security.beta.kubernetes.io/app': 'runtime/default'}, set()),
    ('AppArmor annotation localhost', 'baseline', None,
     {'container.apparmor.security.beta.kubernetes.io/app': 'localhost/k8s-apparmor'}, set()),
    ('AppArmor pod Unconfined', 'baseline',
     lambda p: p['securityContext'].update(appArmorProfile={'type': 'Unconfined'}), None, {'appArmorProfile'}),
    ('AppArmor container Unconfined', 'baseline', lambda p: sc(p).update(appArmorProfile={'type': 'Unconfined'}),
     None, {'appArmorProfile'}),
    ('AppArmor container RuntimeDefault', 'baseline',
     lambda p: sc(p).update(appArmorProfile={'type': 'RuntimeDefault'}), None, set()),
    # --- SELinux
    ('SELinux type spc_t', 'baseline', lambda p: p['securityContext'].update(seLinuxOptions={'type': 'spc_t'}), None,
     {'seLinuxOptions'}),
    ('SELinux type container_t', 'baseline',
     lambda p: p['securityContext'].update(seLinuxOptions={'type': 'container_t', 'level': 's0:c1,c2'}), None, set()),
    ('SELinux type container_engine_t', 'baseline',
     lambda p: sc(p).update(seLinuxOptions={'type': 'container_engine_t'}), None, set()),
    ('SELinux user', 'baseline', lambda p: sc(p).update(seLinuxOptions={'user': 'system_u'}), None,
     {'seLinuxOptions'}),
    ('SELinux role', 'baseline', lambda p: sc(p).update(seLinuxOptions={'role': 'system_r'}), None,
     {'seLinuxOptions'}),
    # --- /proc mount type
    ('procMount Unmasked', 'baseline', lambda p: sc(p).update(procMount='Unmasked'), None, {'procMount'}),
    ('procMount Default', 'baseline', lambda p: sc(p).update(procMount='Default'), None, set()),
    # --- seccomp (baseline: anything but Unconfined, unset allowed)
    ('seccomp pod Unconfined', 'baseline',
     lambda p: p['securityContext'].update(seccompProfile={'type': 'Unconfined'}), None, {'seccompProfile_baseline'}),
    ('seccomp container Unconfined', 'baseline', lambda p: sc(p).update(seccompProfile={'type': 'Unconfined'}), None,
     {'seccompProfile_baseline'}),
    ('seccomp unset is baseline', 'baseline', lambda p: p['securityContext'].pop('seccompProfile'), None, set()),
    ('seccomp Localhost', 'baseline',
     lambda p: sc(p).update(seccompProfile={'type': 'Localhost', 'localhostProfile': 'p.json'}), None, set()),
    # --- sysctls
    ('unsafe sysctl', 'baseline',
     lambda p: p['securityContext'].update(sysctls=[{'name': 'kernel.msgmax', 'value': '65536'}]), None,
     {'sysctls'}),
    ('safe sysctls', 'baseline',
     lambda p: p['securityContext'].update(sysctls=[{'name': 'net.ipv4.ip_unprivileged_port_start', 'value': '0'},
                                                    {'name': 'net.ipv4.tcp_rmem', 'value': '4096 87380 6291456'}]),
     None, set()),
    ('sysctl safe only from 1.37', 'baseline',
     lambda p: p['securityContext'].update(sysctls=[{'name': 'net.ipv4.tcp_notsent_lowat', 'value': '1'}]), None,
     {'sysctls'}),
    # --- Windows HostProcess
    ('hostProcess pod', 'baseline',
     lambda p: p['securityContext'].update(windowsOptions={'hostProcess': True}), None, {'windowsHostProcess'}),
    ('hostProcess container', 'baseline', lambda p: sc(p).update(windowsOptions={'hostProcess': True}), None,
     {'windowsHostProcess'}),
    ('hostProcess false', 'baseline', lambda p: sc(p).update(windowsOptions={'hostProcess': False}), None, set()),
    # --- restricted: volume types
    ('nfs volume', 'restricted',
     lambda p: p['volumes'].append({'name': 'media', 'nfs': {'server': '10.0.0.1', 'path': '/data'}}), None,
     {'restrictedVolumes'}),
    ('hostPath is reported as a restricted volume type', 'restricted',
     lambda p: p['volumes'].append({'name': 'dri', 'hostPath': {'path': '/dev/dri'}}), None, {'restrictedVolumes'}),
    ('allowed volume types', 'restricted',
     lambda p: p['volumes'].extend([{'name': 'a', 'configMap': {'name': 'c'}},
                                    {'name': 'b', 'secret': {'secretName': 's'}},
                                    {'name': 'c', 'projected': {'sources': []}}, {'name': 'd', 'downwardAPI': {}},
                                    {'name': 'e', 'csi': {'driver': 'x'}}, {'name': 'f', 'ephemeral': {}}]),
     None, set()),
    # --- restricted: privilege escalation
    ('allowPrivilegeEscalation unset', 'restricted', lambda p: sc(p).pop('allowPrivilegeEscalation'), None,
     {'allowPrivilegeEscalation'}),
    ('allowPrivilegeEscalation true', 'restricted', lambda p: sc(p).update(allowPrivilegeEscalation=True), None,
     {'allowPrivilegeEscalation'}),
    ('allowPrivilegeEscalation true is baseline', 'baseline', lambda p: sc(p).update(allowPrivilegeEscalation=True),
     None, set()),
    # --- restricted: runAsNonRoot
    ('runAsNonRoot unset', 'restricted', lambda p: p['securityContext'].pop('runAsNonRoot'), None, {'runAsNonRoot'}),
    ('runAsNonRoot false on the pod', 'restricted', lambda p: p['securityContext'].update(runAsNonRoot=False), None,
     {'runAsNonRoot'}),
    ('runAsNonRoot false on a container', 'restricted', lambda p: sc(p).update(runAsNonRoot=False), None,
     {'runAsNonRoot'}),
    ('runAsNonRoot on every container', 'restricted',
     lambda p: (p['securityContext'].pop('runAsNonRoot'), sc(p).update(runAsNonRoot=True),
                sc(p, 0, 'initContainers').update(runAsNonRoot=True)), None, set()),
    # --- restricted: runAsUser
    ('runAsUser 0 on the pod', 'restricted', lambda p: p['securityContext'].update(runAsUser=0), None, {'runAsUser'}),
    ('runAsUser 0 on a container', 'restricted', lambda p: sc(p).update(runAsUser=0), None, {'runAsUser'}),
    ('runAsUser 1000', 'restricted', lambda p: p['securityContext'].update(runAsUser=1000), None, set()),
    ('runAsUser 0 is baseline', 'baseline', lambda p: p['securityContext'].update(runAsUser=0), None, set()),
    # --- restricted: seccomp required
    ('seccomp unset', 'restricted', lambda p: p['securityContext'].pop('seccompProfile'), None,
     {'seccompProfile_restricted'}),
    ('seccomp on every container', 'restricted',
     lambda p: (p['securityContext'].pop('seccompProfile'), sc(p).update(seccompProfile={'type': 'RuntimeDefault'}),
                sc(p, 0, 'initContainers').update(seccompProfile={'type': 'Localhost', 'localhostProfile': 'x'})),
     None, set()),
    ('seccomp Unconfined container under a RuntimeDefault pod', 'restricted',
     lambda p: sc(p).update(seccompProfile={'type': 'Unconfined'}), None, {'seccompProfile_restricted'}),
    # --- restricted: capabilities
    ('no drop ALL', 'restricted', lambda p: sc(p)['capabilities'].update(drop=['NET_RAW']), None,
     {'capabilities_restricted'}),
    ('no capabilities at all', 'restricted', lambda p: sc(p).pop('capabilities'), None, {'capabilities_restricted'}),
    ('add NET_BIND_SERVICE', 'restricted', lambda p: sc(p)['capabilities'].update(add=['NET_BIND_SERVICE']), None,
     set()),
    ('add CHOWN', 'restricted', lambda p: sc(p)['capabilities'].update(add=['CHOWN']), None,
     {'capabilities_restricted'}),
    ('add SYS_ADMIN is one restricted violation', 'restricted',
     lambda p: sc(p)['capabilities'].update(add=['SYS_ADMIN']), None, {'capabilities_restricted'}),
    # --- Windows pods are exempt from the restricted capabilities/seccomp/escalation controls (1.25+)
    ('windows pod', 'restricted',
     lambda p: (p.update(os={'name': 'windows'}), p['securityContext'].pop('seccompProfile'),
                sc(p).pop('capabilities'), sc(p).pop('allowPrivilegeEscalation')), None, set()),
    # --- the starting point passes every level
    ('restricted pod', 'restricted', None, None, set()),
    ('everything at privileged', 'privileged',
     lambda p: (p.update(hostNetwork=True), sc(p).update(privileged=True),
                p['volumes'].append({'name': 'h', 'hostPath': {'path': '/'}})), None, set()),
]


@pytest.mark.parametrize('case, level, change, annotations, expected', CASES, ids=[c[0] for c in CASES])
def test_control(case, level, change, annotations, expected):
    pod = restricted_pod()
    if change:
        change(pod)
    meta = {'annotations': annotations} if annotations else None
    found = PSA.evaluate(pod, level, meta)
    assert {v['id'] for v in found} == expected, found
    assert PSA.check_pod_spec(pod, level, meta) == ['{0}: {1}'.format(v['control'], v['detail']) for v in found]


def test_the_case_table_covers_every_control_both_ways():
    failing = {i for c in CASES for i in c[4]}
    passing_levels = {c[1] for c in CASES if not c[4]}
    assert failing == {c[0] for c in PSA.CHECKS}
    assert passing_levels >= {'baseline', 'restricted', 'privileged'}
    assert len(CASES) >= 35


@pytest.mark.parametrize('change, expected', [
    (lambda p: p['volumes'].append({'name': 'dri', 'hostPath': {'path': '/dev/dri'}}),
     'hostPath volumes: volume "dri"'),
    (lambda p: p['volumes'].extend([{'name': 'a', 'hostPath': {'path': '/a'}},
                                    {'name': 'b', 'hostPath': {'path': '/b'}}]),
     'hostPath volumes: volumes "a", "b"'),
    (lambda p: p.update(hostNetwork=True, hostPID=True), 'host namespaces: hostNetwork=true, hostPID=true'),
    (lambda p: sc(p).update(privileged=True),
     'privileged: container "app" must not set securityContext.privileged=true'),
    (lambda p: app(p)['ports'][0].update(hostPort=8080), 'hostPort: container "app" uses hostPort 8080'),
    (lambda p: sc(p)['capabilities'].update(add=['SYS_ADMIN', 'NET_RAW']),
     'non-default capabilities: container "app" must not add "NET_RAW", "SYS_ADMIN"'),
    (lambda p: p['securityContext'].update(sysctls=[{'name': 'kernel.msgmax'}]), 'forbidden sysctls: kernel.msgmax'),
])
def test_messages_use_the_upstream_control_names(change, expected):
    pod = restricted_pod()
    change(pod)
    [message] = PSA.check_pod_spec(pod, 'baseline')
    assert message.startswith(expected), message


def test_restricted_messages():
    pod = restricted_pod()
    pod['volumes'].append({'name': 'media', 'nfs': {'server': 'nas', 'path': '/data'}})
    sc(pod).pop('capabilities')
    pod['securityContext'].pop('runAsNonRoot')
    messages = PSA.check_pod_spec(pod, 'restricted')
    assert 'restricted volume types: volume "media" uses restricted volume type "nfs"' in messages
    assert 'unrestricted capabilities: container "app" must set securityContext.capabilities.drop=["ALL"]' in messages
    assert 'runAsNonRoot != true: pod or containers "init", "app" must set securityContext.runAsNonRoot=true' \
        in messages


def test_unknown_level_is_an_error():
    with pytest.raises(ValueError, match='unknown Pod Security level'):
        PSA.evaluate(restricted_pod(), 'strict')


def test_lowest_level_admitting():
    pod = restricted_pod()
    assert PSA.lowest_level_admitting(pod) == 'restricted'
    sc(pod)['capabilities']['add'] = ['CHOWN']
    assert PSA.lowest_level_admitting(pod) == 'baseline'
    pod['volumes'].append({'name': 'dri', 'hostPath': {'path': '/dev/dri'}})
    assert PSA.lowest_level_admitting(pod) == 'privileged'


# --- namespace labels

P = 'pod-security.kubernetes.io/'


@pytest.mark.parametrize('labels, expected', [
    (None, ('privileged', 'privileged', 'privileged')),
    ({}, ('privileged', 'privileged', 'privileged')),
    ({'app': 'x'}, ('privileged', 'privileged', 'privileged')),
    ({P + 'enforce': 'baseline', P + 'warn': 'restricted', P + 'audit': 'restricted'},
     ('baseline', 'restricted', 'restricted')),
    # warn unset follows a stricter enforce level (upstream PolicyToEvaluate); audit does not
    ({P + 'enforce': 'baseline'}, ('baseline', 'baseline', 'privileged')),
    ({P + 'audit': 'restricted'}, ('privileged', 'privileged', 'restricted')),
    ({P + 'warn': 'baseline'}, ('privileged', 'baseline', 'privileged')),
    # version labels are ignored: one semantics for every namespace
    ({P + 'enforce': 'baseline', P + 'enforce-version': 'v1.24', P + 'warn': 'privileged',
      P + 'warn-version': 'latest'}, ('baseline', 'privileged', 'privileged')),
    # invalid levels: enforce fails closed, warn/audit fail open
    ({P + 'enforce': 'strict', P + 'warn': 'loud', P + 'audit': 'x'}, ('restricted', 'privileged', 'privileged')),
])
def test_namespace_levels(labels, expected):
    levels = PSA.namespace_levels(labels)
    assert (levels['enforce'], levels['warn'], levels['audit']) == expected


# --- pod spec extraction

SPEC = {'containers': [{'name': 'c', 'image': 'i'}]}
META = {'labels': {'app': 'x'}, 'annotations': {'a': 'b'}}
TEMPLATE = {'metadata': META, 'spec': SPEC}


@pytest.mark.parametrize('obj', [
    {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': META, 'spec': SPEC},
    {'apiVersion': 'v1', 'kind': 'PodTemplate', 'metadata': {'name': 't'}, 'template': TEMPLATE},
    {'apiVersion': 'v1', 'kind': 'ReplicationController', 'metadata': {'name': 'r'}, 'spec': {'template': TEMPLATE}},
    {'apiVersion': 'apps/v1', 'kind': 'ReplicaSet', 'metadata': {'name': 'r'}, 'spec': {'template': TEMPLATE}},
    {'apiVersion': 'apps/v1', 'kind': 'Deployment', 'metadata': {'name': 'd'}, 'spec': {'template': TEMPLATE}},
    {'apiVersion': 'apps/v1', 'kind': 'StatefulSet', 'metadata': {'name': 's'}, 'spec': {'template': TEMPLATE}},
    {'apiVersion': 'apps/v1', 'kind': 'DaemonSet', 'metadata': {'name': 'ds'}, 'spec': {'template': TEMPLATE}},
    {'apiVersion': 'batch/v1', 'kind': 'Job', 'metadata': {'name': 'j'}, 'spec': {'template': TEMPLATE}},
    {'apiVersion': 'batch/v1', 'kind': 'CronJob', 'metadata': {'name': 'cj'},
     'spec': {'schedule': '* * * * *', 'jobTemplate': {'spec': {'template': TEMPLATE}}}},
], ids=lambda o: o['kind'])
def test_pod_spec_of_every_workload_kind(obj):
    assert PSA.pod_spec_of(obj) is SPEC
    assert PSA.pod_metadata_of(obj) is META


@pytest.mark.parametrize('obj', [
    {'apiVersion': 'v1', 'kind': 'Service', 'metadata': {'name': 's'}, 'spec': {'ports': []}},
    {'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'c'}},
    {'apiVersion': 'apps/v1', 'kind': 'Deployment', 'metadata': {'name': 'broken'}, 'spec': {}},
    {'apiVersion': 'batch/v1', 'kind': 'CronJob', 'metadata': {'name': 'broken'}, 'spec': {'jobTemplate': None}},
    None,
], ids=['Service', 'ConfigMap', 'Deployment without template', 'CronJob without jobTemplate', 'None'])
def test_pod_spec_of_other_objects_is_none(obj):
    assert PSA.pod_spec_of(obj) is None
    assert PSA.pod_metadata_of(obj) == {}


# --- check_objects

def daemonset(namespace, volumes=(), name='intel-gpu-plugin', annotations=None):
    pod = restricted_pod()
    pod['volumes'] += list(volumes)
    template = {'metadata': {'labels': {'app': name}}, 'spec': pod}
    if annotations:
        template['metadata']['annotations'] = annotations
    return {'apiVersion': 'apps/v1', 'kind': 'DaemonSet', 'metadata': {'name': name, 'namespace': namespace},
            'spec': {'selector': {'matchLabels': {'app': name}}, 'template': template}}


def namespace(name, **levels):
    return {'apiVersion': 'v1', 'kind': 'Namespace',
            'metadata': {'name': name, 'labels': {P + mode: level for mode, level in levels.items()}}}


HOSTPATH = [{'name': 'devfs', 'hostPath': {'path': '/dev/dri'}}, {'name': 'sysfs', 'hostPath': {'path': '/sys'}}]


def test_enforce_violation_is_an_error_naming_object_namespace_level_control_and_fix():
    errors, warnings = PSA.check_objects([namespace('media', enforce='baseline'), daemonset('media', HOSTPATH)], {})
    assert errors == [
        'DaemonSet media/intel-gpu-plugin: refused by Pod Security "baseline" (enforce) of namespace media: '
        'hostPath volumes: volumes "devfs", "sysfs"; fix: drop those settings, or run it in a namespace of its own '
        'labelled pod-security.kubernetes.io/enforce=privileged (the API server accepts the DaemonSet itself and '
        'refuses every pod it creates)']
    assert warnings == []  # warn follows enforce: nothing stricter to warn about


def test_warn_and_audit_violations_are_warnings():
    ds = daemonset('media')
    ds['spec']['template']['spec']['securityContext'].pop('runAsNonRoot')
    errors, warnings = PSA.check_objects([ds], {'media': {P + 'enforce': 'baseline', P + 'warn': 'restricted',
                                                          P + 'audit': 'restricted'}})
    assert errors == []
    assert warnings == ['DaemonSet media/intel-gpu-plugin: violates Pod Security "restricted" (warn, audit) of '
                        'namespace media: runAsNonRoot != true: pod or containers "init", "app" must set '
                        'securityContext.runAsNonRoot=true']


def test_rendered_namespace_wins_over_the_cluster_labels():
    cluster = {'intel-gpu-plugin': {P + 'enforce': 'baseline'}}
    errors, _unused = PSA.check_objects([daemonset('intel-gpu-plugin', HOSTPATH)], cluster)
    assert len(errors) == 1 and '"baseline" (enforce)' in errors[0]
    errors, _unused = PSA.check_objects([namespace('intel-gpu-plugin', enforce='privileged'),
                                         daemonset('intel-gpu-plugin', HOSTPATH)], cluster)
    assert errors == []


def test_namespace_without_labels_or_unknown_is_privileged():
    assert PSA.check_objects([daemonset('nowhere', HOSTPATH)], {}) == ([], [])
    ds = daemonset(None, HOSTPATH)
    del ds['metadata']['namespace']  # lands in "default": no labels on k3s, privileged
    assert PSA.check_objects([ds], {}) == ([], [])
    assert PSA.check_objects([ds], {'default': {P + 'enforce': 'baseline'}})[0][0].startswith(
        'DaemonSet default/intel-gpu-plugin: refused by Pod Security "baseline"')


def test_pod_metadata_annotations_are_checked():
    ds = daemonset('media', annotations={'container.apparmor.security.beta.kubernetes.io/app': 'unconfined'})
    errors, _unused = PSA.check_objects([ds], {'media': {P + 'enforce': 'baseline'}})
    assert len(errors) == 1 and 'forbidden AppArmor profile: annotation must not set AppArmor profile type to ' \
        'container.apparmor.security.beta.kubernetes.io/app="unconfined"' in errors[0]


def test_a_bare_pod_is_refused_without_the_workload_note():
    pod = {'apiVersion': 'v1', 'kind': 'Pod', 'metadata': {'name': 'p', 'namespace': 'media'},
           'spec': dict(restricted_pod(), hostPID=True)}
    [error] = PSA.check_objects([pod], {'media': {P + 'enforce': 'restricted'}})[0]
    assert error.startswith('Pod media/p: refused by Pod Security "restricted" (enforce) of namespace media: host '
                            'namespaces: hostPID=true; fix:')
    assert 'accepts' not in error and error.endswith('enforce=privileged')


def test_invalid_level_label_on_a_rendered_namespace_is_an_error():
    errors, _unused = PSA.check_objects([namespace('media', enforce='strict'), daemonset('media')], {})
    assert errors == ['Namespace media: refused by the API server: pod-security.kubernetes.io/enforce=strict is not '
                      'one of privileged, baseline, restricted; fix: use one of privileged, baseline, restricted']


def test_objects_are_not_modified():
    docs = [namespace('media', enforce='baseline'), daemonset('media', HOSTPATH)]
    before = copy.deepcopy(docs)
    PSA.check_objects(docs, {})
    assert docs == before
