#pragma once

// Helpers shared by the ingest tests (test-only; not part of ingest_lib).

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "ingest_service/decompress.h"

namespace cratedig::ingest::testing {

/// A ByteSource over a string that returns at most `chunk` bytes per Read, to exercise
/// buffer boundaries.
class StringSource : public ByteSource {
 public:
  explicit StringSource(std::string data, size_t chunk = 1 << 16)
      : data_(std::move(data)), chunk_(chunk) {}
  absl::StatusOr<size_t> Read(char* buffer, size_t size) override {
    size_t n = std::min({size, chunk_, data_.size() - pos_});
    data_.copy(buffer, n, pos_);
    pos_ += n;
    return n;
  }

 private:
  std::string data_;
  size_t chunk_;
  size_t pos_ = 0;
};

/// Returns the path of a fixture under tests/testdata/catalogs.
inline std::string CatalogFixture(const std::string& name) {
  return std::string(CRATEDIG_SOURCE_DIR) + "/tests/testdata/catalogs/" + name;
}

/// Returns the contents of a file (empty when unreadable).
inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Deletes the files it holds when the test program exits.
class TempFileRegistry {
 public:
  ~TempFileRegistry() {
    for (const std::string& path : paths_) std::remove(path.c_str());
  }
  void Add(const std::string& path) { paths_.push_back(path); }

 private:
  std::vector<std::string> paths_;
};

inline TempFileRegistry& TempFiles() {
  static TempFileRegistry registry;
  return registry;
}

/// Write `data` to a new file under the temporary directory, named after the process, the
/// running test and `name` (tests may run in parallel); returns its path.
inline std::string WriteTempFile(const std::string& name, const std::string& data) {
  const ::testing::TestInfo* test =
      ::testing::UnitTest::GetInstance()->current_test_info();
  std::string path = ::testing::TempDir() + "/ingest_test_" + std::to_string(getpid()) +
                     "_" + (test != nullptr ? test->name() : "none") + "_" + name;
  TempFiles().Add(path);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  return path;
}

}  // namespace cratedig::ingest::testing
