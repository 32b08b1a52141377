#pragma once

// Subprocesses for the integration tests: a daemon started from its binary that announces
// its address with "listening on HOST:PORT" on stdout, and a command run to completion
// with its output captured. Linux only (fork/exec, poll, prctl).

#include <sys/types.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace cratedig::subprocess {

/// Creates a fresh directory under $TMPDIR (else /tmp) named after `prefix`.
absl::StatusOr<std::string> MakeTempDir(const std::string& prefix);

/// Returns the last `max_bytes` of a file (for failure messages), or "" when unreadable.
std::string FileTail(const std::string& path, size_t max_bytes = 4000);

/// One running daemon. Not thread-safe. The destructor stops it (SIGTERM, then SIGKILL
/// after a grace period) and reaps it, so a failing test never leaks processes; the child
/// also gets SIGKILL if the test process dies first.
class DaemonProcess {
 public:
  /// Starts `binary` with `args`, its stderr appended to `log_path`, and waits up to
  /// `timeout` for the line "listening on HOST:PORT" on its stdout. Fails (with the log's
  /// tail) when the daemon exits or stays silent instead.
  static absl::StatusOr<std::unique_ptr<DaemonProcess>> Start(
      const std::string& name, const std::string& binary,
      const std::vector<std::string>& args, const std::string& log_path,
      absl::Duration timeout = absl::Seconds(20));

  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  /// "HOST:PORT" from the listening line.
  const std::string& address() const { return address_; }
  const std::string& name() const { return name_; }
  const std::string& log_path() const { return log_path_; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

  /// Sends SIGTERM and waits up to `timeout` for the exit. Returns the exit code; an
  /// error when the daemon died of a signal or had to be killed (DeadlineExceeded).
  absl::StatusOr<int> Stop(absl::Duration timeout = absl::Seconds(10));

  /// Sends SIGKILL (a crash: no shutdown code runs) and reaps the daemon.
  absl::Status Kill();

  /// Everything the daemon wrote on stdout so far.
  std::string Stdout() const;

 private:
  DaemonProcess(std::string name, std::string log_path, pid_t pid, int stdout_fd)
      : name_(std::move(name)),
        log_path_(std::move(log_path)),
        pid_(pid),
        fd_(stdout_fd) {}
  absl::Status AwaitListening(absl::Duration timeout);
  void StartDrain();

  const std::string name_;
  const std::string log_path_;
  pid_t pid_;
  int fd_;
  std::string address_;
  std::thread drain_;
  mutable absl::Mutex mu_;
  std::string stdout_ ABSL_GUARDED_BY(mu_);
};

/// What a finished command did.
struct CommandResult {
  /// The exit code; 128 + N when killed by signal N.
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs `argv` (argv[0] is the binary's path) with `input` on its stdin, and returns its
/// exit code and output. DeadlineExceeded (after SIGKILL) when it runs past `timeout`.
absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         const std::string& input = "",
                                         absl::Duration timeout = absl::Seconds(60));

}  // namespace cratedig::subprocess
