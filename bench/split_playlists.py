#!/usr/bin/env python3
"""Splits tidytuesday's spotify_songs.csv into a training and a held-out set of playlists.

    bench/split_playlists.py SPOTIFY_SONGS.csv[.xz] OUT_DIR [--seed=2018] [--heldout=0.2]
                             [--folds=N --fold=I]

Writes to OUT_DIR:
  catalog.csv    one row per distinct track, in the tidytuesday format, with the playlist
                 columns (name, id, genre, subgenre) left empty: the tracks' audio features,
                 popularity, album and release date, but nothing a playlist said about them
                 (tidytuesday's genres are the labels of the playlists a track is in, and would
                 tell the recommender which held-out playlist a track came from)
  train.json     the training playlists as a Million Playlist Dataset slice
  heldout.json   the held-out playlists, the same way; never to be imported

Playlists are deduplicated on (playlist_id, track_id), first-seen order kept. The held-out
playlists are a fixed-seed random share of the playlists with at least 30 distinct tracks
(so that 25 seeds leave tracks to find). With --folds=N, those playlists are shuffled with
the seed and dealt into N folds, and fold I (0..N-1) is held out instead: the N folds hold
every eligible playlist out exactly once (cross-validation).
"""
import argparse
import csv
import io
import json
import lzma
import os
import random


def open_text(path):
    if path.endswith('.xz'):
        return io.TextIOWrapper(lzma.open(path), encoding='utf-8', newline='')
    return open(path, encoding='utf-8', newline='')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('songs')
    ap.add_argument('out_dir')
    ap.add_argument('--seed', type=int, default=2018)
    ap.add_argument('--heldout', type=float, default=0.2)
    ap.add_argument('--min_heldout_tracks', type=int, default=30)
    ap.add_argument('--folds', type=int, default=0)
    ap.add_argument('--fold', type=int, default=0)
    a = ap.parse_args()
    if a.folds and not 0 <= a.fold < a.folds:
        ap.error('--fold must be in 0..folds-1')

    playlists = {}  # id -> {"name", "tracks": [ids], "seen": set}
    tracks = {}  # id -> row
    with open_text(a.songs) as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames
        for row in reader:
            tid, pid = row['track_id'], row['playlist_id']
            if tid not in tracks:
                tracks[tid] = row
            p = playlists.setdefault(pid, {'name': row['playlist_name'], 'tracks': [],
                                           'seen': set()})
            if tid not in p['seen']:
                p['seen'].add(tid)
                p['tracks'].append(tid)

    ids = sorted(playlists)
    eligible = [p for p in ids if len(playlists[p]['tracks']) >= a.min_heldout_tracks]
    rng = random.Random(a.seed)
    if a.folds:
        rng.shuffle(eligible)
        heldout = set(eligible[a.fold::a.folds])
    else:
        heldout = set(rng.sample(eligible, round(a.heldout * len(ids))))

    os.makedirs(a.out_dir, exist_ok=True)
    with open(os.path.join(a.out_dir, 'catalog.csv'), 'w', encoding='utf-8',
              newline='') as f:
        w = csv.DictWriter(f, fieldnames=header, lineterminator='\n')
        w.writeheader()
        for row in tracks.values():
            row = dict(row)
            for c in ('playlist_name', 'playlist_id', 'playlist_genre', 'playlist_subgenre'):
                row[c] = ''
            w.writerow(row)

    def slice_of(selected):
        out = []
        for pid in selected:
            p = playlists[pid]
            out.append({
                'pid': len(out), 'name': p['name'], 'spotify_id': pid,
                'num_tracks': len(p['tracks']),
                'tracks': [{
                    'pos': i, 'track_uri': 'spotify:track:' + t,
                    'track_name': tracks[t]['track_name'],
                    'artist_name': tracks[t]['track_artist'],
                    'album_name': tracks[t]['track_album_name'],
                    'album_uri': ('spotify:album:' + tracks[t]['track_album_id']
                                  if tracks[t]['track_album_id'] else ''),
                    'duration_ms': int(tracks[t]['duration_ms'] or 0),
                } for i, t in enumerate(p['tracks'])],
            })
        return {'info': {'generated_by': 'bench/split_playlists.py',
                         'seed': a.seed, 'folds': a.folds, 'fold': a.fold},
                'playlists': out}

    train = [p for p in ids if p not in heldout]
    for name, selected in (('train.json', train), ('heldout.json', sorted(heldout))):
        with open(os.path.join(a.out_dir, name), 'w', encoding='utf-8') as f:
            json.dump(slice_of(selected), f, ensure_ascii=False)
    print(f'{len(tracks)} tracks, {len(train)} training playlists, '
          f'{len(heldout)} held-out playlists (seed {a.seed}'
          + (f', fold {a.fold} of {a.folds})' if a.folds else ')'))


if __name__ == '__main__':
    main()
