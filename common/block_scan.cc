#include "common/block_scan.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <string>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_map.h"

namespace cratedig {
namespace {

// Bounds are computed in float from stored block statistics; a block is skipped only
// when its bound misses the k-th distance by more than this.
constexpr float kSlack = 1e-4f;
// A group's vectors share its sparse direction when each one's sparse part projects onto
// it to within this of its own length.
constexpr double kParallel = 1e-4;
// Blocks read in the first round of a search (see Search).
constexpr size_t kFirstBlocks = 32;
// How far a distance from the compact rows may be from the index's own (both in float,
// summed in other orders): far below kSlack, so that pruning stays safe.
constexpr float kRounding = 2e-5f;

// The mean of the points order[begin, end) (not empty); row(i) is point i, nd floats.
template <typename Row>
std::vector<double> Mean(Row row, size_t nd, const std::vector<uint32_t>& order,
                         size_t begin, size_t end) {
  std::vector<double> mean(nd, 0.0);
  for (size_t i = begin; i < end; ++i) {
    const float* x = row(order[i]);
    for (size_t c = 0; c < nd; ++c) mean[c] += x[c];
  }
  for (double& v : mean) v /= static_cast<double>(end - begin);
  return mean;
}

// Reorders order[begin, end) so that its first half (up to the returned middle) lies
// below the median along the points' principal axis, found by power iteration from the
// point farthest from `centre` (their mean). row(i) is point i, nd floats.
template <typename Row>
size_t HalveAlongPrincipalAxis(Row row, size_t nd, const std::vector<double>& centre,
                               std::vector<uint32_t>* order, size_t begin, size_t end) {
  std::vector<double> axis(nd, 0.0);
  double farthest = -1;
  for (size_t i = begin; i < end; ++i) {
    const float* x = row((*order)[i]);
    double r = 0;
    for (size_t c = 0; c < nd; ++c) r += (x[c] - centre[c]) * (x[c] - centre[c]);
    if (r > farthest) {
      farthest = r;
      for (size_t c = 0; c < nd; ++c) axis[c] = x[c] - centre[c];
    }
  }
  for (int round = 0; round < 3; ++round) {
    std::vector<double> next(nd, 0.0);
    for (size_t i = begin; i < end; ++i) {
      const float* x = row((*order)[i]);
      double p = 0;
      for (size_t c = 0; c < nd; ++c) p += (x[c] - centre[c]) * axis[c];
      for (size_t c = 0; c < nd; ++c) next[c] += p * (x[c] - centre[c]);
    }
    double norm = 0;
    for (double v : next) norm += v * v;
    if (norm <= 0) break;
    norm = std::sqrt(norm);
    for (size_t c = 0; c < nd; ++c) axis[c] = next[c] / norm;
  }
  std::vector<std::pair<double, uint32_t>> along;
  along.reserve(end - begin);
  for (size_t i = begin; i < end; ++i) {
    const float* x = row((*order)[i]);
    double p = 0;
    for (size_t c = 0; c < nd; ++c) p += x[c] * axis[c];
    along.emplace_back(p, (*order)[i]);
  }
  const size_t middle = begin + (end - begin) / 2;
  std::nth_element(along.begin(), along.begin() + (middle - begin), along.end());
  for (size_t i = begin; i < end; ++i) (*order)[i] = along[i - begin].second;
  return middle;
}

}  // namespace

BlockScan BlockScan::Build(const AnnIndex& index, int sparse_begin, int sparse_end,
                           int threads) {
  BlockScan s;
  s.index_ = &index;
  s.dim_ = index.dim();
  s.sparse_begin_ = std::clamp(sparse_begin, 0, s.dim_);
  s.sparse_end_ = std::clamp(sparse_end, s.sparse_begin_, s.dim_);
  for (int c = 0; c < s.dim_; ++c) {
    if (c < s.sparse_begin_ || c >= s.sparse_end_) s.dense_columns_.push_back(c);
  }
  const int sparse_width = s.sparse_end_ - s.sparse_begin_;
  s.column_groups_.resize(sparse_width);
  const auto n = static_cast<uint32_t>(index.size());
  const size_t nd = s.dense_columns_.size();

  // One pass over the index's rows (wide and scattered): each vector's group (the set of
  // its non-zero sparse columns), dense part and lengths; and whether each group's
  // vectors share its first vector's sparse direction.
  Rows rows;
  rows.dense.resize(size_t{n} * nd);
  rows.sparse_length.resize(n);
  rows.dense_length.resize(n);
  std::vector<uint32_t> group_of(n);
  std::vector<uint32_t> first;  // per group: its first vector
  absl::flat_hash_map<std::string, uint32_t> group_of_key;
  std::string key(static_cast<size_t>((sparse_width + 7) / 8), '\0');
  for (uint32_t i = 0; i < n; ++i) {
    const float* row = index.StoredVector(i);
    std::fill(key.begin(), key.end(), '\0');
    double sparse = 0, dense = 0;
    for (int c = 0; c < sparse_width; ++c) {
      const float x = row[s.sparse_begin_ + c];
      if (x != 0.0f) key[c / 8] |= static_cast<char>(1 << (c % 8));
      sparse += double(x) * x;
    }
    float* out = rows.dense.data() + size_t{i} * nd;
    for (size_t c = 0; c < nd; ++c) {
      out[c] = row[s.dense_columns_[c]];
      dense += double(out[c]) * out[c];
    }
    rows.sparse_length[i] = std::sqrt(sparse);
    rows.dense_length[i] = std::sqrt(dense);
    auto [it, fresh] = group_of_key.try_emplace(key, static_cast<uint32_t>(first.size()));
    const uint32_t g = it->second;
    group_of[i] = g;
    if (fresh) {
      first.push_back(i);
      s.group_parallel_.push_back(true);
      continue;
    }
    const double norm = rows.sparse_length[first[g]];
    if (!s.group_parallel_[g] || norm <= 0) continue;
    const float* u = index.StoredVector(first[g]) + s.sparse_begin_;
    double along = 0;
    for (int c = 0; c < sparse_width; ++c)
      along += double(row[s.sparse_begin_ + c]) * u[c];
    if (std::fabs(along / norm - rows.sparse_length[i]) > kParallel) {
      s.group_parallel_[g] = false;
    }
  }
  const auto groups = static_cast<uint32_t>(first.size());
  for (uint32_t g = 0; g < groups; ++g) {
    const double norm = rows.sparse_length[first[g]];
    if (!s.group_parallel_[g]) {
      s.unparallel_groups_.push_back(g);
    } else if (norm > 0) {
      const float* u = index.StoredVector(first[g]) + s.sparse_begin_;
      for (int c = 0; c < sparse_width; ++c) {
        if (u[c] != 0.0f) {
          s.column_groups_[c].emplace_back(g, static_cast<float>(u[c] / norm));
        }
      }
    }
  }

  // The vectors by group (ascending within one), then each group cut into blocks: the
  // groups in two halves by vectors, on two threads, the halves' blocks joined in order.
  std::vector<uint32_t> group_begin(groups + 1, 0);
  for (uint32_t g : group_of) ++group_begin[g + 1];
  std::partial_sum(group_begin.begin(), group_begin.end(), group_begin.begin());
  // Rows in that order, so that a group's vectors are contiguous while it is cut (the
  // halving reads them again and again).
  std::vector<uint32_t> id_at(n);
  {
    std::vector<uint32_t> next(group_begin.begin(), group_begin.end() - 1);
    for (uint32_t i = 0; i < n; ++i) id_at[next[group_of[i]]++] = i;
  }
  {
    Rows sorted;
    sorted.dense.resize(rows.dense.size());
    sorted.sparse_length.resize(n);
    sorted.dense_length.resize(n);
    for (uint32_t at = 0; at < n; ++at) {
      const uint32_t i = id_at[at];
      std::copy_n(rows.dense.data() + size_t{i} * nd, nd,
                  sorted.dense.data() + size_t{at} * nd);
      sorted.sparse_length[at] = rows.sparse_length[i];
      sorted.dense_length[at] = rows.dense_length[i];
    }
    sorted.id = std::move(id_at);
    rows = std::move(sorted);
  }
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  const int parts = std::clamp(threads, 1, 2);
  uint32_t middle = groups;  // the first group of the second part
  if (parts == 2) {
    middle = static_cast<uint32_t>(
        std::lower_bound(group_begin.begin(), group_begin.end(), n / 2) -
        group_begin.begin());
    middle = std::min(middle, groups);
  }
  BlockScan second;
  second.index_ = s.index_;
  second.dense_columns_ = s.dense_columns_;
  auto split = [&](BlockScan* into, uint32_t from, uint32_t to) {
    for (uint32_t g = from; g < to; ++g) {
      into->Split(rows, &order, group_begin[g], group_begin[g + 1], g);
    }
  };
  if (parts == 2 && middle < groups) {
    std::thread other([&] { split(&second, middle, groups); });
    split(&s, 0, middle);
    other.join();
    s.Append(std::move(second));
  } else {
    split(&s, 0, groups);
  }
  s.group_blocks_.assign(groups + 1, 0);
  for (uint32_t g : s.block_group_) ++s.group_blocks_[g + 1];
  std::partial_sum(s.group_blocks_.begin(), s.group_blocks_.end(),
                   s.group_blocks_.begin());
  for (float v : s.sparse_norm_) s.max_sparse_norm_ = std::max(s.max_sparse_norm_, v);
  std::vector<uint32_t> all(s.radius_.size());
  std::iota(all.begin(), all.end(), 0u);
  if (!all.empty()) s.root_ = s.Grow(&all, 0, all.size());
  return s;
}

uint32_t BlockScan::Grow(std::vector<uint32_t>* order, size_t begin, size_t end) {
  if (end - begin == 1) return (*order)[begin];
  const size_t nd = dense_columns_.size();
  auto centre_of = [&](uint32_t b) { return centre_.data() + size_t{b} * nd; };
  const std::vector<double> centre = Mean(centre_of, nd, *order, begin, end);
  double radius = 0;
  for (size_t i = begin; i < end; ++i) {
    const uint32_t b = (*order)[i];
    const float* x = centre_of(b);
    double r = 0;
    for (size_t c = 0; c < nd; ++c) r += (x[c] - centre[c]) * (x[c] - centre[c]);
    radius = std::max(radius, std::sqrt(r) + radius_[b]);
  }
  const auto node = static_cast<uint32_t>(node_radius_.size());
  for (double v : centre) node_centre_.push_back(static_cast<float>(v));
  const size_t at = node_box_.size();
  node_box_.insert(node_box_.end(), box_.begin() + 2 * nd * (*order)[begin],
                   box_.begin() + 2 * nd * ((*order)[begin] + 1));
  for (size_t i = begin + 1; i < end; ++i) {
    const float* box = box_.data() + 2 * nd * (*order)[i];
    for (size_t c = 0; c < nd; ++c) {
      node_box_[at + c] = std::min(node_box_[at + c], box[c]);
      node_box_[at + nd + c] = std::max(node_box_[at + nd + c], box[nd + c]);
    }
  }
  node_radius_.push_back(static_cast<float>(radius * (1 + 1e-6)) + 1e-6f);  // rounded up
  node_children_.emplace_back();
  const size_t middle = HalveAlongPrincipalAxis(centre_of, nd, centre, order, begin, end);
  const uint32_t left = Grow(order, begin, middle);
  const uint32_t right = Grow(order, middle, end);
  node_children_[node] = {left, right};
  return kNode | node;
}

void BlockScan::Append(BlockScan&& other) {
  const auto offset = static_cast<uint32_t>(ids_.size());
  for (size_t b = 1; b < other.begin_.size(); ++b)
    begin_.push_back(other.begin_[b] + offset);
  auto join = [](auto* to, auto& from) {
    to->insert(to->end(), from.begin(), from.end());
  };
  join(&block_group_, other.block_group_);
  join(&centre_, other.centre_);
  join(&radius_, other.radius_);
  join(&box_, other.box_);
  join(&sparse_norm_, other.sparse_norm_);
  join(&dense_length_, other.dense_length_);
  join(&ids_, other.ids_);
  join(&labels_, other.labels_);
  join(&rows_, other.rows_);
  join(&sparse_length_, other.sparse_length_);
}

void BlockScan::Split(const Rows& m, std::vector<uint32_t>* order, size_t begin,
                      size_t end, uint32_t group) {
  const size_t nd = dense_columns_.size();
  auto dense = [&](uint32_t i) { return m.dense.data() + size_t{i} * nd; };
  const std::vector<double> centre = Mean(dense, nd, *order, begin, end);
  if (end - begin <= kBlockSize) {
    double radius = 0, sparse = 0, length = 0;
    for (size_t i = begin; i < end; ++i) {
      const uint32_t member = (*order)[i];
      const float* row = dense(member);
      double r = 0;
      for (size_t c = 0; c < nd; ++c) r += (row[c] - centre[c]) * (row[c] - centre[c]);
      radius = std::max(radius, std::sqrt(r));
      sparse = std::max(sparse, m.sparse_length[member]);
      length = std::max(length, m.dense_length[member]);
      ids_.push_back(m.id[member]);
      labels_.push_back(index_->StoredLabel(m.id[member]));
      sparse_length_.push_back(static_cast<float>(m.sparse_length[member]));
    }
    const size_t box = box_.size();
    box_.resize(box + 2 * nd);
    for (size_t c = 0; c < nd; ++c) {  // column by column (see rows_)
      float lo = std::numeric_limits<float>::infinity(), hi = -lo;
      for (size_t i = begin; i < end; ++i) {
        const float x = dense((*order)[i])[c];
        rows_.push_back(x);
        lo = std::min(lo, x);
        hi = std::max(hi, x);
      }
      box_[box + c] = lo;
      box_[box + nd + c] = hi;
    }
    block_group_.push_back(group);
    begin_.push_back(static_cast<uint32_t>(ids_.size()));
    for (double v : centre) centre_.push_back(static_cast<float>(v));
    // Rounded up, so that the float bounds stay bounds.
    radius_.push_back(static_cast<float>(radius * (1 + 1e-6)) + 1e-6f);
    sparse_norm_.push_back(static_cast<float>(sparse * (1 + 1e-6)) + 1e-6f);
    dense_length_.push_back(static_cast<float>(length * (1 + 1e-6)) + 1e-6f);
    return;
  }
  const size_t middle = HalveAlongPrincipalAxis(dense, nd, centre, order, begin, end);
  Split(m, order, begin, middle, group);
  Split(m, order, middle, end, group);
}

std::vector<Neighbor> BlockScan::Search(const float* query, size_t k,
                                        const LabelFilter& filter, Stats* stats) const {
  std::vector<Neighbor> best;
  if (k == 0 || ids_.empty()) return best;
  const size_t nd = dense_columns_.size();
  std::vector<float> dense(nd);
  float dense_norm = 0, sparse_norm = 0;
  for (size_t c = 0; c < nd; ++c) {
    dense[c] = query[dense_columns_[c]];
    dense_norm += dense[c] * dense[c];
  }
  for (int c = sparse_begin_; c < sparse_end_; ++c) sparse_norm += query[c] * query[c];
  dense_norm = std::sqrt(dense_norm);
  sparse_norm = std::sqrt(sparse_norm);
  // Each parallel group's q_s . u, the sparse part of q . x per unit of |x_s|; and the
  // groups it can be non-zero for: those sharing a column with q, and the unparallel.
  // `along` is this thread's, all zeros between searches: only the touched groups'
  // entries are written, and put back after.
  const size_t groups = group_parallel_.size();
  thread_local std::vector<float> along_scratch;
  if (along_scratch.size() < groups) along_scratch.resize(groups, 0.0f);
  float* along = along_scratch.data();
  std::vector<uint64_t> touched((groups + 63) / 64, 0);
  absl::Cleanup put_back = [&] {
    for (size_t w = 0; w < touched.size(); ++w) {
      for (uint64_t bits = touched[w]; bits != 0; bits &= bits - 1) {
        along[w * 64 + static_cast<size_t>(__builtin_ctzll(bits))] = 0.0f;
      }
    }
  };
  auto is_touched = [&](uint32_t g) { return (touched[g / 64] >> (g % 64)) & 1; };
  for (int c = 0; c < sparse_end_ - sparse_begin_; ++c) {
    const float q = query[sparse_begin_ + c];
    if (q == 0.0f) continue;
    for (const auto& [g, weight] : column_groups_[c]) {
      along[g] += q * weight;
      touched[g / 64] |= uint64_t{1} << (g % 64);
    }
  }
  for (uint32_t g : unparallel_groups_) touched[g / 64] |= uint64_t{1} << (g % 64);
  std::vector<uint32_t> touched_groups;  // in order, so that their blocks are too
  touched_groups.reserve(groups / 4);
  for (size_t w = 0; w < touched.size(); ++w) {
    for (uint64_t bits = touched[w]; bits != 0; bits &= bits - 1) {
      touched_groups.push_back(static_cast<uint32_t>(w * 64 + __builtin_ctzll(bits)));
    }
  }
  // A group's bound on q_s . x_s per unit of |x_s|: 0 for an untouched group, taken as
  // kFloor.
  constexpr float kFloor = 1e-6f;
  auto sparse_term = [&](uint32_t g) {
    if (!is_touched(g)) return kFloor;
    return group_parallel_[g] ? std::max(along[g] * (1 + 1e-5f) + kFloor, kFloor)
                              : sparse_norm * (1 + 1e-5f) + kFloor;
  };
  // Two bounds per block: a coarse one from stored lengths alone (sparse term plus
  // |q_d| * max |x_d|), and the tight one (the dense term from the block's centre and
  // radius), computed only for blocks the coarse one keeps. Blocks of touched groups are
  // bounded one by one; the others (most of them), whose sparse term is nil, down a tree
  // of balls over the blocks' dense parts.
  const size_t blocks = radius_.size();
  auto coarse = [&](uint32_t b, float term) {  // term: sparse_term of b's group
    return term * sparse_norm_[b] + dense_norm * dense_length_[b] * (1 + 1e-5f);
  };
  // The dense term of a ball (centre, radius) or a box (lo and hi per column): the
  // smaller of the two.
  auto dense_term = [&](const float* centre, float radius, const float* box) {
    float dot = 0, corner = 0, size = 0;
    for (size_t c = 0; c < nd; ++c) {
      dot += dense[c] * centre[c];
      const float most = std::max(dense[c] * box[c], dense[c] * box[nd + c]);
      corner += most;
      size += std::fabs(most);
    }
    return std::min(dot + dense_norm * radius * (1 + 1e-5f), corner + size * 1e-5f);
  };
  auto tight = [&](uint32_t b, float coarse_bound) {
    return std::min(coarse_bound, sparse_term(block_group_[b]) * sparse_norm_[b] +
                                      dense_term(centre_.data() + size_t{b} * nd,
                                                 radius_[b], box_.data() + 2 * nd * b));
  };
  // A tree node's bound for the untouched blocks under it.
  auto node_bound = [&](uint32_t node) {
    return kFloor * max_sparse_norm_ + dense_term(node_centre_.data() + size_t{node} * nd,
                                                  node_radius_[node],
                                                  node_box_.data() + 2 * nd * node);
  };
  // `best` holds the k nearest by the compact rows' distance (the index's own, give or
  // take kRounding); `close` every vector read that was within 2 * kRounding of the k-th
  // of them when read, as (distance, position): the index's distances of those decide.
  best.reserve(k + 1);
  std::vector<std::pair<float, uint32_t>> close;
  std::vector<uint64_t> done((blocks + 63) / 64, 0);  // blocks read
  auto is_done = [&](uint32_t b) { return (done[b / 64] >> (b % 64)) & 1; };
  Stats seen;
  // Reads block b into `best` and marks it read.
  auto read = [&](uint32_t b) {
    ++seen.blocks;
    done[b / 64] |= uint64_t{1} << (b % 64);
    const uint32_t g = block_group_[b];
    const uint32_t first = begin_[b];
    const uint32_t count = begin_[b + 1] - first;
    // The block's distances first (a parallel group's, column by column over its rows),
    // then the filter for those that could be kept.
    float distance[kBlockSize];
    if (group_parallel_[g]) {
      const float* x = rows_.data() + size_t{first} * nd;
      for (uint32_t i = 0; i < count; ++i)
        distance[i] = sparse_length_[first + i] * along[g];
      for (size_t c = 0; c < nd; ++c, x += count) {
        const float q = dense[c];
        for (uint32_t i = 0; i < count; ++i) distance[i] += q * x[i];
      }
      for (uint32_t i = 0; i < count; ++i) distance[i] = 1.0f - distance[i];
    } else {
      for (uint32_t i = 0; i < count; ++i) {
        distance[i] = index_->StoredDistance(ids_[first + i], query);
      }
    }
    seen.vectors += count;
    for (uint32_t i = 0; i < count; ++i) {
      if (best.size() == k && distance[i] > best.front().distance + 2 * kRounding)
        continue;
      const uint32_t j = first + i;
      if (filter && !filter(labels_[j])) continue;
      close.emplace_back(distance[i], j);
      KeepNearest(&best, k, {labels_[j], distance[i]});
    }
  };
  // Whether no vector bounded by `b` can be nearer than the k-th found.
  auto settled = [&](float b) {
    return best.size() == k && 1.0f - b > best.front().distance + kSlack;
  };
  // Best bound first, in two rounds: the kFirstBlocks blocks of best coarse bound, which
  // usually settle the answer; then, only if they did not, every block whose coarse
  // bound can still beat the k-th found, ordered by its tight bound.
  using Entry = std::pair<float, uint32_t>;
  std::vector<Entry> queue;
  queue.reserve(kFirstBlocks + 1);
  auto offer = [&](float bound, uint32_t b) {
    if (queue.size() == kFirstBlocks && bound <= queue.front().first) return;
    queue.emplace_back(bound, b);
    std::push_heap(queue.begin(), queue.end(), std::greater<Entry>());
    if (queue.size() > kFirstBlocks) {
      std::pop_heap(queue.begin(), queue.end(), std::greater<Entry>());
      queue.pop_back();
    }
  };
  std::vector<Entry> touched_blocks;  // (coarse bound, block)
  touched_blocks.reserve(touched_groups.size() + touched_groups.size() / 4);
  seen.groups = touched_groups.size();
  for (uint32_t g : touched_groups) {
    const float term = sparse_term(g);
    for (uint32_t b = group_blocks_[g]; b < group_blocks_[g + 1]; ++b) {
      touched_blocks.emplace_back(coarse(b, term), b);
      offer(touched_blocks.back().first, b);
    }
  }
  // No touched block left out of the first round has a coarse bound above this.
  const float outside = queue.size() == kFirstBlocks
                            ? queue.front().first
                            : -std::numeric_limits<float>::infinity();
  for (Entry& e : queue) e.first = tight(e.second, e.first);
  // The untouched blocks are found down the tree from its root, in the same queue: a
  // node's entry is kNode | node.
  if (root_ != kNone) {
    queue.emplace_back(root_ & kNode ? node_bound(root_ & ~kNode) : coarse(root_, kFloor),
                       root_);
  }
  auto drain = [&] {
    std::make_heap(queue.begin(), queue.end());
    while (!queue.empty() && !settled(queue.front().first)) {
      std::pop_heap(queue.begin(), queue.end());
      const uint32_t item = queue.back().second;
      queue.pop_back();
      if (!(item & kNode)) {
        if (!is_done(item)) read(item);
        continue;
      }
      for (uint32_t child : node_children_[item & ~kNode]) {
        float bound;
        if (child & kNode) {
          bound = node_bound(child & ~kNode);
        } else {
          if (is_touched(block_group_[child]) || is_done(child)) continue;
          bound = tight(child, coarse(child, kFloor));
        }
        if (settled(bound)) continue;
        queue.emplace_back(bound, child);
        std::push_heap(queue.begin(), queue.end());
      }
    }
  };
  seen.bounded = touched_blocks.size();
  drain();
  if (!settled(outside)) {
    // The blocks the coarse bound keeps, then their tight bounds: the centres they read
    // are scattered, and fetched ahead.
    std::vector<Entry> kept;
    for (const Entry& e : touched_blocks) {
      if (!is_done(e.second) && !settled(e.first)) kept.push_back(e);
    }
    constexpr size_t kAhead = 8;
    queue.clear();
    for (size_t i = 0; i < kept.size(); ++i) {
      if (i + kAhead < kept.size()) {
        const float* ahead = centre_.data() + size_t{kept[i + kAhead].second} * nd;
        __builtin_prefetch(ahead);
        __builtin_prefetch(ahead + nd - 1);
      }
      const float t = tight(kept[i].second, kept[i].first);
      if (!settled(t)) queue.emplace_back(t, kept[i].second);
    }
    drain();
  }
  // Every vector of the exact k nearest is in `close`, within 2 * kRounding of the
  // compact k-th: its own distance is at most the exact k-th, which is at most the
  // compact k-th plus kRounding.
  const float cut = best.size() < k ? std::numeric_limits<float>::infinity()
                                    : best.front().distance + 2 * kRounding;
  best.clear();
  for (const auto& [distance, j] : close) {
    if (distance > cut) continue;
    KeepNearest(&best, k, {labels_[j], index_->StoredDistance(ids_[j], query)});
  }
  std::sort_heap(best.begin(), best.end(), NearerFirst);
  if (stats != nullptr) *stats = seen;
  return best;
}

}  // namespace cratedig
