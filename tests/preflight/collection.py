"""Import this checkout as the homelab.mediacluster collection through Ansible's own collection loader, as
ansible-playbook does (lookups such as ansible.builtin.env then resolve in-process too)."""

import sys

from ansible.plugins.loader import init_plugin_loader

from ..conftest import ROOT

COLLECTIONS = str(ROOT / '.collections')
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
# another test may have imported the collection as a plain package; Ansible's loader must own it from here on
for _name in [m for m in sys.modules if m == 'ansible_collections' or m.startswith('ansible_collections.')]:
    del sys.modules[_name]
init_plugin_loader([COLLECTIONS])
