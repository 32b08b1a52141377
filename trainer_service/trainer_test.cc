#include "trainer_service/trainer.h"

#include <unistd.h>

#include <filesystem>
#include <string>

#include "common/snapshot.h"
#include "common/testing/synthetic_catalog.h"
#include "gtest/gtest.h"

namespace cratedig::trainer {
namespace {

TrainerOptions Options(const std::string& name) {
  TrainerOptions options;
  options.data_dir =
      ::testing::TempDir() + "/trainer_test_" + name + "." + std::to_string(::getpid());
  std::filesystem::remove_all(options.data_dir);
  options.keep_snapshots = 2;
  return options;
}

void Ingest(Trainer& trainer, int first, int count) {
  v1::IngestCatalogRequest batch;
  auto tracks = testing::SyntheticTracks(first + count);
  for (int i = first; i < first + count; ++i) *batch.add_tracks() = tracks[i];
  v1::IngestCatalogResponse ack;
  ASSERT_TRUE(trainer.Ingest(batch, &ack).ok());
}

std::string Version(const absl::StatusOr<v1::TrainResponse>& trained) {
  EXPECT_TRUE(trained.ok()) << trained.status();
  return trained.ok() ? trained->snapshot_version() : "";
}

TEST(TrainerRollbackTest, RepublishesAKeptSnapshotAndSurvivesRestart) {
  const TrainerOptions options = Options("rollback");
  auto trainer = Trainer::Create(options);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  Trainer& t = **trainer;
  EXPECT_EQ(t.Rollback("").status().code(), absl::StatusCode::kFailedPrecondition)
      << "nothing published";
  Ingest(t, 0, 100);
  EXPECT_EQ(Version(t.Train()), "000001");
  EXPECT_EQ(t.Rollback("").status().code(), absl::StatusCode::kFailedPrecondition)
      << "no older snapshot";
  Ingest(t, 100, 20);
  EXPECT_EQ(Version(t.Train()), "000002");
  Ingest(t, 120, 20);
  EXPECT_EQ(Version(t.Train()), "000003");
  // --keep_snapshots=2: 000001 is gone.
  EXPECT_EQ(t.Rollback("000001").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(t.Rollback("../000002").status().code(), absl::StatusCode::kInvalidArgument);

  auto rolled = t.Rollback("");
  ASSERT_TRUE(rolled.ok()) << rolled.status();
  EXPECT_EQ(rolled->snapshot_version(), "000002");
  EXPECT_EQ(rolled->previous_version(), "000003");
  EXPECT_EQ(rolled->tracks(), 120);
  EXPECT_EQ(rolled->kept_versions_size(), 2);
  EXPECT_EQ(t.Latest()->version(), "000002");
  EXPECT_EQ(t.Status().snapshot_version(), "000002");
  // Watchers that knew 000003 are told at once.
  auto told = t.WaitForNewer("000003", absl::Seconds(30));
  ASSERT_TRUE(told.has_value());
  EXPECT_EQ(told->version(), "000002");
  // Rolling back to the current one changes nothing; "2" names 000002.
  auto again = t.Rollback("2");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->snapshot_version(), "000002");
  EXPECT_EQ(again->previous_version(), "000002");
  trainer->reset();

  // The rollback survives a restart; the next build takes the next free number.
  auto restarted = Trainer::Create(options);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  EXPECT_EQ((*restarted)->Latest()->version(), "000002");
  EXPECT_EQ(Version((*restarted)->Train()), "000004");
  EXPECT_EQ(ListSnapshots(options.data_dir + "/snapshots"),
            (std::vector<std::string>{"000003", "000004"}));
}

TEST(TrainerRollbackTest, RefusesACorruptSnapshot) {
  const TrainerOptions options = Options("corrupt");
  auto trainer = Trainer::Create(options);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  Ingest(**trainer, 0, 100);
  EXPECT_EQ(Version((*trainer)->Train()), "000001");
  EXPECT_EQ(Version((*trainer)->Train()), "000002");
  const std::string file = options.data_dir + "/snapshots/000001/tracks.binpb";
  auto data = ReadFile(file);
  ASSERT_TRUE(data.ok());
  (*data)[data->size() / 2] ^= 1;
  ASSERT_TRUE(WriteFileDurably(file, *data).ok());
  EXPECT_EQ((*trainer)->Rollback("000001").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ((*trainer)->Latest()->version(), "000002");
}

}  // namespace
}  // namespace cratedig::trainer

namespace cratedig::trainer {
namespace {

TEST(TrainerBackgroundTest, NewDataIsBuiltByItselfAndStatusSaysWhatHappens) {
  TrainerOptions options = Options("background");
  options.train_debounce = absl::Milliseconds(50);
  auto trainer = Trainer::Create(options);
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  Trainer& t = **trainer;
  EXPECT_EQ(t.Status().build_state(), v1::BUILD_STATE_IDLE);
  EXPECT_EQ(t.Status().train_debounce_ms(), 50);
  Ingest(t, 0, 100);
  auto first = t.WaitForNewer("", absl::Seconds(60));
  ASSERT_TRUE(first.has_value()) << "no automatic build";
  EXPECT_EQ(first->version(), "000001");
  EXPECT_EQ(first->counts().tracks(), 100);
  // The state moves on to idle once the build is recorded.
  for (int i = 0; i < 600 && t.Status().build_state() != v1::BUILD_STATE_IDLE; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  v1::GetCatalogStatusResponse status = t.Status();
  EXPECT_EQ(status.build_state(), v1::BUILD_STATE_IDLE);
  EXPECT_GT(status.last_build_finished_at_ms(), 0);
  EXPECT_GE(status.last_build_ms(), 0);
  EXPECT_EQ(status.last_build_error(), "");

  // Re-sending what is stored changes nothing and builds nothing; new data does.
  Ingest(t, 0, 100);
  Ingest(t, 100, 10);
  auto second = t.WaitForNewer("000001", absl::Seconds(60));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->version(), "000002");
  EXPECT_EQ(second->counts().tracks(), 110);

  // After a rollback new data waits for an explicit Train.
  ASSERT_TRUE(t.Rollback("").ok());
  Ingest(t, 110, 10);
  EXPECT_EQ(t.Status().build_state(), v1::BUILD_STATE_PAUSED);
  EXPECT_FALSE(t.WaitForNewer("000001", absl::Milliseconds(300)).has_value());
  EXPECT_EQ(Version(t.Train()), "000003");
  EXPECT_EQ(t.Latest()->counts().tracks(), 120);
}

TEST(TrainerBackgroundTest, StopsPromptlyWithAChangePending) {
  TrainerOptions options = Options("stop");
  options.train_debounce = absl::Hours(1);
  auto trainer = Trainer::Create(options);
  ASSERT_TRUE(trainer.ok());
  Ingest(**trainer, 0, 10);
  EXPECT_EQ((*trainer)->Status().build_state(), v1::BUILD_STATE_WAITING);
  EXPECT_GT((*trainer)->Status().build_due_at_ms(), 0);
  const absl::Time start = absl::Now();
  trainer->reset();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

}  // namespace
}  // namespace cratedig::trainer
