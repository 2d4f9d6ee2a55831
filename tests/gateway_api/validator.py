"""Test-only validation of Gateway API objects (HTTPRoute, Gateway) with the real upstream constraints.

No PyPI, npm or Debian package ships the Gateway API CRD YAML, and GitHub is out of reach, so the collection cannot
ship the CRD for the delivery layer (docs/delivery.md). What npm does have is @kubernetes-models/gateway-api 2.0.0:
ajv validators compiled from the upstream Go API types (sigs.k8s.io/gateway-api/apis/v1), with their kubebuilder
constraints (types, patterns, enums, min/max, required fields). This module installs that package, pinned by
package-lock.json (sha512 integrity), with `npm ci` into a cache OUTSIDE the work tree (node_modules holds YAML
files the linters would walk), and runs validate.mjs through node.

Limits, stated so nobody mistakes this for the CRD: the compiled validators do not reject unknown fields (the API
server's strict field validation does) and do not run the CRD's CEL rules.
"""

import functools
import json
import os
import pathlib
import shutil
import subprocess

import pytest

from ..conftest import ROOT, cache_lock

HERE = ROOT / 'tests' / 'gateway_api'
CACHE = pathlib.Path(os.environ.get('XDG_CACHE_HOME') or pathlib.Path.home() / '.cache') / 'homelab-mediacluster' / \
    'gateway-api-npm'
PACKAGE = '@kubernetes-models/gateway-api'


@functools.lru_cache(maxsize=None)
def _install():
    """Return None when the validators are ready, else the reason they are not (the test skips with it)."""
    for tool in ('node', 'npm'):
        if shutil.which(tool) is None:
            return '{0} is not installed: the Gateway API validators of {1} run under node'.format(tool, PACKAGE)
    with cache_lock('gateway-api-npm'):  # pytest-xdist workers: one installs, the other waits and finds it done
        return _install_locked()


def _install_locked():
    lock = (HERE / 'package-lock.json').read_text()
    stamp = CACHE / '.installed-lock'
    if stamp.is_file() and stamp.read_text() == lock and (CACHE / 'node_modules' / PACKAGE).is_dir():
        return None
    CACHE.mkdir(parents=True, exist_ok=True)
    for name in ('package.json', 'package-lock.json', 'validate.mjs'):
        shutil.copy(HERE / name, CACHE / name)
    proc = subprocess.run(['npm', 'ci', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'],
                          cwd=CACHE, capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0:
        return ('npm ci of {0} (pinned in tests/gateway_api/package-lock.json) failed; is the npm registry '
                'unreachable? {1}'.format(PACKAGE, (proc.stderr or proc.stdout).strip()[-500:]))
    stamp.write_text(lock)
    return None


def validate_gateway_objects(docs):
    """One list of error strings per doc ([] when valid). Skips the calling test when the validators cannot run."""
    reason = _install()
    if reason:
        pytest.skip(reason)
    script = (HERE / 'validate.mjs').read_bytes()
    if (CACHE / 'validate.mjs').read_bytes() != script:  # replaced atomically: another worker may be running it
        fresh = CACHE / '.validate.mjs.{0}'.format(os.getpid())
        fresh.write_bytes(script)
        os.replace(fresh, CACHE / 'validate.mjs')
    proc = subprocess.run(['node', 'validate.mjs'], cwd=CACHE, input=json.dumps(docs), capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    assert len(results) == len(docs)
    return results
