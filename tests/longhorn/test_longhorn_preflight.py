"""Bad longhorn inputs fail in preflight, before any manifest is written or applied, with a message saying how to
fix the inventory."""

import pytest

from .conftest import export_vars, run_playbook, write_longhorn_playbook

JOB = {'name': 'nightly-backup', 'task': 'backup', 'cron': '0 3 * * *', 'retain': 7, 'groups': ['default']}

BAD = [
    ('backup-url-http', {'longhorn_backup_target': 'http://nas/backups'},
     'longhorn_backup_target=http://nas/backups is not a Longhorn backup target'),
    ('backup-url-nfs-no-path', {'longhorn_backup_target': 'nfs://10.77.0.29/longhorn_backup'},
     'use\nnfs://<server>:/<export path>'),
    ('s3-without-secret', {'longhorn_backup_target': 's3://bucket@us-east-1/lh'},
     'an s3:// longhorn_backup_target needs longhorn_backup_target_credential_secret'),
    ('cron-syntax', {'longhorn_recurring_jobs': [dict(JOB, cron='61 3 * * *')]},
     "job nightly-backup: cron='61 3 * * *' is not a valid five-field cron schedule"),
    ('cron-fields', {'longhorn_recurring_jobs': [dict(JOB, cron='0 3 * *')]},
     "cron='0 3 * *' is not a valid five-field cron schedule"),
    ('retain-zero', {'longhorn_recurring_jobs': [dict(JOB, retain=0)]},
     'retain=0 must be a whole number >= 1 for a backup job'),
    ('retain-seven', {'longhorn_recurring_jobs': [dict(JOB, retain='seven')]},
     "retain='seven' must be a whole number >= 1 for a backup job"),
    ('backup-job-without-target', {'longhorn_backup_target': ''},
     'a backup job needs\nlonghorn_backup_target'),
    ('duplicate-job-names', {'longhorn_recurring_jobs': [JOB, JOB]},
     'RecurringJob names repeat: nightly-backup'),
    ('replicas-over-nodes', {'longhorn_replica_count': 3},
     'longhorn_replica_count=3 needs at least that many storage nodes, and there are 2 (w1, w2)'),
    ('replicas-zero', {'longhorn_replica_count': 0}, 'longhorn_replica_count=0 needs'),
    ('ui-expose-unknown', {'longhorn_ui_expose': 'nodeport'},  # caught by meta/argument_specs.yml
     'value of longhorn_ui_expose must be one of: none, ingress, httproute, got: nodeport'),
    ('httproute-without-gateway', {'longhorn_ui_expose': 'httproute'},
     'longhorn_ui_expose=httproute has no Gateway'),
]


def _flat(text):
    return ' '.join(text.split())


@pytest.mark.parametrize('name, extra, expected', BAD, ids=[b[0] for b in BAD])
def test_bad_input_fails_in_preflight(tmp_path, name, extra, expected):
    tree = tmp_path / 'tree'
    playbook = write_longhorn_playbook(tmp_path / 'pb')
    code, out = run_playbook('longhorn-bad-' + name, playbook, extra_vars=export_vars(tree, **extra))
    assert code != 0, out[-2000:]
    assert _flat(expected) in _flat(out), out[-3000:]
    assert not tree.exists(), 'files were written although preflight failed'


def test_lxc_storage_node_is_refused(tmp_path):
    tree = tmp_path / 'tree'
    playbook = write_longhorn_playbook(tmp_path / 'pb', storage_nodes=('w1', 'w2', 'w3'), flavours={'w3': 'lxc'})
    code, out = run_playbook('longhorn-bad-lxc', playbook, extra_vars=export_vars(tree))
    assert code != 0
    assert _flat('w3: node_flavour lxc cannot run Longhorn') in _flat(out)
    assert not tree.exists()
