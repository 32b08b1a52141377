#!/usr/bin/env python3
"""Cuts the integration-test catalogs in this folder from the real dumps in ../shared/data.

The outputs are committed; the tests never run this script and never need ../shared. Run it
again only to regenerate the fixtures (the selection is deterministic):

  tests/testdata/make_fixtures.py [SHARED_DATA_DIR]

tracks_sample.csv  200 rows of the maharshipandya "Spotify Tracks Dataset" sample (CRLF, as
                   published): every "money" track, tracks sharing common title words, ids
                   listed under two genres, same song under two ids, plus one row made
                   malformed on purpose (danceability "lots", line 51, column 9) and one
                   whose audio feature cells were emptied (line 101: searchable, not
                   recommendable).
hits_sample.csv    60 rows of the Spotify Hit Predictor 1980s file, two of them the same
                   Spotify ids as tracks of tracks_sample.csv.
bad_rows.csv       5 maharshipandya rows: 3 good, one with invalid UTF-8 in track_name (line
                   3, column 5) and one with a field missing (line 5).
"""

import collections
import csv
import io
import lzma
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[2] / "shared" / "data"

WORDS = {"love": 20, "night": 8, "fire": 6, "rain": 6, "heart": 6, "dance": 5, "summer": 5,
         "girl": 5, "blue": 4, "home": 4, "baby": 4, "christmas": 8, "corazón": 4, "amor": 5}
MALFORMED_LINE = 51  # 1-based file lines (the header is line 1)
NO_AUDIO_LINE = 101
AUDIO = slice(8, 20)  # danceability .. time_signature


def read_xz(name):
    with lzma.open(SHARED / name, "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def has_word(name, word):
    return re.search(r"\b" + re.escape(word) + r"\b", name.lower()) is not None


def pick_tracks(rng, data):
    chosen, seen = [], set()

    def take(rows):
        for r in rows:
            if id(r) not in seen:
                seen.add(id(r))
                chosen.append(r)

    usable = [r for r in data if r[4].strip() and r[2].strip()]
    take([r for r in usable if has_word(r[4], "money")])
    for word, n in WORDS.items():
        matches = [r for r in usable if has_word(r[4], word)]
        take(rng.sample(matches, min(n, len(matches))))
    by_id = collections.defaultdict(list)
    for r in usable:
        by_id[r[1]].append(r)
    multi = sorted(i for i, rows in by_id.items() if len(rows) > 1)
    for i in rng.sample(multi, 8):
        take(by_id[i])
    by_song = collections.defaultdict(list)
    for r in usable:
        artists = tuple(sorted(a.strip().lower() for a in r[2].split(";")))
        by_song[(r[4].strip().lower(), artists)].append(r)
    songs = sorted(k for k, rows in by_song.items() if len({r[1] for r in rows}) > 1)
    for k in rng.sample(songs, 8):
        take(by_song[k])
    return chosen, usable, take


def main():
    rng = random.Random(20241126)
    header, data = read_xz("spotify_tracks_maharshipandya_sample10k.csv.xz")
    hit_header, hits = read_xz("hit_predictor_dataset-of-80s.csv.xz")
    chosen, usable, take = pick_tracks(rng, data)

    chosen_ids = {r[1] for r in chosen}
    overlap = [h for h in hits if h[2].split(":")[-1] in {r[1] for r in usable}]
    overlap = rng.sample(overlap, 2)
    for h in overlap:  # Make sure the tracks the hits overlap are in the track sample.
        if h[2].split(":")[-1] not in chosen_ids:
            take([r for r in usable if r[1] == h[2].split(":")[-1]][:1])
    rest = [r for r in usable if id(r) not in {id(c) for c in chosen}]
    take(rng.sample(rest, 199 - len(chosen)))
    assert len(chosen) == 199, len(chosen)
    rng.shuffle(chosen)

    bad = list(rng.choice(rest))
    bad[8] = "lots"  # danceability, column 9
    rows = chosen[: MALFORMED_LINE - 2] + [bad] + chosen[MALFORMED_LINE - 2 :]
    no_audio = next(i for i in range(NO_AUDIO_LINE - 2, len(rows))
                    if sum(r[1] == rows[i][1] for r in rows) == 1)
    rows.insert(NO_AUDIO_LINE - 2, rows.pop(no_audio))
    rows[NO_AUDIO_LINE - 2] = list(rows[NO_AUDIO_LINE - 2])
    rows[NO_AUDIO_LINE - 2][AUDIO] = [""] * 12
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows([header] + rows)
    (HERE / "tracks_sample.csv").write_text(out.getvalue(), encoding="utf-8", newline="")

    money = [h for h in hits if has_word(h[0], "money")][:5]
    picked = money + overlap
    others = [h for h in hits if h not in picked]
    picked += rng.sample(others, 60 - len(picked))
    rng.shuffle(picked)
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows([hit_header] + picked)
    (HERE / "hits_sample.csv").write_text(out.getvalue(), encoding="utf-8", newline="")

    used = {id(r) for r in chosen} | {id(r) for r in usable if r[1] == bad[1]}
    extra = rng.sample([r for r in rest if id(r) not in used], 5)
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows([header] + extra)
    lines = out.getvalue().encode("utf-8").split(b"\n")
    cells = lines[2].split(b",")
    cells[4] = b"Caf\xe9 \xff"  # Latin-1 bytes: not UTF-8
    lines[2] = b",".join(cells)
    lines[4] = lines[4].rsplit(b",", 1)[0]  # one field short
    (HERE / "bad_rows.csv").write_bytes(b"\n".join(lines))


if __name__ == "__main__":
    main()
