#include "common/logging.h"

#include <cstdio>
#include <cstdlib>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace cratedig {
namespace {

absl::Mutex g_mu;
std::string* g_program ABSL_GUARDED_BY(g_mu) = nullptr;

const char* SeverityName(LogSeverity s) {
  switch (s) {
    case LogSeverity::kInfo:
      return "INFO";
    case LogSeverity::kWarning:
      return "WARNING";
    case LogSeverity::kError:
      return "ERROR";
    case LogSeverity::kFatal:
      return "FATAL";
  }
  return "?";
}

}  // namespace

void SetLogProgramName(const std::string& name) {
  absl::MutexLock lock(&g_mu);
  delete g_program;
  g_program = new std::string(name);
}

LogMessage::LogMessage(LogSeverity severity, const char* file, int line)
    : severity_(severity) {
  if (severity_ >= LogSeverity::kError) {
    const char* base = file;
    for (const char* p = file; *p; ++p) {
      if (*p == '/') base = p + 1;
    }
    stream_ << "[" << base << ":" << line << "] ";
  }
}

LogMessage::~LogMessage() {
  std::string stamp =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  {
    absl::MutexLock lock(&g_mu);
    std::fprintf(stderr, "%s %s %s %s\n", stamp.c_str(),
                 g_program ? g_program->c_str() : "cratedig", SeverityName(severity_),
                 stream_.str().c_str());
    std::fflush(stderr);
  }
  if (severity_ == LogSeverity::kFatal) std::abort();
}

}  // namespace cratedig
