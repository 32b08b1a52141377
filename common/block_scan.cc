#include "common/block_scan.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>

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

}  // namespace

BlockScan BlockScan::Build(const AnnIndex& index, int sparse_begin, int sparse_end) {
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

  // Group by the set of non-zero sparse columns.
  absl::flat_hash_map<std::string, uint32_t> group_of_key;
  std::vector<std::vector<uint32_t>> members;
  std::string key(static_cast<size_t>((sparse_width + 7) / 8), '\0');
  for (uint32_t i = 0; i < n; ++i) {
    const float* row = index.StoredVector(i);
    std::fill(key.begin(), key.end(), '\0');
    for (int c = 0; c < sparse_width; ++c) {
      if (row[s.sparse_begin_ + c] != 0.0f) key[c / 8] |= static_cast<char>(1 << (c % 8));
    }
    auto [it, fresh] =
        group_of_key.try_emplace(key, static_cast<uint32_t>(members.size()));
    if (fresh) members.emplace_back();
    members[it->second].push_back(i);
  }

  // Each group's sparse direction (its first vector's) and whether all share it.
  for (uint32_t g = 0; g < members.size(); ++g) {
    const float* first = index.StoredVector(members[g][0]) + s.sparse_begin_;
    double norm = 0;
    for (int c = 0; c < sparse_width; ++c) norm += double(first[c]) * first[c];
    norm = std::sqrt(norm);
    bool parallel = true;
    if (norm > 0) {
      for (uint32_t i : members[g]) {
        const float* x = index.StoredVector(i) + s.sparse_begin_;
        double along = 0, length = 0;
        for (int c = 0; c < sparse_width; ++c) {
          along += double(x[c]) * first[c] / norm;
          length += double(x[c]) * x[c];
        }
        if (std::fabs(along - std::sqrt(length)) > kParallel) {
          parallel = false;
          break;
        }
      }
    }
    s.group_parallel_.push_back(parallel);
    if (!parallel) {
      s.unparallel_groups_.push_back(g);
    } else if (norm > 0) {
      for (int c = 0; c < sparse_width; ++c) {
        if (first[c] != 0.0f) {
          s.column_groups_[c].emplace_back(g, static_cast<float>(first[c] / norm));
        }
      }
    }
    // The group's dense parts and lengths, copied once: the halving reads them again and
    // again, and the index's rows are scattered.
    Members m;
    m.ids = std::move(members[g]);
    const size_t nd = s.dense_columns_.size();
    m.dense.reserve(m.ids.size() * nd);
    for (uint32_t i : m.ids) {
      const float* row = index.StoredVector(i);
      double sparse = 0, dense = 0;
      for (int c : s.dense_columns_) {
        m.dense.push_back(row[c]);
        dense += double(row[c]) * row[c];
      }
      for (int c = s.sparse_begin_; c < s.sparse_end_; ++c)
        sparse += double(row[c]) * row[c];
      m.sparse_length.push_back(std::sqrt(sparse));
      m.dense_length.push_back(std::sqrt(dense));
    }
    std::vector<uint32_t> order(m.ids.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    s.Split(m, &order, 0, order.size(), g);
  }
  return s;
}

void BlockScan::Split(const Members& m, std::vector<uint32_t>* order, size_t begin,
                      size_t end, uint32_t group) {
  const size_t nd = dense_columns_.size();
  auto dense = [&](uint32_t i) { return m.dense.data() + size_t{i} * nd; };
  std::vector<double> centre(nd, 0.0);
  for (size_t i = begin; i < end; ++i) {
    const float* row = dense((*order)[i]);
    for (size_t c = 0; c < nd; ++c) centre[c] += row[c];
  }
  for (double& v : centre) v /= static_cast<double>(end - begin);
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
      ids_.push_back(m.ids[member]);
      labels_.push_back(index_->StoredLabel(m.ids[member]));
      rows_.insert(rows_.end(), row, row + nd);
      sparse_length_.push_back(static_cast<float>(m.sparse_length[member]));
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
  // The principal axis by power iteration, from the member farthest from the centre.
  std::vector<double> axis(nd, 0.0);
  double farthest = -1;
  for (size_t i = begin; i < end; ++i) {
    const float* row = dense((*order)[i]);
    double r = 0;
    for (size_t c = 0; c < nd; ++c) r += (row[c] - centre[c]) * (row[c] - centre[c]);
    if (r > farthest) {
      farthest = r;
      for (size_t c = 0; c < nd; ++c) axis[c] = row[c] - centre[c];
    }
  }
  for (int round = 0; round < 3; ++round) {
    std::vector<double> next(nd, 0.0);
    for (size_t i = begin; i < end; ++i) {
      const float* row = dense((*order)[i]);
      double p = 0;
      for (size_t c = 0; c < nd; ++c) p += (row[c] - centre[c]) * axis[c];
      for (size_t c = 0; c < nd; ++c) next[c] += p * (row[c] - centre[c]);
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
    const float* row = dense((*order)[i]);
    double p = 0;
    for (size_t c = 0; c < nd; ++c) p += row[c] * axis[c];
    along.emplace_back(p, (*order)[i]);
  }
  const size_t middle = begin + (end - begin) / 2;
  std::nth_element(along.begin(), along.begin() + (middle - begin), along.end());
  for (size_t i = begin; i < end; ++i) (*order)[i] = along[i - begin].second;
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
  // Each group's bound on q_s . x_s per unit of |x_s|.
  // Each parallel group's q_s . u, the sparse part of q . x per unit of |x_s|.
  std::vector<float> along(group_parallel_.size(), 0.0f);
  for (int c = 0; c < sparse_end_ - sparse_begin_; ++c) {
    const float q = query[sparse_begin_ + c];
    if (q == 0.0f) continue;
    for (const auto& [g, weight] : column_groups_[c]) along[g] += q * weight;
  }
  std::vector<float> sparse_term(along.size());
  for (size_t g = 0; g < along.size(); ++g)  // in this form, branch-free (maxss)
    sparse_term[g] = std::max(along[g] * (1 + 1e-5f) + 1e-6f, 1e-6f);
  for (uint32_t g : unparallel_groups_)
    sparse_term[g] = sparse_norm * (1 + 1e-5f) + 1e-6f;
  // Two bounds per block: a coarse one from stored lengths alone (sparse term plus
  // |q_d| * max |x_d|), cheap enough for every block, and the tight one (the dense term
  // from the block's centre and radius), computed only for blocks the coarse one keeps.
  const size_t blocks = radius_.size();
  std::vector<float> coarse(blocks);
  for (size_t b = 0; b < blocks; ++b) {
    coarse[b] = sparse_term[block_group_[b]] * sparse_norm_[b] +
                dense_norm * dense_length_[b] * (1 + 1e-5f);
  }
  auto tight = [&](uint32_t b) {
    const float* centre = centre_.data() + size_t{b} * nd;
    float dot = 0;
    for (size_t c = 0; c < nd; ++c) dot += dense[c] * centre[c];
    return std::min(coarse[b], sparse_term[block_group_[b]] * sparse_norm_[b] + dot +
                                   dense_norm * radius_[b] * (1 + 1e-5f));
  };
  // `best` holds the k nearest by the compact rows' distance (the index's own, give or
  // take kRounding); `close` every vector read that was within 2 * kRounding of the k-th
  // of them when read, as (distance, position): the index's distances of those decide.
  best.reserve(k + 1);
  std::vector<std::pair<float, uint32_t>> close;
  Stats seen;
  // Reads block b into `best` and marks it read.
  auto read = [&](uint32_t b) {
    ++seen.blocks;
    coarse[b] = -std::numeric_limits<float>::infinity();
    const uint32_t g = block_group_[b];
    const bool parallel = group_parallel_[g];
    for (uint32_t j = begin_[b]; j < begin_[b + 1]; ++j) {
      const int64_t label = labels_[j];
      if (filter && !filter(label)) continue;
      ++seen.vectors;
      float distance;
      if (parallel) {
        const float* x = rows_.data() + size_t{j} * nd;
        float dot = sparse_length_[j] * along[g];
        for (size_t c = 0; c < nd; ++c) dot += dense[c] * x[c];
        distance = 1.0f - dot;
      } else {
        distance = index_->StoredDistance(ids_[j], query);
      }
      if (best.size() < k || distance <= best.front().distance + 2 * kRounding) {
        close.emplace_back(distance, j);
        KeepNearest(&best, k, {label, distance});
      }
    }
  };
  // Whether no vector bounded by `b` can be nearer than the k-th found.
  auto settled = [&](float b) {
    return best.size() == k && 1.0f - b > best.front().distance + kSlack;
  };
  // Best bound first, in two rounds: the kFirstBlocks blocks of best coarse bound
  // (found in one pass, without ordering every block), which usually settle the answer;
  // then, only if they did not, every block whose coarse bound can still beat the k-th
  // found, ordered by its tight bound.
  using Entry = std::pair<float, uint32_t>;
  std::vector<Entry> queue;
  queue.reserve(kFirstBlocks + 1);
  for (uint32_t b = 0; b < blocks; ++b) {
    if (queue.size() == kFirstBlocks && coarse[b] <= queue.front().first) continue;
    queue.emplace_back(coarse[b], b);
    std::push_heap(queue.begin(), queue.end(), std::greater<Entry>());
    if (queue.size() > kFirstBlocks) {
      std::pop_heap(queue.begin(), queue.end(), std::greater<Entry>());
      queue.pop_back();
    }
  }
  // No block left out of the first round has a coarse bound above this.
  const float outside = queue.size() == kFirstBlocks
                            ? queue.front().first
                            : -std::numeric_limits<float>::infinity();
  for (Entry& e : queue) e.first = tight(e.second);
  auto drain = [&] {
    std::make_heap(queue.begin(), queue.end());
    while (!queue.empty() && !settled(queue.front().first)) {
      std::pop_heap(queue.begin(), queue.end());
      const uint32_t b = queue.back().second;
      queue.pop_back();
      read(b);
    }
  };
  drain();
  if (!settled(outside)) {
    queue.clear();
    for (uint32_t b = 0; b < blocks; ++b) {
      if (coarse[b] == -std::numeric_limits<float>::infinity() || settled(coarse[b])) {
        continue;
      }
      const float t = tight(b);
      if (!settled(t)) queue.emplace_back(t, b);
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
