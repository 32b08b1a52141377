#pragma once

// Byte streams over catalog files: plain, gzip (zlib) or xz (liblzma), chosen by the
// file's magic bytes, so a compressed file without its extension still reads. Streaming:
// only a small buffer is held, never the whole file.

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace cratedig::ingest {

/// A sequential source of decompressed bytes. Not thread-safe; owns its file handle.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  /// Read up to `size` bytes into `buffer`; returns how many were read, 0 at end of file.
  /// DataLossError when the compressed data is corrupt or truncated.
  virtual absl::StatusOr<size_t> Read(char* buffer, size_t size) = 0;
};

/// Open `path` for reading, decompressing .gz and .xz content (detected by magic bytes).
/// NotFoundError when the file does not exist.
absl::StatusOr<std::unique_ptr<ByteSource>> OpenByteSource(const std::string& path);

}  // namespace cratedig::ingest
