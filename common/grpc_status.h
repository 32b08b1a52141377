#pragma once

// The one place absl::Status becomes grpc::Status and back: the codes are numerically
// equal.

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace cratedig {

/// Convert an absl status to a gRPC status with the same code and message.
grpc::Status ToGrpcStatus(const absl::Status& status);

/// Convert a gRPC status to an absl status with the same code and message.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace cratedig
