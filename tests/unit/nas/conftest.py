"""Make the collection importable as ansible_collections.homelab.mediacluster (scripts/venv.sh links it)."""

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[3]
COLLECTIONS = ROOT / '.collections'
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
