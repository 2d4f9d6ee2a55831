"""The Longhorn UI behind basic auth against the API emulator: the htpasswd hash has a random salt, and the role
keeps the hash already deployed (read back from the Secret's data) while it still matches the password, so a rerun
writes nothing. A real API server folds a Secret's stringData into data on every write and never returns
stringData: the emulator must do the same, or this path is not tested at all."""

import base64

from .conftest import recap, run_playbook, write_longhorn_playbook

PASSWORD = 'longhorn-ui-test-password'


def _vars(kube):
    return {'k8s_kubeconfig': str(kube.kubeconfig), 'k8s_delivery_wait': False, 'longhorn_wait_for_crds': False,
            'longhorn_backup_target': 'nfs://10.77.0.29:/srv/nas/longhorn_backup',
            'longhorn_ui_expose': 'ingress', 'longhorn_ui_host': 'longhorn.homelab', 'longhorn_ui_auth': 'basic',
            'longhorn_ui_auth_password': PASSWORD}


def test_basic_auth_secret_is_kept_on_rerun(kube, tmp_path):
    playbook = write_longhorn_playbook(tmp_path / 'pb', k3s_nodes=(), flavours={})
    code, out = run_playbook('longhorn-ui-auth-1-first', playbook, '--skip-tags', 'longhorn_nodes',
                             extra_vars=_vars(kube))
    assert code == 0, out[-3000:]
    assert PASSWORD not in out

    mark = len(kube.calls)
    code, out = run_playbook('longhorn-ui-auth-2-rerun', playbook, '--skip-tags', 'longhorn_nodes',
                             extra_vars=_vars(kube))
    assert code == 0, out[-3000:]
    assert recap(out)['changed'] == 0, out[-3000:]
    assert kube.writes(mark) == [], kube.writes(mark)
    secret = kube.stored('v1', 'secrets', 'longhorn-system', 'longhorn-ui-auth')
    assert 'stringData' not in secret, 'the API server never stores or returns stringData'
    assert base64.b64decode(secret['data']['users']).decode().startswith('admin:$apr1$')
