"""Fixtures shared by unit-test packages."""

import pytest

from ..conftest import ROOT


@pytest.fixture(scope='session')
def example_media_plex_export(tmp_path_factory):
    """Every object 60_media.yml and 70_plex.yml export for inventory/example (offline), rendered once per test
    session for the Pod Security tests and the checkov agreement test. Callers must not change the list."""
    from .plex.test_plex_pod_security import export_trees

    return export_trees(tmp_path_factory.mktemp('example'), 'psa-example-export', ROOT / 'inventory' / 'example', {})
