"""Run one of the collection's modules in this process, as Ansible would, and return its JSON result.

The one runner of the module tests (tests/media_stack, tests/plex, tests/integration/proxmox, tests/verify): the
arguments go in through ansible-core's patch_module_args with the check and diff flags Ansible sets, the module's
main() prints its result and exits, and the printed JSON is returned - a failure as the dict fail_json printed
(``failed: true`` and ``msg``), with no exception raised here."""

import importlib
import io
import json
import sys
from contextlib import redirect_stdout

import pytest

from tests.conftest import ROOT

COLLECTIONS = str(ROOT / '.collections')  # scripts/venv.sh links this checkout in as homelab.mediacluster
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)

MODULES = 'ansible_collections.homelab.mediacluster.plugins.modules.'


def run_module(name, args, check=False, diff=False):
    """Run homelab.mediacluster.<name> with args; return the result it printed. name may also be the module object
    a test imported and patched: a test that patches a module must pass that object, because another test file may
    have re-imported the collection since (tests/preflight/collection.py hands it to Ansible's loader)."""
    from ansible.module_utils.testing import patch_module_args

    module = name if hasattr(name, 'main') else importlib.import_module(MODULES + name)
    args = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
    out = io.StringIO()
    with patch_module_args(args), redirect_stdout(out), pytest.raises(SystemExit):
        module.main()
    return json.loads(out.getvalue())
