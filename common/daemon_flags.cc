#include "common/daemon_flags.h"

#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"

ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM certificate chain to serve TLS with (with --tls_key_file); default: "
          "plaintext");
ABSL_FLAG(std::string, tls_key_file, "", "PEM private key of --tls_cert_file");
ABSL_FLAG(std::string, tls_ca_file, "",
          "PEM certificate of the CA that signed trainerd's certificate: the channel to "
          "--trainer uses TLS (ingestd, queryd)");
ABSL_FLAG(std::string, tls_server_name, "",
          "name trainerd's certificate is checked against; default: the host of "
          "--trainer");
ABSL_FLAG(std::string, query_token_file, "",
          "file holding the bearer token QueryService callers must send; default: "
          "$CRATEDIG_QUERY_TOKEN; neither: no token needed. Needs TLS.");
ABSL_FLAG(std::string, internal_token_file, "",
          "file holding the bearer token of the internal services (CatalogService, "
          "SnapshotService, IngestService), required of callers and sent to trainerd; "
          "default: $CRATEDIG_INTERNAL_TOKEN; neither: no token. Needs TLS.");
ABSL_FLAG(int, max_concurrent_calls, 64,
          "calls served at once, streams included; more are refused at once with "
          "RESOURCE_EXHAUSTED; 0: no limit");

namespace cratedig {

absl::StatusOr<DaemonFlags> DaemonFlagsFromCommandLine() {
  DaemonFlags flags;
  flags.server.tls_cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  flags.server.tls_key_file = absl::GetFlag(FLAGS_tls_key_file);
  absl::StatusOr<std::string> query =
      ReadSecret(absl::GetFlag(FLAGS_query_token_file), kQueryTokenEnv);
  if (!query.ok()) return query.status();
  absl::StatusOr<std::string> internal =
      ReadSecret(absl::GetFlag(FLAGS_internal_token_file), kInternalTokenEnv);
  if (!internal.ok()) return internal.status();
  flags.server.query_token = *query;
  flags.server.internal_token = *internal;
  if (absl::Status s = Validate(flags.server); !s.ok()) return s;
  flags.trainer.tls_ca_file = absl::GetFlag(FLAGS_tls_ca_file);
  flags.trainer.tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  // Without TLS towards the trainer no token can be sent; the trainer then refuses the
  // calls if it wants one, which the daemon reports.
  if (!flags.trainer.tls_ca_file.empty()) flags.trainer.token = *internal;
  flags.max_concurrent_calls = absl::GetFlag(FLAGS_max_concurrent_calls);
  if (flags.max_concurrent_calls < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--max_concurrent_calls must be 0 or more, got ", flags.max_concurrent_calls));
  }
  return flags;
}

}  // namespace cratedig
