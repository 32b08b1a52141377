#include "bench/playlist_metrics.h"

#include <cmath>

#include "gtest/gtest.h"

namespace cratedig::bench {
namespace {

// Hand-computed: 3 hidden tracks; hits at ranks 2 and 4 of 5 recommendations.
TEST(PlaylistMetricsTest, HandComputedExample) {
  PlaylistScores s = ScorePlaylist({false, true, false, true, false}, 3);
  // First 3 recommendations hold one hidden track.
  EXPECT_DOUBLE_EQ(s.r_precision, 1.0 / 3.0);
  // DCG = 1/log2(2) + 1/log2(4) = 1 + 0.5; IDCG = 1 + 1/log2(2) + 1/log2(3) = 2.6309...
  EXPECT_NEAR(s.ndcg, 1.5 / (2.0 + 1.0 / std::log2(3.0)), 1e-12);
  EXPECT_NEAR(s.ndcg, 0.5701407, 1e-6);
  // First hit at rank 2: no page refreshed.
  EXPECT_EQ(s.clicks, 0.0);
  EXPECT_DOUBLE_EQ(s.recall_at_100, 2.0 / 3.0);
}

TEST(PlaylistMetricsTest, PerfectRankingScoresOne) {
  PlaylistScores s = ScorePlaylist({true, true, true, false}, 3);
  EXPECT_DOUBLE_EQ(s.r_precision, 1.0);
  EXPECT_DOUBLE_EQ(s.ndcg, 1.0);
  EXPECT_EQ(s.clicks, 0.0);
  EXPECT_DOUBLE_EQ(s.recall_at_100, 1.0);
}

TEST(PlaylistMetricsTest, ClicksCountPagesOfTenAndMissesCount51) {
  std::vector<bool> relevant(500, false);
  relevant[23] = true;  // rank 24: pages 1-10, 11-20 refreshed
  EXPECT_EQ(ScorePlaylist(relevant, 1).clicks, 2.0);
  relevant[23] = false;
  relevant[120] = true;  // rank 121
  PlaylistScores s = ScorePlaylist(relevant, 1);
  EXPECT_EQ(s.clicks, 12.0);
  EXPECT_EQ(s.recall_at_100, 0.0);
  EXPECT_NEAR(s.ndcg, 1.0 / std::log2(121.0), 1e-12);
  EXPECT_EQ(ScorePlaylist(std::vector<bool>(500, false), 4).clicks, 51.0);
}

TEST(PlaylistMetricsTest, MeansOverPlaylists) {
  MeanScores m;
  m.Add(ScorePlaylist({true}, 1));
  m.Add(ScorePlaylist({false}, 1));
  EXPECT_EQ(m.playlists, 2);
  EXPECT_DOUBLE_EQ(m.Mean().r_precision, 0.5);
  EXPECT_DOUBLE_EQ(m.Mean().clicks, 25.5);
}

}  // namespace
}  // namespace cratedig::bench
