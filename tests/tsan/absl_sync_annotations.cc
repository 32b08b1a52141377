// ThreadSanitizer support for Debian's Abseil, linked into every target of a
// -DCRATEDIG_SANITIZE=thread build (see the top-level CMakeLists.txt and
// scripts/test-tsan).
//
// Debian builds libabsl_synchronization without ThreadSanitizer. The sanitizer then sees
// neither an absl::Mutex lock nor what CondVar, Notification and BlockingCounter order,
// and it reports every variable they guard as a data race. The definitions below come
// before the library's in the dynamic linker's search order, so cratedig's calls and
// gRPC's (gRPC's mutexes are absl::Mutex) reach them. Each tells ThreadSanitizer what the
// operation does, with the annotations Abseil makes itself when it is built with
// -fsanitize=thread (sanitizer/tsan_interface.h), and calls the library's function. Only
// the synchronisation the library performs is added: memory that no such operation orders
// is still reported as a race (and, with TSAN_OPTIONS detect_deadlocks=1, lock-order
// inversions among absl::Mutexes are reported too).

#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/synchronization/barrier.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

namespace {

#define CRATEDIG_STR2(x) #x
#define CRATEDIG_STR(x) CRATEDIG_STR2(x)

// The library's definition of a function: `format` is its mangled name with %s in place
// of the mangled namespace absl::<inline namespace> ("4absl7debian3").
template <typename F>
F Real(const char* format) {
  char ns[64];
#if ABSL_OPTION_USE_INLINE_NAMESPACE
  const char* inline_ns = CRATEDIG_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  std::snprintf(ns, sizeof ns, "4absl%zu%s", std::strlen(inline_ns), inline_ns);
#else
  std::snprintf(ns, sizeof ns, "4absl");
#endif
  char name[256];
  std::snprintf(name, sizeof name, format, ns);
  void* f = dlsym(RTLD_NEXT, name);
  if (f == nullptr) {
    std::fprintf(stderr, "absl_sync_annotations: %s not found in Abseil\n", name);
    std::abort();
  }
  return reinterpret_cast<F>(f);
}

// The __tsan_mutex_* flags for `mu`, which the caller holds: read_lock when it holds it
// shared. absl::Mutex is one word; kMuWriter (8) is set while a writer holds it.
unsigned HeldFlags(const absl::Mutex* mu) {
  static_assert(sizeof(absl::Mutex) == sizeof(std::atomic<intptr_t>));
  const auto* word = reinterpret_cast<const std::atomic<intptr_t>*>(mu);
  return (word->load(std::memory_order_relaxed) & 8) != 0 ? 0 : __tsan_mutex_read_lock;
}

// A condition wrapped so that its reads of guarded state are ordered like a critical
// section of `mu`: Abseil evaluates waiters' conditions on whichever thread it picks
// (often the one unlocking). The waiter's writes before the wait (the condition itself)
// happen before every evaluation. The Condition is built with the non-template
// constructor, so that only uninstrumented Abseil code reads it.
class Annotated {
 public:
  Annotated(const absl::Condition& cond, absl::Mutex* mu) : cond_(&cond), mu_(mu) {
    __tsan_release(this);
  }
  absl::Condition condition() { return absl::Condition(&Eval, static_cast<void*>(this)); }

 private:
  static bool Eval(void* arg) {
    __tsan_acquire(arg);
    const auto* self = static_cast<const Annotated*>(arg);
    __tsan_acquire(self->mu_);
    const bool met = self->cond_->Eval();
    __tsan_release(self->mu_);
    return met;
  }

  const absl::Condition* cond_;
  absl::Mutex* mu_;
};

// notified_yet_, the atomic flag after Notification's Mutex: inline HasBeenNotified()
// reads it with an acquire load, in instrumented code, without taking the Mutex.
void* NotifiedFlag(const absl::Notification* n) {
  static_assert(sizeof(absl::Notification) == sizeof(absl::Mutex) + sizeof(absl::Mutex),
                "absl::Notification is no longer {Mutex, atomic<bool>}");
  return const_cast<char*>(reinterpret_cast<const char*>(n)) + sizeof(absl::Mutex);
}

// Abseil's functions call one another (CondVar::WaitWithTimeout calls WaitWithDeadline,
// Notification takes its Mutex) and those calls reach the definitions below too: only the
// outermost call on a thread is annotated.
thread_local int depth = 0;

class Outermost {
 public:
  Outermost() : outermost_(depth++ == 0) {}
  ~Outermost() { --depth; }
  Outermost(const Outermost&) = delete;
  Outermost& operator=(const Outermost&) = delete;
  explicit operator bool() const { return outermost_; }

 private:
  const bool outermost_;
};

template <typename F>
struct OnExit {
  F f;
  ~OnExit() { f(); }
};
template <typename F>
OnExit(F) -> OnExit<F>;

// Takes `mu` (flags: 0 or __tsan_mutex_read_lock) by calling `lock`.
template <typename F>
auto Locking(absl::Mutex* mu, unsigned flags, F lock) {
  Outermost outer;
  if (outer) __tsan_mutex_pre_lock(mu, flags);
  OnExit post{[&] {
    if (outer) __tsan_mutex_post_lock(mu, flags, 0);
  }};
  return lock();
}

// Releases `mu` by calling `unlock`.
template <typename F>
void Unlocking(absl::Mutex* mu, unsigned flags, F unlock) {
  Outermost outer;
  if (outer) __tsan_mutex_pre_unlock(mu, flags);
  unlock();
  if (outer) __tsan_mutex_post_unlock(mu, flags);
}

// Calls `wait`, which gives up `mu` (held by the caller) and takes it back.
template <typename F>
auto Relocking(absl::Mutex* mu, F wait) {
  Outermost outer;
  const unsigned flags = outer ? HeldFlags(mu) : 0;
  if (outer) {
    __tsan_mutex_pre_unlock(mu, flags);
    __tsan_mutex_post_unlock(mu, flags);
  }
  OnExit relock{[&] {
    if (!outer) return;
    __tsan_mutex_pre_lock(mu, flags);
    __tsan_mutex_post_lock(mu, flags, 0);
  }};
  return wait();
}

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  static const auto real = Real<void (*)(Mutex*)>("_ZN%s5Mutex4LockEv");
  Locking(this, 0, [&] { real(this); });
}

void Mutex::ReaderLock() {
  static const auto real = Real<void (*)(Mutex*)>("_ZN%s5Mutex10ReaderLockEv");
  Locking(this, __tsan_mutex_read_lock, [&] { real(this); });
}

bool Mutex::TryLock() {
  static const auto real = Real<bool (*)(Mutex*)>("_ZN%s5Mutex7TryLockEv");
  Outermost outer;
  if (outer) __tsan_mutex_pre_lock(this, __tsan_mutex_try_lock);
  const bool locked = real(this);
  if (outer) {
    __tsan_mutex_post_lock(
        this, locked ? __tsan_mutex_try_lock : __tsan_mutex_try_lock_failed, 0);
  }
  return locked;
}

bool Mutex::ReaderTryLock() {
  static const auto real = Real<bool (*)(Mutex*)>("_ZN%s5Mutex13ReaderTryLockEv");
  Outermost outer;
  if (outer) __tsan_mutex_pre_lock(this, __tsan_mutex_try_read_lock);
  const bool locked = real(this);
  if (outer) {
    __tsan_mutex_post_lock(
        this, locked ? __tsan_mutex_try_read_lock : __tsan_mutex_try_read_lock_failed, 0);
  }
  return locked;
}

void Mutex::Unlock() {
  static const auto real = Real<void (*)(Mutex*)>("_ZN%s5Mutex6UnlockEv");
  Unlocking(this, 0, [&] { real(this); });
}

void Mutex::ReaderUnlock() {
  static const auto real = Real<void (*)(Mutex*)>("_ZN%s5Mutex12ReaderUnlockEv");
  Unlocking(this, __tsan_mutex_read_lock, [&] { real(this); });
}

// LockWhen and friends: the lock is taken once the condition holds (or at the deadline).
void Mutex::LockWhen(const Condition& cond) {
  static const auto real =
      Real<void (*)(Mutex*, const Condition&)>("_ZN%s5Mutex8LockWhenERKNS0_9ConditionE");
  Annotated annotated(cond, this);
  Locking(this, 0, [&] { real(this, annotated.condition()); });
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, absl::Duration timeout) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, absl::Duration)>(
      "_ZN%s5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  Annotated annotated(cond, this);
  return Locking(this, 0, [&] { return real(this, annotated.condition(), timeout); });
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, absl::Time deadline) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, absl::Time)>(
      "_ZN%s5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  Annotated annotated(cond, this);
  return Locking(this, 0, [&] { return real(this, annotated.condition(), deadline); });
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  static const auto real = Real<void (*)(Mutex*, const Condition&)>(
      "_ZN%s5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  Annotated annotated(cond, this);
  Locking(this, __tsan_mutex_read_lock, [&] { real(this, annotated.condition()); });
}

bool Mutex::ReaderLockWhenWithTimeout(const Condition& cond, absl::Duration timeout) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, absl::Duration)>(
      "_ZN%s5Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  Annotated annotated(cond, this);
  return Locking(this, __tsan_mutex_read_lock,
                 [&] { return real(this, annotated.condition(), timeout); });
}

bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond, absl::Time deadline) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, absl::Time)>(
      "_ZN%s5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  Annotated annotated(cond, this);
  return Locking(this, __tsan_mutex_read_lock,
                 [&] { return real(this, annotated.condition(), deadline); });
}

// Await and the condition variables: the held lock is given up while waiting and taken
// back.
void Mutex::Await(const Condition& cond) {
  static const auto real =
      Real<void (*)(Mutex*, const Condition&)>("_ZN%s5Mutex5AwaitERKNS0_9ConditionE");
  Annotated annotated(cond, this);
  Relocking(this, [&] { real(this, annotated.condition()); });
}

bool Mutex::AwaitWithTimeout(const Condition& cond, absl::Duration timeout) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, absl::Duration)>(
      "_ZN%s5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  Annotated annotated(cond, this);
  return Relocking(this, [&] { return real(this, annotated.condition(), timeout); });
}

bool Mutex::AwaitWithDeadline(const Condition& cond, absl::Time deadline) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, absl::Time)>(
      "_ZN%s5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  Annotated annotated(cond, this);
  return Relocking(this, [&] { return real(this, annotated.condition(), deadline); });
}

void CondVar::Wait(Mutex* mu) {
  static const auto real =
      Real<void (*)(CondVar*, Mutex*)>("_ZN%s7CondVar4WaitEPNS0_5MutexE");
  Relocking(mu, [&] { real(this, mu); });
}

bool CondVar::WaitWithTimeout(Mutex* mu, absl::Duration timeout) {
  static const auto real = Real<bool (*)(CondVar*, Mutex*, absl::Duration)>(
      "_ZN%s7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  return Relocking(mu, [&] { return real(this, mu, timeout); });
}

bool CondVar::WaitWithDeadline(Mutex* mu, absl::Time deadline) {
  static const auto real = Real<bool (*)(CondVar*, Mutex*, absl::Time)>(
      "_ZN%s7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  return Relocking(mu, [&] { return real(this, mu, deadline); });
}

// Notification: Notify releases; a wait that sees it notified acquires, whether the
// library took its Mutex or returned at once.
void Notification::Notify() {
  static const auto real = Real<void (*)(Notification*)>("_ZN%s12Notification6NotifyEv");
  Outermost outer;
  if (outer) {
    __tsan_release(this);
    __tsan_release(NotifiedFlag(this));
  }
  real(this);
}

void Notification::WaitForNotification() const {
  static const auto real =
      Real<void (*)(const Notification*)>("_ZNK%s12Notification19WaitForNotificationEv");
  Outermost outer;
  real(this);
  if (outer) __tsan_acquire(const_cast<Notification*>(this));
}

bool Notification::WaitForNotificationWithTimeout(absl::Duration timeout) const {
  static const auto real = Real<bool (*)(const Notification*, absl::Duration)>(
      "_ZNK%s12Notification30WaitForNotificationWithTimeoutENS0_8DurationE");
  Outermost outer;
  const bool notified = real(this, timeout);
  if (outer && notified) __tsan_acquire(const_cast<Notification*>(this));
  return notified;
}

bool Notification::WaitForNotificationWithDeadline(absl::Time deadline) const {
  static const auto real = Real<bool (*)(const Notification*, absl::Time)>(
      "_ZNK%s12Notification31WaitForNotificationWithDeadlineENS0_4TimeE");
  Outermost outer;
  const bool notified = real(this, deadline);
  if (outer && notified) __tsan_acquire(const_cast<Notification*>(this));
  return notified;
}

// BlockingCounter: every decrement happens before Wait returns (only the last one takes
// the library's Mutex). Barrier: every Block call happens before any returns.
bool BlockingCounter::DecrementCount() {
  static const auto real =
      Real<bool (*)(BlockingCounter*)>("_ZN%s15BlockingCounter14DecrementCountEv");
  Outermost outer;
  if (outer) __tsan_release(this);
  return real(this);
}

void BlockingCounter::Wait() {
  static const auto real =
      Real<void (*)(BlockingCounter*)>("_ZN%s15BlockingCounter4WaitEv");
  Outermost outer;
  real(this);
  if (outer) __tsan_acquire(this);
}

bool Barrier::Block() {
  static const auto real = Real<bool (*)(Barrier*)>("_ZN%s7Barrier5BlockEv");
  Outermost outer;
  if (outer) __tsan_release(this);
  const bool last = real(this);
  if (outer) __tsan_acquire(this);
  return last;
}

ABSL_NAMESPACE_END
}  // namespace absl
