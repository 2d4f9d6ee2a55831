"""Fixtures for the media stack tests: the fake apps on 127.0.0.1 and an in-process module runner."""

import importlib
import io
import json
import sys
from contextlib import redirect_stdout

import pytest

from ..conftest import ROOT
from .fake_apps import FakeQbittorrent, FakeServarr

COLLECTIONS = str(ROOT / '.collections')
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)


def run_module(name, args, check=False, diff=False):
    """Run homelab.mediacluster.<name> in this process as Ansible would; return its JSON result."""
    from ansible.module_utils.testing import patch_module_args
    module = importlib.import_module('ansible_collections.homelab.mediacluster.plugins.modules.' + name)
    args = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
    out = io.StringIO()
    with patch_module_args(args), redirect_stdout(out), pytest.raises(SystemExit):
        module.main()
    return json.loads(out.getvalue())


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
