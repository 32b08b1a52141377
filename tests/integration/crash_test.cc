// Crash safety through the real binaries, each crash a SIGKILL (no shutdown code runs):
// trainerd in the middle of an ingest stream (every acknowledged batch is there after the
// restart), trainerd in the middle of a snapshot build (the partial snapshot is never
// listed, fetched or served, and the next start deletes it), and queryd in the middle of
// fetching a new snapshot (the restart serves a complete one). ingestd killed during a
// crawl is covered by crawl_test.cc.

#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/snapshot.h"
#include "common/testing/synthetic_catalog.h"
#include "cratedig/v1/snapshot_service.grpc.pb.h"
#include "query_service/snapshot.h"
#include "tests/integration/cluster.h"

namespace cratedig::subprocess {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;

constexpr int kBatch = 100;
// Tracks of the large snapshot: enough for its build and fetch to take a while.
constexpr int kTracks = 5000;

// A temporary directory deleted at the end unless the test failed.
class TestDir {
 public:
  TestDir() {
    absl::StatusOr<std::string> dir = MakeTempDir("cratedig-crash");
    EXPECT_TRUE(dir.ok()) << dir.status();
    path_ = dir.ok() ? *dir : "/nonexistent";
  }
  ~TestDir() {
    if (::testing::Test::HasFailure()) {
      std::cerr << "kept " << path_ << "\n";
      return;
    }
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

absl::StatusOr<std::unique_ptr<DaemonProcess>> StartTrainer(const std::string& dir,
                                                            int run) {
  return DaemonProcess::Start("trainerd", BinaryPath("trainerd"),
                              {"--listen=127.0.0.1:0", "--data_dir=" + dir + "/trainer",
                               "--build_threads=1", "--train_debounce=0"},
                              absl::StrCat(dir, "/trainerd.", run, ".log"));
}

absl::StatusOr<std::unique_ptr<DaemonProcess>> StartQuery(const std::string& dir,
                                                          const std::string& trainer,
                                                          int run) {
  return DaemonProcess::Start(
      "queryd", BinaryPath("queryd"),
      {"--listen=127.0.0.1:0", "--trainer=" + trainer, "--data_dir=" + dir + "/query"},
      absl::StrCat(dir, "/queryd.", run, ".log"));
}

std::shared_ptr<grpc::Channel> ChannelTo(const DaemonProcess& d) {
  return grpc::CreateChannel(d.address(), grpc::InsecureChannelCredentials());
}

v1::IngestCatalogRequest Batch(const std::vector<v1::Track>& tracks, int64_t batch_id) {
  v1::IngestCatalogRequest request;
  request.set_batch_id(batch_id);
  request.set_source("crash_test");
  for (int64_t i = (batch_id - 1) * kBatch;
       i < batch_id * kBatch && i < static_cast<int64_t>(tracks.size()); ++i) {
    *request.add_tracks() = tracks[i];
  }
  return request;
}

// Sends `tracks` in batches over one stream and waits for every acknowledgement.
absl::Status IngestAll(DaemonProcess& trainer, const std::vector<v1::Track>& tracks,
                       int64_t first_batch, int64_t last_batch) {
  auto stub = v1::CatalogService::NewStub(ChannelTo(trainer));
  grpc::ClientContext context;
  SetDeadline(&context, absl::Seconds(120));
  auto stream = stub->IngestCatalog(&context);
  std::thread writer([&] {
    for (int64_t b = first_batch; b <= last_batch; ++b) {
      if (!stream->Write(Batch(tracks, b))) return;
    }
    stream->WritesDone();
  });
  v1::IngestCatalogResponse ack;
  int64_t acks = 0;
  while (stream->Read(&ack)) ++acks;
  writer.join();
  grpc::Status status = stream->Finish();
  if (!status.ok()) return absl::UnavailableError(status.error_message());
  if (acks != last_batch - first_batch + 1) {
    return absl::DataLossError(absl::StrCat(acks, " acknowledgements"));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::TrainResponse> Train(DaemonProcess& trainer) {
  auto stub = v1::CatalogService::NewStub(ChannelTo(trainer));
  v1::TrainResponse response;
  grpc::ClientContext context;
  SetDeadline(&context, absl::Seconds(300));
  grpc::Status status = stub->Train(&context, v1::TrainRequest(), &response);
  if (!status.ok()) return absl::InternalError(status.error_message());
  return response;
}

// Entries of `dir` whose names start with ".tmp-".
std::vector<std::string> TemporaryDirs(const std::string& dir) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (absl::StartsWith(name, ".tmp-")) found.push_back(name);
  }
  return found;
}

// Polls until `dir` has a temporary directory, for at most `timeout`.
bool AwaitTemporaryDir(const std::string& dir, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (!TemporaryDirs(dir).empty()) return true;
    absl::SleepFor(absl::Microseconds(200));
  }
  return false;
}

absl::StatusOr<v1::GetQueryStatusResponse> AwaitServing(DaemonProcess& query,
                                                        const std::string& version) {
  auto stub = v1::QueryService::NewStub(ChannelTo(query));
  v1::GetQueryStatusResponse response;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (absl::Now() < deadline) {
    grpc::ClientContext context;
    SetDeadline(&context, absl::Seconds(2));
    if (stub->GetQueryStatus(&context, v1::GetQueryStatusRequest(), &response).ok() &&
        response.snapshot_version() == version) {
      return response;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("queryd serves '", response.snapshot_version(), "', not ", version));
}

TEST(CrashTest, TrainerKilledDuringIngestKeepsEveryAcknowledgedBatch) {
  TestDir dir;
  const std::vector<v1::Track> tracks = testing::SyntheticTracks(30000);
  const int64_t batches = static_cast<int64_t>(tracks.size()) / kBatch;
  absl::StatusOr<std::unique_ptr<DaemonProcess>> trainer = StartTrainer(dir.path(), 1);
  ASSERT_TRUE(trainer.ok()) << trainer.status();

  auto stub = v1::CatalogService::NewStub(ChannelTo(**trainer));
  grpc::ClientContext context;
  SetDeadline(&context, absl::Seconds(120));
  auto stream = stub->IngestCatalog(&context);
  std::atomic<int64_t> written{0};
  std::thread writer([&] {
    for (int64_t b = 1; b <= batches; ++b) {
      if (!stream->Write(Batch(tracks, b))) return;
      ++written;
    }
    stream->WritesDone();
  });
  // SIGKILL the trainer once 30 batches are acknowledged, while more are on the way.
  std::vector<int64_t> acknowledged;
  v1::IngestCatalogResponse ack;
  while (stream->Read(&ack)) {
    acknowledged.push_back(ack.batch_id());
    if (acknowledged.size() == 30) {
      ASSERT_TRUE((*trainer)->Kill().ok());
    }
  }
  writer.join();
  EXPECT_FALSE(stream->Finish().ok());
  ASSERT_GE(acknowledged.size(), 30u);
  ASSERT_LT(static_cast<int64_t>(acknowledged.size()), batches)
      << "the kill came after the whole stream";
  std::cerr << "acknowledged " << acknowledged.size() << " of " << written.load()
            << " batches written before the kill\n";

  trainer = StartTrainer(dir.path(), 2);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  absl::StatusOr<v1::TrainResponse> trained = Train(**trainer);
  ASSERT_TRUE(trained.ok()) << trained.status();
  absl::StatusOr<std::shared_ptr<const query::Snapshot>> snapshot = query::Snapshot::Load(
      dir.path() + "/trainer/snapshots/" + trained->snapshot_version());
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  int64_t missing = 0;
  for (int64_t b : acknowledged) {
    const v1::IngestCatalogRequest batch = Batch(tracks, b);
    for (const v1::Track& t : batch.tracks()) {
      missing += !(*snapshot)->Find(t.id()).has_value();
    }
  }
  EXPECT_EQ(missing, 0) << "acknowledged tracks lost by the crash";
  EXPECT_GE(trained->tracks(), static_cast<int64_t>(acknowledged.size()) * kBatch);
}

TEST(CrashTest, TrainerKilledDuringBuildNeverPublishesAPartialSnapshot) {
  TestDir dir;
  const std::string snapshots = dir.path() + "/trainer/snapshots";
  const std::vector<v1::Track> tracks = testing::SyntheticTracks(kTracks);
  absl::StatusOr<std::unique_ptr<DaemonProcess>> trainer = StartTrainer(dir.path(), 1);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  // Snapshot 000001 from the first 1,000 tracks, served by queryd.
  ASSERT_TRUE(IngestAll(**trainer, tracks, 1, 10).ok());
  absl::StatusOr<v1::TrainResponse> first = Train(**trainer);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->snapshot_version(), "000001");
  absl::StatusOr<std::unique_ptr<DaemonProcess>> query =
      StartQuery(dir.path(), (*trainer)->address(), 1);
  ASSERT_TRUE(query.ok()) << query.status();
  ASSERT_TRUE(AwaitServing(**query, "000001").ok());

  // Build 000002 from all kTracks and SIGKILL the trainer while its files are written.
  absl::Status ingested =
      IngestAll(**trainer, tracks, 11, static_cast<int64_t>(tracks.size()) / kBatch);
  ASSERT_TRUE(ingested.ok()) << ingested;
  std::thread build([&] { (void)Train(**trainer); });
  const bool caught = AwaitTemporaryDir(snapshots, absl::Seconds(120));
  ASSERT_TRUE((*trainer)->Kill().ok());
  build.join();
  ASSERT_TRUE(caught) << "the build ended before its temporary directory was seen";
  EXPECT_THAT(ListSnapshots(snapshots), ElementsAre("000001"));
  absl::StatusOr<std::string> current = ReadCurrent(snapshots);
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(*current, "000001");

  // queryd keeps serving 000001 without its trainer.
  absl::StatusOr<v1::GetQueryStatusResponse> served = AwaitServing(**query, "000001");
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_EQ(served->tracks(), 1000);

  // The restart deletes the partial build, offers only 000001, then builds 000002 whole.
  trainer = StartTrainer(dir.path(), 2);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  EXPECT_THAT(TemporaryDirs(snapshots), ::testing::IsEmpty());
  auto snapshot_stub = v1::SnapshotService::NewStub(ChannelTo(**trainer));
  v1::GetLatestSnapshotResponse latest;
  ASSERT_TRUE(CallWithDeadline([&](auto* ctx) {
                return snapshot_stub->GetLatestSnapshot(
                    ctx, v1::GetLatestSnapshotRequest(), &latest);
              }).ok());
  EXPECT_EQ(latest.manifest().version(), "000001");
  v1::FetchSnapshotFileRequest fetch;
  fetch.set_version("000002");
  fetch.set_name("tracks.binpb");
  grpc::ClientContext fetch_context;
  SetDeadline(&fetch_context);
  auto reader = snapshot_stub->FetchSnapshotFile(&fetch_context, fetch);
  v1::FetchSnapshotFileResponse chunk;
  EXPECT_FALSE(reader->Read(&chunk));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND);

  absl::StatusOr<v1::TrainResponse> second = Train(**trainer);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->tracks(), kTracks);
  // queryd was started against the old address; a new queryd fetches the new snapshot.
  ASSERT_TRUE((*query)->Stop().ok());
  query = StartQuery(dir.path(), (*trainer)->address(), 2);
  ASSERT_TRUE(query.ok()) << query.status();
  served = AwaitServing(**query, second->snapshot_version());
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_EQ(served->tracks(), kTracks);
}

TEST(CrashTest, QueryDaemonKilledDuringSwapRestartsOnACompleteSnapshot) {
  TestDir dir;
  const std::string local = dir.path() + "/query/snapshots";
  const std::vector<v1::Track> tracks = testing::SyntheticTracks(kTracks);
  absl::StatusOr<std::unique_ptr<DaemonProcess>> trainer = StartTrainer(dir.path(), 1);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  ASSERT_TRUE(IngestAll(**trainer, tracks, 1, 10).ok());
  ASSERT_TRUE(Train(**trainer).ok());
  absl::StatusOr<std::unique_ptr<DaemonProcess>> query =
      StartQuery(dir.path(), (*trainer)->address(), 1);
  ASSERT_TRUE(query.ok()) << query.status();
  ASSERT_TRUE(AwaitServing(**query, "000001").ok());

  // Publish 000002 (kTracks tracks) and SIGKILL queryd while it fetches it.
  ASSERT_TRUE(
      IngestAll(**trainer, tracks, 11, static_cast<int64_t>(tracks.size()) / kBatch)
          .ok());
  std::atomic<bool> trained{false};
  std::thread build([&] {
    (void)Train(**trainer);
    trained = true;
  });
  const bool caught = AwaitTemporaryDir(local, absl::Seconds(120));
  ASSERT_TRUE((*query)->Kill().ok());
  build.join();
  ASSERT_TRUE(caught) << "queryd installed 000002 before its fetch was seen";

  // Whatever the kill interrupted, CURRENT names a complete snapshot.
  absl::StatusOr<std::string> current = ReadCurrent(local);
  ASSERT_TRUE(current.ok()) << current.status();
  absl::StatusOr<std::shared_ptr<const query::Snapshot>> on_disk =
      query::Snapshot::Load(local + "/" + *current);
  EXPECT_TRUE(on_disk.ok()) << on_disk.status();

  // The restart serves a complete snapshot at once, then 000002, and no partial fetch
  // is left behind.
  query = StartQuery(dir.path(), (*trainer)->address(), 2);
  ASSERT_TRUE(query.ok()) << query.status();
  absl::StatusOr<v1::GetQueryStatusResponse> served = AwaitServing(**query, "000002");
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_EQ(served->tracks(), kTracks);
  EXPECT_THAT(TemporaryDirs(local), ::testing::IsEmpty());
}

}  // namespace
}  // namespace cratedig::subprocess
