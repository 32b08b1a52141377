// ann_agreement: how often the name-vector side of Search and Recommend, served from
// hnswlib, agree with the exact brute-force top k over the same vectors, on a published
// snapshot.
//
//   ann_agreement --snapshot=DIR [--queries=1000] [--playlists=1000] [--k=10]
//                 [--export=DIR]
//
// A served result counts as agreeing when its distance is within the exact k-th distance
// (ties at the k-th place are interchangeable). Prints one line per index and the time
// per query of each method.
//
// --export=DIR also writes the vectors, the queries and the served answers as raw
// little-endian arrays with a meta.json, for bench/prototype_compare.py to run the
// prototype's scikit-learn brute force over exactly the same data.

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/ann.h"
#include "query_service/query_engine.h"
#include "query_service/recommender.h"
#include "query_service/snapshot.h"

ABSL_FLAG(std::string, snapshot, "", "Snapshot directory (e.g. DATA/snapshots/000001)");
ABSL_FLAG(int, queries, 1000, "Search queries: names of random tracks, first word(s)");
ABSL_FLAG(int, playlists, 1000,
          "Random playlists of 1..--playlist_tracks recommendable tracks");
ABSL_FLAG(
    int, playlist_tracks, 10,
    "Most tracks in a random playlist (1: queries at stored vectors, as the rrf and "
    "best strategies' searches around each playlist track)");
ABSL_FLAG(int, k, 10, "Results per query");
ABSL_FLAG(int, seed, 1, "Random seed");
ABSL_FLAG(int, search_ef, 0,
          "Search breadth of the name graph (0: the snapshot's own), to study recall");
ABSL_FLAG(int, ef, 0,
          "Search breadth for Recommend (0: the snapshot's own), to study recall");
ABSL_FLAG(bool, seeded, false,
          "With --ef: also start the graph search from the playlist's own tracks");
ABSL_FLAG(bool, graph, false,
          "Recommend with RecommendOptions.exact = false (the graph's approximation) "
          "rather than the default (the bounded exact scan for the playlist's mean)");
ABSL_FLAG(bool, load_only, false, "Only load the snapshot and print the time it took");
ABSL_FLAG(std::string, export, "",
          "Directory to write vectors, queries and served answers to (for "
          "bench/prototype_compare.py)");

namespace {

using cratedig::Neighbor;
using cratedig::query::Scored;
using cratedig::query::Snapshot;

struct Matrix {
  std::vector<float> rows;
  std::vector<int64_t> labels;
};

// Raw arrays for --export: one file per array, native little-endian.
class Exporter {
 public:
  explicit Exporter(std::string dir) : dir_(std::move(dir)) {
    if (!dir_.empty()) std::filesystem::create_directories(dir_);
  }
  bool enabled() const { return !dir_.empty(); }
  template <typename T>
  void Write(const std::string& name, const std::vector<T>& values) {
    if (!enabled()) return;
    std::ofstream out(dir_ + "/" + name, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(values.data()),
              static_cast<std::streamsize>(values.size() * sizeof(T)));
    if (!out) {
      std::fprintf(stderr, "ann_agreement: cannot write %s/%s\n", dir_.c_str(),
                   name.c_str());
      std::exit(1);
    }
  }
  void Meta(const std::string& json) {
    if (!enabled()) return;
    std::ofstream(dir_ + "/meta.json") << json << "\n";
  }

 private:
  std::string dir_;
};

// What one method (search or recommend) sends to --export.
struct Exported {
  std::vector<float> queries;
  std::vector<int64_t> served;    // k labels per query, -1 padded
  std::vector<int64_t> excluded;  // 10 labels per query, -1 padded (the playlist)
  std::vector<double> served_ms;  // time of the served answer per query
  void Add(const std::vector<float>& query, const std::vector<Scored>* got, int k,
           absl::Duration took, const std::vector<int64_t>& exclude) {
    queries.insert(queries.end(), query.begin(), query.end());
    for (int i = 0; i < k; ++i) {
      served.push_back(
          got != nullptr && i < static_cast<int>(got->size()) ? (*got)[i].position : -1);
    }
    for (size_t i = 0; i < 10; ++i) {
      excluded.push_back(i < exclude.size() ? exclude[i] : -1);
    }
    served_ms.push_back(absl::ToDoubleMilliseconds(took));
  }
};

struct Tally {
  int64_t agree = 0, total = 0;
  // How far the served k-th neighbour is beyond the exact k-th, relative to it: near
  // zero when the misses are near-ties rather than wrong answers.
  std::vector<double> kth_gap;
  absl::Duration ann, exact;
  std::vector<double> ann_ms;  // per query
  void Report(const char* name, int queries) const {
    std::vector<double> gaps = kth_gap;
    std::sort(gaps.begin(), gaps.end());
    auto at = [&](double q) {
      return gaps.empty() ? 0.0 : gaps[static_cast<size_t>(q * (gaps.size() - 1))];
    };
    std::printf(
        "%-9s agreement %.4f (%lld of %lld results)  ann %.3f ms/query  exact %.3f "
        "ms/query  speed-up %.1fx  k-th distance gap p50 %.4f p90 %.4f\n",
        name, total ? double(agree) / total : 0.0, (long long)agree, (long long)total,
        absl::ToDoubleMilliseconds(ann) / queries,
        absl::ToDoubleMilliseconds(exact) / queries, absl::FDivDuration(exact, ann),
        at(0.5), at(0.9));
    std::vector<double> ms = ann_ms;
    std::sort(ms.begin(), ms.end());
    auto ms_at = [&](double q) {
      return ms.empty() ? 0.0 : ms[static_cast<size_t>(q * (ms.size() - 1))];
    };
    std::printf("%-9s ann ms/query p50 %.3f p90 %.3f p99 %.3f max %.3f\n", name,
                ms_at(0.5), ms_at(0.9), ms_at(0.99), ms_at(1.0));
  }
  void Count(const std::vector<Scored>& got, const std::vector<Neighbor>& exact) {
    if (exact.empty()) return;
    float kth = exact.back().distance;
    for (const Scored& r : got) agree += r.distance <= kth + 1e-5f;
    total += static_cast<int64_t>(exact.size());
    if (got.size() == exact.size() && kth > 0) {
      kth_gap.push_back((got.back().distance - kth) / kth);
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::Time load_start = absl::Now();
  auto loaded = Snapshot::Load(absl::GetFlag(FLAGS_snapshot));
  if (!loaded.ok()) {
    std::fprintf(stderr, "ann_agreement: %s\n", loaded.status().ToString().c_str());
    return 1;
  }
  const Snapshot& s = **loaded;
  std::printf("snapshot loaded in %.0f ms\n",
              absl::ToDoubleMilliseconds(absl::Now() - load_start));
  if (absl::GetFlag(FLAGS_load_only)) return 0;
  const int k = absl::GetFlag(FLAGS_k);
  Matrix text, audio;
  std::vector<int64_t> recommendable;
  for (int64_t i = 0; i < s.size(); ++i) {
    if (s.representative(i) == i) {
      auto v = s.embedder().Embed(s.track(i).name());
      if (v.ok() && cratedig::NormalizeInPlace(&*v)) {
        text.rows.insert(text.rows.end(), v->begin(), v->end());
        text.labels.push_back(i);
      }
    }
    if (s.recommendable(i)) {
      // The index's own vector: the content features, blended with the playlist
      // co-occurrence when the snapshot has it.
      auto v = *s.audio_index().Vector(i);
      audio.rows.insert(audio.rows.end(), v.begin(), v.end());
      audio.labels.push_back(i);
      recommendable.push_back(i);
    }
  }
  std::printf(
      "snapshot %s: %lld tracks, %zu in the search index, %zu in the recommend index\n",
      s.version().c_str(), (long long)s.size(), text.labels.size(), audio.labels.size());
  std::mt19937 rng(absl::GetFlag(FLAGS_seed));
  Exporter exporter(absl::GetFlag(FLAGS_export));

  Tally search;
  Exported search_export, recommend_export;
  const int queries = absl::GetFlag(FLAGS_queries);
  for (int q = 0; q < queries; ++q) {
    std::string name = s.track(text.labels[rng() % text.labels.size()]).name();
    if (q % 2 == 1)
      name = name.substr(0, name.find(' '));  // First word alone: many ties.
    auto v = s.embedder().Embed(name);
    if (!v.ok() || !cratedig::NormalizeInPlace(&*v)) continue;
    absl::Time t0 = absl::Now();
    // The vector side of Search alone (Search fuses it with the lexical index).
    auto nearest = s.text_index().Search(v->data(), k,
                                         absl::GetFlag(FLAGS_search_ef) > 0
                                             ? absl::GetFlag(FLAGS_search_ef)
                                             : s.manifest().search_index().ef_search());
    absl::Time t1 = absl::Now();
    absl::StatusOr<std::vector<Scored>> got = std::vector<Scored>();
    if (!nearest.ok()) {
      got = nearest.status();
    } else {
      for (const Neighbor& n : *nearest) got->push_back({n.label, n.distance});
    }
    auto exact = cratedig::ExactSearch(v->data(), text.rows, s.embedder().dim(), k,
                                       nullptr, &text.labels);
    search.exact += absl::Now() - t1;
    search.ann += t1 - t0;
    search.ann_ms.push_back(absl::ToDoubleMilliseconds(t1 - t0));
    if (got.ok()) search.Count(*got, exact);
    if (exporter.enabled()) {
      search_export.Add(*v, got.ok() ? &*got : nullptr, k, t1 - t0, {});
    }
  }
  search.Report("search", queries);

  const absl::Time wait = absl::Now();  // built in the background since the load
  if (const cratedig::BlockScan* blocks = s.audio_blocks()) {
    std::printf("exact blocks: %zu blocks over %zu genre sets (waited %.0f ms)\n",
                blocks->blocks(), blocks->groups(),
                absl::ToDoubleMilliseconds(absl::Now() - wait));
  }
  Tally recommend;
  const int playlists = absl::GetFlag(FLAGS_playlists);
  const int playlist_tracks = absl::GetFlag(FLAGS_playlist_tracks);
  const int dim = s.audio_index().dim();
  const int ef = absl::GetFlag(FLAGS_ef);
  for (int q = 0; q < playlists; ++q) {
    std::vector<int64_t> playlist;
    for (int n = 1 + static_cast<int>(rng() % std::max(1, playlist_tracks)); n > 0; --n) {
      playlist.push_back(recommendable[rng() % recommendable.size()]);
    }
    std::vector<float> mean(dim, 0);
    for (int64_t p : playlist) {
      auto row = s.RecommendRow(p);
      for (int d = 0; d < dim; ++d) mean[d] += row[d];
    }
    cratedig::NormalizeInPlace(&mean);
    auto outside = [&](int64_t label) {
      for (int64_t p : playlist) {
        if (s.representative(p) == label) return false;
      }
      return true;
    };
    absl::Time t0 = absl::Now();
    absl::StatusOr<std::vector<Scored>> got;
    if (ef > 0) {  // The index alone, at the breadth asked for.
      std::vector<int64_t> seeds;
      if (absl::GetFlag(FLAGS_seeded)) {
        for (int64_t p : playlist) seeds.push_back(s.representative(p));
      }
      auto found = s.audio_index().Search(mean.data(), k, ef, outside, seeds);
      got = std::vector<Scored>();
      for (const Neighbor& n : *found) got->push_back({n.label, n.distance});
    } else {
      cratedig::v1::RecommendOptions options;
      options.set_strategy("centroid");
      options.set_max_per_artist(0);
      if (absl::GetFlag(FLAGS_graph)) options.set_exact(false);
      auto query = cratedig::query::MakeRecommendQuery(s, playlist, k, options);
      auto answer =
          query.ok() ? cratedig::query::Recommend(s, *query)
                     : absl::StatusOr<cratedig::query::RecommendResult>(query.status());
      if (answer.ok()) {
        got = std::vector<Scored>();
        for (const auto& r : answer->results) got->push_back({r.position, r.distance});
      } else {
        got = answer.status();
      }
    }
    absl::Time t1 = absl::Now();
    auto exact =
        cratedig::ExactSearch(mean.data(), audio.rows, dim, k, outside, &audio.labels);
    recommend.exact += absl::Now() - t1;
    recommend.ann += t1 - t0;
    recommend.ann_ms.push_back(absl::ToDoubleMilliseconds(t1 - t0));
    if (got.ok()) recommend.Count(*got, exact);
    if (exporter.enabled()) {
      std::vector<int64_t> reps;
      for (int64_t p : playlist) reps.push_back(s.representative(p));
      recommend_export.Add(mean, got.ok() ? &*got : nullptr, k, t1 - t0, reps);
    }
  }
  recommend.Report("recommend", playlists);
  if (exporter.enabled()) {
    exporter.Write("search_rows.f32", text.rows);
    exporter.Write("search_labels.i64", text.labels);
    exporter.Write("search_queries.f32", search_export.queries);
    exporter.Write("search_served.i64", search_export.served);
    exporter.Write("search_served_ms.f64", search_export.served_ms);
    exporter.Write("recommend_rows.f32", audio.rows);
    exporter.Write("recommend_labels.i64", audio.labels);
    exporter.Write("recommend_queries.f32", recommend_export.queries);
    exporter.Write("recommend_excluded.i64", recommend_export.excluded);
    exporter.Write("recommend_served.i64", recommend_export.served);
    exporter.Write("recommend_served_ms.f64", recommend_export.served_ms);
    exporter.Meta(absl::StrCat(
        "{\"snapshot\": \"", s.version(), "\", \"tracks\": ", s.size(), ", \"k\": ", k,
        ", \"search_dim\": ", s.embedder().dim(), ", \"recommend_dim\": ", dim,
        ", \"search_rows\": ", text.labels.size(), ", \"recommend_rows\": ",
        audio.labels.size(), ", \"search_queries\": ", search_export.served_ms.size(),
        ", \"recommend_queries\": ", recommend_export.served_ms.size(), "}"));
  }
  return 0;
}
