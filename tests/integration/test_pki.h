#pragma once

// A throwaway certificate authority for the TLS tests, made with the openssl command line
// when the test runs: nothing secret is checked in.

#include <string>

#include "absl/status/statusor.h"

namespace cratedig::subprocess {

struct TestPki {
  /// PEM files: the CA's certificate, and a certificate for localhost and 127.0.0.1
  /// signed by it with its key.
  std::string ca_cert;
  std::string server_cert;
  std::string server_key;
};

/// Creates the CA and the server certificate in `dir` (valid for one day).
absl::StatusOr<TestPki> MakeTestPki(const std::string& dir);

/// Writes `content` to `path` (mode 0600). InternalError when it cannot.
absl::Status WriteSecretFile(const std::string& path, const std::string& content);

}  // namespace cratedig::subprocess
