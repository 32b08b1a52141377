// Overload through the real trainerd with --max_concurrent_calls=8: a burst of 1,000
// concurrent streams and then 300 more calls, far beyond what it serves at once, are
// refused quickly with RESOURCE_EXHAUSTED instead of queueing; its memory stays bounded,
// and it serves normally as soon as the burst ends.

#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "cratedig/v1/snapshot_service.grpc.pb.h"
#include "tests/integration/cluster.h"

namespace cratedig::subprocess {
namespace {

using ::testing::HasSubstr;

constexpr int kLimit = 8;
constexpr int kStreams = 1000;
constexpr int kUnaryBurst = 300;

// Resident memory of `pid` in KiB, from /proc.
int64_t RssKib(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view rest = line;
    if (!absl::ConsumePrefix(&rest, "VmRSS:")) continue;
    rest = absl::StripAsciiWhitespace(rest);
    int64_t kib = 0;
    if (absl::SimpleAtoi(rest.substr(0, rest.find(' ')), &kib)) return kib;
  }
  return -1;
}

struct Stream {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientAsyncReader<v1::WatchSnapshotsResponse>> reader;
  grpc::Status status;
  bool finished = false;
};

TEST(OverloadTest, BurstIsRefusedQuicklyAndTheDaemonRecoversAtOnce) {
  ClusterOptions options;
  options.trainer_args = {absl::StrCat("--max_concurrent_calls=", kLimit)};
  absl::StatusOr<std::unique_ptr<Cluster>> started = Cluster::Start(options);
  ASSERT_TRUE(started.ok()) << started.status();
  Cluster& c = **started;
  const pid_t trainer_pid = c.trainer().pid();
  const int64_t rss_before = RssKib(trainer_pid);

  // 1,000 watch streams at once: each one the trainer accepts holds one of its threads.
  auto channel =
      grpc::CreateChannel(c.trainer().address(), grpc::InsecureChannelCredentials());
  auto snapshots = v1::SnapshotService::NewStub(channel);
  grpc::CompletionQueue cq;
  std::vector<std::unique_ptr<Stream>> streams;
  for (int i = 0; i < kStreams; ++i) {
    auto s = std::make_unique<Stream>();
    s->context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    s->reader = snapshots->PrepareAsyncWatchSnapshots(&s->context,
                                                      v1::WatchSnapshotsRequest(), &cq);
    s->reader->StartCall(reinterpret_cast<void*>(2 * i));
    s->reader->Finish(&s->status, reinterpret_cast<void*>(2 * i + 1));
    streams.push_back(std::move(s));
  }
  // Count the refusals as they come back.
  std::map<grpc::StatusCode, int> codes;
  int finished = 0;
  const absl::Time burst_start = absl::Now();
  absl::Duration last_refusal;
  while (finished < kStreams - kLimit && absl::Now() - burst_start < absl::Seconds(30)) {
    void* tag = nullptr;
    bool ok = false;
    auto next = cq.AsyncNext(&tag, &ok,
                             absl::ToChronoTime(absl::Now() + absl::Milliseconds(500)));
    if (next != grpc::CompletionQueue::GOT_EVENT) continue;
    intptr_t t = reinterpret_cast<intptr_t>(tag);
    if (t % 2 == 0) continue;  // StartCall done.
    Stream& s = *streams[t / 2];
    s.finished = true;
    ++finished;
    ++codes[s.status.error_code()];
    last_refusal = absl::Now() - burst_start;
    if (s.status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      EXPECT_THAT(s.status.error_message(), HasSubstr("Threadpool Exhausted"));
    }
  }
  EXPECT_GE(codes[grpc::StatusCode::RESOURCE_EXHAUSTED], kStreams - kLimit);
  EXPECT_EQ(codes[grpc::StatusCode::RESOURCE_EXHAUSTED], finished);
  // The refusals are immediate, not queued behind the streams it serves.
  EXPECT_LT(last_refusal, absl::Seconds(10));
  std::cerr << "refused " << codes[grpc::StatusCode::RESOURCE_EXHAUSTED] << " of "
            << kStreams << " streams in " << last_refusal << "\n";

  // While the accepted streams hold every thread, unary calls are refused at once too.
  auto catalog = v1::CatalogService::NewStub(channel);
  int refused = 0;
  absl::Duration slowest;
  for (int i = 0; i < kUnaryBurst; ++i) {
    grpc::ClientContext context;
    SetDeadline(&context, absl::Seconds(10));
    v1::GetCatalogStatusResponse response;
    absl::Time start = absl::Now();
    grpc::Status status =
        catalog->GetCatalogStatus(&context, v1::GetCatalogStatusRequest(), &response);
    slowest = std::max(slowest, absl::Now() - start);
    refused += status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED;
  }
  EXPECT_EQ(refused, kUnaryBurst);
  EXPECT_LT(slowest, absl::Seconds(1));
  std::cerr << "refused " << refused << " unary calls, slowest refusal " << slowest
            << "\n";
  const int64_t rss_during = RssKib(trainer_pid);
  EXPECT_LT(rss_during - rss_before, 200 * 1024)
      << "RSS grew from " << rss_before << " KiB to " << rss_during << " KiB";

  // End the burst: the trainer serves again at once.
  for (auto& s : streams) {
    if (!s->finished) s->context.TryCancel();
  }
  while (finished < kStreams) {
    void* tag = nullptr;
    bool ok = false;
    if (!cq.Next(&tag, &ok)) break;
    intptr_t t = reinterpret_cast<intptr_t>(tag);
    if (t % 2 == 1) ++finished;
  }
  // The trainer's watch loops notice a cancellation within 250 ms and free their threads;
  // from then on every call is served.
  absl::SleepFor(absl::Milliseconds(500));
  for (int i = 0; i < 50; ++i) {
    grpc::ClientContext context;
    SetDeadline(&context);
    v1::GetCatalogStatusResponse response;
    grpc::Status status =
        catalog->GetCatalogStatus(&context, v1::GetCatalogStatusRequest(), &response);
    EXPECT_TRUE(status.ok()) << "call " << i << ": " << status.error_message();
  }
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
}

}  // namespace
}  // namespace cratedig::subprocess
