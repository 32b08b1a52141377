#pragma once

// BlockScan: the exact nearest vectors of an AnnIndex, found by reading only the blocks
// of vectors that could hold one. hnswlib's graph walks badly to queries far from every
// stored vector (the mean of unrelated tracks: see docs/recommend-quality.md); this
// answers them exactly, in about the graph's time for most queries.
//
// The vectors are grouped by which of the sparse columns (a one-hot genre block) are not
// zero: a group is a genre set. Each group is cut into blocks of at most kBlockSize by
// halving it, again and again, along its principal axis in the dense columns. A block
// bounds the inner product of a query q with any vector x it holds by
//   sparse part: max |x_s| * max(0, q_s . u) when every vector of the group has the same
//                sparse direction u (true of one-hot genres), else |q_s| * max |x_s|;
//   dense part:  q_d . centre + |q_d| * radius.
// Search reads the blocks best bound first and stops once no bound can beat the k-th
// distance found, so it returns what an exhaustive scan returns.

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "common/ann.h"

namespace cratedig {

class BlockScan {
 public:
  static constexpr size_t kBlockSize = 64;

  /// Blocks over every vector of `index`, which must outlive the BlockScan and not
  /// change. Columns [sparse_begin, sparse_end) are the sparse ones (an empty range:
  /// every column is dense, one group).
  static BlockScan Build(const AnnIndex& index, int sparse_begin, int sparse_end);

  struct Stats {
    size_t blocks = 0;   // blocks read
    size_t vectors = 0;  // vectors whose distance was computed
  };
  /// The exact k nearest vectors the filter accepts: distance 1 - dot as the index
  /// computes it, nearest first, ties by label (AnnIndex::ScanExact's answer).
  /// Thread-safe.
  std::vector<Neighbor> Search(const float* query, size_t k, const LabelFilter& filter,
                               Stats* stats = nullptr) const;

  size_t blocks() const { return radius_.size(); }
  size_t groups() const { return group_parallel_.size(); }

 private:
  // One group's vectors while it is cut into blocks: internal ids, dense parts (row by
  // row) and the lengths of the two parts.
  struct Members {
    std::vector<uint32_t> ids;
    std::vector<float> dense;
    std::vector<double> sparse_length, dense_length;
  };
  // Cuts members order[begin, end) into blocks (appended to the block arrays).
  void Split(const Members& m, std::vector<uint32_t>* order, size_t begin, size_t end,
             uint32_t group);

  const AnnIndex* index_ = nullptr;
  int dim_ = 0;
  int sparse_begin_ = 0, sparse_end_ = 0;
  std::vector<int> dense_columns_;
  // Per group: whether its vectors share one sparse direction; and, per sparse column,
  // the groups with a non-zero there and the direction's weight in it.
  std::vector<bool> group_parallel_;
  std::vector<uint32_t> unparallel_groups_;
  std::vector<std::vector<std::pair<uint32_t, float>>> column_groups_;
  // Per block: its group, its vectors ids_[begin_[b], begin_[b + 1]) (internal ids),
  // the dense centre (dense_columns_ wide), radius, and largest sparse and dense lengths.
  std::vector<uint32_t> block_group_;
  std::vector<uint32_t> begin_{0};
  std::vector<float> centre_;
  std::vector<float> radius_;
  std::vector<float> sparse_norm_;
  std::vector<float> dense_length_;  // largest |x_d|
  // Per vector, in block order: internal id, label, dense part (dense_columns_ wide) and
  // sparse length. A vector of a parallel group is its sparse length times the group's
  // direction plus its dense part, so a search reads these contiguous rows (a tenth of
  // the index's row with one-hot genres) instead of the index's scattered ones.
  std::vector<uint32_t> ids_;
  std::vector<int64_t> labels_;
  std::vector<float> rows_;
  std::vector<float> sparse_length_;
};

}  // namespace cratedig
