// TLS and bearer tokens through the real binaries: a throwaway CA made at test time,
// three daemons serving TLS, queryd and ingestd reaching trainerd over TLS with the
// internal token, and every service refusing callers without the right token while
// health checks and reflection stay open. The secrets never reach a log.

#include "common/access.h"

#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "cratedig/v1/snapshot_service.grpc.pb.h"
#include "tests/integration/cluster.h"
#include "tests/integration/test_pki.h"

namespace cratedig::subprocess {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kQueryToken[] = "query-token-5f1c0d9e2b7a4c38";
constexpr char kInternalToken[] = "internal-token-8d2e6a1f9c3b7e05";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::shared_ptr<grpc::Channel> Secure(const std::string& address, const TestPki& pki,
                                      const std::string& token) {
  ClientAccess access;
  access.tls_ca_file = pki.ca_cert;
  access.token = token;
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      MakeSecureChannel(address, access);
  EXPECT_TRUE(channel.ok()) << channel.status();
  return channel.ok() ? *channel : nullptr;
}

grpc::StatusCode CatalogStatusCode(const std::shared_ptr<grpc::Channel>& channel,
                                   std::string* message = nullptr) {
  v1::GetCatalogStatusResponse response;
  grpc::Status status = CallWithDeadline([&](auto* ctx) {
    return v1::CatalogService::NewStub(channel)->GetCatalogStatus(
        ctx, v1::GetCatalogStatusRequest(), &response);
  });
  if (message != nullptr) *message = status.error_message();
  return status.error_code();
}

grpc::StatusCode QueryStatusCode(const std::shared_ptr<grpc::Channel>& channel) {
  v1::GetQueryStatusResponse response;
  return CallWithDeadline([&](auto* ctx) {
           return v1::QueryService::NewStub(channel)->GetQueryStatus(
               ctx, v1::GetQueryStatusRequest(), &response);
         })
      .error_code();
}

grpc::StatusCode CrawlStatusCode(const std::shared_ptr<grpc::Channel>& channel) {
  v1::GetCrawlStatusResponse response;
  return CallWithDeadline([&](auto* ctx) {
           return v1::IngestService::NewStub(channel)->GetCrawlStatus(
               ctx, v1::GetCrawlStatusRequest(), &response);
         })
      .error_code();
}

class AccessTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::string> dir = MakeTempDir("cratedig-pki");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = new std::string(*dir);
    absl::StatusOr<TestPki> pki = MakeTestPki(*dir_);
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = new TestPki(*pki);
    ASSERT_TRUE(WriteSecretFile(*dir_ + "/query.token", kQueryToken).ok());
    ASSERT_TRUE(WriteSecretFile(*dir_ + "/internal.token", kInternalToken).ok());
  }
  static void TearDownTestSuite() {
    if (dir_ != nullptr) std::filesystem::remove_all(*dir_);
    delete dir_;
    delete pki_;
  }

  static ClusterOptions SecureOptions() {
    const std::vector<std::string> serve = {"--tls_cert_file=" + pki_->server_cert,
                                            "--tls_key_file=" + pki_->server_key};
    const std::vector<std::string> internal = {"--internal_token_file=" + *dir_ +
                                               "/internal.token"};
    const std::string ca = "--tls_ca_file=" + pki_->ca_cert;
    ClusterOptions o;
    o.trainer_args = serve;
    o.trainer_args.insert(o.trainer_args.end(), internal.begin(), internal.end());
    o.query_args = o.trainer_args;
    o.query_args.push_back(ca);
    o.query_args.push_back("--query_token_file=" + *dir_ + "/query.token");
    o.ingest_args = o.trainer_args;
    o.ingest_args.push_back(ca);
    o.cli_args = {ca, "--query_token_file=" + *dir_ + "/query.token",
                  "--internal_token_file=" + *dir_ + "/internal.token"};
    o.trainer_access = {pki_->ca_cert, "", kInternalToken};
    o.query_access = {pki_->ca_cert, "", kQueryToken};
    o.ingest_access = {pki_->ca_cert, "", kInternalToken};
    return o;
  }

  static std::string* dir_;
  static TestPki* pki_;
};

std::string* AccessTest::dir_ = nullptr;
TestPki* AccessTest::pki_ = nullptr;

TEST_F(AccessTest, TlsAndTokensGuardEveryServiceButHealthAndReflection) {
  absl::StatusOr<std::unique_ptr<Cluster>> started = Cluster::Start(SecureOptions());
  ASSERT_TRUE(started.ok()) << started.status();
  Cluster& c = **started;

  // The client imports and trains through the trainer over TLS with the internal token;
  // queryd fetches the snapshot over TLS with it and serves it with the query token.
  absl::StatusOr<CommandResult> cli =
      c.Cli({"import", SourcePath("tests/testdata/hits_sample.csv")});
  ASSERT_TRUE(cli.ok()) << cli.status();
  ASSERT_EQ(cli->exit_code, 0) << cli->err << c.Logs();
  cli = c.Cli({"--json", "train"});
  ASSERT_TRUE(cli.ok()) << cli.status();
  ASSERT_EQ(cli->exit_code, 0) << cli->err << c.Logs();
  absl::StatusOr<v1::GetQueryStatusResponse> serving = c.WaitUntilServing("000001");
  ASSERT_TRUE(serving.ok()) << serving.status() << c.Logs();
  EXPECT_EQ(serving->tracks(), 60);
  cli = c.Cli({"--json", "search", "love"});
  ASSERT_TRUE(cli.ok()) << cli.status();
  EXPECT_EQ(cli->exit_code, 0) << cli->err;

  // ingestd's import reaches the trainer over TLS with the internal token.
  v1::ImportFilesRequest import;
  import.add_paths(SourcePath("tests/testdata/hits_sample.csv"));
  v1::ImportFilesResponse imported;
  grpc::Status rpc = CallWithDeadline(
      [&](auto* ctx) { return c.importer().ImportFiles(ctx, import, &imported); });
  EXPECT_TRUE(rpc.ok()) << rpc.error_message() << c.Logs();
  EXPECT_EQ(imported.summary().tracks_unchanged(), 60);

  const std::string trainer = c.trainer().address(), query = c.query().address(),
                    ingest = c.ingest().address();
  // Plaintext does not reach a TLS daemon at all.
  auto plain = grpc::CreateChannel(trainer, grpc::InsecureChannelCredentials());
  EXPECT_EQ(CatalogStatusCode(plain), grpc::StatusCode::UNAVAILABLE);
  // TLS without a token, with a wrong one, or with the other service's token: refused.
  std::string message;
  EXPECT_EQ(CatalogStatusCode(Secure(trainer, *pki_, ""), &message),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(message, HasSubstr("CatalogService"));
  EXPECT_EQ(CatalogStatusCode(Secure(trainer, *pki_, "wrong")),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(CatalogStatusCode(Secure(trainer, *pki_, kQueryToken)),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(CatalogStatusCode(Secure(trainer, *pki_, kInternalToken)),
            grpc::StatusCode::OK);
  EXPECT_EQ(QueryStatusCode(Secure(query, *pki_, "")), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(QueryStatusCode(Secure(query, *pki_, kInternalToken)),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(QueryStatusCode(Secure(query, *pki_, kQueryToken)), grpc::StatusCode::OK);
  EXPECT_EQ(CrawlStatusCode(Secure(ingest, *pki_, "")),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(CrawlStatusCode(Secure(ingest, *pki_, kQueryToken)),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(CrawlStatusCode(Secure(ingest, *pki_, kInternalToken)), grpc::StatusCode::OK);
  // The snapshot service is internal too: a query token cannot fetch snapshots.
  {
    v1::GetLatestSnapshotResponse latest;
    grpc::Status status = CallWithDeadline([&](auto* ctx) {
      return v1::SnapshotService::NewStub(Secure(trainer, *pki_, kQueryToken))
          ->GetLatestSnapshot(ctx, v1::GetLatestSnapshotRequest(), &latest);
    });
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }

  // Health and reflection need TLS but no token.
  for (const std::string& address : {trainer, query, ingest}) {
    absl::StatusOr<Health> health = CheckHealth(Secure(address, *pki_, ""), "");
    ASSERT_TRUE(health.ok()) << address << ": " << health.status();
    EXPECT_EQ(*health, Health::kServing) << address;
    absl::StatusOr<std::string> services =
        ListServicesByReflection(Secure(address, *pki_, ""));
    ASSERT_TRUE(services.ok()) << address << ": " << services.status();
    EXPECT_THAT(*services, HasSubstr("cratedig.v1.")) << address;
  }

  // The client without its token: one line naming the refusal.
  absl::StatusOr<CommandResult> refused =
      RunCommand({BinaryPath("cratedig"), "--server=" + query,
                  "--tls_ca_file=" + pki_->ca_cert, "search", "love"});
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ(refused->exit_code, 1);
  EXPECT_THAT(refused->err, HasSubstr("UNAUTHENTICATED"));

  c.CloseChannels();
  for (DaemonProcess* d : {&c.trainer(), &c.query(), &c.ingest()}) {
    std::string log = ReadAll(d->log_path());
    EXPECT_THAT(log, HasSubstr("tls=on")) << d->name();
    EXPECT_THAT(log, Not(HasSubstr(kQueryToken))) << d->name();
    EXPECT_THAT(log, Not(HasSubstr(kInternalToken))) << d->name();
  }
}

TEST_F(AccessTest, TokensFromTheEnvironmentWork) {
  ClientAccess access{pki_->ca_cert, "", kQueryToken};
  setenv(kQueryTokenEnv, kQueryToken, 1);
  absl::StatusOr<std::string> secret = ReadSecret("", kQueryTokenEnv);
  unsetenv(kQueryTokenEnv);
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_EQ(*secret, kQueryToken);
  EXPECT_TRUE(Validate(access).ok());
}

TEST_F(AccessTest, BadSettingsStopTheDaemonWithoutShowingTheSecret) {
  const std::string token = "--internal_token_file=" + *dir_ + "/internal.token";
  struct Case {
    std::vector<std::string> args;
    std::string complaint;
  };
  for (const Case& c : std::vector<Case>{
           {{token}, "bearer tokens need TLS"},
           {{"--tls_cert_file=" + pki_->server_cert}, "must be given together"},
           {{"--tls_cert_file=" + pki_->server_cert, "--tls_key_file=/nonexistent/key"},
            "cannot read TLS key /nonexistent/key"},
           {{"--query_token_file=/nonexistent/token"}, "/nonexistent/token"},
           {{"--max_concurrent_calls=-1"}, "--max_concurrent_calls"}}) {
    std::vector<std::string> argv = {BinaryPath("trainerd"), "--listen=127.0.0.1:0",
                                     "--data_dir=" + *dir_ + "/trainer"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    absl::StatusOr<CommandResult> run = RunCommand(argv, "", absl::Seconds(20));
    ASSERT_TRUE(run.ok()) << run.status();
    EXPECT_NE(run->exit_code, 0) << c.complaint;
    EXPECT_THAT(run->err, HasSubstr(c.complaint));
    EXPECT_THAT(run->err, Not(HasSubstr(kInternalToken)));
  }
  // A client with a token but no CA would send it in clear: refused before any call.
  ASSERT_TRUE(WriteSecretFile(*dir_ + "/q", kQueryToken).ok());
  absl::StatusOr<CommandResult> cli = RunCommand(
      {BinaryPath("cratedig"), "--query_token_file=" + *dir_ + "/q", "status"});
  ASSERT_TRUE(cli.ok()) << cli.status();
  EXPECT_EQ(cli->exit_code, 1);
  EXPECT_THAT(cli->err, HasSubstr("needs TLS"));
  EXPECT_THAT(cli->err, Not(HasSubstr(kQueryToken)));
}

}  // namespace
}  // namespace cratedig::subprocess
