#pragma once

// One request-rate limiter for the whole daemon, which a 429 also pauses.

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace cratedig::ingest {

/// Sleeps for `duration` unless `cancel` (may be null) is notified first; returns false
/// when cancelled.
bool SleepUnlessCancelled(absl::Duration duration, const absl::Notification* cancel);

/// Spaces requests at least 1/max_rps apart and holds every request back while paused
/// (after a 429). Thread-safe.
class RateLimiter {
 public:
  /// `max_rps` <= 0 means no limit.
  explicit RateLimiter(double max_rps);

  /// Wait for the next request slot; returns false when `cancel` was notified.
  bool Acquire(const absl::Notification* cancel);
  /// Hold every request back until now + `duration`.
  void PauseFor(absl::Duration duration);

 private:
  const absl::Duration interval_;
  absl::Mutex mu_;
  absl::Time next_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time paused_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace cratedig::ingest
