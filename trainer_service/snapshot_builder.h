#pragma once

// Builds one snapshot from the catalog: the prototype's preprocessing (artist genres
// merged into tracks, duplicates of name+artists dropped, min-max scaled audio features
// and recency, genre one-hot with the 1% cut) or weighted feature groups, a text index
// over track names and a recommendation index whose vectors blend those content features
// with what the catalog's playlists say about which tracks go together, written and
// published atomically.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/features.h"
#include "cratedig/v1/snapshot.pb.h"
#include "cratedig/v1/track.pb.h"
#include "trainer_service/cooccurrence.h"
#include "trainer_service/word_vector_learner.h"

namespace cratedig::trainer {

/// What the Search index's name vectors are made of.
enum class TextVectors {
  /// Hashed words and character trigrams weighted by IDF (common/text_embedder).
  kHashed,
  /// The mean of word vectors learned from the catalog with fastText.
  kFastText,
  /// The mean of word vectors read from BuildOptions::word_vectors_file.
  kFile,
};

struct BuildOptions {
  TextVectors text_vectors = TextVectors::kHashed;
  /// Width of the hashed track-name vectors.
  int text_dim = 128;
  /// kFastText: how the vectors are learned.
  WordVectorOptions word_vectors;
  /// kFile: a fastText model (.bin), fastText .vec or GloVe .txt file, and how many of
  /// its first (most frequent) words are kept besides the words of the catalog's titles.
  std::string word_vectors_file;
  int64_t word_vectors_max_words = 50000;
  /// kFastText and kFile: the share of the name vector's squared length given to the word
  /// vectors, the rest to the hashed vector (spelling); 1: the word vectors alone.
  double word_vectors_blend = 0.5;
  /// Genres held by fewer tracks than this share are dropped from the one-hot block.
  double min_genre_share = 0.01;
  /// Feature weights and genre representation (min_genre_share above wins over the one
  /// here). Default: the prototype's vectors.
  FeatureOptions features;
  /// The playlist co-occurrence embedding, and the share of each vector's squared length
  /// it gets (0: content alone, playlists ignored).
  CooccurrenceOptions cooccurrence;
  double cooccurrence_blend = 0.0;
  /// Each artist's tracks also count as one playlist (up to 100 of them, catalog order),
  /// so that a track in no playlist still learns from where its artist's other tracks are
  /// playlisted. Counted in Cooccurrence.playlists only when it has two tracks.
  bool cooccurrence_artists = false;
  /// How a track without a co-occurrence vector (in no playlist) is stored. false (the
  /// default): its content block at the same sqrt(1 - blend) scale as every other
  /// track's, zeros after it, so the vector is shorter and the track scores on its
  /// content exactly as a track with a co-occurrence vector does on its content part.
  /// true: its content vector at unit length, which makes it up to 1 / sqrt(1 - blend)
  /// times closer to a query of other such tracks than any track with a co-occurrence
  /// vector: a query made of tracks in no playlist then finds mostly tracks in no
  /// playlist.
  bool cooccurrence_unit_fallback = false;
  /// hnswlib graph degree and construction breadth.
  int m = 16;
  int ef_construction = 64;
  /// Search breadth stored in the manifest for query time.
  int ef_search = 256;
  /// A recommendation index with at most this many vectors is searched exhaustively
  /// (exact). The prototype's one-hot genres make the feature space clustered, and a
  /// graph walk from one entry point misses neighbours in other clusters (measured in
  /// docs/benchmarks.md).
  int64_t recommend_exhaustive_below = 100000;
  /// Threads used to build the indexes.
  int threads = 2;
  /// Asked between the build's steps; when it returns true the build stops with
  /// Cancelled and publishes nothing (its temporary directory is left for the caller or
  /// the next start to delete). Empty: never.
  std::function<bool()> cancelled;
};

/// Adds to each track the genres of its artists (matched by id, else by exact name).
void AttachArtistGenres(const std::vector<v1::Artist>& artists,
                        std::vector<v1::Track>* tracks);

/// For each track, the position of the track representing its duplicate group (same
/// DuplicateKey): the one with audio features, then the most popular, then the first.
/// The keys are computed on `threads` threads.
std::vector<int64_t> ChooseRepresentatives(const std::vector<v1::Track>& tracks,
                                           int threads = 1);

/// Build and publish snapshot `version` under `root`. Returns its manifest.
absl::StatusOr<v1::SnapshotManifest> BuildSnapshot(
    std::vector<v1::Track> tracks, const std::vector<v1::Artist>& artists,
    const BuildOptions& options, const std::string& root, const std::string& version,
    const std::vector<v1::Playlist>& playlists = {});

/// The recommendation vectors of `labels` (positions of recommendable tracks): each
/// track's unit content vector, blended with its co-occurrence vector learnt from
/// `playlists` (track ids; ids of duplicates count as their representative's) when
/// options.cooccurrence_blend > 0: [sqrt(1 - blend) * content, sqrt(blend) *
/// co-occurrence], zeros for tracks without one (see cooccurrence_unit_fallback).
/// Row-major, dim() = content + co-occurrence width.
/// Fills `info` (absent when no blend).
struct RecommendVectors {
  int dim = 0;
  std::vector<float> rows;
};
RecommendVectors BuildRecommendVectors(const std::vector<v1::Track>& tracks,
                                       const std::vector<int64_t>& representative,
                                       const std::vector<int64_t>& labels,
                                       const FeatureModel& features,
                                       const std::vector<v1::Playlist>& playlists,
                                       const BuildOptions& options,
                                       std::optional<v1::Cooccurrence>* info);

}  // namespace cratedig::trainer
