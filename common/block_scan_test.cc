#include "common/block_scan.h"

#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace cratedig {
namespace {

constexpr int kDense = 8;
constexpr int kSparse = 12;
constexpr int kDim = kDense + kSparse;

// Vectors shaped like the recommendation index's: a dense block, then a one-hot block
// (0 to 3 "genres", each set at one weight) holding most of the length; a few vectors
// with no genre at all. Unit length.
std::vector<float> Row(std::mt19937* rng) {
  std::normal_distribution<float> normal;
  std::vector<float> v(kDim, 0.0f);
  for (int c = 0; c < kDense; ++c) v[c] = 0.3f * normal(*rng);
  const int genres = static_cast<int>((*rng)() % 4);
  for (int g = 0; g < genres; ++g) v[kDense + (*rng)() % kSparse] = 1.0f;
  NormalizeInPlace(&v);
  return v;
}

class BlockScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937 rng(11);
    const int n = 3000;
    auto index = AnnIndex::Create(kDim, n, AnnParams{});
    ASSERT_TRUE(index.ok()) << index.status();
    index_ = *std::move(index);
    for (int i = 0; i < n; ++i) {
      std::vector<float> row = Row(&rng);
      rows_.push_back(row);
      ASSERT_TRUE(index_->Add(1000 + i, row.data()).ok());
    }
    // Queries: stored vectors, means of unrelated ones (Recommend's centroid), and
    // arbitrary directions.
    for (int q = 0; q < 60; ++q) {
      std::vector<float> query(kDim, 0.0f);
      const int parts = q % 3 == 0 ? 1 : 2 + static_cast<int>(rng() % 8);
      for (int p = 0; p < parts; ++p) {
        const std::vector<float>& r = rows_[rng() % rows_.size()];
        for (int c = 0; c < kDim; ++c) query[c] += r[c];
      }
      if (q % 10 == 9) {
        std::normal_distribution<float> normal;
        for (float& x : query) x = normal(rng);
      }
      NormalizeInPlace(&query);
      queries_.push_back(query);
    }
  }

  void ExpectExact(const BlockScan& scan) {
    for (const std::vector<float>& query : queries_) {
      for (size_t k : {1, 10, 100, 5000}) {
        auto exact = index_->ScanExact(query.data(), static_cast<int>(k));
        ASSERT_TRUE(exact.ok()) << exact.status();
        const std::vector<Neighbor> got = scan.Search(query.data(), k, nullptr);
        ASSERT_EQ(got.size(), exact->size()) << k;
        for (size_t i = 0; i < got.size(); ++i) {
          EXPECT_EQ(got[i].label, (*exact)[i].label) << "k " << k << " rank " << i;
          EXPECT_EQ(got[i].distance, (*exact)[i].distance);
        }
      }
      auto odd = [](int64_t label) { return label % 2 == 1; };
      auto exact = index_->ScanExact(query.data(), 10, odd);
      ASSERT_TRUE(exact.ok()) << exact.status();
      const std::vector<Neighbor> got = scan.Search(query.data(), 10, odd);
      ASSERT_EQ(got.size(), exact->size());
      for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].label, (*exact)[i].label);
    }
  }

  std::unique_ptr<AnnIndex> index_;
  std::vector<std::vector<float>> rows_;
  std::vector<std::vector<float>> queries_;
};

// The answer is the exhaustive scan's, to the label and the distance, for every k (also
// past the index's size) and under a filter; reading far fewer vectors for a query near
// stored ones.
TEST_F(BlockScanTest, ExactAsTheFullScanAndReadsLittle) {
  const BlockScan scan = BlockScan::Build(*index_, kDense, kDim);
  EXPECT_GT(scan.groups(), 20u);
  EXPECT_GE(scan.blocks(), 3000 / BlockScan::kBlockSize);
  ExpectExact(scan);
  BlockScan::Stats stats;
  const std::vector<Neighbor> found = scan.Search(rows_[7].data(), 1, nullptr, &stats);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].label, 1007);
  EXPECT_LT(stats.vectors, 3000u / 4) << stats.blocks << " blocks read";
}

// Without sparse columns (a dense genre embedding) every column bounds as dense: still
// exact.
TEST_F(BlockScanTest, AllDenseIsStillExact) {
  ExpectExact(BlockScan::Build(*index_, 0, 0));
}

// Sparse parts that are not one direction per group (weights varying within a genre
// set) fall back to the Cauchy-Schwarz bound: still exact.
TEST_F(BlockScanTest, UnequalSparseWeightsAreStillExact) {
  std::mt19937 rng(5);
  auto index = AnnIndex::Create(kDim, 2000, AnnParams{});
  ASSERT_TRUE(index.ok()) << index.status();
  for (int i = 0; i < 2000; ++i) {
    std::vector<float> row = Row(&rng);
    for (int c = kDense; c < kDim; ++c)
      row[c] *= 0.5f + static_cast<float>(rng() % 100) / 100;
    NormalizeInPlace(&row);
    ASSERT_TRUE((*index)->Add(i, row.data()).ok());
  }
  index_ = *std::move(index);
  ExpectExact(BlockScan::Build(*index_, kDense, kDim));
}

TEST_F(BlockScanTest, EmptyIndexAndZeroK) {
  auto empty = AnnIndex::Create(kDim, 0, AnnParams{});
  ASSERT_TRUE(empty.ok());
  const BlockScan scan = BlockScan::Build(**empty, kDense, kDim);
  EXPECT_TRUE(scan.Search(queries_[0].data(), 10, nullptr).empty());
  EXPECT_TRUE(BlockScan::Build(*index_, kDense, kDim)
                  .Search(queries_[0].data(), 0, nullptr)
                  .empty());
}

}  // namespace
}  // namespace cratedig
