"""Test-only validators that npm packages compile from upstream API types (ajv), run under node: the shared part of
tests/gateway_api and tests/k8s_models. Each folder holds package.json, package-lock.json (sha512 integrity) and
validate.mjs; `npm ci` installs them into a cache OUTSIDE the work tree (node_modules holds YAML files the linters
would walk), once per lock file, under a lock so that parallel test workers install once."""

import json
import os
import shutil
import subprocess

import pytest

from .conftest import MACHINE_CACHE, ROOT, cache_lock


class NpmValidators:
    """The validators of `packages` (for messages), installed from tests/<folder> into the cache `cache_name`;
    `marker` is the node_modules path that proves the install happened."""

    def __init__(self, folder, cache_name, packages, marker):
        self.here = ROOT / 'tests' / folder
        self.cache = MACHINE_CACHE / cache_name
        self.folder, self.packages, self.marker = folder, packages, marker
        self.checked, self.reason = False, None

    def install(self):
        """None when the validators are ready, else the reason they are not (the test skips with it); worked out
        once per test process."""
        if not self.checked:
            self.reason, self.checked = self._install(), True
        return self.reason

    def _install(self):
        for tool in ('node', 'npm'):
            if shutil.which(tool) is None:
                return '{0} is not installed: the validators of {1} run under node'.format(tool, self.packages)
        with cache_lock(self.cache.name):  # pytest-xdist workers: one installs, the other waits and finds it done
            lock = (self.here / 'package-lock.json').read_text()
            stamp = self.cache / '.installed-lock'
            if stamp.is_file() and stamp.read_text() == lock and (self.cache / 'node_modules' / self.marker).is_dir():
                return None
            self.cache.mkdir(parents=True, exist_ok=True)
            for name in ('package.json', 'package-lock.json'):
                shutil.copy(self.here / name, self.cache / name)
            proc = subprocess.run(['npm', 'ci', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'],
                                  cwd=self.cache, capture_output=True, text=True, timeout=300, check=False)
            if proc.returncode != 0:
                return ('npm ci of {0} (pinned in tests/{1}/package-lock.json) failed; is the npm registry '
                        'unreachable? {2}'.format(self.packages, self.folder,
                                                  (proc.stderr or proc.stdout).strip()[-500:]))
            stamp.write_text(lock)
            return None

    def validate(self, docs):
        """One list of error strings per doc ([] when valid). Skips the calling test when the validators cannot
        run."""
        reason = self.install()
        if reason:
            pytest.skip(reason)
        script = (self.here / 'validate.mjs').read_bytes()
        target = self.cache / 'validate.mjs'
        if not target.is_file() or target.read_bytes() != script:  # atomically: another worker may be running it
            fresh = self.cache / '.validate.mjs.{0}'.format(os.getpid())
            fresh.write_bytes(script)
            os.replace(fresh, target)
        proc = subprocess.run(['node', 'validate.mjs'], cwd=self.cache, input=json.dumps(docs), capture_output=True,
                              text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr[-2000:]
        results = json.loads(proc.stdout)
        assert len(results) == len(docs)
        return results
