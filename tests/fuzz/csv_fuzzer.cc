// libFuzzer target: a catalog file (CSV, or gzip/xz-compressed CSV) read row by row the
// way `cratedig import` and ingestd read it: format recognition from the header, the CSV
// reader, and every field parser of the recognised format.

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "ingest_service/catalog_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The reader opens paths; an anonymous in-memory file keeps the disk out of it.
  int fd = memfd_create("catalog", 0);
  if (fd < 0) return 0;
  size_t written = 0;
  while (written < size) {
    ssize_t n = write(fd, data + written, size - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  auto reader = cratedig::ingest::CatalogReader::Open(path);
  if (reader.ok()) {
    cratedig::ingest::CatalogRow row;
    for (int rows = 0; rows < 100000; ++rows) {
      auto more = (*reader)->Next(&row);
      if (!more.ok() || !*more) break;
    }
  }
  reader = absl::UnknownError("");  // Close the file before its descriptor.
  close(fd);
  return 0;
}
