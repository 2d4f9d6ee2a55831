# -*- coding: utf-8 -*-
# Copyright: homelab.mediacluster developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Documentation: plugins/filter/k8s_dry_run.yml. Reads what one kubernetes.core.k8s call (server-side dry run of a
# list of definitions, continue_on_error) said about each object, so the k8s_delivery role compares a whole batch in
# one module run instead of one run per object.
from ansible.errors import AnsibleFilterError

# What a dry run may change without the object differing: the API server bumps these on every write.
_BOOKKEEPING = frozenset(('generation', 'resourceVersion'))


def _label(obj):
    meta = obj.get('metadata') or {}
    return '%s %s/%s' % (obj.get('kind'), meta.get('namespace') or '', meta.get('name'))


def _differs(diff):
    """kubernetes.core's rule: a diff that names only metadata.generation/resourceVersion is no difference."""
    if not diff:
        return False
    before, after = diff.get('before') or {}, diff.get('after') or {}
    if set(before) | set(after) == {'metadata'}:
        keys = set(before.get('metadata') or {}) | set(after.get('metadata') or {})
        return not keys <= _BOOKKEEPING
    return True


def _safe(obj, error):
    """A refusal's text for the log: a Secret's may quote its data, so only that it was refused is said."""
    if obj.get('kind') == 'Secret':
        return ('refused by the API server (its message is withheld because it may quote the Secret\'s data; '
                'dry-run the Secret with kubectl apply --dry-run=server to read it)')
    return error


def k8s_dry_run(preview, batch):
    """One entry per object of batch: object, label, differs (bool), error (the API server's refusal or None) and
    refusal (that text for the log: withheld for Secrets)."""
    batch = list(batch or [])
    if not batch or (preview or {}).get('skipped'):
        return []
    if not isinstance(preview, dict):
        raise AnsibleFilterError('k8s_dry_run: expected the registered result of kubernetes.core.k8s, got %r'
                                 % type(preview))
    if 'result' not in preview and (preview.get('failed') or preview.get('failed_when_result') is not None):
        # The call itself failed (no API, bad credentials): every object carries its message.
        msg = preview.get('msg') or 'the dry run failed without a message'
        return [dict(object=o, label=_label(o), differs=False, error=msg, refusal=_safe(o, msg))
                for o in batch]
    # kubernetes.core returns one object's result at the top level and several under result.results.
    results = preview.get('result', {}).get('results') if len(batch) > 1 else [preview]
    if results is None:
        raise AnsibleFilterError('k8s_dry_run: %d definitions but no result.results in the dry run (keys: %s)'
                                 % (len(batch), ', '.join(sorted(preview))))
    if len(results) != len(batch):
        raise AnsibleFilterError('k8s_dry_run: %d definitions but %d results' % (len(batch), len(results)))
    out = []
    for index, obj in enumerate(batch):
        res = results[index]
        error = res.get('error')
        if error is not None:
            error = (error.get('msg') if isinstance(error, dict) else str(error)) or 'no message'
        label = _label(obj)
        out.append(dict(object=obj, label=label, differs=error is None and _differs(res.get('diff')), error=error,
                        refusal=None if error is None else _safe(obj, error)))
    return out


class FilterModule(object):
    def filters(self):
        return {'k8s_dry_run': k8s_dry_run}
