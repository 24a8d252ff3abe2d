#pragma once
// Time as an interface so expiry, TTL and backoff logic can be tested without sleeping.
#include <chrono>
#include <mutex>

namespace extdata {

class Clock {
 public:
  using time_point = std::chrono::system_clock::time_point;
  virtual ~Clock() = default;
  virtual time_point now() const = 0;
  // Waits (or pretends to wait, in tests) for `d`; SystemClock's wait ends early when the
  // process is stopping (core/shutdown.h).
  virtual void sleep_for(std::chrono::milliseconds d) = 0;
};

class SystemClock final : public Clock {
 public:
  time_point now() const override { return std::chrono::system_clock::now(); }
  void sleep_for(std::chrono::milliseconds d) override;
  static SystemClock& instance();
};

// A clock for tests: time moves only when told to; sleep_for advances it and records the wait.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(time_point start = time_point{std::chrono::seconds{1'800'000'000}})
      : now_(start) {}
  time_point now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void sleep_for(std::chrono::milliseconds d) override {
    std::lock_guard lock(mu_);
    now_ += d;
    total_slept_ += d;
    ++sleeps_;
  }
  void advance(std::chrono::milliseconds d) {
    std::lock_guard lock(mu_);
    now_ += d;
  }
  std::chrono::milliseconds total_slept() const {
    std::lock_guard lock(mu_);
    return total_slept_;
  }
  int sleeps() const {
    std::lock_guard lock(mu_);
    return sleeps_;
  }

 private:
  mutable std::mutex mu_;
  time_point now_;
  std::chrono::milliseconds total_slept_{0};
  int sleeps_ = 0;
};

}  // namespace extdata
