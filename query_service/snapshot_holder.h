#pragma once

#include <memory>

#include "absl/synchronization/mutex.h"
#include "query_service/snapshot.h"

namespace cratedig::query {

/// The snapshot being served. Thread-safe. Each request takes one pointer with Get() and
/// uses it throughout, so a swap never changes a request halfway; the old snapshot is
/// freed by whoever drops the last reference.
class SnapshotHolder {
 public:
  std::shared_ptr<const Snapshot> Get() const {
    absl::MutexLock lock(&mu_);
    return current_;
  }
  void Install(std::shared_ptr<const Snapshot> next) {
    {
      absl::MutexLock lock(&mu_);
      current_.swap(next);
    }
    // `next` holds the previous snapshot now and is released outside the lock.
  }

 private:
  mutable absl::Mutex mu_;
  std::shared_ptr<const Snapshot> current_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cratedig::query
