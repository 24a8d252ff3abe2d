#pragma once
// Cancellation for work that would outlast a stopping process. `extdata serve` cancels
// process_shutdown() when SIGTERM or SIGINT arrives: upstream transfers abort (the libcurl
// progress callback asks cancelled()), retry back-offs and waits for a fetch slot wake up, and
// the server drains what is left (docs/security.md, "Stopping").
//
// Thread-safe; cancelled() is a lock-free read, cheap enough for a transfer's progress callback.
// Once cancelled a signal stays cancelled (tests make their own CancelSignal).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace extdata {

class CancelSignal {
 public:
  void cancel();
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }
  // Waits `d`, or less when the signal is (or becomes) cancelled; true when the whole wait
  // passed uncancelled.
  bool wait_for(std::chrono::milliseconds d) const;

 private:
  std::atomic<bool> cancelled_{false};
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
};

// The process is stopping: set once by the serve command's signal thread.
CancelSignal& process_shutdown();

}  // namespace extdata
