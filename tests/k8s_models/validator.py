"""Test-only validation of cert-manager and Traefik objects (Certificate, ClusterIssuer, Middleware) with the ajv
validators of @kubernetes-models/cert-manager and @kubernetes-models/traefik, the way tests/gateway_api checks
HTTPRoutes: the packages, pinned by package-lock.json (sha512 integrity), are installed with `npm ci` into a cache
outside the work tree and validate.mjs runs under node. A second opinion next to the delivery layer's own check
against the vendored CRDs (roles/k8s_delivery/files/crds). Like the Gateway API validators, these do not reject
unknown fields and do not run CEL rules."""

import functools
import json
import os
import pathlib
import shutil
import subprocess

import pytest

from ..conftest import ROOT

HERE = ROOT / 'tests' / 'k8s_models'
CACHE = pathlib.Path(os.environ.get('XDG_CACHE_HOME') or pathlib.Path.home() / '.cache') / 'homelab-mediacluster' / \
    'k8s-models-npm'
PACKAGES = '@kubernetes-models/cert-manager and @kubernetes-models/traefik'


@functools.lru_cache(maxsize=None)
def _install():
    """None when the validators are ready, else the reason they are not (the test skips with it)."""
    for tool in ('node', 'npm'):
        if shutil.which(tool) is None:
            return '{0} is not installed: the validators of {1} run under node'.format(tool, PACKAGES)
    lock = (HERE / 'package-lock.json').read_text()
    stamp = CACHE / '.installed-lock'
    if stamp.is_file() and stamp.read_text() == lock and (CACHE / 'node_modules' / '@kubernetes-models').is_dir():
        return None
    CACHE.mkdir(parents=True, exist_ok=True)
    for name in ('package.json', 'package-lock.json', 'validate.mjs'):
        shutil.copy(HERE / name, CACHE / name)
    proc = subprocess.run(['npm', 'ci', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'],
                          cwd=CACHE, capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0:
        return ('npm ci of {0} (pinned in tests/k8s_models/package-lock.json) failed; is the npm registry '
                'unreachable? {1}'.format(PACKAGES, (proc.stderr or proc.stdout).strip()[-500:]))
    stamp.write_text(lock)
    return None


def validate_objects(docs):
    """One list of error strings per doc ([] when valid). Skips the calling test when the validators cannot run."""
    reason = _install()
    if reason:
        pytest.skip(reason)
    shutil.copy(HERE / 'validate.mjs', CACHE / 'validate.mjs')
    proc = subprocess.run(['node', 'validate.mjs'], cwd=CACHE, input=json.dumps(docs), capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)
