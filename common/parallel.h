#pragma once

// A parallel loop for the trainer's and loader's batch work (embedding names, computing
// duplicate keys, parsing track tables): indexes [0, n) are handed out in chunks to
// `threads` threads, the calling thread being one of them.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace cratedig {

/// Calls fn(begin, end) over disjoint chunks covering [0, n), on up to `threads` threads;
/// returns when all are done. fn must be safe to call concurrently on disjoint chunks.
template <typename Fn>
void ParallelFor(size_t n, int threads, Fn fn, size_t chunk = 1024) {
  if (n == 0) return;
  chunk = std::max<size_t>(chunk, 1);
  const size_t workers = std::min<size_t>(std::max(threads, 1), (n + chunk - 1) / chunk);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t begin = next.fetch_add(chunk); begin < n; begin = next.fetch_add(chunk)) {
      fn(begin, std::min(n, begin + chunk));
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (size_t t = 1; t < workers; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
}

}  // namespace cratedig
