#!/usr/bin/env python3
"""A fake Spotify Web API on loopback for the crawler's tests.

Serves a deterministic generated catalog (artists, albums, tracks, audio features, public
playlists) with the shapes of ../shared/spotify-api/examples: client-credentials tokens,
search, artist albums, album tracks, Get Playlist (/v1/playlists/{id}, with `fields`),
playlist items (/v1/playlists/{id}/tracks, which --dev_mode answers 403 as Spotify has
since 2026-03-09, and /v1/playlists/{id}/items with the item field renamed "item"),
single and batch track/artist/audio-features GETs, paging objects with
href/next/offset/total. Faults are injected by request number so runs are reproducible:
429 with Retry-After, 500/502/503, slow answers, truncated JSON, expired tokens (401) and
a 403 on audio features. Prints "PORT <n>" on stdout once it listens on 127.0.0.1.

GET /_stats answers request counts and Retry-After violations; --dump writes the catalog
(the ground truth) as JSON.
"""

import argparse
import base64
import json
import random
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GENRES = ["latin", "rock", "k-pop", "jazz", "hip hop", "música popular", "j-pop", "électro"]
NAMES = [
    "Beyoncé", "Sigur Rós", 'The "Quoted" Band', "Earth, Wind & Fire", "🎸 Emoji Riders",
    "坂本龍一", "Борис Гребенщиков", "محمد عبده", "방탄소년단", "Motörhead", "Ñandú", "Zoë's Café",
    "Αρχαία Φωνή", "O'Connor, Sinéad", "Δ-Crew 🚀", "Mañana Club",
]
WORDS = ["Noche", "Ärger", "Café", "夜明け", "Сон", "Rêve", "Amor, amor", '"Live"', "💿", "Ólafur",
         "Straße", "Kiss", "Blue", "Ghost", "Вода", "Lluvia", "심장", "Fin"]
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def make_id(rng):
    return "".join(rng.choice(BASE62) for _ in range(22))


class Catalog:
    """The generated catalog: every track is reachable by the genre queries."""

    def __init__(self, args):
        rng = random.Random(args.seed)
        self.artists, self.albums, self.tracks = [], [], []
        self.artist_by_id, self.album_by_id, self.track_by_id = {}, {}, {}
        self.albums_of = {}
        for i in range(args.artists):
            genres = sorted({GENRES[i % len(GENRES)], GENRES[(i * 3 + 1) % len(GENRES)]})
            artist = {"id": make_id(rng), "name": f"{NAMES[i % len(NAMES)]} {i}",
                      "genres": genres, "popularity": rng.randint(0, 100),
                      "followers": rng.randint(0, 10**6)}
            self.artists.append(artist)
            self.artist_by_id[artist["id"]] = artist
            self.albums_of[artist["id"]] = []
        for i, artist in enumerate(self.artists):
            for j in range(1 + (i * 7 + 3) % args.albums_per_artist):
                self._add_album(rng, args, i, j)
        # Public playlists of catalog tracks; the first is long enough to need paging. Each
        # also holds a repeated track, a removed track (null) and a podcast episode, which
        # are not playlist tracks.
        prng = random.Random(args.seed * 7919 + 1)
        self.playlists, self.playlist_by_id = [], {}
        for p in range(args.playlists if self.tracks else 0):
            size = args.big_playlist if p == 0 else 1 + (p * 11) % 30
            tracks = [prng.choice(self.tracks) for _ in range(size)]
            items = [{"track": t} for t in tracks]
            items.insert(len(items) // 2, {"track": tracks[0]})
            items.insert(1, {"track": None})
            items.append({"episode": {"id": make_id(prng), "name": f"Episode {p}"}})
            playlist = {"id": make_id(prng), "name": f"{WORDS[p % len(WORDS)]} mix {p}",
                        "items": items}
            self.playlists.append(playlist)
            self.playlist_by_id[playlist["id"]] = playlist

    def _add_album(self, rng, args, i, j):
        artist = self.artists[i]
        credited = [artist]
        if (i + j) % 7 == 3 and len(self.artists) > 1:  # a collaboration, listed under both
            credited.append(self.artists[(i + 1) % len(self.artists)])
        precision = ["day", "month", "year"][(i + j) % 3]
        year = 1960 + (i * 5 + j) % 65
        date = {"day": f"{year}-0{1 + j % 9}-1{j % 10}", "month": f"{year}-0{1 + j % 9}",
                "year": f"{year}"}[precision]
        ntracks = 1 + (i * 13 + j * 5) % args.tracks_per_album
        if i == 0 and j == 0:
            ntracks = args.big_album
        album = {"id": make_id(rng), "name": f"{WORDS[(i + j) % len(WORDS)]}, vol. {j}",
                 "release_date": date, "release_date_precision": precision,
                 "artists": credited, "tracks": []}
        for k in range(ntracks):
            album["tracks"].append(self._make_track(rng, album, k))
        self.albums.append(album)
        self.album_by_id[album["id"]] = album
        for a in credited:
            self.albums_of[a["id"]].append(album)

    def _make_track(self, rng, album, k):
        tid = make_id(rng)
        features = None
        if k % 17 != 5:  # some tracks have no features (null in batch answers)
            features = {"danceability": round(rng.random(), 3), "energy": round(rng.random(), 3),
                        "key": rng.randint(-1, 11), "loudness": round(-60 * rng.random(), 3),
                        "mode": rng.randint(0, 1), "speechiness": round(rng.random(), 4),
                        "acousticness": round(rng.random(), 4),
                        "instrumentalness": round(rng.random(), 4),
                        "liveness": round(rng.random(), 3), "valence": round(rng.random(), 3),
                        "tempo": round(60 + 120 * rng.random(), 3),
                        "time_signature": rng.choice([3, 4, 4, 5])}
        track = {"id": tid, "name": f"{WORDS[(k * 5) % len(WORDS)]} {NAMES[k % len(NAMES)]} #{k}",
                 "artists": album["artists"], "album": album, "duration_ms": rng.randint(30000, 600000),
                 "explicit": rng.random() < 0.2, "popularity": rng.randint(0, 100),
                 "track_number": k + 1, "features": features}
        self.tracks.append(track)
        self.track_by_id[tid] = track
        return track

    def dump(self, dev_mode, features_403):
        out = []
        for t in self.tracks:
            out.append({"id": t["id"], "name": t["name"], "album_id": t["album"]["id"],
                        "artist_ids": [a["id"] for a in t["artists"]],
                        "duration_ms": t["duration_ms"], "explicit": t["explicit"],
                        "popularity": None if dev_mode else t["popularity"],
                        "features": None if features_403 else t["features"]})
        playlists = []
        for p in self.playlists:
            ids = []
            for item in p["items"]:
                t = item.get("track")
                if t is not None and t["id"] not in ids:
                    ids.append(t["id"])
            playlists.append({"id": p["id"], "name": p["name"], "track_ids": ids})
        return {"tracks": out, "artists": len(self.artists), "albums": len(self.albums),
                "playlists": playlists}


def artist_ref(a):
    return {"external_urls": {"spotify": f"https://open.spotify.com/artist/{a['id']}"},
            "href": f"https://api.spotify.com/v1/artists/{a['id']}", "id": a["id"],
            "name": a["name"], "type": "artist", "uri": f"spotify:artist:{a['id']}"}


class Fake:
    def __init__(self, args):
        self.args = args
        self.catalog = Catalog(args)
        self.lock = threading.Lock()
        self.count = 0
        self.counts = {}
        self.tokens = {}
        self.token_seq = 0
        self.blocked_until = 0.0
        self.violations = 0
        self.injected = {}

    def artist_json(self, a):
        j = artist_ref(a)
        j["images"] = []
        if not self.args.dev_mode:
            j.update({"genres": a["genres"], "popularity": a["popularity"],
                      "followers": {"href": None, "total": a["followers"]}})
        return j

    def album_json(self, al):
        return {"album_type": "album", "album_group": "album", "id": al["id"], "name": al["name"],
                "release_date": al["release_date"],
                "release_date_precision": al["release_date_precision"],
                "total_tracks": len(al["tracks"]), "artists": [artist_ref(a) for a in al["artists"]],
                "images": [], "type": "album", "uri": f"spotify:album:{al['id']}",
                "href": f"https://api.spotify.com/v1/albums/{al['id']}"}

    def simple_track_json(self, t):
        return {"artists": [artist_ref(a) for a in t["artists"]], "available_markets": ["AR", "US"],
                "disc_number": 1, "duration_ms": t["duration_ms"], "explicit": t["explicit"],
                "href": f"https://api.spotify.com/v1/tracks/{t['id']}", "id": t["id"],
                "is_local": False, "name": t["name"], "preview_url": None,
                "track_number": t["track_number"], "type": "track", "uri": f"spotify:track:{t['id']}"}

    def track_json(self, t):
        j = self.simple_track_json(t)
        j["album"] = self.album_json(t["album"])
        j["external_ids"] = {"isrc": "US" + t["id"][:10].upper()}
        if not self.args.dev_mode:
            j["popularity"] = t["popularity"]
        return j

    def playlist_item_json(self, item, field):
        if "episode" in item:
            e = item["episode"]
            return {"added_at": "2026-01-02T03:04:05Z", field: {
                "id": e["id"], "name": e["name"], "type": "episode",
                "uri": f"spotify:episode:{e['id']}"}}
        t = item["track"]
        return {"added_at": "2026-01-02T03:04:05Z", "is_local": False,
                field: None if t is None else self.track_json(t)}

    def features_json(self, t):
        if t["features"] is None:
            return None
        j = dict(t["features"])
        j.update({"id": t["id"], "type": "audio_features", "uri": f"spotify:track:{t['id']}",
                  "duration_ms": t["duration_ms"],
                  "track_href": f"https://api.spotify.com/v1/tracks/{t['id']}",
                  "analysis_url": f"https://api.spotify.com/v1/audio-analysis/{t['id']}"})
        return j


def paging(base, items, offset, limit, extra=""):
    page = items[offset:offset + limit]
    def url(o):
        return f"{base}?offset={o}&limit={limit}{extra}"
    return {"href": url(offset), "items": page, "limit": limit,
            "next": url(offset + limit) if offset + limit < len(items) else None,
            "offset": offset, "previous": url(max(0, offset - limit)) if offset > 0 else None,
            "total": len(items)}


def error(status, message=None):
    body = {"status": status}
    if message is not None:
        body["message"] = message
    return status, {"error": body}, {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in one write anyway
    fake = None

    def log_message(self, fmt, *args):
        pass

    def send(self, status, body, headers=None, truncate=False):
        data = b"" if body is None and status == 429 else json.dumps(body, ensure_ascii=False).encode()
        if truncate:
            data = data[: len(data) // 2]
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self._headers_buffer.append(b"\r\n" + data)  # one write: no Nagle delay
        self.flush_headers()

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode()
        f = self.fake
        if self.path != "/api/token":
            return self.send(*error(404, "Not found"))
        expect = base64.b64encode(f"{f.args.client_id}:{f.args.client_secret}".encode()).decode()
        if self.headers.get("Authorization") != f"Basic {expect}" or \
                "grant_type=client_credentials" not in body:
            return self.send(400, {"error": "invalid_client", "error_description": "Invalid client"})
        with f.lock:
            f.token_seq += 1
            token = f"tok{f.token_seq}" + "x" * 40
            f.tokens[token] = time.time() + f.args.token_ttl
            f.counts["token"] = f.counts.get("token", 0) + 1
        self.send(200, {"access_token": token, "token_type": "Bearer",
                        "expires_in": f.args.token_ttl})

    def do_GET(self):
        f = self.fake
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/_stats":
            with f.lock:
                return self.send(200, {"requests": f.count, "by_endpoint": f.counts,
                                       "violations": f.violations, "injected": f.injected})
        status, body, headers, truncate = self.fault(url.path)
        if status is None:
            status, body, headers = self.route(url.path, urllib.parse.parse_qs(url.query))
        self.send(status, body, headers, truncate)

    def fault(self, path):
        """Returns (status, body, headers, truncate) for an injected fault, else Nones."""
        f, a = self.fake, self.fake.args
        with f.lock:
            f.count += 1
            n = f.count
            now = time.time()
            if now < f.blocked_until:
                f.violations += 1
            kind = endpoint_kind(path)
            f.counts[kind] = f.counts.get(kind, 0) + 1
            token = self.headers.get("Authorization", "")[len("Bearer "):]
            expiry = f.tokens.get(token)
            if a.every_401 and n % a.every_401 == 0:
                f.tokens.clear()  # every token issued so far expires now
                expiry = None
            if expiry is None or expiry < now:
                return self.count_fault("401", *error(401, "The access token expired"), False)
            if a.every_429 and n % a.every_429 == 0:
                f.blocked_until = now + a.retry_after
                st, body, _ = error(429, "API rate limit exceeded")
                return self.count_fault("429", st, body, {"Retry-After": str(a.retry_after)}, False)
        if n <= a.fail_first or (a.every_5xx and n % a.every_5xx == 0):
            code = [500, 502, 503][n % 3]
            return self.count_fault(str(code), *error(code, "Server error"), False)
        if a.every_slow and n % a.every_slow == 0:
            with f.lock:
                f.injected["slow"] = f.injected.get("slow", 0) + 1
            time.sleep(a.slow_ms / 1000.0)
        truncate = bool(a.every_truncated and n % a.every_truncated == 0)
        if truncate:
            with f.lock:
                f.injected["truncated"] = f.injected.get("truncated", 0) + 1
        return None, None, None, truncate

    def count_fault(self, name, status, body, headers, truncate):
        with self.fake.lock if name not in ("401", "429") else NoLock():
            self.fake.injected[name] = self.fake.injected.get(name, 0) + 1
        return status, body, headers, truncate

    def route(self, path, q):
        f, a, c = self.fake, self.fake.args, self.fake.catalog
        parts = path.strip("/").split("/")
        base = f"{a.base_url}{path}"
        limit = int(q.get("limit", ["20"])[0])
        offset = int(q.get("offset", ["0"])[0])
        ids = q.get("ids", [""])[0].split(",") if "ids" in q else []
        if parts[:2] == ["v1", "search"]:
            return self.search(q, limit, offset, base)
        if parts[:2] == ["v1", "artists"] and len(parts) == 4 and parts[3] == "albums":
            if limit > (10 if a.dev_mode else 50) or limit < 1:
                return error(400, "Invalid limit")
            albums = c.albums_of.get(parts[2])
            if albums is None:
                return error(404, "non existing id")
            items = [f.album_json(al) for al in albums]
            return 200, paging(base, items, offset, limit, "&include_groups=album"), {}
        if parts[:2] == ["v1", "albums"] and len(parts) == 4 and parts[3] == "tracks":
            album = c.album_by_id.get(parts[2])
            if album is None:
                return error(404, "non existing id")
            if limit > 50 or limit < 1:
                return error(400, "Invalid limit")
            items = [f.simple_track_json(t) for t in album["tracks"]]
            return 200, paging(base, items, offset, limit), {}
        if parts[:2] == ["v1", "playlists"] and len(parts) == 3:
            # Get Playlist (kept in development mode); `fields` filters the top level.
            playlist = c.playlist_by_id.get(parts[2])
            if playlist is None:
                return error(404, "Not found.")
            body = {"id": playlist["id"], "name": playlist["name"], "public": True,
                    "type": "playlist", "uri": f"spotify:playlist:{playlist['id']}"}
            if "fields" in q:
                wanted = q["fields"][0].split(",")
                body = {k: v for k, v in body.items() if k in wanted}
            return 200, body, {}
        if parts[:2] == ["v1", "playlists"] and len(parts) == 4 and parts[3] in ("tracks", "items"):
            if parts[3] == "tracks" and a.dev_mode:
                return error(403, "Forbidden")  # the route moved to /items
            playlist = c.playlist_by_id.get(parts[2])
            if playlist is None:
                return error(404, "Not found.")
            if limit > 100 or limit < 1:
                return error(400, "Invalid limit")
            field = "track" if parts[3] == "tracks" else "item"
            items = [f.playlist_item_json(i, field) for i in playlist["items"]]
            return 200, paging(base, items, offset, limit), {}
        return self.lookup(parts, ids)

    def lookup(self, parts, ids):
        f, a, c = self.fake, self.fake.args, self.fake.catalog
        tables = {"artists": (c.artist_by_id, f.artist_json, 50),
                  "tracks": (c.track_by_id, f.track_json, 50),
                  "audio-features": (c.track_by_id, f.features_json, 100)}
        if len(parts) < 2 or parts[0] != "v1" or parts[1] not in tables:
            return error(404, "Service not found")
        table, render, max_ids = tables[parts[1]]
        if parts[1] == "audio-features" and a.features_403:
            return error(403)
        if len(parts) == 3:
            obj = table.get(parts[2])
            if obj is None or render(obj) is None:
                return error(404, "non existing id")
            return 200, render(obj), {}
        if a.dev_mode and parts[1] != "audio-features":
            return error(403, "Forbidden")
        if len(ids) > max_ids:
            return error(400, "too many ids requested")
        items = [render(table[i]) if i in table else None for i in ids]
        return 200, {parts[1].replace("-", "_"): items}, {}

    def search(self, q, limit, offset, base):
        a, c = self.fake.args, self.fake.catalog
        if limit > (10 if a.dev_mode else 50) or limit < 1:
            return error(400, "Invalid limit")
        if offset + limit > 1000:
            return error(400, "Bad request.")
        text = q.get("q", [""])[0]
        if text.startswith('genre:"') and text.endswith('"'):
            genre = text[len('genre:"'):-1]
            found = [x for x in c.artists if genre in x["genres"]]
        else:
            found = [x for x in c.artists if text.casefold() in x["name"].casefold()]
        items = [self.fake.artist_json(x) for x in found]
        extra = "&q=" + urllib.parse.quote(text) + "&type=artist"
        return 200, {"artists": paging(base, items, offset, limit, extra)}, {}


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # clients that time out and hang up are expected


class NoLock:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def endpoint_kind(path):
    parts = path.strip("/").split("/")
    if len(parts) >= 4:
        return parts[1] + "/" + parts[3]
    if len(parts) == 3:
        return parts[1] + "/{id}"
    return "/".join(parts[1:2])


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--artists", type=int, default=40)
    p.add_argument("--albums_per_artist", type=int, default=4, help="albums 1..N per artist")
    p.add_argument("--tracks_per_album", type=int, default=14, help="tracks 1..N per album")
    p.add_argument("--big_album", type=int, default=120, help="tracks on the first album")
    p.add_argument("--playlists", type=int, default=3, help="public playlists")
    p.add_argument("--big_playlist", type=int, default=130,
                   help="tracks of the first playlist (pages of 50)")
    p.add_argument("--client_id", default="test-client")
    p.add_argument("--client_secret", default="test-secret")
    p.add_argument("--token_ttl", type=int, default=3600, help="expires_in of tokens, seconds")
    p.add_argument("--dev_mode", action="store_true",
                   help="2026 development mode: limits of 10, no batch GETs, no popularity/genres")
    p.add_argument("--features_403", action="store_true", help="audio features answer 403")
    p.add_argument("--every_429", type=int, default=0, help="every Nth API request gets 429")
    p.add_argument("--retry_after", type=int, default=1, help="Retry-After of the 429s, seconds")
    p.add_argument("--every_5xx", type=int, default=0, help="every Nth gets 500/502/503")
    p.add_argument("--fail_first", type=int, default=0, help="the first N get 500/502/503")
    p.add_argument("--every_slow", type=int, default=0, help="every Nth answers late")
    p.add_argument("--slow_ms", type=int, default=300)
    p.add_argument("--every_truncated", type=int, default=0, help="every Nth has cut JSON")
    p.add_argument("--every_401", type=int, default=0, help="every Nth expires all tokens")
    p.add_argument("--dump", help="write the ground truth catalog to this JSON file")
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    Handler.fake = Fake(args)
    server = QuietServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    args.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    if args.dump:
        with open(args.dump, "w", encoding="utf-8") as out:
            json.dump(Handler.fake.catalog.dump(args.dev_mode, args.features_403), out,
                      ensure_ascii=False)
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
