# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate Kubernetes manifests before anything is sent to a cluster or written to a GitOps tree.

Built-in kinds are checked with kubernetes-validate's strict schemas for the target Kubernetes version (unknown
fields are errors). Custom resources are checked with jsonschema against the openAPIV3Schema of their CRD version,
made strict the way the API server's `fieldValidation=Strict` is: an object that lists its properties rejects
unknown ones unless it sets `x-kubernetes-preserve-unknown-fields`.

Public interface (used by the k8s_manifest_validate module and the k8s_delivery role):

    validate_manifests(docs, k8s_version, crd_paths=()) -> list of error strings, each naming kind, namespace/name
                                                           and the field, e.g.
        "RecurringJob longhorn-system/nightly-backup: spec.retain: 'seven' is not of type 'integer'"
    validate(docs, k8s_version, crd_paths=()) -> (errors, missing): the same errors, and one dict per
        (apiVersion, kind) that had no schema at all: {'api_version', 'group', 'version', 'kind', 'objects'}, so that
        a caller can look for the CRD elsewhere (the k8s_delivery role asks the cluster) and validate again
    supported_versions() -> ['1.25', ..., '1.37']
    check_version(version) -> 'X.Y' or raises K8sValidationError
    apply_order(docs) -> indices of docs in the order to apply them (namespaces and CRDs first)
    export_filenames(docs) -> '<kind>-<name>.yaml' per doc ('<kind>-<namespace>-<name>.yaml' when names collide)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import traceback

try:
    import jsonschema
    import referencing
    import referencing.exceptions
    import yaml
    from kubernetes_validate import utils as kv_utils
    from kubernetes_validate.version import __version__ as KUBERNETES_VALIDATE_VERSION
except ImportError:
    HAS_VALIDATION_LIBS = False
    VALIDATION_IMPORT_ERROR = traceback.format_exc()
    KUBERNETES_VALIDATE_VERSION = None
else:
    HAS_VALIDATION_LIBS = True
    VALIDATION_IMPORT_ERROR = None

DEFINITIONS_URI = 'https://kubernetes.io/api/_definitions.json'
OBJECT_META_REF = DEFINITIONS_URI + '#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'

# Apply order: what others depend on first (the same idea as Helm's and kustomize's install order).
KIND_ORDER = [
    'Namespace', 'CustomResourceDefinition', 'PriorityClass', 'StorageClass', 'ServiceAccount', 'Secret',
    'ConfigMap', 'PersistentVolume', 'PersistentVolumeClaim', 'ClusterRole', 'ClusterRoleBinding', 'Role',
    'RoleBinding', 'Service', 'HelmChartConfig', 'HelmChart', 'DaemonSet', 'Deployment', 'StatefulSet', 'Job',
    'CronJob', 'ClusterIssuer', 'Certificate', 'Middleware', 'Ingress', 'HTTPRoute',
]

DNS_SUBDOMAIN = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')


# Per process: what the schema lookups read from kubernetes-validate's package (its versions, definitions, validators).
_CACHE = {}


class K8sValidationError(Exception):
    """A problem that stops validation itself (unsupported version, unreadable CRD file), not a manifest error."""


def _major_minor(version):
    match = re.match(r'^v?(\d+)\.(\d+)', str(version).strip())
    if not match:
        raise K8sValidationError(
            'Kubernetes version {0!r} is not a version; give major.minor such as 1.33 '
            '(k8s_delivery_kubernetes_version).'.format(version))
    return int(match.group(1)), int(match.group(2))


def _bundled():
    """{'1.33': '1.33.0', ...} for the schema sets kubernetes-validate ships. Listed once per process (the package's
    schema directories: a third of a small app's check when every schema lookup listed them again)."""
    if 'bundled' not in _CACHE:
        result = {}
        for full in kv_utils.all_versions():
            major, minor = _major_minor(full)
            result['{0}.{1}'.format(major, minor)] = full
        _CACHE['bundled'] = result
    return _CACHE['bundled']


def supported_versions():
    return sorted(_bundled(), key=_major_minor)


def check_version(version):
    """Return 'X.Y' for a supported Kubernetes version (accepts 'v1.33.4+k3s1'), raise otherwise."""
    major, minor = _major_minor(version)
    short = '{0}.{1}'.format(major, minor)
    supported = supported_versions()
    if short not in supported:
        raise K8sValidationError(
            'Kubernetes {0} is not supported: kubernetes-validate {1} has schemas for {2} to {3} only. Run a '
            'Kubernetes version in that range, or pin a kubernetes-validate release that knows {0} in '
            'requirements.txt.'.format(short, KUBERNETES_VALIDATE_VERSION, supported[0], supported[-1]))
    return short


def object_ref(doc):
    """'Kind namespace/name' (or 'Kind name' for cluster objects) for messages."""
    if not isinstance(doc, dict):
        return '(not a mapping)'
    meta = doc.get('metadata') if isinstance(doc.get('metadata'), dict) else {}
    name = meta.get('name', '(no name)')
    if meta.get('namespace'):
        name = '{0}/{1}'.format(meta['namespace'], name)
    return '{0} {1}'.format(doc.get('kind', '(no kind)'), name)


def _field_path(path):
    text = ''
    for part in path:
        if isinstance(part, int):
            text += '[{0}]'.format(part)
        else:
            text += ('.' if text else '') + str(part)
    return text or '(top level)'


# ---------------------------------------------------------------------------------------------------------------
# CRD schemas
# ---------------------------------------------------------------------------------------------------------------

def _strict(schema, top=False):
    """Turn a CRD openAPIV3Schema into a JSON schema with the API server's strict field validation."""
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in ('properties', 'patternProperties'):
            out[key] = {name: _strict(sub) for name, sub in value.items()}
        elif key in ('items', 'not') or (key == 'additionalProperties' and isinstance(value, dict)):
            out[key] = _strict(value)
        elif key in ('allOf', 'anyOf', 'oneOf'):
            out[key] = [_strict(sub) for sub in value]
        else:
            out[key] = value
    if out.pop('x-kubernetes-int-or-string', False):
        out.pop('type', None)
        out.setdefault('anyOf', [{'type': 'integer'}, {'type': 'string'}])
    if out.pop('nullable', False) and isinstance(out.get('type'), str):
        out['type'] = [out['type'], 'null']
    if ('properties' in out and 'additionalProperties' not in out
            and not out.get('x-kubernetes-preserve-unknown-fields')):
        out['additionalProperties'] = False
    if top:  # every object may carry apiVersion, kind and ObjectMeta, whatever the CRD's schema lists
        props = out.setdefault('properties', {})
        props['metadata'] = {'$ref': OBJECT_META_REF}
        props.setdefault('apiVersion', {'type': 'string'})
        props.setdefault('kind', {'type': 'string'})
    return out


def _crd_docs(path):
    # libyaml's parser when PyYAML has it: the collection's CRD files are 740 KB, which the pure-Python parser takes
    # ~0.6 s to read in every validation (the same safe constructors either way)
    loader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
    with open(path) as handle:
        for doc in yaml.load_all(handle, Loader=loader):
            if isinstance(doc, dict) and doc.get('kind') == 'CustomResourceDefinition':
                yield doc


def _register_crd(schemas, crd, origin):
    spec = crd.get('spec') or {}
    group = spec.get('group')
    kind = (spec.get('names') or {}).get('kind')
    for version in spec.get('versions') or []:
        raw = ((version.get('schema') or {}).get('openAPIV3Schema'))
        key = ('{0}/{1}'.format(group, version.get('name')), kind)
        schemas[key] = {
            'schema': _strict(raw, top=True) if raw else None,
            'served': version.get('served', True),
            'origin': origin,
        }


# {path: ((mtime_ns, size), {(apiVersion, kind): entry})}. Entries are only read (and keep the validators built
# from them), so a file read once serves every validation of the process; plugins/callback/preload.py reads the
# collection's own CRD files in ansible-playbook's main process, whose task workers inherit them.
_CRD_FILES = {}


def _crd_file_schemas(name):
    stat = os.stat(name)
    identity = (stat.st_mtime_ns, stat.st_size)
    cached = _CRD_FILES.get(name)
    if cached is None or cached[0] != identity:
        schemas = {}
        for crd in _crd_docs(name):
            _register_crd(schemas, crd, name)
        cached = _CRD_FILES[name] = (identity, schemas)
    return cached[1]


def load_crd_schemas(crd_paths):
    """{(apiVersion, kind): {'schema', 'served', 'origin'}} from CRD files or directories of *.yaml / *.yml."""
    schemas = {}
    for given in crd_paths or ():
        path = os.path.expanduser(str(given))
        if os.path.isdir(path):
            files = sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith(('.yaml', '.yml')))
        elif os.path.isfile(path):
            files = [path]
        else:
            raise K8sValidationError(
                'CRD path {0} does not exist; give a CRD file or a directory of CRD files (crd_paths).'.format(path))
        for name in files:
            try:
                schemas.update(_crd_file_schemas(name))
            except (OSError, yaml.YAMLError) as exc:
                raise K8sValidationError('Cannot read CRD file {0}: {1}. Fix or remove it from crd_paths.'.format(
                    name, exc)) from exc
    return schemas


# ---------------------------------------------------------------------------------------------------------------
# Built-in schemas (kubernetes-validate, strict)
# ---------------------------------------------------------------------------------------------------------------


def _schema_dir(short):
    return 'kubernetes-json-schema/v{0}-local-strict'.format(_bundled()[short])


def _definitions(short):
    key = ('defs', short)
    if key not in _CACHE:
        _CACHE[key] = kv_utils.schema_contents('{0}/_definitions.json'.format(_schema_dir(short)), short)
    return _CACHE[key]


def _registry(short, schema=None):
    registry = referencing.Resource.from_contents(_definitions(short)) @ referencing.Registry()
    if schema is not None:
        registry = referencing.Resource.from_contents(schema) @ registry
    return registry


def _builtin_validator(short, api_version, kind):
    """A validator for a built-in kind, or None when kubernetes-validate has no schema for it."""
    key = ('builtin', short, api_version, kind)
    if key not in _CACHE:
        group_version = re.sub(r'^([^./]*)(?:\.[^/]*)?/', r'\1-', api_version)
        filename = '{0}/{1}-{2}.json'.format(_schema_dir(short), kind.lower(), group_version)
        try:
            schema = kv_utils.schema_contents(filename, short)
        except (FileNotFoundError, OSError):
            _CACHE[key] = None
        else:
            _CACHE[key] = jsonschema.Draft202012Validator(schema, registry=_registry(short, schema))
    return _CACHE[key]


def _crd_validator(short, entry):
    validators = entry.setdefault('validators', {})
    if short not in validators:
        validators[short] = jsonschema.Draft202012Validator(entry['schema'], registry=_registry(short))
    return validators[short]


# ---------------------------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------------------------

def _describe(error, secret):
    """The jsonschema message, without the offending value for Secrets (their values must not reach logs)."""
    if not secret:
        return error.message
    return 'fails the {0!r} rule ({1!r}); the value is not shown because this is a Secret'.format(
        error.validator, error.validator_value if error.validator != 'enum' else 'allowed values')


def _schema_errors(validator, doc, ref, secret):
    errors = []
    for error in sorted(validator.iter_errors(doc), key=lambda e: (list(map(str, e.absolute_path)), e.message)):
        errors.append('{0}: {1}: {2}'.format(ref, _field_path(error.absolute_path), _describe(error, secret)))
    return errors


def _basic_errors(doc, index):
    if not isinstance(doc, dict):
        return ['manifest #{0}: is a {1}, not a mapping; give each manifest as a dict'.format(
            index, type(doc).__name__)]
    errors = []
    ref = object_ref(doc)
    for field in ('apiVersion', 'kind'):
        if not isinstance(doc.get(field), str) or not doc.get(field):
            errors.append('{0} (manifest #{1}): {2}: missing; every manifest needs apiVersion and kind'.format(
                ref, index, field))
    meta = doc.get('metadata')
    if not isinstance(meta, dict) or not isinstance(meta.get('name'), str) or not meta.get('name'):
        errors.append('{0} (manifest #{1}): metadata.name: missing; generateName is not supported because '
                      'apply and export need a stable name'.format(ref, index))
    elif len(meta['name']) > 253 or not DNS_SUBDOMAIN.match(meta['name']):
        errors.append('{0}: metadata.name: {1!r} is not a valid name (lower-case letters, digits, "-" and ".", '
                      'at most 253 characters)'.format(ref, meta['name']))
    return errors


def validate_manifests(docs, k8s_version, crd_paths=(), crd_schemas=None):
    """Return a list of error strings (empty when every manifest is valid); see validate()."""
    return validate(docs, k8s_version, crd_paths, crd_schemas)[0]


def _missing_entry(missing, doc, ref):
    key = (doc['apiVersion'], doc['kind'])
    if key not in missing:
        group, _unused, version = doc['apiVersion'].rpartition('/')
        missing[key] = {'api_version': doc['apiVersion'], 'group': group, 'version': version, 'kind': doc['kind'],
                        'objects': []}
    missing[key]['objects'].append(ref)


def validate(docs, k8s_version, crd_paths=(), crd_schemas=None):
    """Return (errors, missing): the error strings (empty when every manifest is valid) and the kinds with no schema.

    docs: list of manifest dicts. k8s_version: target Kubernetes version ('1.33', 'v1.33.4+k3s1').
    crd_paths: CRD files/directories for custom resources. CRDs among docs themselves are also used.
    Raises K8sValidationError for problems with the inputs to validation (version, CRD files), not the manifests.
    """
    short = check_version(k8s_version)
    schemas = dict(crd_schemas) if crd_schemas is not None else load_crd_schemas(crd_paths)
    for doc in docs:
        if isinstance(doc, dict) and doc.get('kind') == 'CustomResourceDefinition' and \
                str(doc.get('apiVersion', '')).startswith('apiextensions.k8s.io/'):
            _register_crd(schemas, doc, 'the manifests themselves')
    errors = []
    missing = {}
    seen = {}
    for index, doc in enumerate(docs):
        basic = _basic_errors(doc, index)
        errors.extend(basic)
        if basic:
            continue
        ref = object_ref(doc)
        identity = (doc['apiVersion'].split('/')[0] if '/' in doc['apiVersion'] else '', doc['kind'],
                    doc['metadata'].get('namespace', ''), doc['metadata']['name'])
        if identity in seen:
            errors.append('{0}: appears twice (manifests #{1} and #{2}); give each object once'.format(
                ref, seen[identity], index))
            continue
        seen[identity] = index
        secret = doc['kind'] == 'Secret' and doc['apiVersion'] == 'v1'
        validator = _builtin_validator(short, doc['apiVersion'], doc['kind'])
        if validator is not None:
            errors.extend(_schema_errors(validator, doc, ref, secret))
            continue
        entry = schemas.get((doc['apiVersion'], doc['kind']))
        if entry is None:
            errors.append('{0}: no schema for {1} {2} in Kubernetes {3} or in the CRDs given ({4}); ship the CRD '
                          'file with the collection and pass it in crd_paths, or fix apiVersion/kind'.format(
                              ref, doc['apiVersion'], doc['kind'], short,
                              ', '.join(sorted({'{0} {1}'.format(*k) for k in schemas})) or 'none'))
            _missing_entry(missing, doc, ref)
            continue
        if not entry['served']:
            errors.append('{0}: {1} is not a served version of the {2} CRD ({3}); use a served version'.format(
                ref, doc['apiVersion'], doc['kind'], entry['origin']))
            continue
        if entry['schema'] is None:
            continue  # the CRD version declares no schema: the API server accepts anything, so do we
        try:
            errors.extend(_schema_errors(_crd_validator(short, entry), doc, ref, secret))
        except referencing.exceptions.Unresolvable as exc:
            raise K8sValidationError('The {0} CRD schema in {1} has a reference that cannot be resolved: {2}'.format(
                doc['kind'], entry['origin'], exc)) from exc
    return errors, [missing[key] for key in sorted(missing)]


def report(docs, k8s_version, crd_paths=()):
    """What the validation modules return for docs: changed, errors, missing_schemas, valid, objects,
    kubernetes_version, supported_versions, and when every manifest is valid order and files. Raises
    K8sValidationError as validate() does."""
    short = check_version(k8s_version)
    errors, missing = validate(docs, short, crd_paths)
    result = {'changed': False, 'errors': errors, 'missing_schemas': missing, 'valid': not errors,
              'objects': [object_ref(doc) for doc in docs], 'kubernetes_version': short,
              'supported_versions': supported_versions()}
    if not errors:
        result['order'] = apply_order(docs)
        result['files'] = export_filenames(docs)
    return result


def failure_summary(result, total):
    """'<n> of <total> manifest(s) failed validation against Kubernetes <version>' for a report() with errors."""
    failed = len({error.split(':')[0] for error in result['errors']})
    return '{0} of {1} manifest(s) failed validation against Kubernetes {2}'.format(
        failed, total, result['kubernetes_version'])


def apply_order(docs):
    """Indices of docs, dependencies first (stable within a kind)."""
    rank = {kind: pos for pos, kind in enumerate(KIND_ORDER)}

    def key(index):
        kind = docs[index].get('kind') if isinstance(docs[index], dict) else None
        return (rank.get(kind, len(KIND_ORDER)), index)

    return sorted(range(len(docs)), key=key)


def export_filenames(docs):
    """'<kind>-<name>.yaml' for each doc, lower case; '<kind>-<namespace>-<name>.yaml' where that collides."""
    def plain(doc):
        return '{0}-{1}.yaml'.format(doc['kind'].lower(), doc['metadata']['name'])

    counts = {}
    for doc in docs:
        counts[plain(doc)] = counts.get(plain(doc), 0) + 1
    names = []
    for doc in docs:
        name = plain(doc)
        if counts[name] > 1:
            name = '{0}-{1}-{2}.yaml'.format(doc['kind'].lower(), doc['metadata'].get('namespace', 'cluster'),
                                             doc['metadata']['name'])
        names.append(name)
    return names
