#include "common/ann.h"

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cratedig {
namespace {

constexpr int kDim = 32;
constexpr int kRows = 2000;

std::vector<float> RandomUnitRows(int rows, int dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> out;
  for (int r = 0; r < rows; ++r) {
    std::vector<float> v(dim);
    for (float& x : v) x = normal(rng);
    NormalizeInPlace(&v);
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

std::vector<int64_t> Iota(int n) {
  std::vector<int64_t> labels(n);
  for (int i = 0; i < n; ++i) labels[i] = i;
  return labels;
}

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("ann_test_" + std::to_string(getpid()) + "_" + name))
      .string();
}

std::vector<int64_t> Labels(const std::vector<Neighbor>& neighbors) {
  std::vector<int64_t> out;
  for (const Neighbor& n : neighbors) out.push_back(n.label);
  return out;
}

class AnnTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rows_ = new std::vector<float>(RandomUnitRows(kRows, kDim, 42));
    queries_ = new std::vector<float>(RandomUnitRows(100, kDim, 7));
    auto index = AnnIndex::Create(kDim, kRows, AnnParams{});
    ASSERT_TRUE(index.ok()) << index.status();
    ASSERT_TRUE((*index)->AddParallel(Iota(kRows), *rows_, 2).ok());
    index_ = index->release();
  }
  static void TearDownTestSuite() {
    delete index_;
    delete rows_;
    delete queries_;
  }
  static const float* Query(int i) { return queries_->data() + i * kDim; }
  static std::vector<Neighbor> SearchOk(const AnnIndex& index, const float* q, int k,
                                        int ef, const LabelFilter& filter = nullptr) {
    absl::StatusOr<std::vector<Neighbor>> found = index.Search(q, k, ef, filter);
    EXPECT_TRUE(found.ok()) << found.status();
    return found.ok() ? *found : std::vector<Neighbor>();
  }

  static std::vector<float>* rows_;
  static std::vector<float>* queries_;
  static AnnIndex* index_;
};

std::vector<float>* AnnTest::rows_ = nullptr;
std::vector<float>* AnnTest::queries_ = nullptr;
AnnIndex* AnnTest::index_ = nullptr;

TEST_F(AnnTest, RecallAgainstExactSearch) {
  ASSERT_EQ(index_->size(), kRows);
  int hits = 0;
  for (int q = 0; q < 100; ++q) {
    const std::vector<Neighbor> exact = ExactSearch(Query(q), *rows_, kDim, 10);
    const std::vector<Neighbor> approx = SearchOk(*index_, Query(q), 10, 200);
    ASSERT_EQ(approx.size(), 10u);
    std::set<int64_t> truth;
    for (const Neighbor& n : exact) truth.insert(n.label);
    for (const Neighbor& n : approx) hits += truth.count(n.label);
    for (size_t i = 1; i < approx.size(); ++i) {
      EXPECT_LE(approx[i - 1].distance, approx[i].distance);
    }
  }
  EXPECT_GE(hits / 1000.0, 0.99);
}

// A search also started from the query's exact nearest (its seed) finds it even with a
// beam of one, where the search from the entry point alone often stops short. Seeds
// that are not labels of the index are ignored; a seed the filter rejects is not
// returned.
TEST_F(AnnTest, SeededSearchStartsFromTheSeeds) {
  int unseeded_hits = 0;
  for (int q = 0; q < 100; ++q) {
    const std::vector<Neighbor> exact = ExactSearch(Query(q), *rows_, kDim, 1);
    ASSERT_EQ(exact.size(), 1u);
    const std::vector<int64_t> seed = {exact[0].label};
    auto seeded = index_->Search(Query(q), 1, 1, nullptr, seed);
    ASSERT_TRUE(seeded.ok()) << seeded.status();
    ASSERT_EQ(seeded->size(), 1u);
    EXPECT_EQ((*seeded)[0].label, exact[0].label) << q;
    unseeded_hits += SearchOk(*index_, Query(q), 1, 1)[0].label == exact[0].label;
    auto rejected = index_->Search(
        Query(q), 1, 1, [&](int64_t label) { return label != exact[0].label; }, seed);
    ASSERT_TRUE(rejected.ok()) << rejected.status();
    ASSERT_EQ(rejected->size(), 1u);
    EXPECT_NE((*rejected)[0].label, exact[0].label);
  }
  EXPECT_LT(unseeded_hits, 90);  // without the seed, the beam of one misses
  const std::vector<int64_t> strangers = {-1, kRows + 5};
  auto ignored = index_->Search(Query(0), 10, 50, nullptr, strangers);
  ASSERT_TRUE(ignored.ok()) << ignored.status();
  EXPECT_EQ(Labels(*ignored), Labels(SearchOk(*index_, Query(0), 10, 50)));
}

TEST_F(AnnTest, DistanceIsOneMinusDot) {
  const std::vector<Neighbor> found = SearchOk(*index_, rows_->data() + 5 * kDim, 1, 50);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].label, 5);
  EXPECT_NEAR(found[0].distance, 0.0f, 1e-5);
}

TEST_F(AnnTest, KLargerThanEfAndIndex) {
  EXPECT_EQ(SearchOk(*index_, Query(0), 300, 10).size(), 300u);
  EXPECT_TRUE(SearchOk(*index_, Query(0), 0, 10).empty());
  EXPECT_FALSE(index_->Search(Query(0), -1, 10).ok());
}

TEST_F(AnnTest, SaveLoadRoundTrip) {
  const std::string path = TempPath("roundtrip.hnsw");
  ASSERT_TRUE(index_->Save(path).ok());
  absl::StatusOr<std::unique_ptr<AnnIndex>> loaded = AnnIndex::Load(path, kDim);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->size(), kRows);
  EXPECT_EQ((*loaded)->dim(), kDim);
  for (int q = 0; q < 100; ++q) {
    const std::vector<Neighbor> before = SearchOk(*index_, Query(q), 10, 64);
    const std::vector<Neighbor> after = SearchOk(**loaded, Query(q), 10, 64);
    ASSERT_EQ(Labels(before), Labels(after)) << q;
    for (size_t i = 0; i < before.size(); ++i) {
      EXPECT_EQ(before[i].distance, after[i].distance);
    }
  }
  std::filesystem::remove(path);
}

// A loaded index finds each label's vector the same way whether its labels are dense
// (a flat table) or sparse (hnswlib's map), misses absent labels, and takes no Add.
TEST(AnnLoadTest, LoadedIndexFindsEveryLabel) {
  constexpr int kN = 300, kSmallDim = 8;
  const std::vector<float> rows = RandomUnitRows(kN, kSmallDim, 5);
  for (int64_t stride : {1, 3, 100000}) {
    SCOPED_TRACE(stride);
    std::vector<int64_t> labels(kN);
    for (int i = 0; i < kN; ++i) labels[i] = int64_t{kN - 1 - i} * stride + 2;
    auto index = AnnIndex::Create(kSmallDim, kN, AnnParams{});
    ASSERT_TRUE(index.ok()) << index.status();
    ASSERT_TRUE((*index)->AddParallel(labels, rows, 2).ok());
    const std::string path = TempPath("labels.hnsw");
    ASSERT_TRUE((*index)->Save(path).ok());
    auto loaded = AnnIndex::Load(path, kSmallDim);
    std::filesystem::remove(path);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    const AnnIndex& l = **loaded;
    for (int i = 0; i < kN; ++i) {
      const float* row = rows.data() + i * kSmallDim;
      absl::StatusOr<std::vector<float>> v = l.Vector(labels[i]);
      ASSERT_TRUE(v.ok()) << labels[i];
      EXPECT_EQ(*v, std::vector<float>(row, row + kSmallDim));
      ASSERT_GE(l.StoredIndex(labels[i]), 0);
      EXPECT_EQ(l.StoredLabel(l.StoredIndex(labels[i])), labels[i]);
      absl::StatusOr<float> d = l.Distance(labels[i], row);
      ASSERT_TRUE(d.ok());
      EXPECT_NEAR(*d, 0.0f, 1e-5);
    }
    for (int64_t absent : {int64_t{-1}, int64_t{0}, int64_t{1}, int64_t{kN} * stride + 3,
                           int64_t{1} << 40}) {
      EXPECT_EQ(l.StoredIndex(absent), -1) << absent;
      EXPECT_EQ(l.Vector(absent).status().code(), absl::StatusCode::kNotFound);
      EXPECT_EQ(l.Distance(absent, rows.data()).status().code(),
                absl::StatusCode::kNotFound);
    }
    // Seeds by label reach the search.
    absl::StatusOr<std::vector<Neighbor>> found =
        l.Search(rows.data(), 1, 16, nullptr, {labels[0]});
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(found->front().label, labels[0]);
    EXPECT_EQ((*loaded)->Add(7, rows.data()).code(),
              absl::StatusCode::kFailedPrecondition);
  }
}

TEST_F(AnnTest, LoadRejectsWrongDimension) {
  const std::string path = TempPath("dim.hnsw");
  ASSERT_TRUE(index_->Save(path).ok());
  absl::StatusOr<std::unique_ptr<AnnIndex>> loaded = AnnIndex::Load(path, kDim + 1);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  std::filesystem::remove(path);
}

TEST_F(AnnTest, LoadTruncatedFileIsAnError) {
  const std::string path = TempPath("truncated.hnsw");
  ASSERT_TRUE(index_->Save(path).ok());
  const auto full = std::filesystem::file_size(path);
  for (uintmax_t size :
       {full - 1, full / 2, uintmax_t{200}, uintmax_t{50}, uintmax_t{0}}) {
    ASSERT_TRUE(index_->Save(path).ok());
    std::filesystem::resize_file(path, size);
    absl::StatusOr<std::unique_ptr<AnnIndex>> loaded = AnnIndex::Load(path, kDim);
    ASSERT_FALSE(loaded.ok()) << size;
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss) << loaded.status();
  }
  std::filesystem::remove(path);
}

TEST_F(AnnTest, LoadGarbageIsAnError) {
  const std::string path = TempPath("garbage.hnsw");
  {
    std::ofstream out(path, std::ios::binary);
    std::mt19937 rng(1);
    for (int i = 0; i < 100000; ++i) out.put(static_cast<char>(rng()));
  }
  EXPECT_EQ(AnnIndex::Load(path, kDim).status().code(), absl::StatusCode::kDataLoss);
  std::filesystem::remove(path);
}

TEST(AnnLoadTest, CorruptedBytesNeverCrash) {
#if defined(__SANITIZE_THREAD__)
  // A memory-safety test (run it under ASan). Under TSan its hundreds of short-lived
  // indexes reuse the addresses of std::mutex objects TSan never sees destroyed, and its
  // deadlock detector reports lock cycles between unrelated mutexes of one thread.
  GTEST_SKIP() << "not meaningful under ThreadSanitizer";
#endif
  constexpr int kSmallDim = 8;
  auto index = AnnIndex::Create(kSmallDim, 300, AnnParams{});
  ASSERT_TRUE(index.ok());
  const std::vector<float> rows = RandomUnitRows(300, kSmallDim, 3);
  ASSERT_TRUE((*index)->AddParallel(Iota(300), rows, 1).ok());
  const std::string path = TempPath("corrupt.hnsw");
  ASSERT_TRUE((*index)->Save(path).ok());
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::mt19937 rng(11);
  // The header and the start of the data, where a bad byte matters most, then anywhere.
  for (int trial = 0; trial < 400; ++trial) {
    std::string damaged = bytes;
    const size_t span =
        trial < 200 ? std::min<size_t>(400, damaged.size()) : damaged.size();
    damaged[rng() % span] ^= static_cast<char>(1 + rng() % 255);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << damaged;
    absl::StatusOr<std::unique_ptr<AnnIndex>> loaded = AnnIndex::Load(path, kSmallDim);
    if (!loaded.ok()) {
      EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
      continue;
    }
    // A damage hnswlib cannot see (a vector value, a label) still searches safely.
    EXPECT_TRUE((*loaded)->Search(rows.data(), 5, 20).ok());
  }
  std::filesystem::remove(path);
}

TEST(AnnLoadTest, MissingFileIsNotFound) {
  absl::StatusOr<std::unique_ptr<AnnIndex>> loaded =
      AnnIndex::Load("/nonexistent/dir/index.hnsw", kDim);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kNotFound);
}

TEST(AnnSaveTest, UnwritablePathIsAnError) {
  auto index = AnnIndex::Create(4, 1, AnnParams{});
  ASSERT_TRUE(index.ok());
  EXPECT_FALSE((*index)->Save("/nonexistent/dir/index.hnsw").ok());
}

TEST_F(AnnTest, FilterStillReturnsK) {
  // Keep one label in 50: the nearest unfiltered results are almost all rejected.
  const LabelFilter keep = [](int64_t label) { return label % 50 == 3; };
  for (int q = 0; q < 20; ++q) {
    const std::vector<Neighbor> found = SearchOk(*index_, Query(q), 10, 20, keep);
    ASSERT_EQ(found.size(), 10u);
    for (const Neighbor& n : found) EXPECT_EQ(n.label % 50, 3);
    const std::vector<Neighbor> exact = ExactSearch(Query(q), *rows_, kDim, 10, keep);
    EXPECT_EQ(Labels(found), Labels(exact));
  }
}

TEST_F(AnnTest, FilterRejectingAlmostEverything) {
  const LabelFilter keep = [](int64_t label) { return label == 1234 || label == 7; };
  const std::vector<Neighbor> found = SearchOk(*index_, Query(0), 10, 10, keep);
  std::set<int64_t> labels;
  for (const Neighbor& n : found) labels.insert(n.label);
  EXPECT_EQ(labels, (std::set<int64_t>{7, 1234}));
}

TEST_F(AnnTest, FilterKeepingMostMatchesUnfiltered) {
  const LabelFilter keep = [](int64_t label) { return label % 10 != 0; };
  const std::vector<Neighbor> found = SearchOk(*index_, Query(3), 10, 200, keep);
  ASSERT_EQ(found.size(), 10u);
  EXPECT_EQ(Labels(found), Labels(ExactSearch(Query(3), *rows_, kDim, 10, keep)));
}

TEST_F(AnnTest, ConcurrentSearchesAgree) {
  std::vector<std::vector<int64_t>> expected;
  for (int q = 0; q < 100; ++q)
    expected.push_back(Labels(SearchOk(*index_, Query(q), 10, 50)));
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        for (int q = 0; q < 100; ++q) {
          auto found = index_->Search(Query(q), 10, 50);
          if (!found.ok() || Labels(*found) != expected[q]) ++mismatches[t];
          // Odd threads also search wider and filtered: the breadth is per call and must
          // not leak into the other threads' searches.
          if (t % 2 == 1) {
            auto wide =
                index_->Search(Query(q), 10, 300, [](int64_t l) { return l % 3 != 0; });
            if (!wide.ok() || wide->size() != 10) ++mismatches[t];
          }
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_THAT(mismatches, ::testing::ElementsAre(0, 0, 0, 0));
}

TEST(AnnIndexTest, AddValidates) {
  auto index = AnnIndex::Create(4, 2, AnnParams{});
  ASSERT_TRUE(index.ok());
  const float v[4] = {1, 0, 0, 0};
  EXPECT_TRUE((*index)->Add(1, v).ok());
  EXPECT_EQ((*index)->Add(1, v).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*index)->Add(-1, v).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE((*index)->Add(2, v).ok());
  EXPECT_EQ((*index)->Add(3, v).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*index)->size(), 2);
  EXPECT_FALSE((*index)->AddParallel({5}, {1, 2, 3}, 2).ok());
  EXPECT_FALSE(AnnIndex::Create(0, 10, AnnParams{}).ok());
}

TEST(AnnIndexTest, EmptyIndex) {
  auto index = AnnIndex::Create(4, 0, AnnParams{});
  ASSERT_TRUE(index.ok());
  const float q[4] = {1, 0, 0, 0};
  auto found = (*index)->Search(q, 5, 10);
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found->empty());
  const std::string path = TempPath("empty.hnsw");
  ASSERT_TRUE((*index)->Save(path).ok());
  auto loaded = AnnIndex::Load(path, 4);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->size(), 0);
  std::filesystem::remove(path);
}

TEST(ExactSearchTest, OrdersByDistanceThenLabel) {
  const std::vector<float> rows = {1, 0, 0, 1, 1, 0, -1, 0};
  const float q[2] = {1, 0};
  const std::vector<Neighbor> found = ExactSearch(q, rows, 2, 3);
  EXPECT_THAT(Labels(found), ::testing::ElementsAre(0, 2, 1));
  const std::vector<int64_t> labels = {40, 30, 20, 10};
  EXPECT_THAT(Labels(ExactSearch(q, rows, 2, 2, nullptr, &labels)),
              ::testing::ElementsAre(20, 40));
  EXPECT_THAT(Labels(ExactSearch(q, rows, 2, 10, [](int64_t l) { return l != 0; })),
              ::testing::ElementsAre(2, 1, 3));
}

TEST(NormalizeInPlaceTest, UnitAndZero) {
  std::vector<float> v = {3, 4};
  EXPECT_TRUE(NormalizeInPlace(&v));
  EXPECT_FLOAT_EQ(v[0], 0.6f);
  EXPECT_FLOAT_EQ(v[1], 0.8f);
  std::vector<float> zero = {0, 0, 0};
  EXPECT_FALSE(NormalizeInPlace(&zero));
  EXPECT_EQ(zero, std::vector<float>(3, 0.0f));
}

// The index's distance (a SIMD kernel chosen for this CPU) agrees with the exact double
// dot product for widths that are and are not multiples of the vector unit.
TEST(AnnIndexTest, DistanceMatchesExactForEveryWidth) {
  for (int dim : {1, 3, 7, 8, 15, 16, 17, 33, 92, 256, 301}) {
    SCOPED_TRACE(dim);
    const std::vector<float> rows = RandomUnitRows(50, dim, 7 + dim);
    auto index = AnnIndex::Create(dim, 50, AnnParams{});
    ASSERT_TRUE(index.ok());
    ASSERT_TRUE((*index)->AddParallel(Iota(50), rows, 1).ok());
    const std::vector<float> query = RandomUnitRows(1, dim, 99);
    auto scanned = (*index)->ScanExact(query.data(), 50);
    ASSERT_TRUE(scanned.ok());
    const std::vector<Neighbor> exact = ExactSearch(query.data(), rows, dim, 50);
    ASSERT_EQ(scanned->size(), exact.size());
    for (size_t i = 0; i < exact.size(); ++i) {
      EXPECT_NEAR((*scanned)[i].distance, exact[i].distance, 2e-6);
    }
  }
}

}  // namespace
}  // namespace cratedig
