#include "common/daemon.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

#include <csignal>
#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/logging.h"

namespace cratedig {
void WatchShutdownSignals() {
  static bool started = false;
  if (started) return;
  started = true;
  // A parent shell may have left SIGINT ignored; an ignored signal is discarded rather than
  // left pending for sigwait, so restore the default disposition first.
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

void RequestShutdown() {
  if (!ShutdownNotification().HasBeenNotified()) ShutdownNotification().Notify();
}

absl::Status RunDaemon(const DaemonOptions& options) {
  SetLogProgramName(options.name);
  WatchShutdownSignals();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  for (grpc::Service* s : options.services) builder.RegisterService(s);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen));
  }
  std::string host = options.listen.substr(0, options.listen.rfind(':'));
  if (options.on_started) options.on_started(server.get());
  std::printf("listening on %s:%d\n", host.c_str(), port);
  std::fflush(stdout);
  CD_LOG(INFO) << "started listen=" << host << ":" << port;
  ShutdownNotification().WaitForNotification();
  if (options.on_stopping) options.on_stopping();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  server->Wait();
  CD_LOG(INFO) << "stopped";
  return absl::OkStatus();
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

}  // namespace cratedig
