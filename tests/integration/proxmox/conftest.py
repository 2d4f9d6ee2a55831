"""Run the collection's Proxmox modules in-process against a fakepve on loopback and count its write requests."""

from urllib.parse import parse_qs

import pytest

from tests import module_runner
from tests.peers.pve_lab import CT_TEMPLATE, NODE, seed

ROOT_PASSWORD = 'secret'
TOKEN_ID = 'root@pam!ci'
TOKEN_SECRET = '0b7d7d6e-1a3c-4c1e-9d2a-2c53b1e1a001'
TEMPLATE = 'local:vztmpl/' + CT_TEMPLATE
WRITES = ('POST', 'PUT', 'DELETE')


def write_requests(requests):
    """The requests among fakepve's recorded ones that write (the login ticket's POST left out)."""
    return [r for r in requests if r[0] in WRITES and not r[1].endswith('/access/ticket')]


def body_of(request):
    """The form fields of a recorded request, {name: value}."""
    body = request[2]
    if isinstance(body, dict):
        return body
    if isinstance(body, bytes):
        body = body.decode()
    return dict((k, v[-1]) for k, v in parse_qs(body or '', keep_blank_values=True).items())


class ModuleRun(object):
    """One module run: the JSON result, and the requests fakepve saw during it."""

    def __init__(self, result, requests):
        self.result = result
        self.requests = requests

    @property
    def writes(self):
        return write_requests(self.requests)

    def __getitem__(self, key):
        return self.result[key]

    def get(self, key, default=None):
        return self.result.get(key, default)


@pytest.fixture
def pve(fakepve):
    seed(fakepve)
    fakepve.apitokens[TOKEN_ID] = TOKEN_SECRET
    return fakepve


@pytest.fixture
def run_module(pve, fakepve_cafile):
    """run_module(module_name, token=False, check=False, diff=False, **args) -> ModuleRun."""

    def run(module_name, token=False, check=False, diff=False, **args):
        conn = dict(api_host=pve.host, api_port=pve.port, ca_path=fakepve_cafile, api_user='root@pam')
        if token:
            conn.update(api_token_id=TOKEN_ID, api_token_secret=TOKEN_SECRET)
        else:
            conn['api_password'] = ROOT_PASSWORD
        conn.update(args)
        conn = dict((k, v) for k, v in conn.items() if v is not None)
        start = len(pve.requests)
        result = module_runner.run_module(module_name, conn, check=check, diff=diff)
        return ModuleRun(result, list(pve.requests[start:]))
    return run


__all__ = ['NODE', 'TEMPLATE', 'TOKEN_SECRET', 'body_of', 'write_requests']
