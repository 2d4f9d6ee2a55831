"""Issue 15 acceptance: >= 80 broken copies of inventory/example, each caught in one preflight run with a message
naming the place, and >= 10 legitimate variants with no false alarm. The rules run in-process through the same
filter 00_preflight.yml uses (tests/preflight/harness.py); test_playbook.py runs a few through ansible-playbook."""

import shutil

import pytest

from ..conftest import ROOT
from .corpus import BROKEN, LEGIT
from .harness import run_rules


def _copy(tmp_path):
    inv = tmp_path / 'inventory'
    shutil.copytree(ROOT / 'inventory' / 'example', inv)
    return inv


def test_the_corpus_is_big_enough_and_distinct():
    ids = [case[0] for case in BROKEN]
    assert len(set(ids)) == len(ids) >= 80
    assert len(set(case[2] for case in BROKEN)) >= 80, 'the broken inventories must show distinct messages'
    assert len(LEGIT) >= 10


@pytest.mark.parametrize('case', BROKEN, ids=[case[0] for case in BROKEN])
def test_broken_inventory_is_caught_with_its_place(tmp_path, case):
    _name, edit, message, place = case
    inv = _copy(tmp_path)
    edit(inv)
    problems = run_rules(inv)
    hits = [line for line in problems if message in line]
    assert hits, 'not reported: {0!r}\nthe preflight said:\n{1}'.format(message, '\n'.join(problems))
    assert any(place in line for line in hits), 'the message does not name {0!r}:\n{1}'.format(place, '\n'.join(hits))


@pytest.mark.parametrize('case', LEGIT, ids=[case[0] for case in LEGIT])
def test_legitimate_variant_passes(tmp_path, case):
    _name, edit = case
    inv = _copy(tmp_path)
    edit(inv)
    assert run_rules(inv) == []
