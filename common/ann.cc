#include "common/ann.h"

// hnswlib 0.6.2's SSE code prefetches through the link one past the end of a full
// upper-level link list: a read of a few bytes inside malloc's rounding, harmless, but
// AddressSanitizer reports it. Sanitizer builds therefore use hnswlib's scalar code.
#if defined(__SANITIZE_ADDRESS__)
#define NO_MANUAL_VECTORIZATION
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_MANUAL_VECTORIZATION
#endif
#endif

#include <fcntl.h>
#include <hnswlib/hnswlib.h>
#include <immintrin.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <system_error>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/snapshot.h"

#if defined(__SANITIZE_THREAD__)
// Two ThreadSanitizer reports from hnswlib 0.6.2's concurrent addPoint (AddParallel),
// both known upstream and harmless here:
//  - getRandomLevel draws from one unsynchronised PRNG: a lost update repeats a level;
//  - "lock-order inversion" between element locks: a thread holding its own element's
//    lock only waits for elements already linked on a higher or the same level, so no
//    cycle can form.
extern "C" const char* __tsan_default_suppressions() {
  return "race:hnswlib::HierarchicalNSW<float>::getRandomLevel\n"
         "deadlock:hnswlib::HierarchicalNSW<float>::addPoint\n";
}
#endif

namespace cratedig {
namespace {

using Hnsw = hnswlib::HierarchicalNSW<float>;

// hnswlib's file header: the fields saveIndex writes before the element data, in order.
struct HnswHeader {
  size_t offset_level0 = 0;
  size_t max_elements = 0;
  size_t count = 0;
  size_t size_data_per_element = 0;
  size_t label_offset = 0;
  size_t offset_data = 0;
  int max_level = 0;
  hnswlib::tableint entry_point = 0;
  size_t max_m = 0;
  size_t max_m0 = 0;
  size_t m = 0;
  double mult = 0;
  size_t ef_construction = 0;
};

constexpr size_t kHeaderBytes =
    10 * sizeof(size_t) + sizeof(int) + sizeof(hnswlib::tableint) + sizeof(double);

// Reads the header from the first kHeaderBytes of `data`.
HnswHeader ReadHeader(const char* data) {
  HnswHeader h;
  size_t at = 0;
  auto read = [&](auto* value) {
    std::memcpy(value, data + at, sizeof(*value));
    at += sizeof(*value);
  };
  read(&h.offset_level0);
  read(&h.max_elements);
  read(&h.count);
  read(&h.size_data_per_element);
  read(&h.label_offset);
  read(&h.offset_data);
  read(&h.max_level);
  read(&h.entry_point);
  read(&h.max_m);
  read(&h.max_m0);
  read(&h.m);
  read(&h.mult);
  read(&h.ef_construction);
  return h;
}

absl::Status Corrupted(const std::string& path, absl::string_view why) {
  return absl::DataLossError(
      absl::StrCat("index file ", path, " is corrupted or truncated: ", why));
}

// hnswlib trusts its header (it mallocs and indexes by it), so the header is checked
// first against the expected dimension and the file size.
absl::Status CheckHeader(const HnswHeader& h, int dim, uintmax_t file_size,
                         const std::string& path) {
  const size_t vector_bytes = static_cast<size_t>(dim) * sizeof(float);
  if (h.m < 2 || h.m > 10000 || h.max_m != h.m || h.max_m0 != 2 * h.m) {
    return Corrupted(path, "bad M");
  }
  if (h.offset_level0 != 0 || h.offset_data != h.max_m0 * sizeof(hnswlib::tableint) +
                                                   sizeof(hnswlib::linklistsizeint)) {
    return Corrupted(path, "bad layout");
  }
  if (h.label_offset < h.offset_data || h.label_offset - h.offset_data != vector_bytes ||
      h.size_data_per_element != h.label_offset + sizeof(hnswlib::labeltype)) {
    return Corrupted(path, absl::StrCat("vectors are not of dimension ", dim));
  }
  // Every element takes its data plus a 4-byte link-list size.
  const uintmax_t per_element = h.size_data_per_element + sizeof(unsigned int);
  if (file_size < kHeaderBytes || h.count > (file_size - kHeaderBytes) / per_element) {
    return Corrupted(path, "shorter than its element count");
  }
  if (h.count > std::numeric_limits<hnswlib::tableint>::max() ||
      (h.count > 0 &&
       (h.entry_point >= h.count || h.max_level < 0 || h.max_level > 64))) {
    return Corrupted(path, "bad entry point");
  }
  return absl::OkStatus();
}

// A loaded graph is walked once so that a damaged file fails here, not inside a search.
absl::Status CheckGraph(const Hnsw& index, const std::string& path) {
  const size_t count = index.cur_element_count;
  if (count == 0) return absl::OkStatus();
  if (index.element_levels_[index.enterpoint_node_] != index.maxlevel_) {
    return Corrupted(path, "entry point is not on the top level");
  }
  for (hnswlib::tableint i = 0; i < count; ++i) {
    const int levels = index.element_levels_[i];
    if (levels > index.maxlevel_) return Corrupted(path, "element above the top level");
    for (int level = 0; level <= levels; ++level) {
      hnswlib::linklistsizeint* list = index.get_linklist_at_level(i, level);
      const size_t size = index.getListCount(list);
      if (size > (level == 0 ? index.maxM0_ : index.maxM_)) {
        return Corrupted(path, "oversized link list");
      }
      const auto* links = reinterpret_cast<const hnswlib::tableint*>(list + 1);
      for (size_t j = 0; j < size; ++j) {
        if (links[j] >= count) return Corrupted(path, "link to a missing element");
      }
    }
  }
  return absl::OkStatus();
}

// hnswlib's inner product, the whole cost of building an index (about 60% of a build in
// its SSE form), compiled for the widest vector unit the CPU has. Distro builds of
// hnswlib target plain x86-64 (SSE), so AVX2 and AVX-512 variants are compiled here with
// per function target attributes and chosen at run time; every other function of the
// binary stays portable.
#if defined(__x86_64__) && !defined(NO_MANUAL_VECTORIZATION)
// GCC 12's reduction intrinsics start from _mm256_undefined_pd(), which -Wuninitialized
// flags inside the system header.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
__attribute__((target("avx512f"))) float IpDistanceAvx512(const void* a_, const void* b_,
                                                          const void* dim_) {
  const auto* a = static_cast<const float*>(a_);
  const auto* b = static_cast<const float*>(b_);
  const size_t dim = *static_cast<const size_t*>(dim_);
  __m512 sum = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    sum = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), sum);
  }
  if (i < dim) {
    const __mmask16 mask = static_cast<__mmask16>((1u << (dim - i)) - 1);
    sum = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, a + i),
                          _mm512_maskz_loadu_ps(mask, b + i), sum);
  }
  return 1.0f - _mm512_reduce_add_ps(sum);
}
#pragma GCC diagnostic pop

__attribute__((target("avx2,fma"))) float IpDistanceAvx2(const void* a_, const void* b_,
                                                         const void* dim_) {
  const auto* a = static_cast<const float*>(a_);
  const auto* b = static_cast<const float*>(b_);
  const size_t dim = *static_cast<const size_t*>(dim_);
  __m256 sum0 = _mm256_setzero_ps();
  __m256 sum1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    sum0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), sum0);
    sum1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), sum1);
  }
  for (; i + 8 <= dim; i += 8) {
    sum0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), sum0);
  }
  sum0 = _mm256_add_ps(sum0, sum1);
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(sum0), _mm256_extractf128_ps(sum0, 1));
  s = _mm_hadd_ps(s, s);
  s = _mm_hadd_ps(s, s);
  float dot = _mm_cvtss_f32(s);
  for (; i < dim; ++i) dot += a[i] * b[i];
  return 1.0f - dot;
}
#endif

hnswlib::DISTFUNC<float> FastestInnerProduct(size_t dim) {
#if defined(__x86_64__) && !defined(NO_MANUAL_VECTORIZATION)
  if (__builtin_cpu_supports("avx512f")) return IpDistanceAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    return IpDistanceAvx2;
  }
#endif
  return nullptr;
}

// hnswlib's inner-product space with the fastest distance this CPU runs (falling back to
// hnswlib's own).
class InnerProductSpace : public hnswlib::SpaceInterface<float> {
 public:
  explicit InnerProductSpace(size_t dim) : dim_(dim), fallback_(dim) {
    dist_ = FastestInnerProduct(dim);
    if (dist_ == nullptr) dist_ = fallback_.get_dist_func();
  }
  size_t get_data_size() override { return dim_ * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override { return dist_; }
  void* get_dist_func_param() override { return &dim_; }

 private:
  size_t dim_;
  hnswlib::InnerProductSpace fallback_;
  hnswlib::DISTFUNC<float> dist_;
};

// hnswlib's InnerProductSpace constructor (the fallback) may rewrite hnswlib's global
// SIMD function pointers (when built with AVX), so two spaces must not be constructed at
// the same time.
std::unique_ptr<hnswlib::SpaceInterface<float>> NewSpace(int dim) {
  static absl::Mutex mu(absl::kConstInit);
  absl::MutexLock lock(&mu);
  return std::make_unique<InnerProductSpace>(static_cast<size_t>(dim));
}

// The `fetch` nearest by hnswlib. searchKnn explores max(ef_, fetch) candidates, so
// asking for `fetch` results searches with breadth `fetch` without writing the shared
// ef_.
std::vector<Neighbor> Knn(const Hnsw& index, const float* query, size_t fetch) {
  auto heap = index.searchKnn(query, fetch);
  std::vector<Neighbor> out;
  out.reserve(heap.size());
  for (; !heap.empty(); heap.pop()) {
    out.push_back({static_cast<int64_t>(heap.top().second), heap.top().first});
  }
  std::sort(out.begin(), out.end(), NearerFirst);
  return out;
}

// hnswlib's search (greedy descent through the upper levels, then a beam of width `ef`
// over level 0), with the beam also started from `seeds` (internal ids): a query far from
// the entry point's region, such as the mean of unrelated tracks, then still explores the
// regions of the tracks it was made from.
std::vector<Neighbor> SeededKnn(const Hnsw& index, const float* query, size_t fetch,
                                const std::vector<hnswlib::tableint>& seeds) {
  const size_t ef = std::max(index.ef_, fetch);  // as searchKnn
  const auto distance = [&](hnswlib::tableint id) {
    return index.fstdistfunc_(query, index.getDataByInternalId(id),
                              index.dist_func_param_);
  };
  hnswlib::tableint current = index.enterpoint_node_;
  float current_distance = distance(current);
  for (int level = index.maxlevel_; level > 0; --level) {
    for (bool moved = true; moved;) {
      moved = false;
      auto* list = index.get_linklist(current, level);
      const auto* links = reinterpret_cast<const hnswlib::tableint*>(list + 1);
      for (int j = 0, size = index.getListCount(list); j < size; ++j) {
        const float d = distance(links[j]);
        if (d < current_distance) {
          current_distance = d;
          current = links[j];
          moved = true;
        }
      }
    }
  }
  using Entry = std::pair<float, hnswlib::tableint>;
  std::priority_queue<Entry> best;  // the beam, farthest on top
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> frontier;
  hnswlib::VisitedList* visited_list = index.visited_list_pool_->getFreeVisitedList();
  hnswlib::vl_type* visited = visited_list->mass;
  const hnswlib::vl_type tag = visited_list->curV;
  auto offer = [&](hnswlib::tableint id, float d) {
    if (best.size() < ef || d < best.top().first) {
      frontier.emplace(d, id);
      best.emplace(d, id);
      if (best.size() > ef) best.pop();
    }
  };
  visited[current] = tag;
  offer(current, current_distance);
  for (hnswlib::tableint seed : seeds) {
    if (visited[seed] == tag) continue;
    visited[seed] = tag;
    offer(seed, distance(seed));
  }
  while (!frontier.empty()) {
    const auto [d, id] = frontier.top();
    if (best.size() >= ef && d > best.top().first) break;
    frontier.pop();
    auto* list = index.get_linklist0(id);
    const auto* links = reinterpret_cast<const hnswlib::tableint*>(list + 1);
    const int size = index.getListCount(list);
    for (int j = 0; j < size; ++j) {
      if (j + 1 < size) {
        _mm_prefetch(index.getDataByInternalId(links[j + 1]), _MM_HINT_T0);
      }
      const hnswlib::tableint next = links[j];
      if (visited[next] == tag) continue;
      visited[next] = tag;
      offer(next, distance(next));
    }
  }
  index.visited_list_pool_->releaseVisitedList(visited_list);
  std::vector<Neighbor> out;
  out.reserve(best.size());
  for (; !best.empty(); best.pop()) {
    out.push_back({static_cast<int64_t>(index.getExternalLabel(best.top().second)),
                   best.top().first});
  }
  std::sort(out.begin(), out.end(), NearerFirst);
  return out;
}

// Brute force over the vectors stored in the index, with the index's own distance. Keeps
// only the k best in a heap (worst on top): this serves exhaustive indexes per request.
std::vector<Neighbor> ScanStored(const Hnsw& index, const float* query, size_t k,
                                 const LabelFilter& filter) {
  std::vector<Neighbor> best;
  if (k == 0) return best;
  best.reserve(k + 1);
  for (hnswlib::tableint i = 0; i < index.cur_element_count; ++i) {
    const auto label = static_cast<int64_t>(index.getExternalLabel(i));
    if (filter && !filter(label)) continue;
    KeepNearest(&best, k,
                {label, index.fstdistfunc_(query, index.getDataByInternalId(i),
                                           index.dist_func_param_)});
  }
  std::sort_heap(best.begin(), best.end(), NearerFirst);
  return best;
}

// Over-fetch, drop rejected labels, and double the fetch until k survive; once the fetch
// nears the whole index an exact scan is cheaper than a graph search that wide.
std::vector<Neighbor> FilteredSearch(const Hnsw& index, const float* query, size_t k,
                                     size_t breadth, const LabelFilter& filter,
                                     const std::vector<hnswlib::tableint>& seeds) {
  const size_t n = index.cur_element_count;
  for (size_t fetch = std::max(breadth, 2 * k); 4 * fetch < n; fetch *= 2) {
    std::vector<Neighbor> found =
        seeds.empty() ? Knn(index, query, fetch) : SeededKnn(index, query, fetch, seeds);
    found.erase(std::remove_if(found.begin(), found.end(),
                               [&](const Neighbor& x) { return !filter(x.label); }),
                found.end());
    if (found.size() >= k) {
      found.resize(k);
      return found;
    }
  }
  return ScanStored(index, query, k, filter);
}

absl::Status CheckNewLabels(const Hnsw& index, const std::vector<int64_t>& labels) {
  absl::flat_hash_set<int64_t> batch;
  for (int64_t label : labels) {
    if (label < 0) {
      return absl::InvalidArgumentError(absl::StrCat("negative label ", label));
    }
    if (!batch.insert(label).second ||
        index.label_lookup_.count(static_cast<hnswlib::labeltype>(label)) > 0) {
      return absl::InvalidArgumentError(absl::StrCat("label ", label, " added twice"));
    }
  }
  if (labels.size() > index.max_elements_ - index.cur_element_count) {
    return absl::FailedPreconditionError(
        absl::StrCat("index capacity ", index.max_elements_, " exceeded"));
  }
  return absl::OkStatus();
}

// The size saveIndex must produce: it checks nothing, so a failed write shows only here.
uintmax_t ExpectedFileSize(const Hnsw& index) {
  uintmax_t size = kHeaderBytes + index.cur_element_count * index.size_data_per_element_;
  for (size_t i = 0; i < index.cur_element_count; ++i) {
    size += sizeof(unsigned int) + static_cast<uintmax_t>(index.element_levels_[i]) *
                                       index.size_links_per_element_;
  }
  return size;
}

}  // namespace

AnnIndex::AnnIndex(int dim, std::unique_ptr<hnswlib::SpaceInterface<float>> space,
                   std::unique_ptr<hnswlib::HierarchicalNSW<float>> index)
    : dim_(dim), space_(std::move(space)), index_(std::move(index)) {
  // Per-call breadth is passed as searchKnn's k (see Knn), so the floor starts at 1.
  index_->setEf(1);
}

AnnIndex::~AnnIndex() {
  if (mapped_ == nullptr) return;
  // The element data lives in the mapping, not in memory hnswlib allocated.
  index_->data_level0_memory_ = nullptr;
  index_.reset();
  ::munmap(mapped_, mapped_bytes_);
}

absl::StatusOr<std::unique_ptr<AnnIndex>> AnnIndex::Create(int dim, int64_t capacity,
                                                           AnnParams params) {
  if (dim < 1 || capacity < 0 || params.m < 2 || params.ef_construction < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad index parameters: dim=", dim, " capacity=", capacity,
                     " m=", params.m, " ef_construction=", params.ef_construction));
  }
  try {
    auto space = NewSpace(dim);
    // hnswlib cannot allocate zero elements (malloc(0) may be null).
    auto index = std::make_unique<Hnsw>(space.get(), std::max<size_t>(capacity, 1),
                                        params.m, params.ef_construction);
    return std::unique_ptr<AnnIndex>(
        new AnnIndex(dim, std::move(space), std::move(index)));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("creating index: ", e.what()));
  }
}

absl::StatusOr<std::unique_ptr<AnnIndex>> AnnIndex::Load(const std::string& path,
                                                         int dim) {
  if (dim < 1) return absl::InvalidArgumentError(absl::StrCat("bad index dim ", dim));
  // hnswlib's own loader copies the file into malloc'd memory with a seek and a read per
  // element; here the element data (vectors and level-0 links, the bulk of the file) is
  // searched in place in a read-only mapping, and only the upper-level link lists are
  // copied. Snapshot files are immutable once published, so the mapping never changes
  // under a search.
  // MAP_POPULATE: the first searches do not page the file in.
  absl::StatusOr<MappedFile> mapping = MappedFile::Open(path, /*populate=*/true);
  if (!mapping.ok()) return mapping.status();
  if (mapping->size() < kHeaderBytes) return Corrupted(path, "no header");
  const HnswHeader header = ReadHeader(mapping->data());
  if (absl::Status s = CheckHeader(header, dim, mapping->size(), path); !s.ok()) return s;
  const size_t count = header.count;
  const size_t level0_bytes = count * header.size_data_per_element;
  const size_t upper_bytes_per_level =
      header.max_m * sizeof(hnswlib::tableint) + sizeof(hnswlib::linklistsizeint);
  // After the element data: per element, the byte size of its upper-level link lists
  // (a whole number of levels) and the lists.
  std::vector<int> levels(count, 0);
  std::vector<size_t> upper_at(count, 0);
  size_t at = kHeaderBytes + level0_bytes;
  for (size_t i = 0; i < count; ++i) {
    unsigned int bytes = 0;
    if (mapping->size() - at < sizeof(bytes)) return Corrupted(path, "truncated links");
    std::memcpy(&bytes, mapping->data() + at, sizeof(bytes));
    at += sizeof(bytes);
    if (bytes == 0) continue;
    if (bytes % upper_bytes_per_level != 0 || bytes > mapping->size() - at) {
      return Corrupted(path, "bad upper-level link list");
    }
    levels[i] = static_cast<int>(bytes / upper_bytes_per_level);
    upper_at[i] = at;
    at += bytes;
  }
  if (at != mapping->size()) return Corrupted(path, "bytes after the last element");
  try {
    auto space = NewSpace(dim);
    // Built empty (room for one element) with the file's M, then given the file's graph.
    auto index = std::make_unique<Hnsw>(space.get(), 1, header.m, header.ef_construction);
    const size_t capacity = std::max<size_t>(count, 1);
    std::free(index->data_level0_memory_);
    index->data_level0_memory_ = nullptr;
    std::free(index->linkLists_);
    index->linkLists_ = static_cast<char**>(std::calloc(capacity, sizeof(char*)));
    if (index->linkLists_ == nullptr) throw std::bad_alloc();
    index->max_elements_ = capacity;
    index->maxlevel_ = header.max_level;
    index->enterpoint_node_ = count > 0 ? header.entry_point : -1;
    index->mult_ = header.mult;
    index->revSize_ = 1.0 / header.mult;
    index->ef_construction_ = header.ef_construction;
    index->element_levels_ = std::move(levels);
    index->element_levels_.resize(capacity, 0);
    // cur_element_count grows as lists are copied, so that the destructor frees exactly
    // the lists that were allocated if an allocation fails.
    for (size_t i = 0; i < count; ++i) {
      if (index->element_levels_[i] > 0) {
        const size_t bytes = index->element_levels_[i] * upper_bytes_per_level;
        index->linkLists_[i] = static_cast<char*>(std::malloc(bytes));
        if (index->linkLists_[i] == nullptr) throw std::bad_alloc();
        std::memcpy(index->linkLists_[i], mapping->data() + upper_at[i], bytes);
      }
      index->cur_element_count = i + 1;
    }
    std::vector<std::mutex>(capacity).swap(index->link_list_locks_);
    delete index->visited_list_pool_;
    index->visited_list_pool_ = nullptr;
    index->visited_list_pool_ =
        new hnswlib::VisitedListPool(1, static_cast<int>(capacity));
    std::unique_ptr<AnnIndex> loaded(
        new AnnIndex(dim, std::move(space), std::move(index)));
    Hnsw& graph = *loaded->index_;
    std::tie(loaded->mapped_, loaded->mapped_bytes_) = mapping->Release();
    graph.data_level0_memory_ = loaded->mapped_ + kHeaderBytes;
    // Labels to stored vectors: a flat table when the labels are dense (track positions,
    // as the snapshots' are), hnswlib's hash map of a node per label otherwise (a few
    // hundred ms at a million labels). A loaded index takes no Add, which needs the map.
    graph.num_deleted_ = 0;
    hnswlib::labeltype most = 0;
    for (hnswlib::tableint i = 0; i < count; ++i) {
      most = std::max(most, graph.getExternalLabel(i));
      if (graph.isMarkedDeleted(i)) ++graph.num_deleted_;
    }
    if (count > 0 && most < 4 * hnswlib::labeltype{count} + 1024) {
      loaded->by_label_.assign(most + 1, kNoVector);
      for (hnswlib::tableint i = 0; i < count; ++i)
        loaded->by_label_[graph.getExternalLabel(i)] = i;
    } else {
      graph.label_lookup_.reserve(count);
      for (hnswlib::tableint i = 0; i < count; ++i)
        graph.label_lookup_[graph.getExternalLabel(i)] = i;
    }
    if (absl::Status s = CheckGraph(graph, path); !s.ok()) return s;
    return loaded;
  } catch (const std::exception& e) {
    return absl::ResourceExhaustedError(
        absl::StrCat("loading index file ", path, ": ", e.what()));
  }
}

absl::Status AnnIndex::Add(int64_t label, const float* vector) {
  if (vector == nullptr) return absl::InvalidArgumentError("null vector");
  if (mapped_ != nullptr)
    return absl::FailedPreconditionError("a loaded index is read-only");
  if (absl::Status s = CheckNewLabels(*index_, {label}); !s.ok()) return s;
  try {
    index_->addPoint(vector, static_cast<hnswlib::labeltype>(label));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("adding label ", label, ": ", e.what()));
  }
  return absl::OkStatus();
}

absl::Status AnnIndex::AddParallel(const std::vector<int64_t>& labels,
                                   const std::vector<float>& rows, int threads) {
  if (rows.size() != labels.size() * static_cast<size_t>(dim_)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rows hold ", rows.size(), " floats, not ", labels.size(), " x ", dim_));
  }
  return AddParallel(
      labels,
      [&](size_t i, float* row) {
        std::copy_n(rows.data() + i * dim_, dim_, row);
        return true;
      },
      threads);
}

absl::Status AnnIndex::AddParallel(const std::vector<int64_t>& labels,
                                   const RowFiller& fill, int threads) {
  if (mapped_ != nullptr)
    return absl::FailedPreconditionError("a loaded index is read-only");
  if (absl::Status s = CheckNewLabels(*index_, labels); !s.ok()) return s;
  // hnswlib's addPoint locks per element, so disjoint points can be added concurrently.
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  absl::Mutex mu;
  absl::Status error;
  auto work = [&] {
    std::vector<float> row(dim_);
    for (size_t i = next++; i < labels.size() && !failed; i = next++) {
      try {
        if (!fill(i, row.data())) continue;
        index_->addPoint(row.data(), static_cast<hnswlib::labeltype>(labels[i]));
      } catch (const std::exception& e) {
        absl::MutexLock lock(&mu);
        if (error.ok()) error = absl::InternalError(absl::StrCat("adding: ", e.what()));
        failed = true;
      }
    }
  };
  const size_t n_threads =
      std::min<size_t>(std::max(threads, 1), std::max<size_t>(labels.size(), 1));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < n_threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  return error;
}

absl::Status AnnIndex::Save(const std::string& path) const {
  try {
    index_->saveIndex(path);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("saving index ", path, ": ", e.what()));
  }
  std::error_code ec;
  const uintmax_t written = std::filesystem::file_size(path, ec);
  if (ec || written != ExpectedFileSize(*index_)) {
    return absl::InternalError(absl::StrCat("could not write index file ", path));
  }
  return absl::OkStatus();
}

void AnnIndex::SetEf(int ef) { index_->setEf(static_cast<size_t>(std::max(ef, 1))); }

absl::StatusOr<std::vector<Neighbor>> AnnIndex::Search(
    const float* query, int k, int ef, const LabelFilter& filter,
    absl::Span<const int64_t> seed_labels) const {
  if (query == nullptr || k < 0) return absl::InvalidArgumentError("bad query or k");
  const size_t n = index_->cur_element_count;
  if (k == 0 || n == 0) return std::vector<Neighbor>();
  const size_t want = static_cast<size_t>(k);
  const size_t breadth = std::max<size_t>(std::max(ef, 1), want);
  std::vector<hnswlib::tableint> seeds;
  for (int64_t label : seed_labels) {
    if (const int64_t i = StoredIndex(label); i >= 0)
      seeds.push_back(static_cast<hnswlib::tableint>(i));
  }
  try {
    if (filter) return FilteredSearch(*index_, query, want, breadth, filter, seeds);
    std::vector<Neighbor> found =
        seeds.empty() ? Knn(*index_, query, std::min(breadth, n))
                      : SeededKnn(*index_, query, std::min(breadth, n), seeds);
    if (found.size() > want) found.resize(want);
    return found;
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("searching index: ", e.what()));
  }
}

absl::StatusOr<std::vector<Neighbor>> AnnIndex::ScanExact(
    const float* query, int k, const LabelFilter& filter) const {
  if (query == nullptr || k < 0) return absl::InvalidArgumentError("bad query or k");
  return ScanStored(*index_, query, static_cast<size_t>(k), filter);
}

absl::StatusOr<float> AnnIndex::Distance(int64_t label, const float* query) const {
  const int64_t i = StoredIndex(label);
  if (i < 0) {
    return absl::NotFoundError(absl::StrCat("label ", label, " is not in the index"));
  }
  return StoredDistance(i, query);
}

absl::StatusOr<std::vector<float>> AnnIndex::Vector(int64_t label) const {
  const int64_t i = StoredIndex(label);
  if (i < 0) return absl::NotFoundError(absl::StrCat("no vector with label ", label));
  const float* v = StoredVector(i);
  return std::vector<float>(v, v + dim_);
}

int64_t AnnIndex::size() const { return static_cast<int64_t>(index_->cur_element_count); }

const float* AnnIndex::StoredVector(int64_t i) const {
  return reinterpret_cast<const float*>(
      index_->getDataByInternalId(static_cast<hnswlib::tableint>(i)));
}

int64_t AnnIndex::StoredLabel(int64_t i) const {
  return static_cast<int64_t>(
      index_->getExternalLabel(static_cast<hnswlib::tableint>(i)));
}

float AnnIndex::StoredDistance(int64_t i, const float* query) const {
  return index_->fstdistfunc_(query, StoredVector(i), index_->dist_func_param_);
}

int64_t AnnIndex::StoredIndex(int64_t label) const {
  if (label < 0) return -1;
  if (!by_label_.empty()) {
    const auto l = static_cast<uint64_t>(label);
    return l < by_label_.size() && by_label_[l] != kNoVector ? int64_t{by_label_[l]} : -1;
  }
  auto it = index_->label_lookup_.find(static_cast<hnswlib::labeltype>(label));
  return it == index_->label_lookup_.end() ? -1 : static_cast<int64_t>(it->second);
}

bool AnnIndex::LabelsBelow(int64_t n) const {
  if (n <= 0) return index_->cur_element_count == 0;
  const auto limit = static_cast<hnswlib::labeltype>(n);
  for (hnswlib::tableint i = 0; i < index_->cur_element_count; ++i) {
    if (index_->getExternalLabel(i) >= limit) return false;
  }
  return true;
}

bool NearerFirst(const Neighbor& a, const Neighbor& b) {
  return a.distance != b.distance ? a.distance < b.distance : a.label < b.label;
}

void KeepNearest(std::vector<Neighbor>* best, size_t k, const Neighbor& n) {
  if (k == 0 || (best->size() == k && !NearerFirst(n, best->front()))) return;
  best->push_back(n);
  std::push_heap(best->begin(), best->end(), NearerFirst);
  if (best->size() > k) {
    std::pop_heap(best->begin(), best->end(), NearerFirst);
    best->pop_back();
  }
}

std::vector<Neighbor> ExactSearch(const float* query, const std::vector<float>& rows,
                                  int dim, int k, const LabelFilter& filter,
                                  const std::vector<int64_t>* labels) {
  if (dim < 1 || k < 1 || query == nullptr) return {};
  size_t n = rows.size() / static_cast<size_t>(dim);
  if (labels != nullptr) n = std::min(n, labels->size());
  std::vector<Neighbor> all;
  all.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t label = labels != nullptr ? (*labels)[i] : static_cast<int64_t>(i);
    if (filter && !filter(label)) continue;
    const float* row = rows.data() + i * dim;
    double dot = 0.0;
    for (int j = 0; j < dim; ++j) dot += static_cast<double>(query[j]) * row[j];
    all.push_back({label, static_cast<float>(1.0 - dot)});
  }
  const size_t keep = std::min(all.size(), static_cast<size_t>(k));
  std::partial_sort(all.begin(), all.begin() + keep, all.end(), NearerFirst);
  all.resize(keep);
  return all;
}

bool NormalizeInPlace(std::vector<float>* v) {
  double norm = 0.0;
  for (float x : *v) norm += static_cast<double>(x) * x;
  norm = std::sqrt(norm);
  if (norm == 0.0 || !std::isfinite(norm)) {
    std::fill(v->begin(), v->end(), 0.0f);
    return false;
  }
  for (float& x : *v) x = static_cast<float>(x / norm);
  return true;
}

}  // namespace cratedig
