"""Make this checkout importable as ansible_collections.homelab.mediacluster (scripts/venv.sh links it into
.collections) for the cluster-semantics tests."""

import sys

from ...conftest import ROOT

COLLECTIONS = ROOT / '.collections'
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
