#pragma once

// Test-only: deterministic synthetic tracks for unit tests of the trainer and the query
// daemon.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cratedig/v1/track.pb.h"

namespace cratedig::testing {

/// A valid Spotify id made from a number (22 base62 characters).
inline std::string SpotifyIdFor(int64_t n) {
  static const char kDigits[] =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::string id(22, '0');
  uint64_t x = static_cast<uint64_t>(n) * 2654435761u + 12345;
  for (int i = 21; i >= 0; --i) {
    id[i] = kDigits[x % 62];
    x /= 62;
  }
  return id;
}

/// `n` tracks with every audio feature, a release date, one or two of eight genres, names
/// drawn from a small vocabulary so that searches have several near answers.
inline std::vector<v1::Track> SyntheticTracks(int n, uint32_t seed = 7) {
  static const char* kWords[] = {"money", "love",  "night", "dance",  "fire", "rain",
                                 "heart", "city",  "dream", "blue",   "gold", "river",
                                 "song",  "light", "road",  "summer", "cash", "moon"};
  static const char* kGenres[] = {"pop",     "rock",  "jazz",  "latin",
                                  "hip hop", "indie", "metal", "soul"};
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<v1::Track> tracks;
  for (int i = 0; i < n; ++i) {
    v1::Track t;
    t.set_id(SpotifyIdFor(i));
    int words = 1 + static_cast<int>(rng() % 3);
    std::string name;
    for (int w = 0; w < words; ++w) {
      absl::StrAppend(&name, w ? " " : "", kWords[rng() % 18]);
    }
    t.set_name(absl::StrCat(name, " ", i));
    v1::ArtistRef* a = t.add_artists();
    a->set_id(SpotifyIdFor(100000 + i % 50));
    a->set_name(absl::StrCat("Artist ", i % 50));
    t.mutable_album()->set_name(absl::StrCat("Album ", i % 80));
    v1::ReleaseDate* d = t.mutable_album()->mutable_release_date();
    d->set_year(1960 + static_cast<int>(rng() % 60));
    d->set_month(1 + static_cast<int>(rng() % 12));
    d->set_day(1 + static_cast<int>(rng() % 28));
    d->set_precision(v1::RELEASE_DATE_PRECISION_DAY);
    t.add_genres(kGenres[i % 8]);
    if (i % 3 == 0) t.add_genres(kGenres[(i / 3) % 8]);
    t.set_popularity(static_cast<int>(rng() % 100));
    t.set_explicit_(rng() % 5 == 0);
    t.set_duration_ms(120000 + static_cast<int64_t>(rng() % 200000));
    v1::AudioFeatures* f = t.mutable_audio_features();
    f->set_danceability(unit(rng));
    f->set_energy(unit(rng));
    f->set_key(static_cast<int>(rng() % 12));
    f->set_loudness(-30 + 30 * unit(rng));
    f->set_mode(static_cast<int>(rng() % 2));
    f->set_speechiness(unit(rng) * 0.5);
    f->set_acousticness(unit(rng));
    f->set_instrumentalness(unit(rng));
    f->set_liveness(unit(rng));
    f->set_valence(unit(rng));
    f->set_tempo(60 + 120 * unit(rng));
    f->set_time_signature(4);
    tracks.push_back(std::move(t));
  }
  return tracks;
}

}  // namespace cratedig::testing
