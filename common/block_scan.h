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
//   dense part:  q_d . centre + |q_d| * radius, or the sum over dense columns of
//                max(q_c * lo_c, q_c * hi_c) over the block's box if smaller.
// Search reads the blocks best bound first and stops once no bound can beat the k-th
// distance found, so it returns what an exhaustive scan returns.

#include <array>
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
  /// Built on up to `threads` threads (two at most are used).
  static BlockScan Build(const AnnIndex& index, int sparse_begin, int sparse_end,
                         int threads = 2);

  struct Stats {
    size_t blocks = 0;   // blocks read
    size_t vectors = 0;  // vectors whose distance was computed (filtered or not)
    size_t groups = 0;   // groups sharing a sparse column with the query
    size_t bounded = 0;  // blocks of those groups, each bounded
  };
  /// The exact k nearest vectors the filter accepts: distance 1 - dot as the index
  /// computes it, nearest first, ties by label (AnnIndex::ScanExact's answer). The
  /// filter is asked only about vectors near enough to be kept. Thread-safe.
  std::vector<Neighbor> Search(const float* query, size_t k, const LabelFilter& filter,
                               Stats* stats = nullptr) const;

  size_t blocks() const { return radius_.size(); }
  size_t groups() const { return group_parallel_.size(); }

 private:
  // Every vector while the groups are cut into blocks: dense part (row by row), the
  // lengths of the two parts, and internal id.
  struct Rows {
    std::vector<float> dense;
    std::vector<double> sparse_length, dense_length;
    std::vector<uint32_t> id;
  };
  // Cuts the vectors order[begin, end) (rows of `m`, of one group) into blocks, appended
  // to the block arrays.
  void Split(const Rows& m, std::vector<uint32_t>* order, size_t begin, size_t end,
             uint32_t group);
  // Appends `other`'s blocks (made by Split on the same index) after this one's.
  void Append(BlockScan&& other);
  // The tree over blocks order[begin, end) (not empty): returns its root.
  uint32_t Grow(std::vector<uint32_t>* order, size_t begin, size_t end);

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
  std::vector<float> box_;  // per block: the dense columns' least values, then largest
  std::vector<float> sparse_norm_;
  std::vector<float> dense_length_;  // largest |x_d|
  // Per group, its blocks group_blocks_[g], ..., group_blocks_[g + 1] - 1; the largest
  // sparse length of any block.
  std::vector<uint32_t> group_blocks_;
  float max_sparse_norm_ = 0;
  // A binary tree of balls over the blocks' dense parts (centre and radius), for the
  // blocks a query shares no sparse column with. A child is a block b, or kNode | n for
  // node n. root_: kNone when there is no block.
  static constexpr uint32_t kNode = uint32_t{1} << 31;
  static constexpr uint32_t kNone = ~uint32_t{0};
  std::vector<float> node_centre_;
  std::vector<float> node_radius_;
  std::vector<float> node_box_;  // as box_, the union of the blocks' boxes below
  std::vector<std::array<uint32_t, 2>> node_children_;
  uint32_t root_ = kNone;
  // Per vector, in block order: internal id, label, dense part and sparse length. A
  // vector of a parallel group is its sparse length times the group's direction plus its
  // dense part, so a search reads these (a tenth of the index's row with one-hot genres)
  // instead of the index's scattered rows. rows_ holds each block's dense parts column
  // by column: block b's column c is rows_[nd * begin_[b] + c * size(b) + i] for its
  // vector i (nd: dense_columns_.size()).
  std::vector<uint32_t> ids_;
  std::vector<int64_t> labels_;
  std::vector<float> rows_;
  std::vector<float> sparse_length_;
};

}  // namespace cratedig
