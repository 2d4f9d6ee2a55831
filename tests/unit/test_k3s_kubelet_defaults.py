"""What k3s_common writes into the kubelet arguments of a node: only what k3s does not already do itself.

k3s runs its kubelet with failSwapOn=false in the KubeletConfiguration it generates (pkg/daemons/agent,
defaultKubeletConfig; older releases passed --fail-swap-on=false): a `kubelet-arg: fail-swap-on=false` from the
collection repeats k3s's own default and reads as if the collection fixed something."""

import yaml

from ..conftest import ROOT

ROLE = ROOT / 'roles' / 'k3s_common'


def _defaults():
    return yaml.safe_load((ROLE / 'defaults' / 'main.yml').read_text())


def _spec_default(name):
    spec = yaml.safe_load((ROLE / 'meta' / 'argument_specs.yml').read_text())
    return spec['argument_specs']['main']['options'][name]['default']


def test_lxc_kubelet_args_do_not_repeat_the_k3s_swap_default():
    for source, args in (('defaults/main.yml', _defaults()['k3s_common_lxc_kubelet_args']),
                         ('meta/argument_specs.yml', _spec_default('k3s_common_lxc_kubelet_args'))):
        assert not [a for a in args or [] if str(a).lstrip('-').startswith('fail-swap-on')], (
            '{0} sets fail-swap-on, which k3s already sets to false for its kubelet'.format(source))
