#!/usr/bin/env python3
"""Pools the markdown rows of bench/eval_recommend.sh's folds (read from standard input).

Rows with the same configuration and seed count are merged: playlists summed, every other
column the mean over the folds weighted by their playlists. Prints the pooled table, rows in
order of first appearance.
"""
import sys


def main():
    header = None
    pooled = {}  # (label, seeds) -> [playlists, weighted sums...]
    for line in sys.stdin:
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if not line.startswith('|') or len(cells) < 4:
            continue
        if cells[0] == 'configuration':
            header = line.rstrip('\n')
            continue
        if set(cells[1]) <= set('-:'):
            continue
        label, seeds, playlists = cells[0], cells[1], int(cells[2])
        values = [float(c) if c != '-' else float('nan') for c in cells[3:]]
        entry = pooled.setdefault((label, seeds), [0] + [0.0] * len(values))
        entry[0] += playlists
        for i, v in enumerate(values):
            entry[i + 1] += v * playlists
    if header is None:
        sys.exit('pool_folds: no table on standard input')
    print(header)
    print('|---|' + '---:|' * (header.count('|') - 2))
    for (label, seeds), entry in pooled.items():
        n = entry[0]
        means = [s / n for s in entry[1:]]
        # clicks keep two decimals, the rest four (as eval_recommend prints them)
        cells = [f'{m:.2f}' if i == 2 else f'{m:.3f}' if i == 4 else f'{m:.4f}'
                 for i, m in enumerate(means)]
        cells = ['-' if c == 'nan' else c for c in cells]
        print(f'| {label} | {seeds} | {n} | ' + ' | '.join(cells) + ' |')


if __name__ == '__main__':
    main()
