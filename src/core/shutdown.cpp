#include "core/shutdown.h"

namespace extdata {

void CancelSignal::cancel() {
  {
    std::lock_guard lock(mu_);
    cancelled_.store(true, std::memory_order_release);
  }
  cv_.notify_all();
}

bool CancelSignal::wait_for(std::chrono::milliseconds d) const {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, d, [this] { return cancelled(); });
}

CancelSignal& process_shutdown() {
  static CancelSignal signal;
  return signal;
}

}  // namespace extdata
