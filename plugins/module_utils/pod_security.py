# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pod Security admission, offline: the Pod Security Standards controls as the API server's built-in
PodSecurity admission plugin (k8s.io/pod-security-admission, policy/check_*.go) evaluates them, so that a pod
template a real cluster would refuse is refused before anything is applied or exported.

Semantics are those of the "latest" policy version of Kubernetes 1.32 and 1.33 (the collection installs k3s 1.33;
the controls did not change between the two): the 1.31 SELinux type list, the 1.32 safe sysctls, the 1.25 rule that
exempts Windows pods from the restricted capabilities/seccomp/privilege-escalation controls. Later additions (the
1.34 probe/lifecycle host control, the 1.35 user-namespace relaxations) are not modelled. Version labels
(pod-security.kubernetes.io/<mode>-version) are ignored: every namespace is evaluated at that one version.

A namespace without a level label is "privileged": k3s ships no PodSecurity AdmissionConfiguration by default, so
the cluster-wide defaults are the plugin's own (privileged, no exemptions).

The API server checks the pod template of a workload (Deployment, DaemonSet, ...) only for warnings; the enforce
level refuses the pods the workload controller creates. This module reports both as errors, since the workload
would never run.

Public interface (the cluster_semantics facade and the tests use it):

    LEVELS = ('privileged', 'baseline', 'restricted')
    namespace_levels(labels) -> {'enforce': level, 'warn': level, 'audit': level}
    pod_spec_of(obj) -> the pod spec of a Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController,
                        Job, CronJob or PodTemplate, else None
    pod_metadata_of(obj) -> the metadata of the pod (template) whose spec pod_spec_of returns
    evaluate(pod_spec, level, pod_metadata=None) -> [{'id': upstream check id, 'control': upstream reason,
                                                       'detail': what violates it}]
    check_pod_spec(pod_spec, level, pod_metadata=None) -> ['<control>: <detail>', ...]
    check_objects(manifests, namespace_labels) -> (errors, warnings)

Beyond the upstream plugin, two rules a real cluster applies or the collection promises:
- the API server refuses mountPropagation Bidirectional in a container that is not privileged;
- cloud libraries (module_utils/cloud_mounts.py): a namespace labelled COLLECTION_LEVEL_LABEL=<level> enforces
  "privileged" only so that rclone FUSE sidecars can run. There the collection holds each pod to <level>, leaving
  out only the containers its FUSE_SIDECARS_ANNOTATION names, and each of those must have exactly the sidecar shape
  (cloud_mounts.sidecar_shape_problems). Anything else privileged in that namespace is refused.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.homelab.mediacluster.plugins.module_utils import cloud_mounts

LEVELS = ('privileged', 'baseline', 'restricted')
MODES = ('enforce', 'warn', 'audit')
LABEL_PREFIX = 'pod-security.kubernetes.io/'
KUBERNETES_VERSION = '1.32'

# capabilities a baseline container may add: the container runtime's default set, without NET_RAW
BASELINE_CAPABILITIES = frozenset((
    'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP',
    'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'))
# sysctls namespaced per pod and isolated from the node (the 1.32 list)
SAFE_SYSCTLS = frozenset((
    'kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range',
    'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time',
    'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes', 'net.ipv4.tcp_rmem',
    'net.ipv4.tcp_wmem'))
SELINUX_TYPES = frozenset(('', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'))
SECCOMP_TYPES = frozenset(('RuntimeDefault', 'Localhost'))
APPARMOR_TYPES = frozenset(('RuntimeDefault', 'Localhost'))
APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/'
# inline volume sources a restricted pod may use; every other source (hostPath, nfs, iscsi, ...) is refused
RESTRICTED_VOLUME_SOURCES = frozenset((
    'configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'image', 'persistentVolumeClaim', 'projected',
    'secret'))

# kind -> path to the pod template (the object holding metadata and spec of the pods)
_TEMPLATE_PATHS = {
    'Pod': (),
    'PodTemplate': ('template',),
    'ReplicationController': ('spec', 'template'),
    'ReplicaSet': ('spec', 'template'),
    'Deployment': ('spec', 'template'),
    'StatefulSet': ('spec', 'template'),
    'DaemonSet': ('spec', 'template'),
    'Job': ('spec', 'template'),
    'CronJob': ('spec', 'jobTemplate', 'spec', 'template'),
}


def _level_index(level):
    return LEVELS.index(level)


def namespace_levels(labels):
    """The level per mode of a namespace with these labels, as the admission plugin reads them: a missing label is
    privileged (the cluster default); an invalid enforce level fails closed (restricted), an invalid warn/audit level
    fails open (privileged); when warn is unset and enforce is set to a stricter level, warn follows enforce."""
    labels = labels or {}
    levels = {}
    for mode in MODES:
        value = labels.get(LABEL_PREFIX + mode)
        if value is None:
            levels[mode] = 'privileged'
        elif value in LEVELS:
            levels[mode] = value
        else:
            levels[mode] = 'restricted' if mode == 'enforce' else 'privileged'
    enforce_set = labels.get(LABEL_PREFIX + 'enforce') in LEVELS
    if LABEL_PREFIX + 'warn' not in labels and enforce_set and \
            _level_index(levels['enforce']) > _level_index(levels['warn']):
        levels['warn'] = levels['enforce']
    return levels


def label_problems(labels):
    """Level labels the API server refuses on a Namespace (the value is not one of LEVELS)."""
    labels = labels or {}
    return ['{0}{1}={2} is not one of {3}'.format(LABEL_PREFIX, mode, labels[LABEL_PREFIX + mode], ', '.join(LEVELS))
            for mode in MODES
            if LABEL_PREFIX + mode in labels and labels[LABEL_PREFIX + mode] not in LEVELS]


def _template_of(obj):
    if not isinstance(obj, dict):
        return None
    path = _TEMPLATE_PATHS.get(obj.get('kind'))
    if path is None:
        return None
    node = obj
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
        if node is None:
            return None
    return node if isinstance(node, dict) else None


def pod_spec_of(obj):
    """The pod spec of a workload object (CronJob: spec.jobTemplate.spec.template.spec), None for other kinds."""
    template = _template_of(obj)
    spec = template.get('spec') if template else None
    return spec if isinstance(spec, dict) else None


def pod_metadata_of(obj):
    """The metadata of the pod (template) whose spec pod_spec_of returns ({} when it has none)."""
    template = _template_of(obj)
    meta = template.get('metadata') if template else None
    return meta if isinstance(meta, dict) else {}


# --- helpers ---------------------------------------------------------------------------------------------------

def _d(value):
    return value if isinstance(value, dict) else {}


def _l(value):
    return value if isinstance(value, list) else []


def _true(value):
    return value is True or (isinstance(value, str) and value.lower() == 'true')


def _false(value):
    return value is False or (isinstance(value, str) and value.lower() == 'false')


def _containers(spec):
    """Init, regular and ephemeral containers, in the order the admission plugin visits them."""
    return [c for key in ('initContainers', 'containers', 'ephemeralContainers')
            for c in _l(spec.get(key)) if isinstance(c, dict)]


def _sc(container):
    return _d(container.get('securityContext'))


def _quote(items):
    return ', '.join('"{0}"'.format(i) for i in items)


def _plural(word, count, plural=None):
    return word if count == 1 else (plural or word + 's')


def _named(word, names):
    return '{0} {1}'.format(_plural(word, len(names)), _quote(names))


def _windows(spec):
    return _d(spec.get('os')).get('name') == 'windows'


# --- baseline controls -----------------------------------------------------------------------------------------

def _host_namespaces(meta, spec):
    shared = ['{0}=true'.format(k) for k in ('hostNetwork', 'hostPID', 'hostIPC') if _true(spec.get(k))]
    return ('host namespaces', ', '.join(shared)) if shared else None


def _privileged(meta, spec):
    bad = [c.get('name') for c in _containers(spec) if _true(_sc(c).get('privileged'))]
    if bad:
        return 'privileged', '{0} must not set securityContext.privileged=true'.format(_named('container', bad))
    return None


def _capabilities_baseline(meta, spec):
    bad, caps = [], set()
    for c in _containers(spec):
        added = [a for a in _l(_d(_sc(c).get('capabilities')).get('add')) if a not in BASELINE_CAPABILITIES]
        if added:
            bad.append(c.get('name'))
            caps.update(added)
    if bad:
        return 'non-default capabilities', '{0} must not add {1} (securityContext.capabilities.add)'.format(
            _named('container', bad), _quote(sorted(caps)))
    return None


def _host_path_volumes(meta, spec):
    bad = [v.get('name') for v in _l(spec.get('volumes')) if isinstance(v, dict) and v.get('hostPath') is not None]
    return ('hostPath volumes', _named('volume', bad)) if bad else None


def _host_ports(meta, spec):
    bad, ports = [], set()
    for c in _containers(spec):
        used = [p.get('hostPort') for p in _l(c.get('ports')) if isinstance(p, dict) and p.get('hostPort')]
        if used:
            bad.append(c.get('name'))
            ports.update(used)
    if bad:
        return 'hostPort', '{0} {1} {2} {3}'.format(
            _named('container', bad), _plural('uses', len(bad), 'use'), _plural('hostPort', len(ports)),
            ', '.join(str(p) for p in sorted(ports, key=str)))
    return None


def _apparmor(meta, spec):
    setters, values, _unused = _profile_setters(spec, 'appArmorProfile', APPARMOR_TYPES)
    annotations = sorted('{0}="{1}"'.format(k, v) for k, v in _d(_d(meta).get('annotations')).items()
                         if k.startswith(APPARMOR_ANNOTATION_PREFIX)
                         and not (v in ('', 'runtime/default') or str(v).startswith('localhost/')))
    if annotations:
        setters.append(_plural('annotation', len(annotations)))
    if setters:
        shown = ['"{0}"'.format(v) for v in sorted(values)] + annotations
        return (_plural('forbidden AppArmor profile', len(shown)),
                '{0} must not set AppArmor profile type to {1}'.format(' and '.join(setters), ', '.join(shown)))
    return None


def _selinux(meta, spec):
    setters, types, flags = [], set(), set()

    def valid(options):
        ok = True
        if (options.get('type') or '') not in SELINUX_TYPES:
            types.add(options.get('type'))
            ok = False
        for field in ('user', 'role'):
            if options.get(field):
                flags.add(field)
                ok = False
        return ok

    pod_options = _d(spec.get('securityContext')).get('seLinuxOptions')
    if pod_options is not None and not valid(_d(pod_options)):
        setters.append('pod')
    bad = [c.get('name') for c in _containers(spec)
           if _sc(c).get('seLinuxOptions') is not None and not valid(_d(_sc(c).get('seLinuxOptions')))]
    if bad:
        setters.append(_named('container', bad))
    if setters:
        what = (['{0} {1}'.format(_plural('type', len(types)), _quote(sorted(types)))] if types else []) + \
            ['{0} may not be set'.format(f) for f in sorted(flags, reverse=True)]
        return 'seLinuxOptions', '{0} set forbidden securityContext.seLinuxOptions: {1}'.format(
            ' and '.join(setters), '; '.join(what))
    return None


def _proc_mount(meta, spec):
    bad, kinds = [], set()
    for c in _containers(spec):
        mount = _sc(c).get('procMount')
        if mount is not None and mount != 'Default':
            bad.append(c.get('name'))
            kinds.add(mount)
    if bad:
        return 'procMount', '{0} must not set securityContext.procMount to {1}'.format(
            _named('container', bad), _quote(sorted(kinds)))
    return None


def _profile_setters(spec, key, allowed):
    """(setters, values, pod_set) for the profile field key (seccompProfile, appArmorProfile): who sets a type outside
    allowed, which types they set, and whether the pod level sets an allowed one."""
    setters, values = [], set()
    pod_profile = _d(spec.get('securityContext')).get(key)
    pod_set = False
    if pod_profile is not None:
        if _d(pod_profile).get('type') in allowed:
            pod_set = True
        else:
            setters.append('pod')
            values.add(str(_d(pod_profile).get('type', '')))
    bad = []
    for c in _containers(spec):
        profile = _sc(c).get(key)
        if profile is not None and _d(profile).get('type') not in allowed:
            bad.append(c.get('name'))
            values.add(str(_d(profile).get('type', '')))
    if bad:
        setters.append(_named('container', bad))
    return setters, values, pod_set


def _seccomp_explicit(spec):
    """(setters, values) of explicitly forbidden seccomp profile types; pod_set says the pod sets an allowed one."""
    return _profile_setters(spec, 'seccompProfile', SECCOMP_TYPES)


def _seccomp_baseline(meta, spec):
    setters, values, _unused = _seccomp_explicit(spec)
    if setters:
        return 'seccompProfile', '{0} must not set securityContext.seccompProfile.type to {1}'.format(
            ' and '.join(setters), _quote(sorted(values)))
    return None


def _sysctls(meta, spec):
    bad = [s.get('name') for s in _l(_d(spec.get('securityContext')).get('sysctls'))
           if isinstance(s, dict) and s.get('name') not in SAFE_SYSCTLS]
    return ('forbidden sysctls', ', '.join(str(b) for b in bad)) if bad else None


def _windows_host_process(meta, spec):
    setters = []
    if _true(_d(_d(spec.get('securityContext')).get('windowsOptions')).get('hostProcess')):
        setters.append('pod')
    bad = [c.get('name') for c in _containers(spec) if _true(_d(_sc(c).get('windowsOptions')).get('hostProcess'))]
    if bad:
        setters.append(_named('container', bad))
    if setters:
        return 'hostProcess', '{0} must not set securityContext.windowsOptions.hostProcess=true'.format(
            ' and '.join(setters))
    return None


# --- restricted controls ---------------------------------------------------------------------------------------

def _volume_source(volume):
    sources = [k for k in volume if k != 'name' and volume[k] is not None]
    return sources[0] if sources else 'unknown'


def _restricted_volumes(meta, spec):
    bad, kinds = [], set()
    for volume in _l(spec.get('volumes')):
        if not isinstance(volume, dict):
            continue
        source = _volume_source(volume)
        if source not in RESTRICTED_VOLUME_SOURCES:
            bad.append(volume.get('name'))
            kinds.add(source)
    if bad:
        return 'restricted volume types', '{0} {1} {2} {3}'.format(
            _named('volume', bad), _plural('uses', len(bad), 'use'),
            _plural('restricted volume type', len(kinds)), _quote(sorted(kinds)))
    return None


def _allow_privilege_escalation(meta, spec):
    if _windows(spec):
        return None
    bad = [c.get('name') for c in _containers(spec) if not _false(_sc(c).get('allowPrivilegeEscalation'))]
    if bad:
        return 'allowPrivilegeEscalation != false', \
            '{0} must set securityContext.allowPrivilegeEscalation=false'.format(_named('container', bad))
    return None


def _run_as_non_root(meta, spec):
    setters, pod_non_root = [], False
    pod_value = _d(spec.get('securityContext')).get('runAsNonRoot')
    if pod_value is not None:
        if _true(pod_value):
            pod_non_root = True
        else:
            setters.append('pod')
    explicit, implicit = [], []
    for c in _containers(spec):
        value = _sc(c).get('runAsNonRoot')
        if value is not None:
            if not _true(value):
                explicit.append(c.get('name'))
        elif not pod_non_root:
            implicit.append(c.get('name'))
    if explicit:
        setters.append(_named('container', explicit))
    if setters:
        return 'runAsNonRoot != true', '{0} must not set securityContext.runAsNonRoot=false'.format(
            ' and '.join(setters))
    if implicit:
        return 'runAsNonRoot != true', 'pod or {0} must set securityContext.runAsNonRoot=true'.format(
            _named('container', implicit))
    return None


def _is_root(value):
    return value is not None and not isinstance(value, bool) and str(value) == '0'


def _run_as_user(meta, spec):
    setters = ['pod'] if _is_root(_d(spec.get('securityContext')).get('runAsUser')) else []
    bad = [c.get('name') for c in _containers(spec) if _is_root(_sc(c).get('runAsUser'))]
    if bad:
        setters.append(_named('container', bad))
    if setters:
        return 'runAsUser=0', '{0} must not set runAsUser=0'.format(' and '.join(setters))
    return None


def _seccomp_restricted(meta, spec):
    if _windows(spec):
        return None
    setters, values, pod_set = _seccomp_explicit(spec)
    if setters:
        return 'seccompProfile', '{0} must not set securityContext.seccompProfile.type to {1}'.format(
            ' and '.join(setters), _quote(sorted(values)))
    implicit = [c.get('name') for c in _containers(spec) if _sc(c).get('seccompProfile') is None and not pod_set]
    if implicit:
        return 'seccompProfile', \
            'pod or {0} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"'.format(
                _named('container', implicit))
    return None


def _capabilities_restricted(meta, spec):
    if _windows(spec):
        return None
    missing_drop, adding, caps = [], [], set()
    for c in _containers(spec):
        capabilities = _sc(c).get('capabilities')
        if capabilities is None:
            missing_drop.append(c.get('name'))
            continue
        if 'ALL' not in _l(_d(capabilities).get('drop')):
            missing_drop.append(c.get('name'))
        added = [a for a in _l(_d(capabilities).get('add')) if a != 'NET_BIND_SERVICE']
        if added:
            adding.append(c.get('name'))
            caps.update(added)
    details = []
    if missing_drop:
        details.append('{0} must set securityContext.capabilities.drop=["ALL"]'.format(
            _named('container', missing_drop)))
    if adding:
        details.append('{0} must not add {1} (only NET_BIND_SERVICE may be added)'.format(
            _named('container', adding), _quote(sorted(caps))))
    return ('unrestricted capabilities', '; '.join(details)) if details else None


# (upstream check id, level, function, check ids it replaces at that level), in upstream's registry order
CHECKS = (
    ('allowPrivilegeEscalation', 'restricted', _allow_privilege_escalation, ()),
    ('appArmorProfile', 'baseline', _apparmor, ()),
    ('capabilities_baseline', 'baseline', _capabilities_baseline, ()),
    ('capabilities_restricted', 'restricted', _capabilities_restricted, ('capabilities_baseline',)),
    ('hostNamespaces', 'baseline', _host_namespaces, ()),
    ('hostPathVolumes', 'baseline', _host_path_volumes, ()),
    ('hostPorts', 'baseline', _host_ports, ()),
    ('privileged', 'baseline', _privileged, ()),
    ('procMount', 'baseline', _proc_mount, ()),
    ('restrictedVolumes', 'restricted', _restricted_volumes, ('hostPathVolumes',)),
    ('runAsNonRoot', 'restricted', _run_as_non_root, ()),
    ('runAsUser', 'restricted', _run_as_user, ()),
    ('seLinuxOptions', 'baseline', _selinux, ()),
    ('seccompProfile_baseline', 'baseline', _seccomp_baseline, ()),
    ('seccompProfile_restricted', 'restricted', _seccomp_restricted, ('seccompProfile_baseline',)),
    ('sysctls', 'baseline', _sysctls, ()),
    ('windowsHostProcess', 'baseline', _windows_host_process, ()),
)


def _checks_for(level):
    wanted = [c for c in CHECKS if _level_index(c[1]) <= _level_index(level) and c[1] != 'privileged']
    replaced = {r for c in wanted for r in c[3]}
    return [c for c in wanted if c[0] not in replaced]


def evaluate(pod_spec, level, pod_metadata=None):
    """The controls of `level` this pod violates: [{'id', 'control', 'detail'}] (id: upstream check id, control:
    upstream reason, the name the API server's message uses)."""
    if level not in LEVELS:
        raise ValueError('unknown Pod Security level {0!r}: one of {1}'.format(level, ', '.join(LEVELS)))
    if level == 'privileged':
        return []
    spec = _d(pod_spec)
    meta = _d(pod_metadata)
    found = []
    for check_id, _level, function, _replaces in _checks_for(level):
        result = function(meta, spec)
        if result:
            found.append({'id': check_id, 'control': result[0], 'detail': result[1]})
    return found


def check_pod_spec(pod_spec, level, pod_metadata=None):
    """Violated controls at `level`, each '<control>: <detail>', e.g. 'hostPath volumes: volume "dri"'."""
    return ['{0}: {1}'.format(v['control'], v['detail']) for v in evaluate(pod_spec, level, pod_metadata)]


def lowest_level_admitting(pod_spec, pod_metadata=None):
    """The strictest level that still admits this pod (restricted, baseline or privileged)."""
    for level in reversed(LEVELS):
        if not evaluate(pod_spec, level, pod_metadata):
            return level
    return 'privileged'


def _collection_level_errors(obj, spec, pod_meta, namespace, ns_labels, levels):  # noqa: PLR0917
    """The collection's own level in a namespace that enforces less only for FUSE sidecars."""
    level = _d(ns_labels).get(cloud_mounts.COLLECTION_LEVEL_LABEL)
    declared = _d(_d(pod_meta).get('annotations')).get(cloud_mounts.FUSE_SIDECARS_ANNOTATION)
    if level is None:
        return []
    if level not in LEVELS:
        return ['Namespace {0}: {1}={2} is not one of {3}; fix: use baseline'.format(
            namespace, cloud_mounts.COLLECTION_LEVEL_LABEL, level, ', '.join(LEVELS))]
    if _level_index(level) <= _level_index(levels['enforce']):
        return []
    names, problems, rest = fuse_sidecar_exemption(spec, pod_meta) if declared else ([], [], spec)
    found = problems + check_pod_spec(rest, level, pod_meta)
    if not found:
        return []
    return ['{0}: refused by the collection\'s Pod Security rule "{1}" of namespace {2} (it enforces "{3}" only for '
            'rclone FUSE sidecars{4}): {5}; fix: drop those settings (only the sidecars the collection renders from '
            'the *_cloud_remotes variables may be privileged there)'.format(
                _where(obj), level, namespace, levels['enforce'],
                ', here {0}'.format(_quote(names)) if names else '', '; '.join(found))]


def _where(obj):
    meta = _d(obj.get('metadata'))
    return '{0} {1}/{2}'.format(obj.get('kind'), meta.get('namespace') or 'default', meta.get('name'))


def propagation_problems(pod_spec):
    """Containers the API server refuses: Bidirectional mount propagation outside a privileged container."""
    bad = []
    for container in _containers(_d(pod_spec)):
        if _true(_sc(container).get('privileged')):
            continue
        for mount in _l(container.get('volumeMounts')):
            if isinstance(mount, dict) and mount.get('mountPropagation') == 'Bidirectional':
                bad.append('container "{0}" volumeMount "{1}"'.format(container.get('name'), mount.get('name')))
    return bad


def fuse_sidecar_exemption(pod_spec, pod_metadata):
    """(declared sidecar names, problems, the pod spec without them) for a pod template that declares FUSE sidecars
    in FUSE_SIDECARS_ANNOTATION."""
    spec = _d(pod_spec)
    text = str(_d(_d(pod_metadata).get('annotations')).get(cloud_mounts.FUSE_SIDECARS_ANNOTATION) or '')
    declared = [n.strip() for n in text.split(',') if n.strip()]
    problems = []
    by_name = dict((c.get('name'), (key, c)) for key in ('initContainers', 'containers', 'ephemeralContainers')
                   for c in _l(spec.get(key)) if isinstance(c, dict))
    for name in declared:
        if name not in by_name:
            problems.append('declared FUSE sidecar "{0}" is not a container of the pod'.format(name))
            continue
        key, container = by_name[name]
        shape = cloud_mounts.sidecar_shape_problems(container, spec)
        if key != 'initContainers' or container.get('restartPolicy') != 'Always':
            shape.append('it is not a native sidecar (initContainers with restartPolicy Always)')
        if shape:
            problems.append('declared FUSE sidecar "{0}": {1}'.format(name, '; '.join(shape)))
    rest = dict(spec)
    for key in ('initContainers', 'containers', 'ephemeralContainers'):
        if key in spec:
            rest[key] = [c for c in _l(spec[key]) if not (isinstance(c, dict) and c.get('name') in declared)]
    return declared, problems, rest


def check_objects(manifests, namespace_labels):
    """Evaluate every pod (template) in manifests against the levels of its namespace.

    namespace_labels: {namespace: {label: value}} as the cluster has them; the Namespace objects in manifests are
    merged over it (the rendered object wins, as it will once applied). Returns (errors, warnings): a violation of
    the enforce level is an error; a violation of a stricter warn or audit level is a warning. A Namespace object
    whose level label the API server would refuse is an error too."""
    labels = dict(namespace_labels or {})
    errors, warnings = [], []
    for obj in manifests or []:
        if isinstance(obj, dict) and obj.get('kind') == 'Namespace':
            meta = _d(obj.get('metadata'))
            labels[meta.get('name')] = _d(meta.get('labels'))
            for problem in label_problems(meta.get('labels')):
                errors.append('Namespace {0}: refused by the API server: {1}; fix: use one of {2}'.format(
                    meta.get('name'), problem, ', '.join(LEVELS)))
    for obj in manifests or []:
        spec = pod_spec_of(obj)
        if spec is None:
            continue
        pod_meta = pod_metadata_of(obj)
        namespace = _d(obj.get('metadata')).get('namespace') or 'default'
        levels = namespace_levels(labels.get(namespace))
        refused = propagation_problems(spec)
        if refused:
            errors.append('{0}: refused by the API server: Bidirectional mount propagation is available only to '
                          'privileged containers ({1}); fix: use HostToContainer in the app container, Bidirectional '
                          'only in the privileged FUSE sidecar'.format(_where(obj), ', '.join(refused)))
        errors.extend(_collection_level_errors(obj, spec, pod_meta, namespace, labels.get(namespace), levels))
        violations = check_pod_spec(spec, levels['enforce'], pod_meta)
        if violations:
            lowest = lowest_level_admitting(spec, pod_meta)
            accepted = '' if obj.get('kind') == 'Pod' else \
                ' (the API server accepts the {0} itself and refuses every pod it creates)'.format(obj.get('kind'))
            errors.append(
                '{0}: refused by Pod Security "{1}" (enforce) of namespace {2}: {3}; fix: drop those settings, or run '
                'it in a namespace of its own labelled {4}enforce={5}{6}'.format(
                    _where(obj), levels['enforce'], namespace, '; '.join(violations), LABEL_PREFIX, lowest, accepted))
        stricter = {}
        for mode in ('warn', 'audit'):
            if _level_index(levels[mode]) > _level_index(levels['enforce']):
                stricter.setdefault(levels[mode], []).append(mode)
        for level, modes in sorted(stricter.items()):
            found = check_pod_spec(spec, level, pod_meta)
            if found:
                warnings.append('{0}: violates Pod Security "{1}" ({2}) of namespace {3}: {4}'.format(
                    _where(obj), level, ', '.join(modes), namespace, '; '.join(found)))
    return errors, warnings
