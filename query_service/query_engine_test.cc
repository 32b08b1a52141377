#include "query_service/query_engine.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/ann.h"
#include "common/snapshot.h"
#include "common/testing/synthetic_catalog.h"
#include "gtest/gtest.h"
#include "query_service/recommender.h"
#include "query_service/search.h"
#include "trainer_service/snapshot_builder.h"

namespace cratedig::query {
namespace {

class QueryEngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // One directory per process: ctest -j runs each test of this suite in its own
    // process.
    root_ = new std::string(::testing::TempDir() + "/query_engine_test." +
                            std::to_string(::getpid()));
    std::filesystem::remove_all(*root_);
    tracks_ = new std::vector<v1::Track>(testing::SyntheticTracks(2000));
    // Track 1 duplicates track 0 under another id.
    (*tracks_)[1].set_name((*tracks_)[0].name());
    *(*tracks_)[1].mutable_artists() = (*tracks_)[0].artists();
    trainer::BuildOptions options;
    options.recommend_exhaustive_below = 0;  // Exercise the graph search; see below.
    auto manifest = trainer::BuildSnapshot(*tracks_, {}, options, *root_, "000001");
    ASSERT_TRUE(manifest.ok()) << manifest.status();
    auto loaded = Snapshot::Load(*root_ + "/000001");
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    snapshot_ = new std::shared_ptr<const Snapshot>(*loaded);
  }
  void SetUp() override {
    // A failure in SetUpTestSuite must fail every test, not skip it.
    ASSERT_NE(snapshot_, nullptr) << "the suite's snapshot could not be built or loaded";
  }
  const Snapshot& snapshot() { return **snapshot_; }

  // The exact answer over every indexed track, for `query` rows built by `vectorize`.
  template <typename F>
  std::vector<Neighbor> Exact(const std::vector<float>& query, int dim, F indexed, int k,
                              const LabelFilter& filter = nullptr) {
    std::vector<float> rows;
    std::vector<int64_t> labels;
    for (int64_t i = 0; i < snapshot().size(); ++i) {
      std::vector<float> v;
      if (!indexed(i, &v)) continue;
      rows.insert(rows.end(), v.begin(), v.end());
      labels.push_back(i);
    }
    return ExactSearch(query.data(), rows, dim, k, filter, &labels);
  }

  static std::string* root_;
  static std::vector<v1::Track>* tracks_;
  static std::shared_ptr<const Snapshot>* snapshot_;
};

// The prototype's Recommend: strategy centroid, no artist limit.
absl::StatusOr<std::vector<Scored>> Prototype(const Snapshot& snapshot,
                                              std::vector<int64_t> playlist, int k) {
  v1::RecommendOptions options;
  options.set_strategy("centroid");
  options.set_max_per_artist(0);
  auto query = MakeRecommendQuery(snapshot, std::move(playlist), k, options);
  if (!query.ok()) return query.status();
  auto answer = Recommend(snapshot, *query);
  if (!answer.ok()) return answer.status();
  std::vector<Scored> out;
  for (const Recommendation& r : answer->results) out.push_back({r.position, r.distance});
  return out;
}

std::string* QueryEngineTest::root_ = nullptr;
std::vector<v1::Track>* QueryEngineTest::tracks_ = nullptr;
std::shared_ptr<const Snapshot>* QueryEngineTest::snapshot_ = nullptr;

TEST_F(QueryEngineTest, SearchDistanceIsTheNameVectorDistance) {
  const NameEmbedder& embedder = snapshot().embedder();
  for (const char* q :
       {"money", "love night", "dance fire", "blue moon", "summer road 12"}) {
    auto results = Search(snapshot(), q, 10);
    ASSERT_TRUE(results.ok()) << results.status();
    ASSERT_EQ(results->size(), 10u);
    const std::vector<float> query = *embedder.Embed(q);
    for (const SearchResult& r : *results) {
      const std::vector<float> name =
          *embedder.Embed(snapshot().track(r.position).name());
      double dot = 0;
      for (size_t d = 0; d < name.size(); ++d) dot += query[d] * name[d];
      EXPECT_NEAR(r.distance, 1.0 - dot, 1e-4) << q << " " << r.position;
    }
  }
}

TEST_F(QueryEngineTest, RecommendIsTheNearestToTheMeanWithoutThePlaylist) {
  const FeatureModel& features = snapshot().features();
  std::vector<int64_t> playlist = {0, 10, 20, 30};
  auto results = Prototype(snapshot(), playlist, 20);
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 20u);
  std::vector<float> mean(features.dim(), 0);
  for (int64_t p : playlist) {
    auto row = features.TransformRaw(snapshot().track(p));
    for (int d = 0; d < features.dim(); ++d) mean[d] += row[d];
  }
  NormalizeInPlace(&mean);
  auto exact = Exact(
      mean, features.dim(),
      [&](int64_t i, std::vector<float>* v) {
        if (!snapshot().recommendable(i)) return false;
        *v = features.Transform(snapshot().track(i));
        return true;
      },
      20,
      [&](int64_t label) {
        return label != 0 && label != 10 && label != 20 && label != 30;
      });
  for (size_t i = 0; i < results->size(); ++i) {
    EXPECT_NEAR((*results)[i].distance, exact[i].distance, 1e-4) << i;
  }
  for (const Scored& r : *results) {
    EXPECT_NE(r.position, 0);
    EXPECT_NE(r.position, 1);  // The duplicate of track 0.
    EXPECT_NE(r.position, 10);
  }
}

TEST_F(QueryEngineTest, ExhaustiveRecommendIsExact) {
  std::string root = *root_ + "/exhaustive";
  auto manifest =
      trainer::BuildSnapshot(*tracks_, {}, trainer::BuildOptions{}, root, "000001");
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  EXPECT_TRUE(manifest->recommend_index().exhaustive());
  EXPECT_FALSE(manifest->search_index().exhaustive());
  auto loaded = Snapshot::Load(root + "/000001");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  auto graph = Prototype(snapshot(), {3, 4, 5}, 30);
  auto exact = Prototype(**loaded, {3, 4, 5}, 30);
  ASSERT_TRUE(graph.ok() && exact.ok());
  ASSERT_EQ(exact->size(), 30u);
  for (size_t i = 0; i < exact->size(); ++i) {
    EXPECT_NEAR((*exact)[i].distance, (*graph)[i].distance, 1e-4) << i;
    if (i > 0) {
      EXPECT_LE((*exact)[i - 1].distance, (*exact)[i].distance);
    }
  }
}

TEST_F(QueryEngineTest, RejectsBadInputNamingTheField) {
  EXPECT_EQ(Search(snapshot(), "money", 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Search(snapshot(), "money", kMaxK + 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Search(snapshot(), "", 5).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Search(snapshot(), "?!", 5).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Search(snapshot(), std::string(300, 'a'), 5).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Search(snapshot(), "caf\xC3", 5).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Search(snapshot(), "money", 5, -1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Search(snapshot(), "money", 5, kMaxK - 4).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Prototype(snapshot(), {}, 5).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto unknown = ResolveIds(
      snapshot(), {snapshot().track(0).id(), "0000000000000000000000"}, "track_ids");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("track_ids[1]"), std::string::npos);
  EXPECT_EQ(ResolveIds(snapshot(), {"short"}, "track_ids").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(QueryEngineTest, ACorruptSnapshotIsRefused) {
  std::string copy = *root_ + "/corrupt";
  std::filesystem::copy(*root_ + "/000001", copy);
  {
    std::fstream f(copy + "/audio.hnsw", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    char c;
    f.read(&c, 1);
    f.seekp(100);
    c = static_cast<char>(c ^ 0x01);
    f.write(&c, 1);
  }
  auto loaded = Snapshot::Load(copy);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  std::filesystem::resize_file(copy + "/tracks.binpb", 10);
  EXPECT_EQ(Snapshot::Load(copy).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(QueryEngineTest, LoadWithoutChecksumsStillChecksSizesAndFormat) {
  std::string copy = *root_ + "/unchecked";
  std::filesystem::copy(*root_ + "/000001", copy);
  auto loaded = Snapshot::Load(copy, /*verify_checksums=*/false);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ((*loaded)->size(), snapshot().size());
  for (int64_t i : {int64_t{0}, int64_t{777}, snapshot().size() - 1}) {
    EXPECT_EQ((*loaded)->track(i).SerializeAsString(),
              snapshot().track(i).SerializeAsString());
    EXPECT_EQ((*loaded)->representative(i), snapshot().representative(i));
    EXPECT_EQ((*loaded)->recommendable(i), snapshot().recommendable(i));
  }
  // Released (its exact blocks built) before its files change: a loaded snapshot reads
  // its indexes in place, from files that must stay as published.
  loaded = absl::CancelledError("released");
  {  // Same size, garbage inside: the table's own structure catches it.
    std::fstream f(copy + "/tracks.binpb",
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(0);
    const std::string garbage(16, '\xff');
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  EXPECT_EQ(Snapshot::Load(copy, false).status().code(), absl::StatusCode::kDataLoss);
  std::filesystem::resize_file(copy + "/audio.hnsw", 1000);
  EXPECT_EQ(Snapshot::Load(copy, false).status().code(), absl::StatusCode::kDataLoss);
}

// An index whose labels pass every size and checksum check but name a row beyond the
// track table (found by the snapshot fuzzer) is refused at load, never read out of
// bounds.
TEST_F(QueryEngineTest, LoadRefusesIndexLabelsBeyondTheTrackTable) {
  const std::string copy = *root_ + "/label_beyond";
  std::filesystem::copy(*root_ + "/000001", copy);
  const v1::IndexInfo& info = snapshot().manifest().recommend_index();
  const int dim = snapshot().audio_index().dim();
  auto index = AnnIndex::Create(dim, info.elements(), AnnParams{});
  ASSERT_TRUE(index.ok()) << index.status();
  std::vector<float> v(dim, 0.0f);
  for (int64_t i = 0; i < info.elements(); ++i) {
    v.assign(dim, 0.0f);
    v[i % dim] = 1.0f;
    const int64_t label = i + 1 < info.elements() ? i : snapshot().size();
    ASSERT_TRUE((*index)->Add(label, v.data()).ok());
  }
  ASSERT_TRUE((*index)->Save(copy + "/" + info.file()).ok());
  auto manifest = ReadManifest(copy);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  for (v1::SnapshotFile& f : *manifest->mutable_files()) {
    auto crc = FileCrc32(copy + "/" + f.name());
    ASSERT_TRUE(crc.ok()) << crc.status();
    f.set_crc32(crc->first);
    f.set_size_bytes(crc->second);
  }
  ASSERT_TRUE(
      WriteFileDurably(copy + "/" + kManifestFileName, manifest->SerializeAsString())
          .ok());
  auto loaded = Snapshot::Load(copy);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss) << loaded.status();
  EXPECT_NE(loaded.status().message().find("beyond"), std::string::npos)
      << loaded.status();
}

}  // namespace
}  // namespace cratedig::query
