"""Fixtures for the media stack tests: the fake apps on 127.0.0.1 (modules run through tests/module_runner.py)."""

import contextlib
import os
import shutil
import subprocess
import sys
import time

import pytest

from ..conftest import ROOT
from .fake_apps import FakeQbittorrent, FakeServarr

COLLECTIONS = str(ROOT / '.collections')
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)

# Shells the init-container scripts are run with: dash and bash, and busybox because the LinuxServer images are
# Alpine, where sh and awk are busybox applets.
SHELLS = ['dash', 'bash', 'busybox']


def shell_command(shell, bindir):
    """(argv prefix, PATH) to run a script with `shell`. For busybox, bindir gets a symlink per applet and becomes
    the whole PATH, so every tool the script calls is busybox's, as in an Alpine image."""
    if not shutil.which(shell):
        pytest.skip('{0} is not installed (scripts/host-setup.sh installs it)'.format(shell))
    if shell != 'busybox':
        return [shutil.which(shell)], os.environ.get('PATH', '/usr/bin:/bin')
    busybox = shutil.which('busybox')
    applets = subprocess.run([busybox, '--list'], capture_output=True, text=True, check=True).stdout
    for applet in applets.split():
        os.symlink(busybox, os.path.join(str(bindir), applet))
    return [busybox, 'sh'], str(bindir)


@contextlib.contextmanager
def kube_emulator(tmp_path, *args):
    """The kmock Kubernetes emulator on a free loopback port (extra command-line args, e.g. --crd FILE); yields
    (API URL, kubeconfig path) and stops it afterwards."""
    ready = tmp_path / 'ready'
    kubeconfig = tmp_path / 'kubeconfig'
    proc = subprocess.Popen([sys.executable, str(ROOT / 'tests' / 'peers' / 'kube_emulator.py'), '--port', '0',
                             '--ready-file', str(ready), '--kubeconfig', str(kubeconfig), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert proc.poll() is None, proc.stdout.read().decode()
            assert time.monotonic() < deadline, 'the Kubernetes emulator did not start'
            time.sleep(0.2)
        yield ready.read_text().strip(), kubeconfig
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture
def servarr():
    started = []

    def start(kind, **kwargs):
        app = FakeServarr(kind, **kwargs).start()
        started.append(app)
        return app

    yield start
    for app in started:
        app.stop()
        assert app.violations == [], 'requests or responses outside the OpenAPI spec: {0}'.format(app.violations)


@pytest.fixture
def qbittorrent():
    started = []

    def start(**kwargs):
        app = FakeQbittorrent(**kwargs).start()
        started.append(app)
        return app

    yield start
    for app in started:
        app.stop()
        assert app.violations == [], 'requests outside the WebUI API v2: {0}'.format(app.violations)
