#include "common/access.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace cratedig {
namespace {

constexpr absl::string_view kQueryService = "cratedig.v1.QueryService";

absl::StatusOr<std::string> ReadFile(const std::string& path, absl::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", what, " ", path));
  std::ostringstream content;
  content << in.rdbuf();
  if (!in && !in.eof()) {
    return absl::NotFoundError(absl::StrCat("cannot read ", what, " ", path));
  }
  return content.str();
}

// Compares in time independent of where the strings differ.
bool SameSecret(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= a[i] ^ b[i];
  return diff == 0;
}

// Checks "authorization: Bearer TOKEN" against the token the called service needs.
// Runs on gRPC's thread before any handler; health checks and reflection pass freely.
class TokenProcessor final : public grpc::AuthMetadataProcessor {
 public:
  explicit TokenProcessor(ServerAccess access) : access_(std::move(access)) {}

  bool IsBlocking() const override { return false; }

  grpc::Status Process(const InputMetadata& metadata, grpc::AuthContext* context,
                       OutputMetadata* consumed, OutputMetadata* response) override {
    auto path = metadata.find(":path");
    absl::string_view method =
        path == metadata.end()
            ? absl::string_view()
            : absl::string_view(path->second.data(), path->second.size());
    const std::string* token = RequiredToken(access_, method);
    if (token == nullptr) return grpc::Status::OK;
    auto header = metadata.find("authorization");
    if (header == metadata.end()) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          absl::StrCat(method, " needs a bearer token"));
    }
    absl::string_view value(header->second.data(), header->second.size());
    if (!absl::ConsumePrefix(&value, "Bearer ") || !SameSecret(value, *token)) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          absl::StrCat("the bearer token is not valid for ", method));
    }
    consumed->insert({std::string(header->first.data(), header->first.size()),
                      std::string(header->second.data(), header->second.size())});
    return grpc::Status::OK;
  }

 private:
  const ServerAccess access_;
};

}  // namespace

absl::StatusOr<std::string> ReadSecret(const std::string& file, const char* env_var) {
  if (file.empty()) {
    const char* value = env_var == nullptr ? nullptr : std::getenv(env_var);
    return std::string(value == nullptr ? "" : absl::StripAsciiWhitespace(value));
  }
  absl::StatusOr<std::string> content = ReadFile(file, "secret file");
  if (!content.ok()) return content.status();
  std::string secret(absl::StripAsciiWhitespace(*content));
  if (secret.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("secret file ", file, " is empty"));
  }
  return secret;
}

absl::Status Validate(const ServerAccess& access) {
  if (access.tls_cert_file.empty() != access.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls_cert_file and --tls_key_file must be given together");
  }
  if (access.tls_cert_file.empty() &&
      !(access.query_token.empty() && access.internal_token.empty())) {
    return absl::InvalidArgumentError(
        "bearer tokens need TLS: give --tls_cert_file and --tls_key_file too");
  }
  return absl::OkStatus();
}

absl::Status Validate(const ClientAccess& access) {
  if (access.tls_ca_file.empty()) {
    if (access.token.empty()) return absl::OkStatus();
    return absl::InvalidArgumentError("a bearer token needs TLS: give --tls_ca_file too");
  }
  absl::StatusOr<std::string> ca = ReadFile(access.tls_ca_file, "TLS CA certificate");
  if (!ca.ok()) return absl::InvalidArgumentError(ca.status().message());
  return absl::OkStatus();
}

const std::string* RequiredToken(const ServerAccess& access, absl::string_view method) {
  absl::ConsumePrefix(&method, "/");
  absl::string_view service = method.substr(0, method.find('/'));
  // Only cratedig's own services are guarded; health and reflection stay open. An
  // unparsable path is treated as a cratedig service, never as open.
  if (!service.empty() && !absl::StartsWith(service, "cratedig.")) return nullptr;
  const std::string& token =
      service == kQueryService ? access.query_token : access.internal_token;
  return token.empty() ? nullptr : &token;
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerAccess& access) {
  if (absl::Status s = Validate(access); !s.ok()) return s;
  if (access.tls_cert_file.empty()) return grpc::InsecureServerCredentials();
  absl::StatusOr<std::string> cert = ReadFile(access.tls_cert_file, "TLS certificate");
  if (!cert.ok()) return absl::InvalidArgumentError(cert.status().message());
  absl::StatusOr<std::string> key = ReadFile(access.tls_key_file, "TLS key");
  if (!key.ok()) return absl::InvalidArgumentError(key.status().message());
  grpc::SslServerCredentialsOptions options;
  options.pem_key_cert_pairs.push_back({*std::move(key), *std::move(cert)});
  std::shared_ptr<grpc::ServerCredentials> credentials =
      grpc::SslServerCredentials(options);
  if (!access.query_token.empty() || !access.internal_token.empty()) {
    credentials->SetAuthMetadataProcessor(std::make_shared<TokenProcessor>(access));
  }
  return credentials;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeSecureChannel(
    const std::string& address, const ClientAccess& access) {
  if (absl::Status s = Validate(access); !s.ok()) return s;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  if (access.tls_ca_file.empty()) {
    return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  }
  absl::StatusOr<std::string> ca = ReadFile(access.tls_ca_file, "TLS CA certificate");
  if (!ca.ok()) return absl::InvalidArgumentError(ca.status().message());
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = *std::move(ca);
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::SslCredentials(options);
  if (!access.token.empty()) {
    credentials = grpc::CompositeChannelCredentials(
        credentials, grpc::AccessTokenCredentials(access.token));
  }
  if (!access.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(access.tls_server_name);
  }
  return grpc::CreateCustomChannel(address, credentials, args);
}

}  // namespace cratedig
