#include "tests/integration/test_pki.h"

#include <sys/stat.h>

#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/integration/daemon_process.h"

namespace cratedig::subprocess {
namespace {

absl::Status Run(const std::vector<std::string>& argv) {
  absl::StatusOr<CommandResult> result = RunCommand(argv, "", absl::Seconds(30));
  if (!result.ok()) return result.status();
  if (result->exit_code != 0) {
    return absl::InternalError(
        absl::StrCat(argv[0], " ", argv[1], " failed: ", result->err));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteSecretFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::trunc);
  out << content;
  out.close();
  if (!out || chmod(path.c_str(), 0600) != 0) {
    return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<TestPki> MakeTestPki(const std::string& dir) {
  const std::string openssl = "/usr/bin/openssl";
  TestPki pki{dir + "/ca.pem", dir + "/server.pem", dir + "/server.key"};
  const std::string ca_key = dir + "/ca.key", csr = dir + "/server.csr",
                    ext = dir + "/server.ext";
  if (auto s = WriteSecretFile(
          ext,
          "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
          "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
          "extendedKeyUsage=serverAuth\n");
      !s.ok()) {
    return s;
  }
  for (const std::vector<std::string>& argv : std::vector<std::vector<std::string>>{
           {openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", ca_key, "-out",
            pki.ca_cert, "-days", "1", "-subj", "/CN=cratedig test CA"},
           {openssl, "req", "-new", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", pki.server_key, "-out",
            csr, "-subj", "/CN=localhost"},
           {openssl, "x509", "-req", "-in", csr, "-CA", pki.ca_cert, "-CAkey", ca_key,
            "-CAcreateserial", "-out", pki.server_cert, "-days", "1", "-extfile", ext}}) {
    if (auto s = Run(argv); !s.ok()) return s;
  }
  return pki;
}

}  // namespace cratedig::subprocess
