#include "common/daemon.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/support/server_interceptor.h>
#include <signal.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <csignal>
#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/logging.h"

namespace cratedig {
namespace {

// gRPC answers a request its generated parser rejects (a proto3 string that is not UTF-8,
// or bytes that are no message at all) with INTERNAL and an empty message, before any
// handler runs. That is the caller's fault, not ours: answer INVALID_ARGUMENT saying so.
// Our handlers never return INTERNAL without a message.
class ParseErrorInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit ParseErrorInterceptor(std::string method) : method_(std::move(method)) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      if (status.error_code() == grpc::StatusCode::INTERNAL &&
          status.error_message().empty()) {
        methods->ModifySendStatus(grpc::Status(
            grpc::StatusCode::INVALID_ARGUMENT,
            absl::StrCat("request to ", method_,
                         " cannot be parsed: a string field is not valid UTF-8 or the "
                         "message is malformed")));
      }
    }
    methods->Proceed();
  }

 private:
  std::string method_;
};

class ParseErrorInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new ParseErrorInterceptor(info->method() ? info->method() : "");
  }
};

}  // namespace

void WatchShutdownSignals() {
  static bool started = false;
  if (started) return;
  started = true;
  // A parent shell may have left SIGINT ignored; an ignored signal is discarded rather
  // than left pending for sigwait, so restore the default disposition first.
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set] {
    int sig = 0;
    sigwait(&set, &sig);
    CD_LOG(INFO) << "received " << (sig == SIGTERM ? "SIGTERM" : "SIGINT")
                 << ", shutting down";
    RequestShutdown();
  }).detach();
}

absl::Notification& ShutdownNotification() {
  static absl::Notification* n = new absl::Notification();
  return *n;
}

void ReleaseFreedMemory() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

void RequestShutdown() {
  if (!ShutdownNotification().HasBeenNotified()) ShutdownNotification().Notify();
}

absl::Status RunDaemon(const DaemonOptions& options) {
  SetLogProgramName(options.name);
  WatchShutdownSignals();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      MakeServerCredentials(options.access);
  if (!credentials.ok()) return credentials.status();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen, *credentials, &port);
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  // gRPC's synchronous server runs each call on a thread of its own; the quota caps those
  // threads, and gRPC refuses a call arriving when none is left at once, with
  // RESOURCE_EXHAUSTED "Server Threadpool Exhausted", rather than queueing it.
  grpc::ResourceQuota quota(absl::StrCat(options.name, "-calls"));
  if (options.max_concurrent_calls > 0) {
    quota.SetMaxThreads(options.max_concurrent_calls);
    builder.SetResourceQuota(quota);
  }
  for (grpc::Service* s : options.services) builder.RegisterService(s);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      creators;
  creators.push_back(std::make_unique<ParseErrorInterceptorFactory>());
  builder.experimental().SetInterceptorCreators(std::move(creators));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen));
  }
  std::string host = options.listen.substr(0, options.listen.rfind(':'));
  if (options.on_started) options.on_started(server.get());
  std::printf("listening on %s:%d\n", host.c_str(), port);
  std::fflush(stdout);
  CD_LOG(INFO) << "started listen=" << host << ":" << port
               << " tls=" << (options.access.tls_cert_file.empty() ? "off" : "on")
               << " query_token=" << (options.access.query_token.empty() ? "off" : "on")
               << " internal_token="
               << (options.access.internal_token.empty() ? "off" : "on")
               << " max_concurrent_calls=" << options.max_concurrent_calls;
  ShutdownNotification().WaitForNotification();
  if (options.on_stopping) options.on_stopping();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  server->Wait();
  CD_LOG(INFO) << "stopped";
  return absl::OkStatus();
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address) {
  return *MakeSecureChannel(address, ClientAccess{});  // Plaintext cannot fail.
}

}  // namespace cratedig
