// OutboxSender against an in-process fake trainer: a batch leaves the outbox only once
// acknowledged; failures keep it for the next attempt.

#include "ingest_service/outbox_sender.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ingest_service/fake_catalog_service_internal.h"

namespace cratedig::ingest {
namespace {

std::unique_ptr<CrawlState> StateWithBatches(int n) {
  std::string templ = ::testing::TempDir() + "outbox_test_XXXXXX";
  char* dir = mkdtemp(templ.data());
  EXPECT_NE(dir, nullptr);
  absl::StatusOr<std::unique_ptr<CrawlState>> state = CrawlState::Open(dir);
  EXPECT_TRUE(state.ok()) << state.status();
  for (int i = 0; i < n; ++i) {
    v1::Track track;
    track.set_id(absl::StrCat("track", i));
    EXPECT_TRUE((*state)->SaveAlbum(absl::StrCat("album", i), {track}, "test").ok());
  }
  return *std::move(state);
}

int64_t OutboxSize(CrawlState& state) {
  absl::StatusOr<CrawlCounts> counts = state.Counts();
  EXPECT_TRUE(counts.ok()) << counts.status();
  return counts.ok() ? counts->outbox_batches : -1;
}

OutboxSenderOptions Fast() {
  OutboxSenderOptions o;
  o.max_backoff = absl::Milliseconds(20);
  o.poll_interval = absl::Milliseconds(10);
  return o;
}

TEST(OutboxSenderTest, DeliversEverythingAndEmptiesTheOutbox) {
  std::unique_ptr<CrawlState> state = StateWithBatches(5);
  testing::FakeTrainer trainer;
  OutboxSender sender(state.get(), trainer.stub.get(), Fast());
  sender.Start();
  absl::Notification never;
  ASSERT_TRUE(sender.WaitUntilEmpty(&never));
  sender.Stop();
  EXPECT_EQ(trainer.service.batches().size(), 5u);
  EXPECT_EQ(sender.acknowledged(), 5);
}

TEST(OutboxSenderTest, KeepsBatchesWhileTheTrainerFailsAndSendsThemLater) {
  std::unique_ptr<CrawlState> state = StateWithBatches(3);
  testing::FakeTrainer trainer;
  trainer.service.FailAtBatch(1, grpc::Status(grpc::StatusCode::UNAVAILABLE, "down"));
  OutboxSender sender(state.get(), trainer.stub.get(), Fast());
  sender.Start();
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (sender.failures() < 3 && absl::Now() < deadline)
    absl::SleepFor(absl::Milliseconds(5));
  EXPECT_GE(sender.failures(), 3);
  EXPECT_EQ(OutboxSize(*state), 2);  // the first batch was acknowledged, the others wait
  trainer.service.FailAtBatch(-1, grpc::Status::OK);
  absl::Notification never;
  ASSERT_TRUE(sender.WaitUntilEmpty(&never));
  sender.Stop();
  EXPECT_EQ(sender.acknowledged(), 3);
}

TEST(OutboxSenderTest, UnacknowledgedBatchesStay) {
  std::unique_ptr<CrawlState> state = StateWithBatches(4);
  testing::FakeTrainer trainer;
  trainer.service.AckOnly(1);
  OutboxSender sender(state.get(), trainer.stub.get(), Fast());
  sender.Start();
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (sender.failures() < 2 && absl::Now() < deadline)
    absl::SleepFor(absl::Milliseconds(5));
  sender.Stop();
  EXPECT_EQ(OutboxSize(*state), 3);
}

}  // namespace
}  // namespace cratedig::ingest
