#include "tests/integration/cluster.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"

namespace cratedig::subprocess {
namespace {

constexpr char kHealthCheck[] = "/grpc.health.v1.Health/Check";
constexpr char kReflection[] =
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string ToString(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const grpc::Slice& s : slices) {
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return out;
}

// Field 1 of a message as a length-delimited string (`value` shorter than 128 bytes).
std::string StringField1(const std::string& value) {
  if (value.empty()) return "";
  return absl::StrCat(std::string(1, '\x0a'),
                      std::string(1, static_cast<char>(value.size())), value);
}

void* Tag(intptr_t n) { return reinterpret_cast<void*>(n); }

// Waits for the completion of operation `want` on a queue with one operation in flight.
bool Await(grpc::CompletionQueue* cq, intptr_t want) {
  void* tag = nullptr;
  bool ok = false;
  while (cq->Next(&tag, &ok)) {
    if (tag == Tag(want)) return ok;
  }
  return false;
}

std::shared_ptr<grpc::Channel> Channel(const std::string& address,
                                       const ClientAccess& access) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      MakeSecureChannel(address, access);
  if (!channel.ok()) {  // A test's own setting: say so, then fail its calls.
    std::fprintf(stderr, "cannot make a channel to %s: %s\n", address.c_str(),
                 std::string(channel.status().message()).c_str());
    return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  }
  return *channel;
}

std::vector<std::string> Concat(std::vector<std::string> a,
                                const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

std::string SourcePath(const std::string& relative) {
  return absl::StrCat(CRATEDIG_SOURCE_DIR, "/", relative);
}

std::string BinaryPath(const std::string& name) {
  return absl::StrCat(CRATEDIG_BIN_DIR, "/", name);
}

void SetDeadline(grpc::ClientContext* context, absl::Duration timeout) {
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

absl::StatusOr<Health> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                   const std::string& service) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  SetDeadline(&context);
  const grpc::ByteBuffer request = ToByteBuffer(StringField1(service));
  grpc::ByteBuffer response;
  grpc::Status status;
  // On a completion queue this thread drains, as ListServicesByReflection: grpc++'s
  // callback API would run the completion on a thread of libgrpc's, handing the call's
  // state over out of ThreadSanitizer's sight.
  grpc::CompletionQueue cq;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> call =
      stub.PrepareUnaryCall(&context, kHealthCheck, request, &cq);
  if (call == nullptr) return absl::InternalError("cannot prepare the health check");
  call->StartCall();
  call->Finish(&response, &status, Tag(1));
  Await(&cq, 1);
  cq.Shutdown();
  void* tag = nullptr;
  bool ignored = false;
  while (cq.Next(&tag, &ignored)) {
  }
  if (!status.ok()) return FromGrpcStatus(status);
  // HealthCheckResponse { ServingStatus status = 1; }: empty, or the tag 0x08 and a
  // varint.
  std::string bytes = ToString(response);
  if (bytes.empty()) return Health::kUnknown;
  if (bytes.size() != 2 || bytes[0] != '\x08' || bytes[1] < 0 || bytes[1] > 3) {
    return absl::InternalError(
        absl::StrCat("unexpected HealthCheckResponse of ", bytes.size(), " bytes"));
  }
  return static_cast<Health>(bytes[1]);
}

absl::StatusOr<std::string> ListServicesByReflection(
    const std::shared_ptr<grpc::Channel>& channel) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  SetDeadline(&context);
  grpc::CompletionQueue cq;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
      stub.PrepareCall(&context, kReflection, &cq);
  if (call == nullptr) return absl::InternalError("cannot prepare the reflection call");
  // ServerReflectionRequest { string list_services = 7; } with an empty value.
  const grpc::ByteBuffer request = ToByteBuffer(std::string("\x3a\x00", 2));
  std::string received;
  call->StartCall(Tag(1));
  bool ok = Await(&cq, 1);
  if (ok) {
    call->Write(request, Tag(2));
    ok = Await(&cq, 2);
  }
  if (ok) {
    call->WritesDone(Tag(3));
    ok = Await(&cq, 3);
  }
  while (ok) {
    grpc::ByteBuffer response;
    call->Read(&response, Tag(4));
    ok = Await(&cq, 4);
    if (ok) received += ToString(response);
  }
  grpc::Status status;
  call->Finish(&status, Tag(5));
  Await(&cq, 5);
  cq.Shutdown();
  void* tag = nullptr;
  bool ignored = false;
  while (cq.Next(&tag, &ignored)) {
  }
  if (!status.ok()) return FromGrpcStatus(status);
  return received;
}

absl::StatusOr<std::unique_ptr<Cluster>> Cluster::Start(const ClusterOptions& options) {
  std::unique_ptr<Cluster> c(new Cluster());
  c->options_ = options;
  absl::StatusOr<std::string> dir = MakeTempDir("cratedig-e2e");
  if (!dir.ok()) return dir.status();
  c->dir_ = *dir;
  std::error_code error;
  for (const std::string& d : {c->trainer_data_dir(), c->query_data_dir()}) {
    if (!std::filesystem::create_directories(d, error)) {
      return absl::InternalError(
          absl::StrCat("cannot create ", d, ": ", error.message()));
    }
  }
  const std::string listen = "--listen=127.0.0.1:0";
  absl::StatusOr<std::unique_ptr<DaemonProcess>> trainer = DaemonProcess::Start(
      "trainerd", BinaryPath("trainerd"),
      // Builds only on Train unless a test asks for automatic ones in trainer_args.
      Concat({listen, "--data_dir=" + c->trainer_data_dir(), "--train_debounce=0"},
             options.trainer_args),
      c->dir_ + "/trainerd.log");
  if (!trainer.ok()) return trainer.status();
  c->trainer_ = *std::move(trainer);
  const std::string to_trainer = "--trainer=" + c->trainer_->address();
  absl::StatusOr<std::unique_ptr<DaemonProcess>> query = DaemonProcess::Start(
      "queryd", BinaryPath("queryd"),
      Concat({listen, to_trainer, "--data_dir=" + c->query_data_dir()},
             options.query_args),
      c->dir_ + "/queryd.log");
  if (!query.ok()) return query.status();
  c->query_ = *std::move(query);
  absl::StatusOr<std::unique_ptr<DaemonProcess>> ingest = DaemonProcess::Start(
      "ingestd", BinaryPath("ingestd"), Concat({listen, to_trainer}, options.ingest_args),
      c->dir_ + "/ingestd.log");
  if (!ingest.ok()) return ingest.status();
  c->ingest_ = *std::move(ingest);

  c->trainer_channel_ = Channel(c->trainer_->address(), options.trainer_access);
  c->query_channel_ = Channel(c->query_->address(), options.query_access);
  c->ingest_channel_ = Channel(c->ingest_->address(), options.ingest_access);
  c->catalog_ = v1::CatalogService::NewStub(c->trainer_channel_);
  c->queries_ = v1::QueryService::NewStub(c->query_channel_);
  c->importer_ = v1::IngestService::NewStub(c->ingest_channel_);
  return c;
}

void Cluster::CloseChannels() {
  catalog_.reset();
  queries_.reset();
  importer_.reset();
  trainer_channel_.reset();
  query_channel_.reset();
  ingest_channel_.reset();
}

Cluster::~Cluster() {
  CloseChannels();
  // Stopped in the reverse order of their dependencies, each reaped by its destructor.
  ingest_.reset();
  query_.reset();
  trainer_.reset();
  if (dir_.empty() || keep_dir_ || std::getenv("CRATEDIG_KEEP_TEST_DIR") != nullptr)
    return;
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

absl::StatusOr<CommandResult> Cluster::Cli(const std::vector<std::string>& args,
                                           const std::string& input) {
  std::vector<std::string> argv = {BinaryPath("cratedig"),
                                   "--trainer=" + trainer_->address(),
                                   "--server=" + query_->address(), "--timeout=30"};
  argv.insert(argv.end(), options_.cli_args.begin(), options_.cli_args.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, input, absl::Seconds(60));
}

absl::StatusOr<v1::GetQueryStatusResponse> Cluster::WaitUntilServing(
    const std::string& version, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  grpc::Status last;
  v1::GetQueryStatusResponse response;
  while (absl::Now() < deadline) {
    grpc::ClientContext context;
    SetDeadline(&context, absl::Seconds(2));
    response.Clear();
    last = queries_->GetQueryStatus(&context, v1::GetQueryStatusRequest(), &response);
    if (last.ok() && response.snapshot_version() == version) return response;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "queryd did not serve snapshot ", version, " within ",
      absl::FormatDuration(timeout), "; last status ", last.error_code(), " ",
      last.error_message(), ", serving '", response.snapshot_version(), "'"));
}

std::string Cluster::Logs() const {
  std::string out;
  for (const auto* d : {&trainer_, &query_, &ingest_}) {
    if (*d == nullptr) continue;
    absl::StrAppend(&out, "--- ", (*d)->log_path(), " ---\n", FileTail((*d)->log_path()),
                    "\n");
  }
  return out;
}

}  // namespace cratedig::subprocess
