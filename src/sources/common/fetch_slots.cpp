#include "sources/common/fetch_slots.h"

#include <chrono>

#include "core/limits.h"

namespace extdata::sources {

namespace {

Error busy(const std::string& source, size_t running, std::string_view why) {
  return Error("source.busy",
               "source '" + source + "' already runs " + std::to_string(running) +
                   " upstream fetches (" + std::string(why) + ")",
               "Its upstream is slow or not answering: try again later. Operators can raise " +
                   describe_limit(&Limits::source_max_fetches) + ".")
      .with("source", source)
      .with("running", std::to_string(running));
}

}  // namespace

FetchSlots::Slot::~Slot() {
  if (owner_) owner_->release(source_);
}

Result<FetchSlots::Slot> FetchSlots::acquire(const std::string& source,
                                             const CancelSignal& cancel) {
  const Limits& l = limits();
  std::unique_lock lock(mu_);
  PerSource& s = sources_[source];
  auto has_room = [&] { return s.running < l.source_max_fetches || cancel.cancelled(); };
  if (!has_room()) {
    if (s.waiting >= l.source_max_queued_fetches)
      return busy(source, s.running,
                  std::to_string(s.waiting) + " more wait; " +
                      describe_limit(&Limits::source_max_queued_fetches));
    ++s.waiting;
    const bool room =
        freed_.wait_for(lock, std::chrono::milliseconds(l.source_fetch_wait_ms), has_room);
    --s.waiting;
    if (!room) {
      Error e = busy(source, s.running,
                     "no slot freed within " + describe_limit(&Limits::source_fetch_wait_ms));
      if (s.running == 0 && s.waiting == 0) sources_.erase(source);
      return e;
    }
  }
  if (cancel.cancelled()) {
    if (s.running == 0 && s.waiting == 0) sources_.erase(source);
    return Error("http.cancelled",
                 "the fetch of source '" + source + "' was cancelled: extdata is stopping",
                 "Send it again once the server is back.");
  }
  ++s.running;
  return Slot(this, source);
}

void FetchSlots::release(const std::string& source) {
  {
    std::lock_guard lock(mu_);
    auto it = sources_.find(source);
    if (it == sources_.end()) return;
    --it->second.running;
    if (it->second.running == 0 && it->second.waiting == 0) sources_.erase(it);
  }
  // Waiters of every source share the condition variable: wake them all, each rechecks its own.
  freed_.notify_all();
}

size_t FetchSlots::running(const std::string& source) const {
  std::lock_guard lock(mu_);
  auto it = sources_.find(source);
  return it == sources_.end() ? 0 : it->second.running;
}

size_t FetchSlots::waiting(const std::string& source) const {
  std::lock_guard lock(mu_);
  auto it = sources_.find(source);
  return it == sources_.end() ? 0 : it->second.waiting;
}

FetchSlots& fetch_slots() {
  static FetchSlots slots;
  return slots;
}

}  // namespace extdata::sources
