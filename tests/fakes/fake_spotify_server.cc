#include "tests/fakes/fake_spotify_server.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "ingest_service/http_client.h"

namespace cratedig::testing {

std::string FakeSpotifyScript() {
  return std::string(CRATEDIG_SOURCE_DIR) + "/tests/fakes/fake_spotify.py";
}

absl::StatusOr<std::unique_ptr<FakeSpotifyServer>> FakeSpotifyServer::Start(
    const std::vector<std::string>& args) {
  int fds[2];
  if (pipe(fds) != 0) return absl::InternalError("pipe failed");
  std::vector<std::string> argv = {"python3", FakeSpotifyScript()};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> c_args;
    for (std::string& a : argv) c_args.push_back(a.data());
    c_args.push_back(nullptr);
    execvp("python3", c_args.data());
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buffer[256];
  pollfd p{fds[0], POLLIN, 0};
  while (out.find('\n') == std::string::npos && poll(&p, 1, 20000) > 0) {
    ssize_t n = read(fds[0], buffer, sizeof(buffer));
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  close(fds[0]);
  absl::string_view line(out);
  int port = 0;
  if (!absl::ConsumePrefix(&line, "PORT ") ||
      !absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &port)) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return absl::UnavailableError(
        absl::StrCat("fake_spotify.py did not start: '", out, "'"));
  }
  return std::unique_ptr<FakeSpotifyServer>(new FakeSpotifyServer(pid, port));
}

FakeSpotifyServer::~FakeSpotifyServer() {
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

std::string FakeSpotifyServer::url() const {
  return absl::StrCat("http://127.0.0.1:", port_);
}

absl::StatusOr<std::string> FakeSpotifyServer::Stats() const {
  std::unique_ptr<ingest::HttpClient> http = ingest::NewCurlHttpClient();
  ingest::HttpRequest request;
  request.url = url() + "/_stats";
  absl::StatusOr<ingest::HttpResponse> response = http->Send(request);
  if (!response.ok()) return response.status();
  return response->body;
}

}  // namespace cratedig::testing
