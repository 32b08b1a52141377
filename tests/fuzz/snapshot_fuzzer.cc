// libFuzzer target: the query daemon's snapshot loader (manifest, preprocessing, track
// table, both hnswlib indexes) and a search and a recommendation on what it loaded.
//
// Input: MANIFEST, tracks.binpb, text.hnsw and audio.hnsw, separated by the line
// "CRATEDIG-FILE". The manifest's file list is rewritten with the true sizes and CRCs of
// the other parts, so that inputs get past the checksum check to the parsers behind it
// (a snapshot that passes its checksums can still be wrong, e.g. written by a buggy or
// newer trainer).

#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "common/snapshot.h"
#include "query_service/recommender.h"
#include "query_service/search.h"
#include "query_service/snapshot.h"

namespace {

constexpr char kSeparator[] = "\nCRATEDIG-FILE\n";
const char* const kFiles[] = {"tracks.binpb", "text.hnsw", "audio.hnsw"};

const std::string& Dir() {
  static const std::string* dir = [] {
    char tmpl[] = "/tmp/cratedig-snapshot-fuzz-XXXXXX";
    return new std::string(mkdtemp(tmpl));
  }();
  return *dir;
}

void Write(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> parts = absl::StrSplit(
      absl::string_view(reinterpret_cast<const char*>(data), size), kSeparator);
  parts.resize(4);
  cratedig::v1::SnapshotManifest manifest;
  if (!manifest.ParseFromString(parts[0])) return 0;
  manifest.clear_files();
  for (int i = 0; i < 3; ++i) {
    const std::string path = Dir() + "/" + kFiles[i];
    Write(path, parts[i + 1]);
    auto crc = cratedig::FileCrc32(path);
    if (!crc.ok()) return 0;
    cratedig::v1::SnapshotFile* f = manifest.add_files();
    f->set_name(kFiles[i]);
    f->set_crc32(crc->first);
    f->set_size_bytes(crc->second);
  }
  Write(Dir() + "/MANIFEST", manifest.SerializeAsString());
  auto snapshot = cratedig::query::Snapshot::Load(Dir());
  if (!snapshot.ok()) return 0;
  (void)cratedig::query::Search(**snapshot, "love song", 10);
  if ((*snapshot)->size() > 0) {
    auto query = cratedig::query::MakeRecommendQuery(**snapshot, {0}, 10,
                                                     cratedig::v1::RecommendOptions());
    if (query.ok()) (void)cratedig::query::Recommend(**snapshot, *query);
  }
  return 0;
}
