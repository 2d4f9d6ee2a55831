"""The delivery layer's fixtures and helpers (the collection on sys.path, the playbook runner)."""

from ..delivery.conftest import kube, recap, run_playbook  # noqa: F401 (fixtures)  # pylint: disable=unused-import
