#include "tests/integration/daemon_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

namespace cratedig::subprocess {
namespace {

constexpr char kListening[] = "listening on ";

absl::Status ErrnoError(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// The argv of execv, pointing into `args` (which must outlive it).
std::vector<char*> ArgvOf(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  return argv;
}

// Forks and execs argv[0] with the given descriptors as stdin, stdout and stderr (-1:
// /dev/null for stdin, inherited otherwise). The child dies with the test process. Only
// async-signal-safe calls happen between fork and exec (the test process has threads).
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& args, int in_fd, int out_fd,
                            int err_fd) {
  std::vector<char*> argv = ArgvOf(args);
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) return ErrnoError("open /dev/null");
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(null_fd);
    return ErrnoError("fork");
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // The test died before prctl.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGPIPE, SIGTERM, SIGINT}) signal(sig, SIG_DFL);
    if (dup2(in_fd >= 0 ? in_fd : null_fd, STDIN_FILENO) < 0) _exit(127);
    if (out_fd >= 0 && dup2(out_fd, STDOUT_FILENO) < 0) _exit(127);
    if (err_fd >= 0 && dup2(err_fd, STDERR_FILENO) < 0) _exit(127);
    execv(argv[0], argv.data());
    static const char kExecFailed[] = "exec failed\n";
    ssize_t ignored = write(STDERR_FILENO, kExecFailed, sizeof(kExecFailed) - 1);
    (void)ignored;
    _exit(127);
  }
  close(null_fd);
  return pid;
}

// Returns the exit code of a wait status: the code, or 128 + signal.
int ExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Waits up to `timeout` for `pid` to exit; returns its wait status or nullopt.
std::optional<int> WaitFor(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return -1;
    if (absl::Now() >= deadline) return std::nullopt;
    absl::SleepFor(absl::Milliseconds(5));
  }
}

// Reads what is available on `fd` into `out`; returns false at EOF or error.
bool ReadSome(int fd, std::string* out) {
  char buffer[8192];
  ssize_t n = read(fd, buffer, sizeof(buffer));
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) return false;
  out->append(buffer, static_cast<size_t>(n));
  return true;
}

int PollMillis(absl::Time deadline) {
  int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
  return static_cast<int>(std::clamp<int64_t>(ms, 0, 1000));
}

}  // namespace

absl::StatusOr<std::string> MakeTempDir(const std::string& prefix) {
  const char* tmp = getenv("TMPDIR");
  std::string pattern =
      absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/", prefix, "-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) return ErrnoError("mkdtemp " + pattern);
  return pattern;
}

std::string FileTail(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  std::string text = contents.str();
  if (text.size() > max_bytes) text = "..." + text.substr(text.size() - max_bytes);
  return text;
}

absl::StatusOr<std::unique_ptr<DaemonProcess>> DaemonProcess::Start(
    const std::string& name, const std::string& binary,
    const std::vector<std::string>& args, const std::string& log_path,
    absl::Duration timeout) {
  int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return ErrnoError("open " + log_path);
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(log_fd);
    return ErrnoError("pipe2");
  }
  std::vector<std::string> command = {binary};
  command.insert(command.end(), args.begin(), args.end());
  absl::StatusOr<pid_t> pid = Spawn(command, -1, out[1], log_fd);
  close(out[1]);
  close(log_fd);
  if (!pid.ok()) {
    close(out[0]);
    return pid.status();
  }
  std::unique_ptr<DaemonProcess> daemon(new DaemonProcess(name, log_path, *pid, out[0]));
  if (absl::Status s = daemon->AwaitListening(timeout); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(name, " (", absl::StrJoin(command, " "),
                                               "): ", s.message(), "\n--- ", log_path,
                                               " ---\n", FileTail(log_path)));
  }
  daemon->StartDrain();
  return daemon;
}

absl::Status DaemonProcess::AwaitListening(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string seen;
  while (absl::Now() < deadline) {
    pollfd p{fd_, POLLIN, 0};
    int r = poll(&p, 1, PollMillis(deadline));
    if (r < 0 && errno != EINTR) return ErrnoError("poll");
    if (r <= 0) continue;
    bool open = ReadSome(fd_, &seen);
    size_t at = seen.find(kListening);
    size_t end = at == std::string::npos ? at : seen.find('\n', at);
    if (end != std::string::npos) {
      address_ =
          seen.substr(at + sizeof(kListening) - 1, end - at - sizeof(kListening) + 1);
      absl::MutexLock lock(&mu_);
      stdout_ = seen;
      return absl::OkStatus();
    }
    if (!open) {
      std::optional<int> status = WaitFor(pid_, absl::Seconds(5));
      if (status) pid_ = -1;
      return absl::FailedPreconditionError(
          absl::StrCat("exited (code ", status ? ExitCode(*status) : -1,
                       ") without a listening line; stdout: '", seen, "'"));
    }
  }
  return absl::DeadlineExceededError(
      absl::StrCat("no listening line within ", absl::FormatDuration(timeout)));
}

void DaemonProcess::StartDrain() {
  drain_ = std::thread([this] {
    std::string chunk;
    while (true) {
      chunk.clear();
      if (!ReadSome(fd_, &chunk)) break;
      absl::MutexLock lock(&mu_);
      stdout_ += chunk;
    }
  });
}

std::string DaemonProcess::Stdout() const {
  absl::MutexLock lock(&mu_);
  return stdout_;
}

absl::StatusOr<int> DaemonProcess::Stop(absl::Duration timeout) {
  if (pid_ <= 0) return absl::FailedPreconditionError(name_ + " is not running");
  kill(pid_, SIGTERM);
  std::optional<int> status = WaitFor(pid_, timeout);
  absl::Status killed;
  if (!status) {
    kill(pid_, SIGKILL);
    status = WaitFor(pid_, absl::Seconds(10));
    killed = absl::DeadlineExceededError(absl::StrCat(
        name_, " did not exit within ", absl::FormatDuration(timeout), " of SIGTERM"));
  }
  pid_ = -1;
  if (drain_.joinable()) drain_.join();
  if (!killed.ok()) return killed;
  if (!WIFEXITED(*status)) {
    return absl::AbortedError(absl::StrCat(name_, " died of signal ",
                                           WIFSIGNALED(*status) ? WTERMSIG(*status) : 0));
  }
  return WEXITSTATUS(*status);
}

absl::Status DaemonProcess::Kill() {
  if (pid_ <= 0) return absl::FailedPreconditionError(name_ + " is not running");
  kill(pid_, SIGKILL);
  std::optional<int> status = WaitFor(pid_, absl::Seconds(10));
  pid_ = -1;
  if (drain_.joinable()) drain_.join();
  if (!status) return absl::DeadlineExceededError(name_ + " survived SIGKILL");
  return absl::OkStatus();
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0) Stop(absl::Seconds(5)).IgnoreError();
  if (drain_.joinable()) drain_.join();
  close(fd_);
}

absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         const std::string& input,
                                         absl::Duration timeout) {
  signal(SIGPIPE, SIG_IGN);  // A child that exits early must not kill the test.
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0) return ErrnoError("pipe2");
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
    return ErrnoError("pipe2");
  absl::StatusOr<pid_t> pid = Spawn(argv, in[0], out[1], err[1]);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (!pid.ok()) {
    close(in[1]);
    close(out[0]);
    close(err[0]);
    return pid.status();
  }
  fcntl(in[1], F_SETFL, O_NONBLOCK);
  int in_fd = in[1];
  size_t written = 0;
  if (input.empty()) {
    close(in_fd);
    in_fd = -1;
  }
  CommandResult result;
  bool out_open = true, err_open = true;
  const absl::Time deadline = absl::Now() + timeout;
  while ((out_open || err_open) && absl::Now() < deadline) {
    pollfd fds[3] = {{out_open ? out[0] : -1, POLLIN, 0},
                     {err_open ? err[0] : -1, POLLIN, 0},
                     {in_fd, POLLOUT, 0}};
    if (poll(fds, 3, PollMillis(deadline)) < 0 && errno != EINTR) break;
    if (fds[0].revents != 0) out_open = ReadSome(out[0], &result.out);
    if (fds[1].revents != 0) err_open = ReadSome(err[0], &result.err);
    if (in_fd >= 0 && fds[2].revents != 0) {
      ssize_t n = write(in_fd, input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) {
        close(in_fd);
        in_fd = -1;
      }
    }
  }
  if (in_fd >= 0) close(in_fd);
  close(out[0]);
  close(err[0]);
  std::optional<int> status =
      WaitFor(*pid, std::max(absl::ZeroDuration(), deadline - absl::Now()));
  if (!status) {
    kill(*pid, SIGKILL);
    WaitFor(*pid, absl::Seconds(10));
    return absl::DeadlineExceededError(
        absl::StrCat(argv[0], " ran longer than ", absl::FormatDuration(timeout),
                     "; stdout: ", result.out, "; stderr: ", result.err));
  }
  result.exit_code = ExitCode(*status);
  return result;
}

}  // namespace cratedig::subprocess
