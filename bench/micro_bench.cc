// micro_bench: Google Benchmark figures for the per-request and per-track building
// blocks: text normalisation and analysis, name and feature vectorisation, index search
// (hnswlib against the exhaustive scan), lexical search and snapshot load.
//
//   build/bin/micro_bench [--benchmark_filter=REGEX] [--benchmark_repetitions=5
//                          --benchmark_report_aggregates_only=true]
//
// Self-contained: the tracks are synthetic (names in several scripts, features drawn from
// the real ranges), so it runs with no data files. CRATEDIG_BENCH_TRACKS=.../tracks.binpb
// runs the lexical search over a real snapshot's tracks instead.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/ann.h"
#include "common/block_scan.h"
#include "common/features.h"
#include "common/lexical_index.h"
#include "common/text.h"
#include "common/text_embedder.h"
#include "query_service/query_engine.h"
#include "query_service/recommender.h"
#include "query_service/search.h"
#include "query_service/snapshot.h"
#include "trainer_service/snapshot_builder.h"

namespace {

using cratedig::AnnIndex;
using cratedig::AnnParams;

const std::vector<std::string>& Names() {
  static const auto* const names = new std::vector<std::string>{
      "O Holy Night - Remastered 1999",
      "In Case You Don't Live Forever",
      "Smells Like Teen Spirit",
      "Bohemian Rhapsody - Live Aid",
      "Despacito (feat. Daddy Yankee)",
      "Rehén",
      "GORDÃO DO PC",
      "夜に駆ける",
      "Пачка сигарет",
      "사랑했지만",
      "Für Elise, WoO 59",
      "Don't Stop Me Now - 2011 Mix",
      "A festa",
      "The Cage",
      "ยิ่งรู้ยิ่งไม่เข้าใจ",
      "Hasta la Raíz",
  };
  return *names;
}

std::vector<cratedig::v1::Track> SyntheticTracks(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  const std::vector<std::string> genres = {"pop",  "rock",  "jazz",   "k-pop", "samba",
                                           "soul", "metal", "techno", "folk",  "blues"};
  const std::vector<std::string>& names = Names();
  std::vector<cratedig::v1::Track> tracks(n);
  const char* base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  for (int i = 0; i < n; ++i) {
    cratedig::v1::Track& t = tracks[i];
    std::string id;
    for (int c = 0; c < 22; ++c) id.push_back(base62[rng() % 62]);
    t.set_id(id);
    t.set_name(names[rng() % names.size()] + " " + names[rng() % names.size()] + " " +
               std::to_string(i));
    auto* artist = t.add_artists();
    artist->set_name("Artist " + std::to_string(rng() % (n / 8 + 1)));
    t.add_genres(genres[rng() % genres.size()]);
    if (rng() % 3 == 0) t.add_genres(genres[rng() % genres.size()]);
    t.mutable_album()->mutable_release_date()->set_year(1950 + rng() % 70);
    t.set_popularity(static_cast<int>(rng() % 100));
    auto* a = t.mutable_audio_features();
    a->set_danceability(unit(rng));
    a->set_energy(unit(rng));
    a->set_key(static_cast<int>(rng() % 12));
    a->set_loudness(-60 + 60 * unit(rng));
    a->set_mode(static_cast<int>(rng() % 2));
    a->set_speechiness(unit(rng));
    a->set_acousticness(unit(rng));
    a->set_instrumentalness(unit(rng));
    a->set_liveness(unit(rng));
    a->set_valence(unit(rng));
    a->set_tempo(60 + 140 * unit(rng));
  }
  return tracks;
}

void BM_NormalizeText(benchmark::State& state) {
  const std::vector<std::string>& names = Names();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(cratedig::NormalizeText(names[i++ % names.size()]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NormalizeText);

void BM_AnalyzeText(benchmark::State& state) {
  const std::vector<std::string>& names = Names();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(cratedig::AnalyzeText(names[i++ % names.size()]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AnalyzeText);

void BM_EmbedName(benchmark::State& state) {
  const std::vector<std::string>& names = Names();
  cratedig::TextEmbedder embedder =
      cratedig::TextEmbedder::Fit(names, static_cast<int>(state.range(0)));
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(embedder.Embed(names[i++ % names.size()]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EmbedName)->Arg(256);

void BM_FeatureTransform(benchmark::State& state) {
  std::vector<cratedig::v1::Track> tracks = SyntheticTracks(1000, 1);
  std::vector<const cratedig::v1::Track*> fit;
  for (const auto& t : tracks) fit.push_back(&t);
  cratedig::FeatureModel model = cratedig::FeatureModel::Fit(fit, 0.01);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(model.Transform(tracks[i++ % tracks.size()]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FeatureTransform);

// Unit vectors in a few dozen clusters (like genre-clustered features), built once per
// (n, dim) and shared by the search benchmarks.
struct Corpus {
  int dim;
  std::vector<float> rows;
  std::vector<float> queries;
  std::unique_ptr<AnnIndex> index;
};

std::vector<float> ClusteredUnitRows(int n, int dim, std::mt19937_64& rng) {
  std::normal_distribution<float> noise(0, 1);
  const int clusters = 40;
  std::vector<float> centers(static_cast<size_t>(clusters) * dim);
  for (float& c : centers) c = noise(rng);
  std::vector<float> rows(static_cast<size_t>(n) * dim);
  for (int i = 0; i < n; ++i) {
    const float* c = &centers[(rng() % clusters) * dim];
    std::vector<float> v(dim);
    for (int d = 0; d < dim; ++d) v[d] = c[d] + 0.5f * noise(rng);
    cratedig::NormalizeInPlace(&v);
    std::copy(v.begin(), v.end(), rows.begin() + static_cast<size_t>(i) * dim);
  }
  return rows;
}

Corpus& GetCorpus(int n, int dim) {
  static auto* corpora = new std::map<std::pair<int, int>, Corpus>();
  auto it = corpora->find({n, dim});
  if (it != corpora->end()) return it->second;
  std::mt19937_64 rng(n * 31 + dim);
  Corpus c;
  c.dim = dim;
  c.rows = ClusteredUnitRows(n, dim, rng);
  c.queries = ClusteredUnitRows(256, dim, rng);
  c.index = *AnnIndex::Create(dim, n, AnnParams{16, 100});
  std::vector<int64_t> labels(n);
  for (int i = 0; i < n; ++i) labels[i] = i;
  if (!c.index->AddParallel(labels, c.rows, 2).ok()) std::abort();
  return corpora->emplace(std::make_pair(n, dim), std::move(c)).first->second;
}

void BM_SearchHnsw(benchmark::State& state) {
  Corpus& c =
      GetCorpus(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  const int ef = static_cast<int>(state.range(2));
  size_t q = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(c.index->Search(&c.queries[(q++ % 256) * c.dim], 10, ef));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SearchHnsw)
    ->ArgNames({"n", "dim", "ef"})
    ->Args({100000, 256, 64})
    ->Args({100000, 256, 256})
    ->Args({100000, 64, 64})
    ->Args({100000, 64, 256})
    ->Unit(benchmark::kMicrosecond);

void BM_ScanExact(benchmark::State& state) {
  Corpus& c =
      GetCorpus(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  size_t q = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(c.index->ScanExact(&c.queries[(q++ % 256) * c.dim], 10));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ScanExact)
    ->ArgNames({"n", "dim"})
    ->Args({100000, 256})
    ->Args({100000, 64})
    ->Unit(benchmark::kMicrosecond);

// A snapshot of n synthetic tracks, built once into a temporary directory.
std::string SnapshotDir(int n) {
  static auto* dirs = new std::map<int, std::string>();
  if (auto it = dirs->find(n); it != dirs->end()) return it->second;
  const std::string root =
      (std::filesystem::temp_directory_path() /
       ("cratedig-micro-bench-" + std::to_string(::getpid()) + "-" + std::to_string(n)))
          .string();
  cratedig::trainer::BuildOptions options;
  options.ef_construction = 64;
  auto manifest = cratedig::trainer::BuildSnapshot(SyntheticTracks(n, 7), {}, options,
                                                   root, "000001");
  if (!manifest.ok()) {
    std::fprintf(stderr, "micro_bench: %s\n", manifest.status().ToString().c_str());
    std::abort();
  }
  std::atexit([] {
    for (const auto& [n, dir] : *dirs) std::filesystem::remove_all(dir);
  });
  return dirs->emplace(n, root + "/000001").first->second;
}

// Loads a snapshot of n synthetic tracks, checksums verified; or, when
// CRATEDIG_BENCH_SNAPSHOT names a snapshot directory (e.g. bench/scale_run.sh's 1.2M
// one), that snapshot as queryd loads one it has just fetched and verified: without
// verifying the checksums again.
void BM_SnapshotLoad(benchmark::State& state) {
  const char* real = std::getenv("CRATEDIG_BENCH_SNAPSHOT");
  const std::string dir =
      real != nullptr ? real : SnapshotDir(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto snapshot =
        cratedig::query::Snapshot::Load(dir, /*verify_checksums=*/real == nullptr);
    if (!snapshot.ok()) state.SkipWithError(snapshot.status().ToString().c_str());
    if (snapshot.ok())
      state.counters["tracks"] = static_cast<double>((*snapshot)->size());
    benchmark::DoNotOptimize(snapshot);
    state.PauseTiming();  // freeing the snapshot is not part of loading it
    snapshot = absl::InternalError("freed");
    state.ResumeTiming();
  }
  if (real == nullptr) state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_SnapshotLoad)->Arg(50000)->Unit(benchmark::kMillisecond);

// The lexical index over the tracks of CRATEDIG_BENCH_TRACKS (a snapshot's tracks.binpb,
// e.g. of bench/scale_run.sh's 1.2M-track catalog), else over 200,000 synthetic tracks;
// queried as cratedig_load queries: track names, every other one cut to its first word.
struct LexicalCorpus {
  cratedig::LexicalIndex index;
  std::vector<std::string> queries;
};

LexicalCorpus& GetLexicalCorpus() {
  static LexicalCorpus* corpus = [] {
    cratedig::v1::TrackTable table;
    if (const char* path = std::getenv("CRATEDIG_BENCH_TRACKS")) {
      std::ifstream in(path, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)),
                        std::istreambuf_iterator<char>());
      if (!table.ParseFromString(bytes)) {
        std::fprintf(stderr, "micro_bench: %s is not a track table\n", path);
        std::abort();
      }
    } else {
      for (auto& t : SyntheticTracks(200000, 11)) *table.add_tracks() = std::move(t);
    }
    cratedig::LexicalIndexBuilder builder;
    std::vector<int8_t> popularity;
    for (int i = 0; i < table.tracks_size(); ++i) {
      builder.Add(i, table.tracks(i));
      popularity.push_back(static_cast<int8_t>(table.tracks(i).popularity()));
    }
    auto* c =
        new LexicalCorpus{*cratedig::LexicalIndex::FromProto(
                              builder.Finish(table.tracks_size()), std::move(popularity)),
                          {}};
    std::mt19937_64 rng(5);
    for (int i = 0; i < 4096; ++i) {
      std::string name =
          table.tracks(static_cast<int>(rng() % table.tracks_size())).name();
      if (i % 2 == 1) name = name.substr(0, name.find(' '));
      c->queries.push_back(name);
    }
    return c;
  }();
  return *corpus;
}

void BM_LexicalSearch(benchmark::State& state) {
  LexicalCorpus& c = GetLexicalCorpus();
  size_t q = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(c.index.Search(c.queries[q++ % c.queries.size()], 50));
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["tracks"] = static_cast<double>(c.index.tracks());
}
BENCHMARK(BM_LexicalSearch)->Unit(benchmark::kMicrosecond);

void BM_QuerySearch(benchmark::State& state) {
  auto snapshot = *cratedig::query::Snapshot::Load(SnapshotDir(50000));
  const std::vector<std::string>& names = Names();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        cratedig::query::Search(*snapshot, names[i++ % names.size()], 10));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_QuerySearch)->Unit(benchmark::kMicrosecond);

void BM_QueryRecommend(benchmark::State& state) {
  auto snapshot = *cratedig::query::Snapshot::Load(SnapshotDir(50000));
  std::mt19937_64 rng(3);
  for (auto _ : state) {
    std::vector<int64_t> playlist;
    for (int i = 1 + static_cast<int>(rng() % 10); i > 0; --i) {
      playlist.push_back(static_cast<int64_t>(rng() % snapshot->size()));
    }
    // Default options: strategy blend, at most 3 results per artist.
    auto query = cratedig::query::MakeRecommendQuery(*snapshot, std::move(playlist), 10,
                                                     cratedig::v1::RecommendOptions());
    if (query.ok())
      benchmark::DoNotOptimize(cratedig::query::Recommend(*snapshot, *query));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_QueryRecommend)->Unit(benchmark::kMicrosecond);

// The bounded exact scan Recommend's `exact` reads (common/block_scan.h), queried with
// the means of 1..10 random recommendable tracks (Recommend's centroid, k = 20 as with
// the default max_per_artist) over CRATEDIG_BENCH_SNAPSHOT's index, else over a 50,000-
// track synthetic snapshot's. Counters: blocks and vectors read a query.
const cratedig::query::Snapshot& BlockScanSnapshot() {
  static const auto snapshot = [] {
    const char* real = std::getenv("CRATEDIG_BENCH_SNAPSHOT");
    auto s = cratedig::query::Snapshot::Load(real != nullptr ? real : SnapshotDir(50000),
                                             /*verify_checksums=*/false);
    if (!s.ok()) {
      std::fprintf(stderr, "micro_bench: %s\n", s.status().ToString().c_str());
      std::abort();
    }
    return *std::move(s);
  }();
  return *snapshot;
}

// Positions of the snapshot's recommendable tracks.
std::vector<int64_t> Recommendable(const cratedig::query::Snapshot& snapshot) {
  std::vector<int64_t> out;
  for (int64_t p = 0; p < snapshot.size(); ++p) {
    if (snapshot.recommendable(p)) out.push_back(p);
  }
  return out;
}

// Building the blocks over the same index (Snapshot::Load starts it in the background).
void BM_BlockScanBuild(benchmark::State& state) {
  const cratedig::query::Snapshot& snapshot = BlockScanSnapshot();
  const auto [first, end] = snapshot.features().OneHotGenreColumns();
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        cratedig::BlockScan::Build(snapshot.audio_index(), first, end).blocks());
  }
  state.counters["tracks"] = static_cast<double>(snapshot.audio_index().size());
}
BENCHMARK(BM_BlockScanBuild)->Unit(benchmark::kMillisecond);

void BM_BlockScan(benchmark::State& state) {
  const cratedig::query::Snapshot* snapshot = &BlockScanSnapshot();
  // A snapshot scanned whole (the synthetic one: under --recommend_exhaustive_below) has
  // no blocks of its own.
  static const auto* own = [snapshot] {
    const auto [first, end] = snapshot->features().OneHotGenreColumns();
    return snapshot->audio_blocks() != nullptr
               ? nullptr
               : new cratedig::BlockScan(
                     cratedig::BlockScan::Build(snapshot->audio_index(), first, end));
  }();
  const cratedig::BlockScan& blocks = own != nullptr ? *own : *snapshot->audio_blocks();
  const std::vector<int64_t> recommendable = Recommendable(*snapshot);
  std::mt19937_64 rng(3);
  std::vector<std::vector<float>> queries(512);
  for (auto& q : queries) {
    q.assign(snapshot->audio_index().dim(), 0.0f);
    for (int i = 1 + static_cast<int>(rng() % 10); i > 0; --i) {
      const auto row =
          snapshot->RecommendRow(recommendable[rng() % recommendable.size()]);
      for (size_t d = 0; d < q.size(); ++d) q[d] += row[d];
    }
    cratedig::NormalizeInPlace(&q);
  }
  size_t at = 0;
  double read_blocks = 0, read_vectors = 0, groups = 0, bounded = 0;
  for (auto _ : state) {
    cratedig::BlockScan::Stats stats;
    benchmark::DoNotOptimize(blocks.Search(queries[at++ % queries.size()].data(),
                                           static_cast<size_t>(state.range(0)), nullptr,
                                           &stats));
    read_blocks += static_cast<double>(stats.blocks);
    read_vectors += static_cast<double>(stats.vectors);
    groups += static_cast<double>(stats.groups);
    bounded += static_cast<double>(stats.bounded);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["blocks"] =
      benchmark::Counter(read_blocks, benchmark::Counter::kAvgIterations);
  state.counters["vectors"] =
      benchmark::Counter(read_vectors, benchmark::Counter::kAvgIterations);
  state.counters["groups"] =
      benchmark::Counter(groups, benchmark::Counter::kAvgIterations);
  state.counters["bounded"] =
      benchmark::Counter(bounded, benchmark::Counter::kAvgIterations);
  state.counters["tracks"] = static_cast<double>(snapshot->audio_index().size());
}
BENCHMARK(BM_BlockScan)->Arg(20)->Arg(100)->Unit(benchmark::kMicrosecond);

// Recommend, k = 10, over the same snapshot as BM_BlockScan (exact: the blocks waited
// for), playlists of 1..10 random recommendable tracks, by strategy: the whole request
// but gRPC.
void BM_RecommendStrategy(benchmark::State& state) {
  const cratedig::query::Snapshot& snapshot = BlockScanSnapshot();
  const char* strategy = state.range(0) == 0 ? "blend" : "centroid";
  state.SetLabel(strategy);
  const std::vector<int64_t> recommendable = Recommendable(snapshot);
  cratedig::v1::RecommendOptions options;
  options.set_strategy(strategy);
  options.set_exact(true);
  std::mt19937_64 rng(3);
  for (auto _ : state) {
    std::vector<int64_t> playlist;
    for (int i = 1 + static_cast<int>(rng() % 10); i > 0; --i) {
      playlist.push_back(recommendable[rng() % recommendable.size()]);
    }
    auto query =
        cratedig::query::MakeRecommendQuery(snapshot, std::move(playlist), 10, options);
    if (query.ok())
      benchmark::DoNotOptimize(cratedig::query::Recommend(snapshot, *query));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RecommendStrategy)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
