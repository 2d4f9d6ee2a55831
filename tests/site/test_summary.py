"""Issue 22: the summary (playbooks/99_summary.yml) gives https:// addresses and where the homelab CA certificate is.
Runs offline (a private network namespace with only loopback up): the example inventory's hosts are 192.168.1.x."""

import re

from ..conftest import ROOT, VENV_BIN, run_logged, tail
from ..preflight.runner import needs_offline

INVENTORY = ROOT / 'inventory' / 'example'


@needs_offline
def test_summary_gives_https_urls_and_the_ca_location():
    cmd = ' '.join(['ip link set lo up &&', str(VENV_BIN / 'ansible-playbook'), '-i', str(INVENTORY),
                    str(ROOT / 'playbooks' / '99_summary.yml')])
    code, output = run_logged('summary-example', ['unshare', '--net', '--map-root-user', 'sh', '-c', cmd])
    assert code == 0, tail(output)
    assert 'Longhorn UI: https://longhorn.homelab (login: basic auth)' in output
    assert 'Media apps: https://prowlarr.homelab, https://sonarr.homelab' in output
    assert 'Plex: https://plex.homelab, on the LAN directly at port 32400 of any node' in output
    assert re.search(r'homelab CA; import its certificate once per device .*: {0}/homelab-ca\.crt'.format(
        re.escape(str(INVENTORY))), output), tail(output)
    assert 'http://' not in output
