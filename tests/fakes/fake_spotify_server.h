#pragma once

// Starts tests/fakes/fake_spotify.py (python3) on a free loopback port for a test, and
// stops it when destroyed.

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace cratedig::testing {

/// One running fake Spotify server. Not thread-safe; the destructor kills it.
class FakeSpotifyServer {
 public:
  /// Starts the fake with `args` (its flags, e.g. "--every_429=5") and waits for its
  /// port.
  static absl::StatusOr<std::unique_ptr<FakeSpotifyServer>> Start(
      const std::vector<std::string>& args);
  ~FakeSpotifyServer();

  /// "http://127.0.0.1:PORT", to pass as both the API and the accounts URL.
  std::string url() const;
  int port() const { return port_; }
  /// GET /_stats: request counts as JSON text (read with curl).
  absl::StatusOr<std::string> Stats() const;

 private:
  FakeSpotifyServer(pid_t pid, int port) : pid_(pid), port_(port) {}
  pid_t pid_;
  int port_;
};

/// The path of tests/fakes/fake_spotify.py in the source tree.
std::string FakeSpotifyScript();

}  // namespace cratedig::testing
