#pragma once

// The only code that includes hnswlib: a cosine k-nearest-neighbour index over unit
// vectors (inner-product space), and the exact brute-force search it is checked against.
// hnswlib throws; every call here is wrapped and comes back as a Status.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace hnswlib {
template <typename T>
class HierarchicalNSW;
template <typename T>
class SpaceInterface;
}  // namespace hnswlib

namespace cratedig {

/// One neighbour: the label given at Add and the cosine distance 1 - dot(a, b).
struct Neighbor {
  int64_t label;
  float distance;
};

/// Return true to keep a label in the results.
using LabelFilter = std::function<bool(int64_t label)>;

struct AnnParams {
  int m = 16;
  int ef_construction = 200;
};

/// An hnswlib index. Building (Add) is single-threaded or uses AddParallel; once built or
/// loaded, Search is thread-safe and the index is never mutated again.
class AnnIndex {
 public:
  ~AnnIndex();
  AnnIndex(AnnIndex&&) = delete;

  /// Create an empty index for up to `capacity` vectors of `dim`.
  static absl::StatusOr<std::unique_ptr<AnnIndex>> Create(int dim, int64_t capacity,
                                                          AnnParams params);
  /// Load an index saved by Save; `dim` comes from the snapshot manifest.
  static absl::StatusOr<std::unique_ptr<AnnIndex>> Load(const std::string& path, int dim);

  /// Add one unit vector (length dim). REQUIRES: not concurrently with Search.
  absl::Status Add(int64_t label, const float* vector);
  /// Add rows of a row-major matrix with the given labels, on `threads` threads.
  absl::Status AddParallel(const std::vector<int64_t>& labels,
                           const std::vector<float>& rows, int threads);
  /// Writes the vector of labels[i] (dim floats) to `row`; returns false to leave the
  /// label out. Called concurrently for different i.
  using RowFiller = std::function<bool(size_t i, float* row)>;
  /// Add the vectors `fill` computes for `labels`, on `threads` threads, each vector
  /// computed by the thread that inserts it: no matrix of every vector is held.
  absl::Status AddParallel(const std::vector<int64_t>& labels, const RowFiller& fill,
                           int threads);
  absl::Status Save(const std::string& path) const;

  /// Sets the minimum search breadth (hnswlib's ef; 1 after Create and Load): Search then
  /// uses max(this, ef, k). NOT thread-safe: call once, before the index is shared.
  void SetEf(int ef);

  /// Returns up to k neighbours, nearest first (ties by label), searching with breadth
  /// max(SetEf, ef, k). Labels the filter rejects are skipped and the search goes deeper
  /// (over-fetching, doubling, finally an exact scan) to still return k when it can; the
  /// filter is called from the calling thread, possibly more than once per label.
  /// `seeds`: labels of stored vectors the query was made from (a playlist's tracks);
  /// the search also starts from them, which finds the nearest of a query far from any
  /// stored vector (their mean) far more often. Labels not in the index are ignored.
  /// Thread-safe: the breadth is passed per call, the shared index is never touched.
  absl::StatusOr<std::vector<Neighbor>> Search(
      const float* query, int k, int ef, const LabelFilter& filter = nullptr,
      absl::Span<const int64_t> seeds = {}) const;
  /// The exact k nearest among the vectors stored in the index (an exhaustive scan, no
  /// graph walk), nearest first, ties by label. Thread-safe.
  absl::StatusOr<std::vector<Neighbor>> ScanExact(
      const float* query, int k, const LabelFilter& filter = nullptr) const;

  /// The cosine distance between `query` and the vector stored under `label`; NotFound
  /// when the index holds no such label. Thread-safe.
  absl::StatusOr<float> Distance(int64_t label, const float* query) const;
  /// The vector stored under `label`; NotFound when there is none. Thread-safe.
  absl::StatusOr<std::vector<float>> Vector(int64_t label) const;

  int dim() const { return dim_; }
  int64_t size() const;
  /// The i-th stored vector (0 <= i < size(), in the index's own order), its label, and
  /// its distance to `query` as Search computes it. Thread-safe.
  const float* StoredVector(int64_t i) const;
  int64_t StoredLabel(int64_t i) const;
  float StoredDistance(int64_t i, const float* query) const;
  /// The index's own number i of the vector stored under `label` (for StoredVector and
  /// StoredDistance); -1 when there is none. Thread-safe.
  int64_t StoredIndex(int64_t label) const;
  /// True when every stored label is in [0, n): a loader checks that an index read from
  /// disk only names rows that exist.
  bool LabelsBelow(int64_t n) const;

 private:
  AnnIndex(int dim, std::unique_ptr<hnswlib::SpaceInterface<float>> space,
           std::unique_ptr<hnswlib::HierarchicalNSW<float>> index);
  int dim_;
  std::unique_ptr<hnswlib::SpaceInterface<float>> space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> index_;
  // A loaded index searches its file's element data in place: the read-only mapping.
  char* mapped_ = nullptr;
  size_t mapped_bytes_ = 0;
  // A loaded index with dense labels: the stored vector of each label, kNoVector for
  // none (hnswlib's label map then stays empty).
  static constexpr uint32_t kNoVector = ~uint32_t{0};
  std::vector<uint32_t> by_label_;
};

/// The order of every answer: nearer first, ties by label.
bool NearerFirst(const Neighbor& a, const Neighbor& b);
/// Keeps in `best` the k nearest neighbours offered so far, as a heap with the k-th
/// (farthest kept) at best->front(); std::sort_heap(..., NearerFirst) orders them.
void KeepNearest(std::vector<Neighbor>* best, size_t k, const Neighbor& n);

/// The exact answer: the k rows of `rows` (row-major, `dim` wide; labels are the row
/// numbers unless `labels` is given) nearest `query` by cosine distance, nearest first,
/// ties by label.
std::vector<Neighbor> ExactSearch(const float* query, const std::vector<float>& rows,
                                  int dim, int k, const LabelFilter& filter = nullptr,
                                  const std::vector<int64_t>* labels = nullptr);

/// Scale `v` to unit length in place; returns false (leaving zeros) when it is all zero.
bool NormalizeInPlace(std::vector<float>* v);

}  // namespace cratedig
