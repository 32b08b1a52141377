#include "trainer_service/cooccurrence.h"

#include <cmath>

#include "gtest/gtest.h"

namespace cratedig::trainer {
namespace {

double Cosine(const CooccurrenceEmbedding& e, int a, int b) {
  double dot = 0.0;
  for (int c = 0; c < e.dim; ++c) dot += e.rows[a * e.dim + c] * e.rows[b * e.dim + c];
  return dot;  // rows are unit vectors
}

// Two groups of tracks that are only ever playlisted within their group: 0-4 and 5-9.
// Track 10 is in no playlist; track 11 only in a playlist of its own.
std::vector<std::vector<int64_t>> TwoScenes() {
  return {
      {0, 1, 2, 3}, {1, 2, 3, 4}, {0, 2, 4},    {0, 1, 4}, {2, 3, 4, 0},
      {5, 6, 7, 8}, {6, 7, 8, 9}, {5, 7, 9, 6}, {5, 8, 9}, {11},
  };
}

TEST(CooccurrenceTest, TracksPlaylistedTogetherAreNearerThanTracksThatAreNot) {
  CooccurrenceOptions options;
  options.dim = 4;
  CooccurrenceEmbedding e = FitCooccurrence(12, TwoScenes(), options);
  EXPECT_EQ(e.dim, 4);
  EXPECT_EQ(e.playlists, 9);  // {11} alone has no pair
  EXPECT_EQ(e.items, 10);
  for (int a = 0; a < 10; ++a) {
    ASSERT_TRUE(e.has[a]) << a;
    double norm = Cosine(e, a, a);
    EXPECT_NEAR(norm, 1.0, 1e-5);
    for (int b = 0; b < 10; ++b) {
      if (a == b) continue;
      const bool same_scene = (a < 5) == (b < 5);
      for (int c = 0; c < 10; ++c) {
        if (c == a || (c < 5) == (a < 5)) continue;
        if (same_scene) {
          EXPECT_GT(Cosine(e, a, b), Cosine(e, a, c)) << a << " " << b << " " << c;
        }
      }
    }
  }
  // Tracks without a co-occurring partner have no vector (they keep content alone).
  EXPECT_FALSE(e.has[10]);
  EXPECT_FALSE(e.has[11]);
  for (int c = 0; c < e.dim; ++c) EXPECT_EQ(e.rows[10 * e.dim + c], 0.0f);
}

TEST(CooccurrenceTest, SameInputGivesTheSameVectors) {
  CooccurrenceOptions options;
  options.dim = 3;
  EXPECT_EQ(FitCooccurrence(12, TwoScenes(), options).rows,
            FitCooccurrence(12, TwoScenes(), options).rows);
}

TEST(CooccurrenceTest, RepeatsAndOutOfRangeItemsAreIgnored) {
  CooccurrenceEmbedding e = FitCooccurrence(3, {{0, 0, 7, -1}, {1, 1}}, {});
  EXPECT_EQ(e.playlists, 0);
  EXPECT_EQ(e.items, 0);
}

}  // namespace
}  // namespace cratedig::trainer
