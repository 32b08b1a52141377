#pragma once

// Who may call the daemons: TLS certificates and bearer tokens. One token guards the
// query API (cratedig.v1.QueryService), the other the internal RPCs (CatalogService,
// SnapshotService, IngestService); health checks and reflection need none. Tokens travel
// only over TLS (gRPC sends no call credentials over a plaintext channel), so a daemon
// that is given a token must also be given a certificate. See docs/operations.md.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cratedig {

/// Environment variables read when no token file is given.
inline constexpr char kQueryTokenEnv[] = "CRATEDIG_QUERY_TOKEN";
inline constexpr char kInternalTokenEnv[] = "CRATEDIG_INTERNAL_TOKEN";

/// What a daemon asks of its callers.
struct ServerAccess {
  /// PEM certificate chain and private key; both empty: plaintext.
  std::string tls_cert_file;
  std::string tls_key_file;
  /// Bearer token required by cratedig.v1.QueryService; empty: none required.
  std::string query_token;
  /// Bearer token required by every other cratedig service; empty: none required.
  std::string internal_token;
};

/// How a client reaches a daemon.
struct ClientAccess {
  /// PEM certificate of the CA that signed the daemon's certificate; empty: plaintext.
  std::string tls_ca_file;
  /// Overrides the name the daemon's certificate is checked against (default: the host
  /// of the address).
  std::string tls_server_name;
  /// Bearer token sent with every call (needs TLS); empty: none.
  std::string token;
};

/// Reads a secret: the file's content (surrounding whitespace removed) when `file` is
/// set, else the environment variable `env_var`, else "". Errors name the file, never
/// the secret: NotFound when unreadable, InvalidArgument when the file is empty.
absl::StatusOr<std::string> ReadSecret(const std::string& file, const char* env_var);

/// Checks the combination (a key without a certificate, a token without TLS, ...) and,
/// for a client, that the CA file can be read.
absl::Status Validate(const ServerAccess& access);
absl::Status Validate(const ClientAccess& access);

/// The credentials to listen with, the token check installed. Reads the certificate and
/// key; InvalidArgument naming the file when one cannot be read.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerAccess& access);

/// The token `method` ("/package.Service/Method") needs under `access`: nullptr when it
/// needs none (health, reflection, or no token configured).
const std::string* RequiredToken(const ServerAccess& access, absl::string_view method);

/// Creates a channel to `address` with the message limits cratedig uses, TLS and the
/// token as `access` says. Fails when the CA file cannot be read.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeSecureChannel(
    const std::string& address, const ClientAccess& access);

}  // namespace cratedig
