#include "query_service/cli/connection.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace cratedig::cli {

namespace {

std::shared_ptr<grpc::Channel> ChannelTo(const std::string& address,
                                         const ClientAccess& access) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      MakeSecureChannel(address, access);
  // RunCli checked the settings; should the CA file vanish since, no secret is sent in
  // clear: the plaintext channel carries no token and a TLS daemon refuses it.
  if (!channel.ok())
    return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  return *channel;
}

}  // namespace

Connection::Connection(std::string role, std::string address, absl::Duration timeout,
                       const ClientAccess& access)
    : role_(std::move(role)),
      address_(std::move(address)),
      timeout_(timeout),
      channel_(ChannelTo(address_, access)) {}

void Connection::SetDeadline(grpc::ClientContext* context) const {
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
}

bool Connection::Unreachable(const absl::Status& status) const {
  bool transport_code = status.code() == absl::StatusCode::kUnavailable ||
                        status.code() == absl::StatusCode::kDeadlineExceeded;
  return transport_code &&
         channel_->GetState(/*try_to_connect=*/false) != GRPC_CHANNEL_READY;
}

std::string Connection::ErrorLine(absl::string_view where,
                                  const absl::Status& status) const {
  std::string message = absl::StrReplaceAll(status.message(), {{"\r", " "}, {"\n", " "}});
  if (Unreachable(status)) {
    return absl::StrCat("cannot reach ", role_, " at ", address_, ": ", message);
  }
  return absl::StrCat(where, ": ", absl::StatusCodeToString(status.code()), ": ",
                      message);
}

}  // namespace cratedig::cli
