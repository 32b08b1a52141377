#pragma once

// The playlist-continuation metrics of the RecSys Challenge 2018 (Spotify Million
// Playlist Dataset), on one playlist: `relevant` says, for each recommended track in rank
// order, whether it is one of the playlist's hidden tracks (each hidden track counted at
// its first match only), and `hidden` is how many tracks were hidden. Track matches only:
// the challenge's partial credit for a right artist is left out.

#include <cstdint>
#include <vector>

namespace cratedig::bench {

struct PlaylistScores {
  /// Hidden tracks among the first `hidden` recommendations, over `hidden`.
  double r_precision = 0.0;
  /// DCG / IDCG with DCG = rel_1 + sum_{i>=2} rel_i / log2(i) and IDCG the same for the
  /// hidden tracks ranked first.
  double ndcg = 0.0;
  /// Pages of 10 tracks refreshed before the first hidden track appears: floor((rank - 1)
  /// / 10) for the 1-based rank of the first hit among the first 500; 51 when there is
  /// none.
  double clicks = 0.0;
  /// Hidden tracks among the first 100 recommendations, over `hidden`.
  double recall_at_100 = 0.0;
};

/// Scores one playlist. `hidden` must be at least 1.
PlaylistScores ScorePlaylist(const std::vector<bool>& relevant, int64_t hidden);

/// Means over playlists.
struct MeanScores {
  int64_t playlists = 0;
  PlaylistScores sum;
  void Add(const PlaylistScores& s);
  PlaylistScores Mean() const;
};

}  // namespace cratedig::bench
