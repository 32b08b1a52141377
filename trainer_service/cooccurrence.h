#pragma once

// Item embeddings learnt from playlists: tracks that appear together in playlists get
// nearby vectors. The co-occurrence counts of track pairs (within a window of playlist
// positions) are turned into positive pointwise mutual information (PPMI, with the
// context distribution smoothed by the power 0.75 as in word2vec), and the sparse PPMI
// matrix is factorised by a randomized truncated SVD (Halko, Martinsson and Tropp 2011);
// a track's vector is its row of U * sqrt(S), scaled to unit length.

#include <cstdint>
#include <vector>

namespace cratedig::trainer {

struct CooccurrenceOptions {
  /// Width of the embedding.
  int dim = 32;
  /// Pairs further apart than this many positions in a playlist do not count (0: the
  /// whole playlist). Bounds the work for long playlists.
  int window = 50;
  /// Power iterations of the randomized SVD.
  int power_iterations = 4;
  /// Seed of the random projection: the same playlists give the same vectors.
  uint64_t seed = 20180101;
};

struct CooccurrenceEmbedding {
  int dim = 0;
  /// items x dim, row-major; all zero for items that co-occur with nothing.
  std::vector<float> rows;
  /// Whether each item has a vector.
  std::vector<bool> has;
  /// Playlists that had at least two items.
  int64_t playlists = 0;
  /// Items with a vector.
  int64_t items = 0;
};

/// Fit on `playlists`, each a list of item numbers in 0..items-1 in playlist order
/// (repeats are ignored).
CooccurrenceEmbedding FitCooccurrence(int64_t items,
                                      const std::vector<std::vector<int64_t>>& playlists,
                                      const CooccurrenceOptions& options);

}  // namespace cratedig::trainer
