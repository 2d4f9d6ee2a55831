"""Cloud libraries (issue 21) are opt-in: with no cloud remote declared, the media_stack and plex roles render
exactly the bytes they rendered before the feature existed. The golden files in golden_cloud_off/ were written by
the roles at the commit before the feature (10ae7ce); a change to the rendered pods that is not about cloud mounts
must update them on purpose:  MEDIACLUSTER_WRITE_GOLDEN=1 pytest tests/media_stack/test_cloud_off_identical.py
(that run writes the files and fails, so it can never pass by itself)."""

import json
import os
import pathlib

import pytest

from ..conftest import ROOT, VENV_BIN, run_logged, tail
from .test_manifests import ALL_APPS, EXPORT, INVENTORY

GOLDEN = pathlib.Path(__file__).resolve().parent / 'golden_cloud_off'
PLEX_DIR = ROOT / 'tests' / 'plex'
# stored as <file>.golden: the copies are data, not the repository's YAML (no linter runs over them)
SUFFIX = '.golden'
WRITE = os.environ.get('MEDIACLUSTER_WRITE_GOLDEN') == '1'

MEDIA_CASES = {
    'defaults': {},
    'all-apps': dict({'media_stack_{0}_enabled'.format(app): True for app in ALL_APPS},
                     media_stack_preferred_nodes=['w1', 'w2']),
}
PLEX_CASES = {
    'default': {},
    'privileged-local': {'plex_gpu_mode': 'privileged', 'plex_config_mode': 'local', 'plex_namespace_own': True},
}


def _compare(name, files):
    """files: {relative name: text}. Compare byte for byte with the golden copy (or write it)."""
    folder = GOLDEN / name
    if WRITE:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
        for rel, text in files.items():
            (folder / (rel + SUFFIX)).write_text(text)
        pytest.fail('golden files written to {0}: review and commit them, then run without '
                    'MEDIACLUSTER_WRITE_GOLDEN'.format(folder))
    expected = {p.name[:-len(SUFFIX)]: p.read_text() for p in sorted(folder.iterdir())}
    assert sorted(files) == sorted(expected), 'the rendered files differ from the golden list'
    for rel in sorted(files):
        assert files[rel] == expected[rel], '{0}/{1} is not byte-identical to the render before cloud mounts'.format(
            name, rel)


@pytest.mark.parametrize('case', sorted(MEDIA_CASES))
def test_media_stack_without_cloud_remotes_renders_the_same_bytes(tmp_path, case):
    inventory = tmp_path / 'inventory.yml'
    inventory.write_text(INVENTORY)
    export = tmp_path / 'export'
    variables = dict(EXPORT, k8s_delivery_export_dir=str(export), **MEDIA_CASES[case])
    code, output = run_logged('media-stack-cloud-off-' + case, [
        str(VENV_BIN / 'ansible-playbook'), '-i', str(inventory), str(ROOT / 'playbooks' / '60_media.yml'),
        '-e', json.dumps(variables)])
    assert code == 0, tail(output)
    tree = export / 'media-stack'
    _compare('media-' + case, {p.name: p.read_text() for p in sorted(tree.iterdir()) if p.is_file()})


@pytest.mark.parametrize('case', sorted(PLEX_CASES))
def test_plex_without_cloud_remotes_renders_the_same_manifests(tmp_path, case):
    out = tmp_path / 'manifests.json'
    extra = tmp_path / 'vars.json'
    extra.write_text(json.dumps(dict(PLEX_CASES[case], out=str(out))))
    code, output = run_logged('plex-cloud-off-' + case, [
        str(VENV_BIN / 'ansible-playbook'), '-i', str(PLEX_DIR / 'inventory'), str(PLEX_DIR / 'render.yml'),
        '-e', '@' + str(extra)])
    assert code == 0, tail(output)
    _compare('plex-' + case, {'manifests.json': out.read_text()})
