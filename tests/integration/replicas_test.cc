// One trainer and three query daemons on loopback, through the real binaries: a publish
// reaches every replica and they answer alike; a steady load of Search and Recommend sees
// no failed request while they swap; a rollback reaches them too; with the trainer killed
// they go on serving, refuse a snapshot with one flipped byte when it comes back, and
// catch up with the next publish.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/snapshot.h"
#include "cratedig/v1/catalog_service.grpc.pb.h"
#include "cratedig/v1/query_service.grpc.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/integration/cluster.h"

namespace cratedig::subprocess {
namespace {

constexpr int kReplicas = 3;
constexpr absl::Duration kPatience = absl::Seconds(60);  // Generous: a loaded 2-core box.
const char* const kQueries[] = {"love", "night", "dance", "money", "heart", "blue"};

std::shared_ptr<grpc::Channel> Channel(const std::string& address) {
  return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
}

// One trainerd and kReplicas queryd, each with its own data directory.
class Replicas {
 public:
  static absl::StatusOr<std::unique_ptr<Replicas>> Start() {
    std::unique_ptr<Replicas> r(new Replicas());
    absl::StatusOr<std::string> dir = MakeTempDir("cratedig-replicas");
    if (!dir.ok()) return dir.status();
    r->dir_ = *dir;
    if (auto s = r->StartTrainer("127.0.0.1:0"); !s.ok()) return s;
    for (int i = 0; i < kReplicas; ++i) {
      absl::StatusOr<std::unique_ptr<DaemonProcess>> q = DaemonProcess::Start(
          absl::StrCat("queryd-", i), BinaryPath("queryd"),
          {"--listen=127.0.0.1:0", "--trainer=" + r->trainer_address_,
           absl::StrCat("--data_dir=", r->dir_, "/query", i)},
          absl::StrCat(r->dir_, "/queryd-", i, ".log"));
      if (!q.ok()) return q.status();
      r->query_channels_.push_back(Channel((*q)->address()));
      r->queries_.push_back(v1::QueryService::NewStub(r->query_channels_.back()));
      r->query_.push_back(*std::move(q));
    }
    return r;
  }

  ~Replicas() {
    queries_.clear();
    query_channels_.clear();
    catalog_.reset();
    query_.clear();
    trainer_.reset();
    if (!::testing::Test::HasFailure()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
      return;
    }
    std::cerr << "daemon logs (directory " << dir_ << " kept):\n";
    for (const std::string& name : {std::string("trainerd"), std::string("queryd-0"),
                                    std::string("queryd-1"), std::string("queryd-2")}) {
      std::cerr << "--- " << name << " ---\n"
                << FileTail(dir_ + "/" + name + ".log") << "\n";
    }
  }

  // (Re)starts trainerd on `listen` (the same address after a kill, so that the replicas
  // find it again).
  absl::Status StartTrainer(const std::string& listen) {
    catalog_.reset();
    absl::StatusOr<std::unique_ptr<DaemonProcess>> t =
        DaemonProcess::Start("trainerd", BinaryPath("trainerd"),
                             {"--listen=" + listen, "--data_dir=" + trainer_dir(),
                              "--train_debounce=0", "--build_threads=1"},
                             dir_ + "/trainerd.log");
    if (!t.ok()) return t.status();
    trainer_ = *std::move(t);
    trainer_address_ = trainer_->address();
    catalog_ = v1::CatalogService::NewStub(Channel(trainer_address_));
    return absl::OkStatus();
  }

  std::string trainer_dir() const { return dir_ + "/trainer"; }
  const std::string& trainer_address() const { return trainer_address_; }
  DaemonProcess& trainer() { return *trainer_; }
  v1::QueryService::Stub& query(int i) { return *queries_[i]; }
  const std::shared_ptr<grpc::Channel>& query_channel(int i) {
    return query_channels_[i];
  }

  absl::StatusOr<CommandResult> Cli(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {BinaryPath("cratedig"),
                                     "--trainer=" + trainer_address_, "--timeout=60"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, "", absl::Seconds(120));
  }

  absl::StatusOr<std::string> Train() {
    grpc::ClientContext context;
    SetDeadline(&context, absl::Seconds(120));
    v1::TrainResponse response;
    grpc::Status s = catalog_->Train(&context, v1::TrainRequest(), &response);
    if (!s.ok()) return absl::InternalError(absl::StrCat("Train: ", s.error_message()));
    return response.snapshot_version();
  }

  absl::StatusOr<v1::GetQueryStatusResponse> Status(int i) {
    grpc::ClientContext context;
    SetDeadline(&context, absl::Seconds(5));
    v1::GetQueryStatusResponse response;
    grpc::Status s = queries_[i]->GetQueryStatus(&context, {}, &response);
    if (!s.ok()) return absl::UnavailableError(s.error_message());
    return response;
  }

  // Polls until every replica's status satisfies `done`.
  template <typename Done>
  absl::Status WaitForAll(const std::string& what, Done done) {
    const absl::Time deadline = absl::Now() + kPatience;
    for (int i = 0; i < kReplicas; ++i) {
      while (true) {
        absl::StatusOr<v1::GetQueryStatusResponse> status = Status(i);
        if (status.ok() && done(*status)) break;
        if (absl::Now() > deadline) {
          return absl::DeadlineExceededError(absl::StrCat(
              "queryd-", i, " not ", what, " within ", absl::FormatDuration(kPatience),
              status.ok() ? "; serving " + status->snapshot_version() : ""));
        }
        absl::SleepFor(absl::Milliseconds(10));
      }
    }
    return absl::OkStatus();
  }

  absl::Status WaitServing(const std::string& version) {
    return WaitForAll("serving " + version, [&](const v1::GetQueryStatusResponse& s) {
      return s.snapshot_version() == version;
    });
  }

 private:
  Replicas() = default;
  std::string dir_;
  std::string trainer_address_;
  std::unique_ptr<DaemonProcess> trainer_;
  std::vector<std::unique_ptr<DaemonProcess>> query_;
  std::vector<std::shared_ptr<grpc::Channel>> query_channels_;
  std::vector<std::unique_ptr<v1::QueryService::Stub>> queries_;
  std::unique_ptr<v1::CatalogService::Stub> catalog_;
};

v1::SearchRequest SearchFor(const std::string& query) {
  v1::SearchRequest request;
  request.set_query(query);
  request.set_k(10);
  return request;
}

// Imports the test catalog and publishes snapshot 000001 on every replica.
void ImportAndPublish(Replicas& r) {
  absl::StatusOr<CommandResult> imported =
      r.Cli({"import", SourcePath("tests/testdata/tracks_sample.csv")});
  ASSERT_TRUE(imported.ok()) << imported.status();
  ASSERT_EQ(imported->exit_code, 0) << imported->err;
  absl::StatusOr<std::string> v = r.Train();
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_EQ(*v, "000001");
  absl::Status serving = r.WaitServing("000001");
  ASSERT_TRUE(serving.ok()) << serving;
}

// A playlist of tracks the catalog holds: the top results of a search.
std::vector<std::string> SomeTrackIds(Replicas& r) {
  v1::SearchResponse found;
  grpc::Status s = CallWithDeadline(
      [&](auto* ctx) { return r.query(0).Search(ctx, SearchFor("love"), &found); });
  EXPECT_TRUE(s.ok()) << s.error_message();
  std::vector<std::string> ids;
  for (const auto& result : found.results()) {
    if (ids.size() < 3) ids.push_back(result.track().id());
  }
  EXPECT_FALSE(ids.empty());
  return ids;
}

v1::RecommendRequest RecommendFor(const std::vector<std::string>& ids) {
  v1::RecommendRequest request;
  for (const std::string& id : ids) request.add_track_ids(id);
  request.set_k(10);
  return request;
}

// Every replica answers the same requests with the same results.
void ExpectIdenticalAnswers(Replicas& r, const std::vector<std::string>& ids) {
  using google::protobuf::util::MessageDifferencer;
  for (const char* query : kQueries) {
    std::vector<v1::SearchResponse> answers(kReplicas);
    for (int i = 0; i < kReplicas; ++i) {
      grpc::Status s = CallWithDeadline([&](auto* ctx) {
        return r.query(i).Search(ctx, SearchFor(query), &answers[i]);
      });
      ASSERT_TRUE(s.ok()) << "queryd-" << i << ": " << s.error_message();
    }
    for (int i = 1; i < kReplicas; ++i) {
      EXPECT_TRUE(MessageDifferencer::Equals(answers[0], answers[i]))
          << "search '" << query << "' differs on queryd-" << i;
    }
  }
  std::vector<v1::RecommendResponse> answers(kReplicas);
  for (int i = 0; i < kReplicas; ++i) {
    grpc::Status s = CallWithDeadline([&](auto* ctx) {
      return r.query(i).Recommend(ctx, RecommendFor(ids), &answers[i]);
    });
    ASSERT_TRUE(s.ok()) << "queryd-" << i << ": " << s.error_message();
    EXPECT_GT(answers[i].results_size(), 0);
  }
  for (int i = 1; i < kReplicas; ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals(answers[0], answers[i]))
        << "recommend differs on queryd-" << i;
  }
}

// Steady Search and Recommend (and health checks) against the replicas in turn, from two
// threads, with each request's latency filed under the phase it started in.
class Load {
 public:
  Load(Replicas* r, std::vector<std::string> ids) : r_(r), ids_(std::move(ids)) {
    for (int t = 0; t < 2; ++t) threads_.emplace_back([this, t] { Run(t); });
  }
  ~Load() { Stop(); }

  void SetPhase(int phase) { phase_ = phase; }
  void Stop() {
    stop_ = true;
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  // Waits until `n` requests finished in `phase`.
  void AwaitRequests(int phase, int n) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return static_cast<int>(latencies_[phase].size()) >= n;
    };
    mu_.AwaitWithTimeout(absl::Condition(&enough), kPatience);
  }
  int64_t requests(int phase) const {
    absl::MutexLock lock(&mu_);
    return static_cast<int64_t>(latencies_[phase].size());
  }
  int64_t failures() const {
    absl::MutexLock lock(&mu_);
    return failures_;
  }
  std::string first_failure() const {
    absl::MutexLock lock(&mu_);
    return first_failure_;
  }
  double P99Ms(int phase) const {
    absl::MutexLock lock(&mu_);
    std::vector<double> v = latencies_[phase];
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(v.size() * 0.99))];
  }

 private:
  void Run(int thread) {
    for (int64_t n = thread; !stop_; n += 2) {
      const int replica = static_cast<int>(n % kReplicas);
      const int phase = phase_;
      const absl::Time start = absl::Now();
      std::string failure;
      if (n % 10 == 0) {
        absl::StatusOr<Health> health = CheckHealth(r_->query_channel(replica), "");
        if (!health.ok() || *health != Health::kServing) failure = "health not SERVING";
      } else if (n % 2 == 0) {
        v1::SearchResponse response;
        grpc::Status s = CallWithDeadline([&](auto* ctx) {
          return r_->query(replica).Search(ctx, SearchFor(kQueries[n % 6]), &response);
        });
        if (!s.ok()) failure = "Search: " + s.error_message();
      } else {
        v1::RecommendResponse response;
        grpc::Status s = CallWithDeadline([&](auto* ctx) {
          return r_->query(replica).Recommend(ctx, RecommendFor(ids_), &response);
        });
        if (!s.ok()) failure = "Recommend: " + s.error_message();
        if (s.ok() && response.results_size() == 0) failure = "Recommend: no results";
      }
      const double ms = absl::ToDoubleMilliseconds(absl::Now() - start);
      absl::MutexLock lock(&mu_);
      latencies_[phase].push_back(ms);
      if (!failure.empty()) {
        if (failures_++ == 0)
          first_failure_ = absl::StrCat("queryd-", replica, ": ", failure);
      }
    }
  }

  Replicas* r_;
  const std::vector<std::string> ids_;
  std::atomic<int> phase_{0};
  std::atomic<bool> stop_{false};
  mutable absl::Mutex mu_;
  std::vector<double> latencies_[3] ABSL_GUARDED_BY(mu_);
  int64_t failures_ ABSL_GUARDED_BY(mu_) = 0;
  std::string first_failure_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

TEST(ReplicasTest, PublishReachesAllThreeAndASwapUnderLoadFailsNothing) {
  absl::StatusOr<std::unique_ptr<Replicas>> started = Replicas::Start();
  ASSERT_TRUE(started.ok()) << started.status();
  Replicas& r = **started;
  ImportAndPublish(r);
  const std::vector<std::string> ids = SomeTrackIds(r);
  ExpectIdenticalAnswers(r, ids);
  for (int i = 0; i < kReplicas; ++i) {
    absl::StatusOr<v1::GetQueryStatusResponse> status = r.Status(i);
    ASSERT_TRUE(status.ok());
    EXPECT_EQ(status->trainer(), r.trainer_address());
    EXPECT_NE(status->snapshot_builder(), "");
    EXPECT_GT(status->snapshot_loaded_at_ms(), 0);
  }

  // More data, a new publish, while two threads query all three replicas.
  absl::StatusOr<CommandResult> more =
      r.Cli({"import", SourcePath("tests/testdata/hits_sample.csv")});
  ASSERT_TRUE(more.ok()) << more.status();
  ASSERT_EQ(more->exit_code, 0) << more->err;
  {
    Load load(&r, ids);
    load.AwaitRequests(0, 300);
    load.SetPhase(1);
    const absl::Time published_at = absl::Now();
    absl::StatusOr<std::string> v2 = r.Train();
    ASSERT_TRUE(v2.ok()) << v2.status();
    ASSERT_EQ(*v2, "000002");
    absl::Status serving = r.WaitServing("000002");
    const absl::Duration to_all = absl::Now() - published_at;
    ASSERT_TRUE(serving.ok()) << serving;
    load.SetPhase(2);
    load.AwaitRequests(2, 300);
    load.Stop();
    std::cerr << "train+publish to all " << kReplicas
              << " replicas serving: " << absl::FormatDuration(to_all)
              << "; requests before/during/after: " << load.requests(0) << "/"
              << load.requests(1) << "/" << load.requests(2) << "; p99 ms before "
              << load.P99Ms(0) << ", during " << load.P99Ms(1) << ", after "
              << load.P99Ms(2) << "; failures " << load.failures() << "\n";
    EXPECT_EQ(load.failures(), 0) << load.first_failure();
  }
  ExpectIdenticalAnswers(r, ids);

  // cratedig rollback: back to 000001 everywhere; a version not kept is NOT_FOUND.
  absl::StatusOr<CommandResult> rolled = r.Cli({"--json", "rollback"});
  ASSERT_TRUE(rolled.ok()) << rolled.status();
  ASSERT_EQ(rolled->exit_code, 0) << rolled->err;
  EXPECT_NE(rolled->out.find(R"("snapshot":"000001","previous":"000002")"),
            std::string::npos)
      << rolled->out;
  absl::Status back = r.WaitServing("000001");
  ASSERT_TRUE(back.ok()) << back;
  absl::StatusOr<CommandResult> missing = r.Cli({"rollback", "000009"});
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_EQ(missing->exit_code, 1);
  EXPECT_NE(missing->err.find("NOT_FOUND"), std::string::npos) << missing->err;
  ExpectIdenticalAnswers(r, ids);
}

TEST(ReplicasTest, TrainerKilledReplicasServeRefuseAFlippedByteAndCatchUp) {
  absl::StatusOr<std::unique_ptr<Replicas>> started = Replicas::Start();
  ASSERT_TRUE(started.ok()) << started.status();
  Replicas& r = **started;
  ImportAndPublish(r);
  const std::vector<std::string> ids = SomeTrackIds(r);

  const std::string address = r.trainer_address();
  ASSERT_TRUE(r.trainer().Kill().ok());
  absl::Status lost = r.WaitForAll("seeing the trainer gone", [](const auto& s) {
    return s.trainer_connection() != "READY";
  });
  ASSERT_TRUE(lost.ok()) << lost;
  ExpectIdenticalAnswers(r, ids);  // Still serving, from their own copies.

  // While the trainer is down its disk rots: snapshot 000002 is 000001 with one flipped
  // byte in its track table, and CURRENT names it.
  const std::string root = r.trainer_dir() + "/snapshots";
  std::filesystem::copy(root + "/000001", root + "/000002");
  absl::StatusOr<v1::SnapshotManifest> manifest = ReadManifest(root + "/000002");
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  manifest->set_version("000002");
  ASSERT_TRUE(WriteFileDurably(root + "/000002/" + kManifestFileName,
                               manifest->SerializeAsString())
                  .ok());
  absl::StatusOr<std::string> table = ReadFile(root + "/000002/tracks.binpb");
  ASSERT_TRUE(table.ok());
  (*table)[table->size() / 2] ^= 0x01;
  ASSERT_TRUE(WriteFileDurably(root + "/000002/tracks.binpb", *table).ok());
  ASSERT_TRUE(WriteCurrent(root, "000002").ok());

  ASSERT_TRUE(r.StartTrainer(address).ok());
  absl::Status refused = r.WaitForAll("refusing 000002", [](const auto& s) {
    return s.last_refused_version() == "000002";
  });
  ASSERT_TRUE(refused.ok()) << refused;
  for (int i = 0; i < kReplicas; ++i) {
    absl::StatusOr<v1::GetQueryStatusResponse> status = r.Status(i);
    ASSERT_TRUE(status.ok());
    EXPECT_EQ(status->snapshot_version(), "000001");
    EXPECT_NE(status->last_refused_error().find("CRC-32"), std::string::npos)
        << status->last_refused_error();
    absl::StatusOr<Health> health = CheckHealth(r.query_channel(i), "");
    ASSERT_TRUE(health.ok());
    EXPECT_EQ(*health, Health::kServing);
  }
  ExpectIdenticalAnswers(r, ids);

  // The next publish reaches them all.
  absl::StatusOr<std::string> v3 = r.Train();
  ASSERT_TRUE(v3.ok()) << v3.status();
  EXPECT_EQ(*v3, "000003");
  absl::Status caught_up = r.WaitServing("000003");
  ASSERT_TRUE(caught_up.ok()) << caught_up;
  ExpectIdenticalAnswers(r, ids);
}

}  // namespace
}  // namespace cratedig::subprocess
