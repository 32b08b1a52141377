#include "ingest_service/ingest_grpc_service.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ingest_service/fake_catalog_service_internal.h"
#include "ingest_service/test_util_internal.h"

namespace cratedig::ingest {
namespace {

using testing::CatalogFixture;
using testing::FakeTrainer;
using ::testing::HasSubstr;

// IngestService served in-process on 127.0.0.1:0 in front of a fake trainer.
class IngestGrpcServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service_ = std::make_unique<IngestGrpcService>(trainer_.stub, ImportOptions{});
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(port, 0);
    stub_ = v1::IngestService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override { server_->Shutdown(); }

  grpc::Status Import(const std::vector<std::string>& paths,
                      v1::ImportFilesResponse* response) {
    v1::ImportFilesRequest request;
    for (const std::string& p : paths) request.add_paths(p);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return stub_->ImportFiles(&context, request, response);
  }

  FakeTrainer trainer_;
  std::unique_ptr<IngestGrpcService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::IngestService::Stub> stub_;
};

TEST_F(IngestGrpcServiceTest, ImportsFilesIntoTheTrainer) {
  v1::ImportFilesResponse response;
  grpc::Status status = Import({CatalogFixture("hit_predictor_dataset-of-60s.csv"),
                                CatalogFixture("yamaerenay160k_artist_genres_2021.csv")},
                               &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const v1::ImportSummary& s = response.summary();
  EXPECT_EQ(s.rows_read(), 7);
  EXPECT_EQ(s.tracks_inserted(), 2);
  EXPECT_EQ(s.artists_upserted(), 2);
  EXPECT_EQ(s.rows_skipped(), 3);
  EXPECT_EQ(s.errors_size(), 3);
  EXPECT_EQ(trainer_.service.batches().size(), 2u);
}

TEST_F(IngestGrpcServiceTest, EmptyPathsIsInvalidArgument) {
  v1::ImportFilesResponse response;
  grpc::Status status = Import({}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "paths must not be empty");
}

TEST_F(IngestGrpcServiceTest, MissingFileIsNotFound) {
  v1::ImportFilesResponse response;
  grpc::Status status = Import({"/nonexistent/catalog.csv"}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("/nonexistent/catalog.csv"));
}

TEST_F(IngestGrpcServiceTest, TrainerFailureKeepsItsCode) {
  trainer_.service.FailAtBatch(
      0, grpc::Status(grpc::StatusCode::UNAVAILABLE, "trainer busy"));
  v1::ImportFilesResponse response;
  grpc::Status status =
      Import({CatalogFixture("tidytuesday_spotify_songs.csv")}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("trainer busy"));
}

TEST_F(IngestGrpcServiceTest, CrawlStatusSaysDisabledWithoutACrawl) {
  grpc::ClientContext context;
  v1::GetCrawlStatusResponse response;
  ASSERT_TRUE(stub_->GetCrawlStatus(&context, {}, &response).ok());
  EXPECT_FALSE(response.crawl_enabled());
  EXPECT_EQ(response.phase(), "disabled");
}

// Starts build/bin/ingestd; returns its pid and the first stdout line.
pid_t StartIngestd(const std::string& trainer, std::string* first_line) {
  // Everything the child needs is built before fork: only exec-safe calls after it.
  const std::string binary = std::string(CRATEDIG_BIN_DIR) + "/ingestd";
  const std::string trainer_flag = "--trainer=" + trainer;
  int fds[2];
  if (pipe(fds) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execl(binary.c_str(), binary.c_str(), "--listen=127.0.0.1:0", trainer_flag.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  FILE* out = fdopen(fds[0], "r");
  char line[256] = {0};
  if (std::fgets(line, sizeof(line), out) != nullptr) *first_line = line;
  std::fclose(out);
  return pid;
}

// Kills the child at scope exit unless it was reaped.
struct ChildGuard {
  ~ChildGuard() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
  pid_t pid;
};

TEST(IngestdTest, ServesImportFilesAndStopsOnSigterm) {
  std::string binary = std::string(CRATEDIG_BIN_DIR) + "/ingestd";
  if (access(binary.c_str(), X_OK) != 0) GTEST_SKIP() << binary << " is not built";
  FakeTrainer trainer;
  std::string line;
  pid_t pid = StartIngestd(trainer.address(), &line);
  ASSERT_GT(pid, 0);
  ChildGuard guard{pid};
  int port = 0;
  ASSERT_EQ(std::sscanf(line.c_str(), "listening on 127.0.0.1:%d", &port), 1) << line;

  auto stub = v1::IngestService::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  v1::ImportFilesRequest request;
  request.add_paths(CatalogFixture("tidytuesday_spotify_songs.csv"));
  v1::ImportFilesResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::Status status = stub->ImportFiles(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.summary().tracks_inserted(), 3);
  EXPECT_EQ(response.summary().tracks_unchanged(), 1);

  kill(pid, SIGTERM);
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  guard.pid = 0;
  EXPECT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0);
}

}  // namespace
}  // namespace cratedig::ingest
