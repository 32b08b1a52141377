#include "ingest_service/rate_limiter.h"

#include <algorithm>

#include "absl/time/clock.h"

namespace cratedig::ingest {

bool SleepUnlessCancelled(absl::Duration duration, const absl::Notification* cancel) {
  if (duration <= absl::ZeroDuration())
    return cancel == nullptr || !cancel->HasBeenNotified();
  if (cancel == nullptr) {
    absl::SleepFor(duration);
    return true;
  }
  return !cancel->WaitForNotificationWithTimeout(duration);
}

RateLimiter::RateLimiter(double max_rps)
    : interval_(max_rps > 0 ? absl::Seconds(1.0 / max_rps) : absl::ZeroDuration()) {}

bool RateLimiter::Acquire(const absl::Notification* cancel) {
  for (;;) {
    absl::Time now = absl::Now();
    absl::Time slot;
    {
      absl::MutexLock lock(&mu_);
      slot = std::max({now, next_, paused_until_});
      if (slot <= now) {
        next_ = now + interval_;
        return cancel == nullptr || !cancel->HasBeenNotified();
      }
    }
    // Re-check after the sleep: a 429 may have paused everything meanwhile.
    if (!SleepUnlessCancelled(slot - now, cancel)) return false;
  }
}

void RateLimiter::PauseFor(absl::Duration duration) {
  absl::MutexLock lock(&mu_);
  paused_until_ = std::max(paused_until_, absl::Now() + duration);
}

}  // namespace cratedig::ingest
