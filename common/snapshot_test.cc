#include "common/snapshot.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "gtest/gtest.h"

namespace cratedig {
namespace {

std::string TempDir(const std::string& name) {
  std::string dir =
      ::testing::TempDir() + "/snapshot_test_" + name + "." + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  return dir;
}

// Publishes a snapshot of one file holding `contents`.
std::string Publish(const std::string& root, const std::string& version,
                    const std::string& contents) {
  auto writer = SnapshotWriter::Begin(root, version);
  EXPECT_TRUE(writer.ok()) << writer.status();
  EXPECT_TRUE(WriteFileDurably(writer->PathOf("data"), contents).ok());
  auto dir = writer->Commit({"data"}, v1::SnapshotManifest());
  EXPECT_TRUE(dir.ok()) << dir.status();
  return dir.value_or("");
}

// Files read whole and mapped whole hold exactly their bytes, whatever their size
// relative to the read buffer (empty, one byte, a page, around a page).
TEST(SnapshotFilesTest, ReadAndMappedFilesHoldExactlyTheirBytes) {
  const std::string dir = TempDir("files");
  std::filesystem::create_directories(dir);
  for (size_t size : {0, 1, 4095, 4096, 4097, 100000}) {
    std::string contents(size, '\0');
    for (size_t i = 0; i < size; ++i) contents[i] = static_cast<char>(i * 7 + size);
    const std::string path = dir + "/f" + std::to_string(size);
    ASSERT_TRUE(WriteFileDurably(path, contents).ok());
    auto read = ReadFile(path);
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(*read, contents) << size;
    EXPECT_EQ(read->capacity() < 2 * std::max<size_t>(size, 4096), true) << size;
    for (bool populate : {false, true}) {
      auto mapped = MappedFile::Open(path, populate);
      ASSERT_TRUE(mapped.ok()) << mapped.status();
      ASSERT_EQ(mapped->size(), size);
      EXPECT_EQ(std::string(mapped->data(), mapped->size()), contents) << size;
    }
  }
  EXPECT_EQ(ReadFile(dir + "/absent").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(MappedFile::Open(dir + "/absent", false).status().code(),
            absl::StatusCode::kNotFound);
  std::filesystem::remove_all(dir);
}

TEST(SnapshotVersionTest, NumbersOrderNotStrings) {
  EXPECT_TRUE(IsSnapshotVersion("000042"));
  EXPECT_FALSE(IsSnapshotVersion(""));
  EXPECT_FALSE(IsSnapshotVersion("../1"));
  EXPECT_TRUE(SnapshotVersionLess("000009", "000010"));
  EXPECT_TRUE(SnapshotVersionLess("999999", "1000000"));
  EXPECT_FALSE(SnapshotVersionLess("000010", "10"));
  EXPECT_FALSE(SnapshotVersionLess("10", "000010"));
}

TEST(SnapshotWriterTest, PublishesAndPrunesButNeverTheCurrentOne) {
  const std::string root = TempDir("prune");
  for (int v = 1; v <= 4; ++v) Publish(root, "00000" + std::to_string(v), "x");
  EXPECT_EQ(*ReadCurrent(root), "000004");
  EXPECT_EQ(NextSnapshotVersion(root), "000005");
  ASSERT_TRUE(WriteCurrent(root, "000001").ok());  // As a rollback does.
  PruneSnapshots(root, 2);
  EXPECT_EQ(ListSnapshots(root),
            (std::vector<std::string>{"000001", "000003", "000004"}));
  EXPECT_EQ(NextSnapshotVersion(root), "000005");
}

TEST(SnapshotWriterTest, ManifestRecordsFormatAndFileChecksums) {
  const std::string root = TempDir("manifest");
  const std::string dir = Publish(root, "000001", "hello");
  auto manifest = ReadManifest(dir);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  EXPECT_EQ(manifest->format_version(), kSnapshotFormatVersion);
  EXPECT_EQ(manifest->version(), "000001");
  ASSERT_EQ(manifest->files_size(), 1);
  EXPECT_EQ(manifest->files(0).size_bytes(), 5);
  EXPECT_TRUE(VerifySnapshotFiles(dir, *manifest).ok());
  ASSERT_TRUE(WriteFileDurably(dir + "/data", "hellO").ok());  // One flipped bit.
  EXPECT_EQ(VerifySnapshotFiles(dir, *manifest).code(), absl::StatusCode::kDataLoss);
}

TEST(ReadManifestTest, RefusesAnIncompatibleFormat) {
  const std::string root = TempDir("format");
  const std::string dir = Publish(root, "000001", "x");
  auto manifest = ReadManifest(dir);
  ASSERT_TRUE(manifest.ok());
  manifest->set_format_version(kSnapshotFormatVersion + 1);
  ASSERT_TRUE(
      WriteFileDurably(dir + "/" + kManifestFileName, manifest->SerializeAsString())
          .ok());
  auto newer = ReadManifest(dir);
  EXPECT_EQ(newer.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(newer.status().message().find("format 2"), std::string::npos)
      << newer.status();
}

TEST(InstallFetchedSnapshotTest, LeavesCurrentToTheCaller) {
  const std::string root = TempDir("install");
  Publish(root, "000001", "a");
  const std::string tmp = root + "/.tmp-000002";
  std::filesystem::create_directories(tmp);
  ASSERT_TRUE(WriteFileDurably(tmp + "/data", "b").ok());
  auto crc = FileCrc32(tmp + "/data");
  ASSERT_TRUE(crc.ok());
  v1::SnapshotManifest manifest;
  manifest.set_format_version(kSnapshotFormatVersion);
  manifest.set_version("000002");
  v1::SnapshotFile* file = manifest.add_files();
  file->set_name("data");
  file->set_crc32(crc->first);
  file->set_size_bytes(crc->second);
  auto installed = InstallFetchedSnapshot(root, tmp, manifest);
  ASSERT_TRUE(installed.ok()) << installed.status();
  EXPECT_EQ(*installed, root + "/000002");
  EXPECT_EQ(*ReadCurrent(root), "000001");
  EXPECT_FALSE(std::filesystem::exists(tmp));
}

}  // namespace
}  // namespace cratedig
