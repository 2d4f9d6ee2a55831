"""Make this checkout importable as ansible_collections.homelab.mediacluster (scripts/venv.sh links it into
.collections) and offer helpers to run a module in-process."""

import json
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
COLLECTIONS = ROOT / '.collections'
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

SAMPLES = pathlib.Path(__file__).resolve().parent / 'samples'


class ModuleExit(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


def run_module(main, args, check=False, diff=False, monkeypatch=None):
    """Run a module's main() in-process and return its result dict (failed=True on fail_json)."""
    from ansible.module_utils import basic
    from ansible.module_utils.testing import patch_module_args

    args = dict(args)
    args['_ansible_check_mode'] = check
    args['_ansible_diff'] = diff

    def exit_json(self, **kwargs):
        kwargs.setdefault('changed', False)
        raise ModuleExit(json.loads(json.dumps(kwargs, default=str)))

    def fail_json(self, msg, **kwargs):
        kwargs['failed'] = True
        kwargs['msg'] = msg
        raise ModuleExit(kwargs)

    with patch_module_args(args):
        monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
        monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)
        try:
            main()
        except ModuleExit as done:
            return done.result
    raise AssertionError('the module returned without exit_json/fail_json')


@pytest.fixture
def samples():
    return SAMPLES
