#include "sources/sql/pool.h"

namespace extdata::sources::sql {

Result<std::unique_ptr<Connection>> Pool::take(bool& reused) {
  std::unique_lock lock(mu_);
  const bool got =
      freed_.wait_for(lock, max_wait_, [&] { return !idle_.empty() || open_ < max_open_; });
  if (!got)
    return Error("source.busy",
                 "all " + std::to_string(max_open_) + " connections of the source are in use",
                 "raise pool_size, or make the query faster");
  if (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    reused = true;
    return c;
  }
  ++open_;
  lock.unlock();
  reused = false;
  auto c = driver_->connect();
  if (!c.ok()) {
    std::lock_guard relock(mu_);
    --open_;
    freed_.notify_one();
  }
  return c;
}

void Pool::give_back(std::unique_ptr<Connection> c) {
  std::lock_guard lock(mu_);
  if (c->usable()) {
    idle_.push_back(std::move(c));
  } else {
    c.reset();
    --open_;
  }
  freed_.notify_one();
}

Status Pool::run(const std::function<Status(Connection&)>& work, Use* use) {
  Use local;
  Use& u = use ? *use : local;
  for (int attempt = 0;; ++attempt) {
    const auto started = std::chrono::steady_clock::now();
    bool reused = false;
    EXTDATA_ASSIGN_OR_RETURN(std::unique_ptr<Connection> c, take(reused));
    u.connect_ms +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    u.reused = reused;
    u.connected = true;
    Status s = work(*c);
    const bool lost = !s.ok() && is_connection_lost(s.error());
    give_back(std::move(c));
    if (lost) drop_idle();  // the others are as likely to have broken with it
    if (lost && reused && attempt == 0) {
      u.reconnected = true;
      continue;
    }
    return s;
  }
}

void Pool::drop_idle() {
  std::lock_guard lock(mu_);
  open_ -= idle_.size();
  idle_.clear();
  freed_.notify_all();
}

size_t Pool::open() const {
  std::lock_guard lock(mu_);
  return open_;
}

size_t Pool::idle() const {
  std::lock_guard lock(mu_);
  return idle_.size();
}

}  // namespace extdata::sources::sql
