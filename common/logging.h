#pragma once

// One line per event to standard error: "2026-11-26T09:31:28.123Z trainerd INFO message".
// Usage: CD_LOG(INFO) << "snapshot published version=" << v << " tracks=" << n;
// CD_CHECK(cond) << "why"; aborts when the invariant is broken.

#include <sstream>
#include <string>

namespace cratedig {

enum class LogSeverity { kInfo, kWarning, kError, kFatal };

/// Set the daemon name printed on every line (once, from main).
void SetLogProgramName(const std::string& name);

/// Build one log line and write it on destruction. Thread-safe.
class LogMessage {
 public:
  LogMessage(LogSeverity severity, const char* file, int line);
  ~LogMessage();
  std::ostream& stream() { return stream_; }

 private:
  LogSeverity severity_;
  std::ostringstream stream_;
};

}  // namespace cratedig

#define CD_LOG_INFO ::cratedig::LogSeverity::kInfo
#define CD_LOG_WARNING ::cratedig::LogSeverity::kWarning
#define CD_LOG_ERROR ::cratedig::LogSeverity::kError
#define CD_LOG_FATAL ::cratedig::LogSeverity::kFatal
#define CD_LOG(sev) ::cratedig::LogMessage(CD_LOG_##sev, __FILE__, __LINE__).stream()
#define CD_CHECK(cond) \
  if (!(cond)) CD_LOG(FATAL) << "check failed: " #cond " "
