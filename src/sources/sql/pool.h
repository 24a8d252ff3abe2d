#pragma once
// The connections of one sql source: at most `max_open` at a time, idle ones kept for the next
// fetch. A connection that broke (the server restarted) is dropped; when a pooled connection
// fails with sql.connection_lost the work runs once more on a new connection, so a restart of
// the database costs one failed attempt inside a fetch, not a failed fetch.
// Thread-safe.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "sources/sql/driver.h"

namespace extdata::sources::sql {

class Pool {
 public:
  Pool(std::shared_ptr<Driver> driver, size_t max_open, std::chrono::milliseconds max_wait)
      : driver_(std::move(driver)), max_open_(max_open), max_wait_(max_wait) {}

  struct Use {
    bool connected = false;    // a connection was had (else connecting failed)
    bool reused = false;       // the work ran on a pooled connection
    bool reconnected = false;  // it broke and the work ran again on a new one
    double connect_ms = 0;     // time spent getting a connection
  };
  // Runs `work` on a connection.
  Status run(const std::function<Status(Connection&)>& work, Use* use = nullptr);

  size_t open() const;
  size_t idle() const;
  Driver& driver() const { return *driver_; }

 private:
  Result<std::unique_ptr<Connection>> take(bool& reused);
  void give_back(std::unique_ptr<Connection> c);
  void drop_idle();

  std::shared_ptr<Driver> driver_;
  const size_t max_open_;
  const std::chrono::milliseconds max_wait_;
  mutable std::mutex mu_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<Connection>> idle_;
  size_t open_ = 0;
};

}  // namespace extdata::sources::sql
