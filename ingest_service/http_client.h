#pragma once

// A minimal HTTP client seam for the Spotify crawl: one request in, status, body and
// Retry-After out. CurlHttpClient is the real one; tests inject faults with a fake server
// (tests/fakes/fake_spotify.py) or a wrapper implementing HttpClient.

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace cratedig::ingest {

struct HttpRequest {
  /// "GET" or "POST".
  std::string method = "GET";
  std::string url;
  /// Header lines, "Name: value".
  std::vector<std::string> headers;
  /// Request body (POST only).
  std::string body;
  /// Whole-request timeout.
  absl::Duration timeout = absl::Seconds(30);
};

struct HttpResponse {
  int status = 0;
  std::string body;
  /// The Retry-After header in seconds, when the answer had one.
  std::optional<int> retry_after_seconds;
};

/// Sends HTTP requests. Implementations are thread-safe.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  /// Returns the response for any HTTP status; an error only when no response came
  /// (DeadlineExceeded on a timeout, Unavailable for connection failures).
  virtual absl::StatusOr<HttpResponse> Send(const HttpRequest& request) = 0;
};

/// Returns a libcurl client that keeps a pool of easy handles (one per concurrent
/// caller), so connections to the same host are reused.
std::unique_ptr<HttpClient> NewCurlHttpClient();

}  // namespace cratedig::ingest
