#pragma once
// A per-source limit of concurrent upstream fetches, so one slow or hanging source cannot hold
// every worker thread of the server (docs/limits.md). Every fetch of every kind takes a slot in
// count_fetch() (transport.h) before it sends anything:
//
//   - at most limits().source_max_fetches fetches of one source run at a time;
//   - at most limits().source_max_queued_fetches more wait for a slot, each at most
//     limits().source_fetch_wait_ms; a fetch beyond that, or one whose wait ran out, fails
//     with "source.busy" (naming the limit) without reaching the upstream;
//   - a fetch started while the process stops (core/shutdown.h) fails with "http.cancelled".
//
// Slots are keyed by source name and shared by every Source object of that name in the process
// (a source rebuilt after an edit shares them with fetches of the old one still running).
// Thread-safe. Waiting uses the steady clock, bounded as above.
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>

#include "core/error.h"
#include "core/shutdown.h"

namespace extdata::sources {

class FetchSlots {
 public:
  // A taken slot; destroying it frees the slot and wakes one waiter.
  class Slot {
   public:
    Slot(Slot&& other) noexcept : owner_(other.owner_), source_(std::move(other.source_)) {
      other.owner_ = nullptr;
    }
    Slot& operator=(Slot&&) = delete;
    ~Slot();

   private:
    friend class FetchSlots;
    Slot(FetchSlots* owner, std::string source) : owner_(owner), source_(std::move(source)) {}
    FetchSlots* owner_;
    std::string source_;
  };

  Result<Slot> acquire(const std::string& source, const CancelSignal& cancel = process_shutdown());

  // Fetches of `source` running now and waiting for a slot (for tests and diagnostics).
  size_t running(const std::string& source) const;
  size_t waiting(const std::string& source) const;

 private:
  struct PerSource {
    size_t running = 0;
    size_t waiting = 0;
  };
  void release(const std::string& source);

  mutable std::mutex mu_;
  std::condition_variable freed_;
  std::map<std::string, PerSource> sources_;  // only sources with running or waiting fetches
};

// The slots of this process.
FetchSlots& fetch_slots();

}  // namespace extdata::sources
