"""Old code against new code, alternately, on the same machine: the logic shared by bench/site_bench.py and
bench/delivery_bench.py (`--compare <git-ref>`).

A checkout of the old ref is made as a detached git worktree outside the checkout (REFS, so that no build, linter or
test of this checkout ever sees a second copy of the collection; it shares this checkout's .venv), then
the runs alternate old, new, old, new... so that both see the same load; each figure is reported per round and as
a median, with the ratio new/old (below 1: the new code is faster)."""

import pathlib
import shutil
import statistics
import subprocess
import tempfile

REFS = pathlib.Path(tempfile.gettempdir()) / 'mediacluster-bench-refs'


class CompareError(Exception):
    pass


def resolve(root, ref):
    """The full commit of ref in the repository at root; a clear error for a ref git does not know."""
    proc = subprocess.run(['git', 'rev-parse', '--verify', '--quiet', ref + '^{commit}'], cwd=root,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise CompareError('--compare {0}: git does not know this ref in {1}; give a branch, tag or commit '
                           '(git fetch it first)'.format(ref, root))
    return proc.stdout.strip()


def checkout(root, ref, work=REFS):
    """A detached worktree of ref under work/ with root's .venv and its own .collections link; returns (its path,
    the commit). Reused when it already holds that commit."""
    commit = resolve(root, ref)
    path = pathlib.Path(work) / 'ref-{0}'.format(commit[:12])
    path.parent.mkdir(parents=True, exist_ok=True)
    if not (path / '.git').exists():
        if path.exists():
            shutil.rmtree(path)
        subprocess.run(['git', 'worktree', 'add', '--detach', str(path), commit], cwd=root, check=True,
                       capture_output=True, text=True)
    venv = path / '.venv'
    if not venv.exists():
        venv.symlink_to((pathlib.Path(root) / '.venv').resolve())
    link = path / '.collections' / 'ansible_collections' / 'homelab' / 'mediacluster'
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink():
        link.symlink_to('../../..')
    return path, commit


def remove_checkout(root, path):
    subprocess.run(['git', 'worktree', 'remove', '--force', str(path)], cwd=root, capture_output=True, check=False)


def order(rounds):
    """The run order: old first in even rounds, new first in odd ones, so neither side always runs second."""
    if rounds < 1:
        raise CompareError('--rounds must be at least 1')
    sequence = []
    for n in range(rounds):
        sequence += [(n, 'old'), (n, 'new')] if n % 2 == 0 else [(n, 'new'), (n, 'old')]
    return sequence


def alternate(run, rounds):
    """Call run(side, round) in order(rounds); run returns {figure: seconds}. Returns {'old': [...], 'new': [...]},
    one dict per round and side, in round order."""
    results = {'old': [None] * rounds, 'new': [None] * rounds}
    for n, side in order(rounds):
        results[side][n] = run(side, n)
    return results


def summarise(results):
    """{figure: {'old': median s, 'new': median s, 'ratio': new/old, 'old_runs': [...], 'new_runs': [...]}} for
    every figure both sides report."""
    figures = [f for f in results['old'][0] if all(f in r for side in ('old', 'new') for r in results[side])]
    summary = {}
    for figure in figures:
        old = [r[figure] for r in results['old']]
        new = [r[figure] for r in results['new']]
        old_median, new_median = statistics.median(old), statistics.median(new)
        summary[figure] = {'old': round(old_median, 2), 'new': round(new_median, 2),
                           'ratio': round(new_median / old_median, 2) if old_median else None,
                           'old_runs': [round(v, 2) for v in old], 'new_runs': [round(v, 2) for v in new]}
    return summary


def table(summary, old_label, new_label):
    """The summary as a Markdown table."""
    lines = ['| figure | {0} (old) | {1} (new) | new/old |'.format(old_label, new_label), '|---|---:|---:|---:|']
    for figure, s in summary.items():
        lines.append('| {0} | {1} s | {2} s | {3} |'.format(
            figure, s['old'], s['new'], '-' if s['ratio'] is None else '{0:.2f}x'.format(s['ratio'])))
    return '\n'.join(lines)
