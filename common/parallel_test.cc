#include "common/parallel.h"

#include <atomic>
#include <vector>

#include "gtest/gtest.h"

namespace cratedig {
namespace {

TEST(ParallelForTest, CoversEveryIndexOnce) {
  for (size_t n : {0, 1, 5, 1024, 1025, 10000}) {
    for (int threads : {1, 2, 4}) {
      std::vector<std::atomic<int>> seen(n);
      ParallelFor(
          n, threads,
          [&](size_t begin, size_t end) {
            ASSERT_LT(begin, end);
            for (size_t i = begin; i < end; ++i) seen[i].fetch_add(1);
          },
          /*chunk=*/100);
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(seen[i].load(), 1) << n << " " << i;
    }
  }
}

}  // namespace
}  // namespace cratedig
