#pragma once

// The on-disk snapshot format (see protos/cratedig/v1/snapshot.proto):
//
//   <root>/CURRENT              one line: the version of the newest complete snapshot
//   <root>/000042/MANIFEST      binary cratedig.v1.SnapshotManifest
//   <root>/000042/<files>       every file the manifest lists, with size and CRC-32
//   <root>/.tmp-000043/         being written; never read, deleted at start-up
//
// A snapshot directory appears by one atomic rename after all its files and MANIFEST are
// fsynced, so a reader never sees half of one.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cratedig/v1/snapshot.pb.h"

namespace cratedig {

inline constexpr int kSnapshotFormatVersion = 1;
inline constexpr char kManifestFileName[] = "MANIFEST";

/// Whether `name` is a snapshot version: decimal digits only ("000042").
bool IsSnapshotVersion(const std::string& name);
/// Orders versions by number ("000009" < "000010" < "1000000").
bool SnapshotVersionLess(const std::string& a, const std::string& b);

/// Returns the CRC-32 (zlib) and size of a file.
absl::StatusOr<std::pair<uint32_t, int64_t>> FileCrc32(const std::string& path);

/// Write a whole file and fsync it.
absl::Status WriteFileDurably(const std::string& path, const std::string& contents);
absl::StatusOr<std::string> ReadFile(const std::string& path);

/// A whole file mapped read-only and private, unmapped when destroyed. Snapshot files are
/// immutable once published, so a mapping never changes under its reader.
class MappedFile {
 public:
  /// `populate` reads the whole file in now (MAP_POPULATE); otherwise pages come in as
  /// they are first read, by whichever thread reads them.
  static absl::StatusOr<MappedFile> Open(const std::string& path, bool populate);
  MappedFile() = default;
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&&) = delete;
  ~MappedFile();
  /// Gives up ownership: the caller unmaps.
  std::pair<char*, size_t> Release();
  const char* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  char* data_ = nullptr;
  size_t size_ = 0;
};
/// fsync a directory (after creating or renaming entries in it).
absl::Status SyncDir(const std::string& dir);

/// Returns the complete snapshot versions under `root`, oldest first.
std::vector<std::string> ListSnapshots(const std::string& root);
/// Returns the version CURRENT names, or NotFound.
absl::StatusOr<std::string> ReadCurrent(const std::string& root);
/// Point CURRENT at `version` atomically.
absl::Status WriteCurrent(const std::string& root, const std::string& version);
/// Returns "000001" after the newest version under root (or "000001" for none).
std::string NextSnapshotVersion(const std::string& root);
/// Delete leftover .tmp-* directories.
void RemoveTemporaryDirs(const std::string& root);
/// Delete all but the newest `keep` snapshots, never the one CURRENT names.
void PruneSnapshots(const std::string& root, int keep);

/// Reads MANIFEST of `dir` and checks the format version.
absl::StatusOr<v1::SnapshotManifest> ReadManifest(const std::string& dir);
/// Checks every file the manifest lists: present, same size, same CRC-32 (DataLoss
/// otherwise). Large files are checksummed on several threads.
absl::Status VerifySnapshotFiles(const std::string& dir,
                                 const v1::SnapshotManifest& manifest);
/// The same without the CRC-32: present and of the listed size (for files verified
/// moments before).
absl::Status VerifySnapshotFileSizes(const std::string& dir,
                                     const v1::SnapshotManifest& manifest);

/// Writes one snapshot under a temporary name and publishes it atomically. Not
/// thread-safe.
class SnapshotWriter {
 public:
  /// Start `<root>/.tmp-<version>/`.
  static absl::StatusOr<SnapshotWriter> Begin(const std::string& root,
                                              const std::string& version);
  /// Path where a file of the snapshot is to be written.
  std::string PathOf(const std::string& name) const { return tmp_dir_ + "/" + name; }
  /// Record the size and CRC of each named file (already written and closed) in
  /// `manifest`, fsync them, write MANIFEST, rename into place and point CURRENT at it.
  /// Returns the final directory.
  absl::StatusOr<std::string> Commit(const std::vector<std::string>& files,
                                     v1::SnapshotManifest manifest);

 private:
  SnapshotWriter(std::string root, std::string version, std::string tmp_dir)
      : root_(std::move(root)),
        version_(std::move(version)),
        tmp_dir_(std::move(tmp_dir)) {}
  std::string root_;
  std::string version_;
  std::string tmp_dir_;
};

/// Installs a snapshot whose files were fetched into `tmp_dir` (under root, named
/// .tmp-*): verifies them against `manifest`, writes MANIFEST and renames to
/// `<root>/<version>`. CURRENT is left alone: the caller points it at the snapshot once
/// it is known to load.
absl::StatusOr<std::string> InstallFetchedSnapshot(const std::string& root,
                                                   const std::string& tmp_dir,
                                                   const v1::SnapshotManifest& manifest);

}  // namespace cratedig
