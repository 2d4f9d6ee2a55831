"""The old-against-new logic of the benchmarks (bench/compare.py, `--compare <git-ref>` of bench/site_bench.py and
bench/delivery_bench.py): run order, alternation, medians and ratios, the report table, and the checkout of the old
ref as a git worktree. No lab and no playbook run here; the lead runs the benchmarks themselves."""

import subprocess
import sys

import pytest

from ..conftest import ROOT

sys.path.insert(0, str(ROOT / 'bench'))
import compare  # noqa: E402


def test_order_alternates_which_side_runs_first():
    assert compare.order(1) == [(0, 'old'), (0, 'new')]
    assert compare.order(3) == [(0, 'old'), (0, 'new'), (1, 'new'), (1, 'old'), (2, 'old'), (2, 'new')]
    with pytest.raises(compare.CompareError, match='at least 1'):
        compare.order(0)


def test_alternate_calls_each_side_once_per_round_in_that_order():
    calls = []

    def run(side, n):
        calls.append((n, side))
        return {'rerun': {'old': 10.0, 'new': 4.0}[side] + n}

    results = compare.alternate(run, 2)
    assert calls == compare.order(2)
    assert results == {'old': [{'rerun': 10.0}, {'rerun': 11.0}], 'new': [{'rerun': 4.0}, {'rerun': 5.0}]}


def test_summary_gives_medians_and_the_ratio_new_over_old():
    results = {'old': [{'first': 200.0, 'rerun': 140.0}, {'first': 210.0, 'rerun': 150.0},
                       {'first': 190.0, 'rerun': 400.0}],
               'new': [{'first': 150.0, 'rerun': 40.0}, {'first': 140.0, 'rerun': 35.0},
                       {'first': 160.0, 'rerun': 38.0, 'only_new': 1.0}]}
    summary = compare.summarise(results)
    assert set(summary) == {'first', 'rerun'}, 'a figure one side lacks is not compared'
    assert summary['first'] == {'old': 200.0, 'new': 150.0, 'ratio': 0.75, 'old_runs': [200.0, 210.0, 190.0],
                                'new_runs': [150.0, 140.0, 160.0]}
    assert summary['rerun']['old'] == 150.0 and summary['rerun']['new'] == 38.0  # the median ignores the outlier
    assert summary['rerun']['ratio'] == round(38.0 / 150.0, 2)


def test_summary_of_a_zero_old_figure_has_no_ratio():
    summary = compare.summarise({'old': [{'x': 0.0}], 'new': [{'x': 1.0}]})
    assert summary['x']['ratio'] is None
    assert compare.table(summary, 'main', 'new').splitlines()[-1] == '| x | 0.0 s | 1.0 s | - |'


def test_table_names_both_sides_and_the_ratio():
    summary = compare.summarise({'old': [{'rerun': 143.0}], 'new': [{'rerun': 39.5}]})
    lines = compare.table(summary, 'main (10ae7ce)', 'speed').splitlines()
    assert lines[0] == '| figure | main (10ae7ce) (old) | speed (new) | new/old |'
    assert lines[2] == '| rerun | 143.0 s | 39.5 s | 0.28x |'


def _git(repo, *args):
    return subprocess.run(['git', '-C', str(repo), *args], capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def repo(tmp_path):
    repo = tmp_path / 'repo'
    repo.mkdir()
    _git(repo, 'init', '-q', '-b', 'main')
    _git(repo, 'config', 'user.email', 'bench@example.invalid')
    _git(repo, 'config', 'user.name', 'bench')
    (repo / 'version.txt').write_text('old\n')
    _git(repo, 'add', 'version.txt')
    _git(repo, 'commit', '-q', '-m', 'old')
    _git(repo, 'tag', 'before')
    (repo / 'version.txt').write_text('new\n')
    _git(repo, 'commit', '-q', '-am', 'new')
    (repo / '.venv').mkdir()
    return repo


def test_checkout_makes_a_worktree_of_the_old_ref_outside_the_checkout(repo, tmp_path):
    refs = tmp_path / 'refs'
    path, commit = compare.checkout(repo, 'before', refs)
    assert commit == _git(repo, 'rev-parse', 'before')
    assert path.parent == refs and (path / 'version.txt').read_text() == 'old\n'
    assert (repo / 'version.txt').read_text() == 'new\n', 'the checkout itself is untouched'
    assert (path / '.venv').resolve() == (repo / '.venv').resolve()
    link = path / '.collections' / 'ansible_collections' / 'homelab' / 'mediacluster'
    assert link.resolve() == path.resolve()
    again, _unused = compare.checkout(repo, 'before', refs)
    assert again == path, 'a second call reuses the worktree'
    compare.remove_checkout(repo, path)
    assert not path.exists()


def test_an_unknown_ref_is_refused_with_what_to_do(repo, tmp_path):
    with pytest.raises(compare.CompareError, match='git does not know this ref') as info:
        compare.checkout(repo, 'no-such-branch', tmp_path / 'refs')
    assert 'git fetch it first' in str(info.value)
    assert not (tmp_path / 'refs').exists() or not any((tmp_path / 'refs').iterdir())


def test_each_compare_round_starts_with_an_empty_fact_cache(tmp_path, monkeypatch):
    """A fresh lab is a fresh controller: facts a side cached in an earlier round or an earlier compare (another ref's
    package facts, say) must not reach its first converge, or that side's hostvars are bigger and every task that
    reads them slower than the code it measures."""
    import site_bench  # bench/ is on sys.path (above)
    monkeypatch.setattr(site_bench, 'WORK', tmp_path)
    monkeypatch.setattr(site_bench, 'lab', lambda command, inventory: 0.0)
    seen = []

    def fake_run_site(inventory, label, root):
        facts = tmp_path / 'facts-{0}'.format(inventory.name)
        seen.append((label, sorted(p.name for p in facts.glob('*')) if facts.exists() else []))
        facts.mkdir(exist_ok=True)
        (facts / 'lab-cp1').write_text('{"packages": "cached by this run"}')
        return {'wall_s': 1.0, 'changed_total': 0, 'changed_by_host': {}, 'load': {'mean': 0.0}}

    monkeypatch.setattr(site_bench, 'run_site', fake_run_site)
    inventories = {'old': tmp_path / 'lab-6-old', 'new': tmp_path / 'lab-6'}
    stale = tmp_path / 'facts-lab-6-old'
    stale.mkdir()
    (stale / 'lab-cp1').write_text('{"packages": "left by an earlier compare of another ref"}')
    run = site_bench.compare_side_run(6, inventories, {'old': tmp_path, 'new': tmp_path})
    for n, side in compare.order(2):
        run(side, n)
    firsts = [cached for label, cached in seen if label.startswith('first-')]
    reruns = [cached for label, cached in seen if label.startswith('rerun-')]
    assert len(firsts) == 4 and firsts == [[]] * 4, seen
    assert reruns == [['lab-cp1']] * 4, seen  # the rerun keeps what its own first converge cached
