#include "query_service/snapshot_sync.h"

#include <unistd.h>

#include <filesystem>
#include <string>

#include "common/snapshot.h"
#include "common/testing/synthetic_catalog.h"
#include "gtest/gtest.h"
#include "trainer_service/snapshot_builder.h"

namespace cratedig::query {
namespace {

std::string TempDir(const std::string& name) {
  std::string dir = ::testing::TempDir() + "/snapshot_sync_test_" + name + "." +
                    std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  return dir;
}

// A snapshot of 50 synthetic tracks published under `data_dir`/snapshots.
v1::SnapshotManifest Publish(const std::string& data_dir, const std::string& version) {
  auto manifest =
      trainer::BuildSnapshot(testing::SyntheticTracks(50), {}, trainer::BuildOptions{},
                             data_dir + "/snapshots", version);
  EXPECT_TRUE(manifest.ok()) << manifest.status();
  return manifest.value_or(v1::SnapshotManifest());
}

TEST(SnapshotSyncTest, ServesTheLocalCopyAndDescribesIt) {
  SnapshotSyncOptions options;
  options.data_dir = TempDir("local");
  const v1::SnapshotManifest published = Publish(options.data_dir, "000001");
  SnapshotHolder holder;
  int swaps = 0;
  SnapshotSync sync(options, &holder, [&](const Snapshot&) { ++swaps; });
  ASSERT_TRUE(sync.LoadLocal().ok());
  ASSERT_NE(holder.Get(), nullptr);
  EXPECT_EQ(holder.Get()->version(), "000001");
  EXPECT_EQ(swaps, 1);
  v1::GetQueryStatusResponse status;
  sync.DescribeTo(&status);
  EXPECT_EQ(status.snapshot_builder(), published.builder());
  EXPECT_EQ(status.snapshot_created_at_ms(), published.created_at_ms());
  EXPECT_GT(status.snapshot_loaded_at_ms(), 0);
  EXPECT_EQ(status.trainer(), "");
  EXPECT_EQ(status.last_refused_version(), "");
}

TEST(SnapshotSyncTest, RefusesAnIncompatibleFormatBeforeFetchingAnything) {
  SnapshotSyncOptions options;
  options.data_dir = TempDir("format");
  v1::SnapshotManifest newer = Publish(options.data_dir, "000001");
  SnapshotHolder holder;
  SnapshotSync sync(options, &holder, nullptr);
  ASSERT_TRUE(sync.LoadLocal().ok());
  newer.set_version("000002");
  newer.set_format_version(kSnapshotFormatVersion + 1);
  absl::Status refused = sync.Sync(newer);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_NE(refused.message().find("format 2"), std::string::npos) << refused;
  EXPECT_EQ(holder.Get()->version(), "000001");
  EXPECT_EQ(*ReadCurrent(options.data_dir + "/snapshots"), "000001");
}

TEST(SnapshotSyncTest, ACorruptLocalCopyIsRefusedAndRecorded) {
  SnapshotSyncOptions options;
  options.data_dir = TempDir("corrupt");
  Publish(options.data_dir, "000001");
  const std::string file = options.data_dir + "/snapshots/000001/tracks.binpb";
  auto data = ReadFile(file);
  ASSERT_TRUE(data.ok());
  (*data)[data->size() / 3] ^= 0x10;
  ASSERT_TRUE(WriteFileDurably(file, *data).ok());
  SnapshotHolder holder;
  SnapshotSync sync(options, &holder, nullptr);
  EXPECT_EQ(sync.LoadLocal().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(holder.Get(), nullptr);
  v1::GetQueryStatusResponse status;
  sync.DescribeTo(&status);
  EXPECT_EQ(status.last_refused_version(), "000001");
  EXPECT_NE(status.last_refused_error().find("CRC-32"), std::string::npos)
      << status.last_refused_error();
  EXPECT_GT(status.last_refused_at_ms(), 0);
}

}  // namespace
}  // namespace cratedig::query
