"""Issue 15: one undefined variable (a vault entry missing) must not hide every other problem."""

from ..conftest import tail
from .runner import copy_example, edit_yaml, needs_offline, preflight, problem_count, recap_hosts


@needs_offline
def test_missing_vault_entry_and_three_other_mistakes_are_all_listed(tmp_path):
    inv = copy_example(tmp_path)
    edit_yaml(inv / 'group_vars' / 'all' / 'vault.yml', lambda d: d.pop('vault_k3s_token'))
    edit_yaml(inv / 'group_vars' / 'all' / 'cluster.yml', lambda d: d.update(k3s_common_vip='192.168.1.29'))
    edit_yaml(inv / 'group_vars' / 'all' / 'apps.yml', lambda d: d.update(media_stack_puid='media'))

    def both(data):
        k3s = data['all']['children']['k3s_cluster']['children']
        k3s['k3s_agents']['hosts']['k3s-cp2'] = {'ansible_host': '192.168.1.21'}
    edit_yaml(inv / 'hosts.yml', both)

    code, output = preflight('preflight-undefined-vault', inv)
    assert code != 0, tail(output)
    expected = {
        'undefined vault entry': 'add vault_k3s_token to group_vars/all/vault.yml',
        'VIP is the NAS': 'k3s_common_vip=192.168.1.29 is the address of the NAS',
        'bad type': "argument 'media_stack_puid' is of type",
        'server and agent': 'k3s-cp2 is in both k3s_servers and k3s_agents',
    }
    missing = [what for what, text in expected.items() if text not in output]
    assert not missing, 'not reported: {0}\n{1}'.format(missing, tail(output, 40))
    assert problem_count(output) == 4, tail(output, 40)
    assert recap_hosts(output) == [('localhost', '0')]
