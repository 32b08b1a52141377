#include "bench/playlist_metrics.h"

#include <algorithm>
#include <cmath>

namespace cratedig::bench {
namespace {

// The challenge's discount: 1 for ranks 1 and 2, then 1 / log2(rank).
double Discount(int64_t rank) {
  return rank <= 1 ? 1.0 : 1.0 / std::log2(static_cast<double>(rank));
}

}  // namespace

PlaylistScores ScorePlaylist(const std::vector<bool>& relevant, int64_t hidden) {
  PlaylistScores s;
  if (hidden <= 0) return s;
  const int64_t n = static_cast<int64_t>(relevant.size());
  int64_t in_r = 0, in_100 = 0, first = -1;
  double dcg = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    if (!relevant[i]) continue;
    if (i < hidden) ++in_r;
    if (i < 100) ++in_100;
    if (first < 0) first = i;
    dcg += Discount(i + 1);
  }
  double idcg = 0.0;
  for (int64_t i = 0; i < hidden; ++i) idcg += Discount(i + 1);
  s.r_precision = static_cast<double>(in_r) / static_cast<double>(hidden);
  s.ndcg = dcg / idcg;
  s.clicks = first >= 0 && first < 500 ? static_cast<double>(first / 10) : 51.0;
  s.recall_at_100 = static_cast<double>(in_100) / static_cast<double>(hidden);
  return s;
}

void MeanScores::Add(const PlaylistScores& s) {
  ++playlists;
  sum.r_precision += s.r_precision;
  sum.ndcg += s.ndcg;
  sum.clicks += s.clicks;
  sum.recall_at_100 += s.recall_at_100;
}

PlaylistScores MeanScores::Mean() const {
  PlaylistScores m;
  if (playlists == 0) return m;
  const double n = static_cast<double>(playlists);
  m.r_precision = sum.r_precision / n;
  m.ndcg = sum.ndcg / n;
  m.clicks = sum.clicks / n;
  m.recall_at_100 = sum.recall_at_100 / n;
  return m;
}

}  // namespace cratedig::bench
