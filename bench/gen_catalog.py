#!/usr/bin/env python3
"""Synthetic Spotify catalogs of any size, shaped like a real one, for scale benchmarks.

    bench/gen_catalog.py --tracks=1200000 --out=/tmp/synth1m [--seed=1]
        [--sample=data/sample_tracks.csv.xz]

Writes two CSV files that `cratedig import` reads with its real parsers:

  tracks_features.csv  the "Spotify 1.2M+ Songs" (rodolfofigueroa) layout of FORMATS.md:
                       id,name,album,album_id,artists,artist_ids,track_number,disc_number,
                       explicit,danceability,...,duration_ms,time_signature,year,release_date
  artists.csv          the "600k+ tracks" artists.csv layout (id,followers,genres,name,
                       popularity), which gives tracks their genres through their artists,
                       as the trainer joins them.

Every shape is learnt from a real sample (by default the repository's 10,000-row Kaggle
sample, so no ../shared is needed):
  - audio features, duration and explicit: each track copies a real row of its artist's
    genre and moves every continuous feature by 5% of that genre's spread, so the joint
    distribution per genre (and the correlations between features) stays the real one;
  - genres per artist, and which genres go together, from the artists seen in several
    genres of the sample;
  - names: the script of each name (Latin, CJK, Cyrillic, Kana, ...) in the sample's
    proportions, its number of words from real names of that script, its words drawn from
    the sample's vocabulary of that script (so word frequencies are Zipf-like as in real
    names and non-Latin text is real text);
  - artists per track, from the sample's `;`-joined artist lists;
  - the share of songs released again on another album (same name and artists, new id),
    from the sample's distinct ids that share name and artists.
Not in the sample, hence set here from the published dataset's description: artists make
albums of 1 to 16 tracks (singles, EPs, albums), release years lean recent (1950 to 2020),
one artist in four has no genre at all.

Deterministic: the same --seed and sample give byte-identical files. Memory stays flat
(tracks are streamed), so 10M tracks need no more than 1M.
"""

import argparse
import bisect
import collections
import csv
import io
import lzma
import os
import random
import sys
import time
import unicodedata

FEATURES = ["danceability", "energy", "key", "loudness", "mode", "speechiness",
            "acousticness", "instrumentalness", "liveness", "valence", "tempo"]
# Continuous features and their valid range; the others (key, mode) are copied.
CONTINUOUS = {"danceability": (0, 1), "energy": (0, 1), "loudness": (-60, 5),
              "speechiness": (0, 1), "acousticness": (0, 1),
              "instrumentalness": (0, 1), "liveness": (0, 1), "valence": (0, 1),
              "tempo": (0, 250)}
HEADER = ["id", "name", "album", "album_id", "artists", "artist_ids", "track_number",
          "disc_number", "explicit", "danceability", "energy", "key", "loudness", "mode",
          "speechiness", "acousticness", "instrumentalness", "liveness", "valence",
          "tempo", "duration_ms", "time_signature", "year", "release_date"]
ARTIST_HEADER = ["id", "followers", "genres", "name", "popularity"]
BASE62 = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ID_TABLE = bytes(BASE62[b % 62] for b in range(256))
# Release decades (share of tracks), leaning recent like the 1.2M dataset.
DECADES = [(1950, 2), (1960, 4), (1970, 7), (1980, 9), (1990, 15), (2000, 25),
           (2010, 38)]
NO_SPACE_SCRIPTS = {"CJK", "HIRAGANA", "KATAKANA", "THAI"}
ALBUM_WORDS = ["Deluxe Edition", "Remastered", "Greatest Hits", "Live", "Anthology",
               "The Best Of", "Collection", "Vol. 2", "Expanded Edition"]


def script_of(text):
    for ch in text:
        if ch.isalpha():
            return unicodedata.name(ch, "OTHER X").split()[0]
    return "OTHER"


class Weighted:
    """Draws items with the given weights (bisect on the cumulative sum)."""

    def __init__(self, counts):
        self.items = list(counts.keys())
        self.cum = []
        total = 0
        for item in self.items:
            total += counts[item]
            self.cum.append(total)
        self.total = total

    def draw(self, rng):
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


class Shapes:
    """Everything learnt from the sample."""

    def __init__(self, path):
        with lzma.open(path, "rt", encoding="utf-8", newline="") as f:
            rows = [r for r in csv.DictReader(f) if r["track_name"] and r["artists"]]
        self.templates = collections.defaultdict(list)  # genre -> rows of values
        spread = collections.defaultdict(lambda: collections.defaultdict(list))
        for r in rows:
            g = r["track_genre"]
            values = {f: r[f] for f in FEATURES}
            values["duration_ms"] = r["duration_ms"]
            values["explicit"] = r["explicit"]
            values["time_signature"] = r["time_signature"]
            self.templates[g].append(values)
            for f in CONTINUOUS:
                spread[g][f].append(float(r[f]))
        # 5% of each genre's range per continuous feature: the jitter's scale.
        self.jitter = {g: {f: 0.05 * (max(v) - min(v)) for f, v in fs.items()}
                       for g, fs in spread.items()}
        self.feature_specs = {
            g: [(CONTINUOUS[f][0], CONTINUOUS[f][1], self.jitter[g][f])
                if f in CONTINUOUS else None for f in FEATURES]
            for g in self.templates}
        self.genres = sorted(self.templates)
        self.genre_weight = Weighted({g: len(self.templates[g]) for g in self.genres})

        # Genres per artist and which genres go together.
        by_artist = collections.defaultdict(set)
        for r in rows:
            for a in r["artists"].split(";"):
                by_artist[a].add(r["track_genre"])
        self.genres_per_artist = Weighted(
            collections.Counter(len(v) for v in by_artist.values()))
        together = collections.defaultdict(collections.Counter)
        for gs in by_artist.values():
            for a in sorted(gs):
                for b in sorted(gs):
                    if a != b:
                        together[a][b] += 1
        self.together = {g: Weighted(c) for g, c in together.items()}
        self.artists_per_track = Weighted(
            collections.Counter(min(len(r["artists"].split(";")), 8) for r in rows))

        # Words by script, and word counts of names by script.
        self.scripts = Weighted(collections.Counter(script_of(r["track_name"]) for r in rows))
        self.words = collections.defaultdict(list)
        self.lengths = collections.defaultdict(list)
        for r in rows:
            s = script_of(r["track_name"])
            words = r["track_name"].split()
            self.words[s].extend(words)
            self.lengths[s].append(len(words))
        self.artist_words = collections.defaultdict(list)
        self.artist_lengths = collections.defaultdict(list)
        for r in rows:
            for a in r["artists"].split(";"):
                s = script_of(a)
                self.artist_words[s].extend(a.split())
                self.artist_lengths[s].append(len(a.split()))
        self.album_words = [w for r in rows for w in r["album_name"].split()]

        # Songs on several albums: distinct ids sharing name and artists.
        ids = collections.defaultdict(set)
        for r in rows:
            ids[(r["track_name"].lower(), r["artists"].lower())].add(r["track_id"])
        distinct = sum(len(v) for v in ids.values())
        self.rerelease_share = (distinct - len(ids)) / distinct


def make_name(rng, words, lengths, script):
    vocab = words.get(script) or words["LATIN"]
    n = rng.choice(lengths.get(script) or lengths["LATIN"])
    sep = "" if script in NO_SPACE_SCRIPTS and rng.random() < 0.5 else " "
    return sep.join(rng.choice(vocab) for _ in range(max(n, 1)))


class Generator:
    def __init__(self, shapes, seed, tracks):
        self.s = shapes
        self.rng = random.Random(seed)
        self.target = tracks
        self.recent_artists = []  # (id, name) of recent artists, for featured artists

    def new_id(self):
        return self.rng.randbytes(22).translate(ID_TABLE).decode("ascii")

    def features(self, genre):
        """Audio features of a real row of `genre`, each continuous one moved by a
        triangular draw of +-5% of the genre's range, clamped to the valid range."""
        rng = self.rng.random
        t = self.s.templates[genre]
        t = t[int(rng() * len(t))]
        out = []
        for f, spec in zip(FEATURES, self.s.feature_specs[genre]):
            if spec is None:
                out.append(t[f])
            else:
                lo, hi, scale = spec
                v = float(t[f]) + (rng() + rng() - 1.0) * scale
                out.append(f"{(lo if v < lo else hi if v > hi else v):.4g}")
        duration = max(30000, int(int(t["duration_ms"]) * (0.9 + 0.2 * rng())))
        return out, str(duration), t["explicit"], t["time_signature"] + ".0"

    def artist_genres(self):
        s, rng = self.s, self.rng
        if rng.random() < 0.25:
            return []
        first = s.genre_weight.draw(rng)
        genres = [first]
        want = s.genres_per_artist.draw(rng)
        while len(genres) < want:
            g = (s.together[first].draw(rng) if first in s.together and rng.random() < 0.7
                 else s.genre_weight.draw(rng))
            if g not in genres:
                genres.append(g)
            elif rng.random() < 0.3:
                break
        return genres

    def album_size(self):
        r = self.rng.random()
        if r < 0.4:
            return 1
        if r < 0.6:
            return self.rng.randint(3, 6)
        return self.rng.randint(8, 16)

    def release(self):
        rng = self.rng
        decade = bisect.bisect_right(DECADE_CUM, rng.random() * DECADE_CUM[-1])
        year = DECADES[decade][0] + rng.randrange(10)
        r = rng.random()
        if r < 0.8:
            return year, f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        return year, str(year)

    def run(self, tracks_out, artists_out):
        s, rng = self.s, self.rng
        tw = csv.writer(tracks_out, lineterminator="\n")
        aw = csv.writer(artists_out, lineterminator="\n")
        tw.writerow(HEADER)
        aw.writerow(ARTIST_HEADER)
        written = artists = 0
        while written < self.target:
            script = s.scripts.draw(rng)
            aid = self.new_id()
            aname = make_name(rng, s.artist_words, s.artist_lengths, script)
            genres = self.artist_genres()
            aw.writerow([aid, int(rng.paretovariate(1.2) * 100) - 100, repr(genres), aname,
                         min(100, int(rng.paretovariate(2.0) * 15))])
            artists += 1
            self.recent_artists.append((aid, aname))
            if len(self.recent_artists) > 2000:
                del self.recent_artists[:1000]
            songs = []  # (name, artist names, artist ids, genre) of this artist
            albums = max(1, min(40, int(rng.paretovariate(2.5))))
            for _ in range(albums):
                if written >= self.target:
                    break
                album_id = self.new_id()
                album = " ".join(rng.choice(s.album_words)
                                 for _ in range(rng.randint(1, 4)))
                rerelease = songs and rng.random() < 4 * s.rerelease_share
                if rerelease:
                    album += " (" + rng.choice(ALBUM_WORDS) + ")"
                year, date = self.release()
                n = self.album_size()
                for number in range(1, n + 1):
                    if written >= self.target:
                        break
                    if rerelease and rng.random() < 0.25:
                        name, names, ids, genre = rng.choice(songs)
                    else:
                        genre = rng.choice(genres) if genres else s.genre_weight.draw(rng)
                        name = make_name(rng, s.words, s.lengths,
                                         script if rng.random() < 0.9 else s.scripts.draw(rng))
                        names, ids = [aname], [aid]
                        for _ in range(s.artists_per_track.draw(rng) - 1):
                            other = rng.choice(self.recent_artists)
                            if other[0] not in ids:
                                ids.append(other[0])
                                names.append(other[1])
                        songs.append((name, names, ids, genre))
                    feats, duration, explicit, ts = self.features(genre)
                    tw.writerow([self.new_id(), name, album, album_id, repr(names),
                                 repr(ids), number, 1, explicit, *feats, duration, ts,
                                 year, date])
                    written += 1
        return written, artists


DECADE_CUM = []
for _, share in DECADES:
    DECADE_CUM.append((DECADE_CUM[-1] if DECADE_CUM else 0) + share)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tracks", type=int, required=True, help="number of track rows")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--sample", default=os.path.join(here, "..", "data",
                                                    "sample_tracks.csv.xz"),
                   help="real catalog in the maharshipandya layout to learn shapes from")
    a = p.parse_args()
    if a.tracks < 1:
        p.error("--tracks must be positive")
    start = time.monotonic()
    shapes = Shapes(a.sample)
    os.makedirs(a.out, exist_ok=True)
    tracks_path = os.path.join(a.out, "tracks_features.csv")
    artists_path = os.path.join(a.out, "artists.csv")
    with open(tracks_path, "w", encoding="utf-8", newline="", buffering=1 << 20) as t, \
            open(artists_path, "w", encoding="utf-8", newline="", buffering=1 << 20) as ar:
        written, artists = Generator(shapes, a.seed, a.tracks).run(t, ar)
    print(f"gen_catalog: {written} tracks by {artists} artists in {tracks_path} and "
          f"{artists_path} ({time.monotonic() - start:.1f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
