"""The k3s join token logic in plugins/filter/k3s.py (issue 14 item 4).

k3s's secure ("full") token is `K10<CA hash>::<user>:<secret>` (pkg/clientaccess/token.go, FormatTokenBytes):
the CA hash is the sha256 of the PEM file as stored when the cluster CA is one self-signed certificate, and the
sha256 of the DER of the root certificate when the file is a bundle (custom CA). Servers join as `server`, agents
with the agent token as `node`. The expected hashes here are computed independently (hashlib over the file bytes,
ssl's PEM to DER) from fixture certificates made with openssl."""

import hashlib
import importlib.util
import ssl
import sys

import pytest

from ..conftest import ROOT

sys.path.insert(0, str(ROOT / '.collections'))  # the filter imports its module_utils from there
_spec = importlib.util.spec_from_file_location('k3s_filters_tokens', ROOT / 'plugins' / 'filter' / 'k3s.py')
k3s = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(k3s)

FIXTURES = ROOT / 'tests' / 'k3s' / 'fixtures'
CA = (FIXTURES / 'server-ca.crt').read_text()
CA_HASH = hashlib.sha256((FIXTURES / 'server-ca.crt').read_bytes()).hexdigest()
BUNDLE = (FIXTURES / 'server-ca-bundle.crt').read_text()
ROOT_DER_HASH = hashlib.sha256(ssl.PEM_cert_to_DER_cert((FIXTURES / 'bundle-root.crt').read_text())).hexdigest()
SECRET = 'Zq3vV0pXxGk8mN2rT5yB7cD9fH1jL4sW6uE0aQ2iO8eR'


def test_self_signed_ca_hash_is_the_sha256_of_the_pem_file():
    assert k3s.k3s_ca_hash(CA) == CA_HASH
    assert CA_HASH == '219d17a174c1a78c03ae48f1597e1eb9576fa5decc915c59ac28652676909052'


def test_bundle_hash_is_the_sha256_of_the_root_certificates_der():
    assert k3s.k3s_ca_hash(BUNDLE) == ROOT_DER_HASH != hashlib.sha256(BUNDLE.encode()).hexdigest()


@pytest.mark.parametrize('pem', ['', 'not a certificate', '-----BEGIN CERTIFICATE-----\nAAAA\n'])
def test_a_file_without_a_certificate_is_refused(pem):
    with pytest.raises(k3s.AnsibleFilterError, match='certificate'):
        k3s.k3s_ca_hash(pem)


def test_server_join_token_is_the_secure_form_with_the_server_user():
    assert k3s.k3s_join_token(SECRET, CA_HASH, 'server') == 'K10' + CA_HASH + '::server:' + SECRET


def test_agent_join_token_uses_the_node_user():
    assert k3s.k3s_join_token('agent-secret', CA_HASH, 'agent') == 'K10' + CA_HASH + '::node:agent-secret'


def test_a_full_token_given_by_the_user_is_reduced_to_its_secret():
    full = 'K10' + CA_HASH + '::server:' + SECRET
    assert k3s.k3s_join_token(full, CA_HASH, 'server') == full
    assert k3s.k3s_token_secret(full) == SECRET
    assert k3s.k3s_token_secret(SECRET) == SECRET


def test_a_full_token_of_another_cluster_is_refused():
    other = 'K10' + 'a' * 64 + '::server:' + SECRET
    with pytest.raises(k3s.AnsibleFilterError, match='another cluster'):
        k3s.k3s_join_token(other, CA_HASH, 'server')


@pytest.mark.parametrize('secret, ca_hash, kind, match', [
    ('', CA_HASH, 'server', 'empty'),
    (SECRET, 'abc', 'server', '64 hex'),
    (SECRET, CA_HASH, 'admin', 'server or agent'),
    ('K10' + CA_HASH + '::server:', CA_HASH, 'server', 'empty'),
])
def test_bad_input_is_refused(secret, ca_hash, kind, match):
    with pytest.raises(k3s.AnsibleFilterError, match=match):
        k3s.k3s_join_token(secret, ca_hash, kind)
