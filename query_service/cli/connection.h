#pragma once

// A client channel to one cratedig daemon, with the per-RPC deadline and the one-line
// error messages of the `cratedig` command line.

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/access.h"
#include "common/grpc_status.h"

namespace cratedig::cli {

/// One daemon's channel. Thread-compatible; owns the channel (shared with the stubs).
class Connection {
 public:
  /// Create a channel to `address`, with TLS and a token as `access` says (RunCli checked
  /// that it can); `role` names the daemon in errors ("trainer").
  Connection(std::string role, std::string address, absl::Duration timeout,
             const ClientAccess& access = {});

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  absl::Duration timeout() const { return timeout_; }

  /// Set the per-RPC deadline (now + timeout) on `context`.
  void SetDeadline(grpc::ClientContext* context) const;

  /// Return true when `status` says the call never reached the daemon: UNAVAILABLE or
  /// DEADLINE_EXCEEDED while the channel is not connected. A daemon answering UNAVAILABLE
  /// itself (no snapshot loaded) leaves the channel connected.
  bool Unreachable(const absl::Status& status) const;

  /// Return the error line without "cratedig: ": "cannot reach ROLE at ADDR: MESSAGE"
  /// when the daemon was not reached, else "WHERE: CODE: MESSAGE". Newlines become
  /// spaces.
  std::string ErrorLine(absl::string_view where, const absl::Status& status) const;

  /// Call `rpc(context, response)` (a stub method bound to its request) with the
  /// deadline.
  template <typename Response, typename Rpc>
  absl::StatusOr<Response> Call(Rpc rpc) const {
    grpc::ClientContext context;
    SetDeadline(&context);
    Response response;
    grpc::Status status = rpc(&context, &response);
    if (!status.ok()) return FromGrpcStatus(status);
    return response;
  }

 private:
  std::string role_;
  std::string address_;
  absl::Duration timeout_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace cratedig::cli
