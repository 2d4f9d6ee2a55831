# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where would each workload run? The kube-scheduler's filters that depend on the collection, evaluated offline
against the node model (the labels and taints each inventory node will carry in the chosen delivery mode):

- nodeSelector (every key equal);
- required node affinity (nodeSelectorTerms ORed; matchExpressions and matchFields ANDed inside a term; operators
  In, NotIn, Exists, DoesNotExist, Gt, Lt; matchFields only on metadata.name);
- taints with effect NoSchedule or NoExecute against the pod's tolerations (Equal/Exists, empty key with Exists
  tolerates everything, empty effect matches every effect); PreferNoSchedule never filters;
- extended resources (e.g. gpu.intel.com/i915): only on nodes where a device-plugin DaemonSet that provides the
  resource can run and is admitted (known plugin images, or the annotation PROVIDES_ANNOTATION on the DaemonSet).

Zero nodes is an error; a preferred node affinity that matches none of the nodes the pod can run on is a warning.
A DaemonSet's nodes are the nodes it runs on; zero is an error there too (nothing would run). Pure Python, no
Ansible imports: used by module_utils/cluster_semantics.py, the k8s_delivery validate step and the tests.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# PyYAML or None: the guard is in k8s_yaml.py; k8s_semantics_check reports a missing PyYAML (missing_required_lib).
from ansible_collections.homelab.mediacluster.plugins.module_utils.k8s_yaml import yaml

# Annotation a DaemonSet can carry to say which extended resources its pods advertise, comma separated.
PROVIDES_ANNOTATION = 'mediacluster.homelab/provides-resources'
# Device plugins known by their image (repository name, without registry or tag) -> the resources they advertise.
# The Intel GPU plugin advertises gpu.intel.com/i915 on i915 nodes and gpu.intel.com/xe on xe-driver nodes.
KNOWN_PLUGIN_IMAGES = {
    'intel/intel-gpu-plugin': ('gpu.intel.com/i915', 'gpu.intel.com/xe'),
    'intel-gpu-plugin': ('gpu.intel.com/i915', 'gpu.intel.com/xe'),
    'nvidia/k8s-device-plugin': ('nvidia.com/gpu',),
    'k8s-device-plugin': ('nvidia.com/gpu',),
    'amdgpu-dp': ('amd.com/gpu',),
    'rocm/k8s-device-plugin': ('amd.com/gpu',),
}
WORKLOAD_KINDS = ('Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob')
FILTERING_EFFECTS = ('NoSchedule', 'NoExecute')
STANDARD_RESOURCES = ('cpu', 'memory', 'ephemeral-storage', 'storage')


def pod_spec_of(obj):
    """The pod spec of a workload object, or None."""
    kind = obj.get('kind')
    spec = obj.get('spec') or {}
    if kind == 'Pod':
        return spec
    if kind == 'CronJob':
        return (((spec.get('jobTemplate') or {}).get('spec') or {}).get('template') or {}).get('spec')
    if kind in WORKLOAD_KINDS:
        return (spec.get('template') or {}).get('spec')
    return None


def object_name(obj):
    meta = obj.get('metadata') or {}
    if meta.get('namespace'):
        return '{0} {1}/{2}'.format(obj.get('kind'), meta['namespace'], meta.get('name'))
    return '{0} {1}'.format(obj.get('kind'), meta.get('name'))


# --- Helm charts the collection installs through k3s's helm-controller -------------------------------------------

def _selector_setting(text):
    """Longhorn's systemManagedComponentsNodeSelector setting 'k1:v1;k2:v2' as a dict."""
    result = {}
    for part in str(text or '').split(';'):
        if ':' in part:
            key, value = part.split(':', 1)
            result[key.strip()] = value.strip()
    return result


def _toleration_setting(text):
    """Longhorn's taintToleration setting 'key=value:Effect;key:Effect' as tolerations."""
    result = []
    for raw in str(text or '').split(';'):
        part = raw.strip()
        if not part:
            continue
        head, _unused, effect = part.partition(':')
        key, eq, value = head.partition('=')
        toleration = {'key': key, 'operator': 'Equal' if eq else 'Exists', 'effect': effect}
        if eq:
            toleration['value'] = value
        result.append(toleration)
    return result


def chart_workloads(obj):
    """The workloads a HelmChart object the collection renders will create, with the placement its values give
    them (only the charts whose placement values are known: Longhorn). Each is a minimal workload dict with
    metadata.annotations['mediacluster.homelab/from'] naming the chart and the values used."""
    if obj.get('kind') != 'HelmChart':
        return []
    spec = obj.get('spec') or {}
    if spec.get('chart') != 'longhorn':
        return []
    values = yaml.safe_load(spec.get('valuesContent') or '') or {}
    namespace = spec.get('targetNamespace') or (obj.get('metadata') or {}).get('namespace')
    settings = values.get('defaultSettings') or {}
    parts = [
        ('DaemonSet', 'longhorn-manager', 'longhornManager', None),
        ('Deployment', 'longhorn-driver-deployer', 'longhornDriver', None),
        ('Deployment', 'longhorn-ui', 'longhornUI', None),
        # the CSI plugin, instance and share managers follow the system-managed components settings
        ('DaemonSet', 'longhorn-csi-plugin', None, 'systemManagedComponentsNodeSelector'),
    ]
    result = []
    for kind, name, key, setting in parts:
        if key:
            section = values.get(key) or {}
            selector = section.get('nodeSelector') or {}
            tolerations = section.get('tolerations') or []
            origin = 'chart values {0}.nodeSelector/tolerations'.format(key)
        else:
            selector = _selector_setting(settings.get(setting))
            tolerations = _toleration_setting(settings.get('taintToleration'))
            origin = 'chart values defaultSettings.{0}/taintToleration'.format(setting)
        template = {'spec': {'nodeSelector': selector, 'tolerations': tolerations,
                             'containers': [{'name': name, 'image': 'longhornio/' + name}]}}
        result.append({'apiVersion': 'apps/v1', 'kind': kind,
                       'metadata': {'name': name, 'namespace': namespace,
                                    'annotations': {'mediacluster.homelab/from': 'HelmChart {0}/{1} ({2})'.format(
                                        (obj.get('metadata') or {}).get('namespace'),
                                        (obj.get('metadata') or {}).get('name'), origin)}},
                       'spec': {'template': template}})
    return result


def workloads(manifests):
    """Every workload in manifests, the HelmCharts' ones included."""
    result = []
    for obj in manifests:
        if not isinstance(obj, dict):
            continue
        if obj.get('kind') in WORKLOAD_KINDS and pod_spec_of(obj) is not None:
            result.append(obj)
        result.extend(chart_workloads(obj))
    return result


# --- The filters --------------------------------------------------------------------------------------------------

def _int(value):
    try:
        return int(str(value))
    except ValueError:
        return None


def expression_matches(expr, value_of):
    """One node selector requirement. value_of(key) gives the node's value or None when absent."""
    key = expr.get('key')
    operator = expr.get('operator')
    values = [str(v) for v in (expr.get('values') or [])]
    actual = value_of(key)
    if operator == 'In':
        return actual is not None and actual in values
    if operator == 'NotIn':
        return actual is None or actual not in values
    if operator == 'Exists':
        return actual is not None
    if operator == 'DoesNotExist':
        return actual is None
    if operator in ('Gt', 'Lt'):
        if actual is None or len(values) != 1:
            return False
        left, right = _int(actual), _int(values[0])
        if left is None or right is None:
            return False
        return left > right if operator == 'Gt' else left < right
    raise ValueError('unknown node selector operator {0!r} for key {1!r}'.format(operator, key))


def term_matches(term, node):
    """A nodeSelectorTerm: every matchExpression on the labels and every matchField (metadata.name only) holds. An
    empty term matches no node (as in the scheduler)."""
    expressions = term.get('matchExpressions') or []
    fields = term.get('matchFields') or []
    if not expressions and not fields:
        return False
    labels = node.get('labels') or {}
    for expr in expressions:
        if not expression_matches(expr, lambda key: None if key not in labels else str(labels[key])):
            return False
    for expr in fields:
        if expr.get('key') != 'metadata.name':
            raise ValueError('matchFields supports only metadata.name, not {0!r}'.format(expr.get('key')))
        if not expression_matches(expr, lambda key: node.get('name')):
            return False
    return True


def selector_matches(selector, node):
    labels = node.get('labels') or {}
    return all(key in labels and str(labels[key]) == str(value) for key, value in (selector or {}).items())


def required_affinity_matches(pod_spec, node):
    required = ((((pod_spec.get('affinity') or {}).get('nodeAffinity') or {})
                 .get('requiredDuringSchedulingIgnoredDuringExecution')) or None)
    if required is None:
        return True
    return any(term_matches(term, node) for term in required.get('nodeSelectorTerms') or [])


def toleration_tolerates(toleration, taint):
    effect = toleration.get('effect') or ''
    if effect and effect != taint.get('effect'):
        return False
    operator = toleration.get('operator') or 'Equal'
    key = toleration.get('key') or ''
    if operator == 'Exists':
        return key == '' or key == taint.get('key')
    if key != taint.get('key'):
        return False
    return str(toleration.get('value') or '') == str(taint.get('value') or '')


def untolerated_taints(pod_spec, node):
    """The node's NoSchedule/NoExecute taints no toleration of the pod covers."""
    tolerations = pod_spec.get('tolerations') or []
    return [t for t in node.get('taints') or [] if t.get('effect') in FILTERING_EFFECTS
            and not any(toleration_tolerates(tol, t) for tol in tolerations)]


def extended_resources(pod_spec):
    """Extended resources the pod's containers request or limit (names with a domain outside kubernetes.io)."""
    names = set()
    for container in (pod_spec.get('initContainers') or []) + (pod_spec.get('containers') or []):
        resources = container.get('resources') or {}
        for section in ('requests', 'limits'):
            for name in (resources.get(section) or {}):
                if name in STANDARD_RESOURCES or name.startswith('hugepages-') or '/' not in name:
                    continue
                if name.split('/', 1)[0].endswith('kubernetes.io'):
                    continue
                names.add(name)
    return sorted(names)


def _image_repository(image):
    without_digest = str(image).split('@', 1)[0]
    last = without_digest.rsplit('/', 1)
    tagless = last[-1].split(':', 1)[0]
    path = (last[0] + '/' + tagless) if len(last) == 2 else tagless
    parts = path.split('/')
    if len(parts) > 1 and ('.' in parts[0] or ':' in parts[0] or parts[0] == 'localhost'):
        parts = parts[1:]  # drop the registry
    return '/'.join(parts)


def provided_resources(obj):
    """The extended resources a DaemonSet advertises: its annotation, else the known plugin images it runs."""
    if obj.get('kind') != 'DaemonSet':
        return ()
    annotations = (obj.get('metadata') or {}).get('annotations') or {}
    if annotations.get(PROVIDES_ANNOTATION):
        return tuple(sorted(r.strip() for r in annotations[PROVIDES_ANNOTATION].split(',') if r.strip()))
    found = set()
    for container in (pod_spec_of(obj) or {}).get('containers') or []:
        repository = _image_repository(container.get('image') or '')
        for known, resources in KNOWN_PLUGIN_IMAGES.items():
            if repository == known or repository.endswith('/' + known):
                found.update(resources)
    return tuple(sorted(found))


def taint_text(taint):
    value = taint.get('value')
    shown = '=' + str(value) if value not in (None, '') else ''
    return '{0}{1}:{2}'.format(taint.get('key'), shown, taint.get('effect'))


def _filter_nodes(pod_spec, nodes):
    """(nodes passing every label/taint filter, {node name: why not} for the others)."""
    fits, why = [], {}
    for node in nodes:
        reasons = []
        selector = pod_spec.get('nodeSelector') or {}
        if not selector_matches(selector, node):
            missing = ['{0}={1}'.format(k, v) for k, v in sorted(selector.items())
                       if str((node.get('labels') or {}).get(k)) != str(v)]
            reasons.append('nodeSelector ' + ', '.join(missing) + ' not on the node')
        if not required_affinity_matches(pod_spec, node):
            reasons.append('required node affinity not met')
        taints = untolerated_taints(pod_spec, node)
        if taints:
            reasons.append('taint ' + ', '.join(taint_text(t) for t in taints) + ' not tolerated')
        if reasons:
            why[node.get('name')] = '; '.join(reasons)
        else:
            fits.append(node)
    return fits, why


def _preferred_terms(pod_spec):
    return [p.get('preference') or {} for p in ((((pod_spec.get('affinity') or {}).get('nodeAffinity') or {})
                                                 .get('preferredDuringSchedulingIgnoredDuringExecution')) or [])]


def placements(manifests, nodes, admitted=None, report=None):
    """Evaluate every workload of manifests on nodes.

    admitted(obj) -> None when a device-plugin DaemonSet's pods are admitted (Pod Security), else the reason; None
    means every DaemonSet counts as admitted. report: object names to report on (None: all); the others only
    provide context (a device plugin delivered by another step). Returns (errors, warnings, {object name: [node
    names]}).
    """
    errors, warnings, where = [], [], {}
    all_workloads = workloads(manifests)
    # nodes where each extended resource is advertised: where a providing, admitted DaemonSet runs
    providers = {}
    refused = {}
    for obj in all_workloads:
        resources = provided_resources(obj)
        if not resources:
            continue
        reason = admitted(obj) if admitted else None
        fits, _unused = _filter_nodes(pod_spec_of(obj), nodes)
        for resource in resources:
            providers.setdefault(resource, set())
            if reason:
                refused.setdefault(resource, []).append('{0} is refused ({1})'.format(object_name(obj), reason))
            else:
                providers[resource].update(n.get('name') for n in fits)
    for obj in all_workloads:
        name = object_name(obj)
        origin = ((obj.get('metadata') or {}).get('annotations') or {}).get('mediacluster.homelab/from')
        label = '{0} [{1}]'.format(name, origin) if origin else name
        spec = pod_spec_of(obj)
        try:
            fits, why = _filter_nodes(spec, nodes)
        except ValueError as exc:
            where[name] = []
            if report is not None and name not in report:
                continue
            errors.append('{0}: scheduling: {1}; fix the affinity of its pod template.'.format(label, exc))
            continue
        unprovided = False
        for resource in extended_resources(spec):
            if resource not in providers:
                unprovided = True
                if report is not None and name not in report:
                    continue
                errors.append(
                    '{0}: scheduling: requests extended resource {1}, but no DaemonSet delivered with it advertises '
                    'it (a device plugin, known by its image or the annotation {2}); no node would have {1}. Deliver '
                    'the device plugin, or drop the request.'.format(label, resource, PROVIDES_ANNOTATION))
                fits = []
                continue
            lacking = [n for n in fits if n.get('name') not in providers[resource]]
            for node in lacking:
                why[node.get('name')] = 'no admitted device plugin advertising {0} runs there'.format(resource)
            fits = [n for n in fits if n.get('name') in providers[resource]]
            if not fits and refused.get(resource):
                why['device plugin'] = '; '.join(refused[resource])
        names = [n.get('name') for n in fits]
        where[name] = names
        if not nodes or unprovided or (report is not None and name not in report):
            continue
        if not names:
            detail = '; '.join('{0}: {1}'.format(k, v) for k, v in sorted(why.items()))
            errors.append(
                '{0}: scheduling: no node can run it ({1}){2}. Fix: label/taint the intended nodes through the '
                'inventory (k3s config at registration and, in apply mode, the API), or change the workload\'s '
                'nodeSelector, affinity or tolerations.'.format(
                    label, detail or 'no nodes',
                    '; a DaemonSet with no node runs nothing' if obj.get('kind') == 'DaemonSet' else ''))
            continue
        for preference in _preferred_terms(spec):
            try:
                if not any(term_matches(preference, n) for n in fits):
                    warnings.append('{0}: scheduling: a preferred node affinity matches none of the nodes it can run '
                                    'on ({1}); the preference has no effect. Fix the preferred node names or '
                                    'labels.'.format(label, ', '.join(names)))
            except ValueError as exc:
                errors.append('{0}: scheduling: {1}; fix its preferred affinity.'.format(label, exc))
    return errors, warnings, where


def node_names(nodes):
    return [n.get('name') for n in nodes]
