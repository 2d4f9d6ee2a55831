"""Run playbooks/00_preflight.yml offline: in a private network namespace with only loopback up, so an inventory
whose hosts are 192.168.1.x can never reach a real machine."""

import re
import shutil

import pytest
import yaml

from ..conftest import ROOT, VENV_BIN, run_logged

PLAYBOOK = str(ROOT / 'playbooks' / '00_preflight.yml')


def offline_available():
    if not shutil.which('unshare'):
        return False
    code, _unused = run_logged('preflight-unshare-probe', ['unshare', '--net', '--map-root-user', 'true'])
    return code == 0


needs_offline = pytest.mark.skipif(not offline_available(),
                                   reason='unshare --net is not available here: refusing to run against 192.168.1.x')


def preflight(name, inventory, *extra):
    cmd = ' '.join(["ip link set lo up &&", str(VENV_BIN / 'ansible-playbook'), '-i', str(inventory), PLAYBOOK,
                    '-e', 'mediacluster_preflight_probes=false'] + list(extra))
    return run_logged(name, ['unshare', '--net', '--map-root-user', 'sh', '-c', cmd])


def recap_hosts(output):
    return re.findall(r'^(\S+)\s+: ok=\d+\s+changed=(\d+)', output, re.M)


def problem_count(output):
    found = re.search(r'The inventory has (\d+) problem\(s\)', output)
    return int(found.group(1)) if found else None


def copy_example(tmp_path):
    inv = tmp_path / 'inventory'
    shutil.copytree(ROOT / 'inventory' / 'example', inv)
    return inv


def edit_yaml(path, change):
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
