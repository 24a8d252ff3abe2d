#include "auth/oauth2/token_cache.h"

#include <algorithm>

namespace extdata::auth {

Clock::time_point refresh_time(const Token& token) {
  const auto lifetime = token.expires_at - token.obtained_at;
  const auto margin = std::min<Clock::time_point::duration>(std::chrono::minutes(5), lifetime / 10);
  return token.expires_at -
         std::max<Clock::time_point::duration>(margin, Clock::time_point::duration::zero());
}

Result<Token> TokenCache::get(const std::string& key, const Fetch& fetch, Outcome* outcome) {
  std::unique_lock lock(mu_);
  auto& slot = entries_[key];
  if (!slot) slot = std::make_unique<Entry>();
  Entry& entry = *slot;
  bool waited = false;
  for (;;) {
    const auto now = clock_.now();
    const bool resting = now < entry.no_refresh_before;
    if (entry.token && now < entry.token->expires_at &&
        (now < refresh_time(*entry.token) || resting)) {
      if (outcome) *outcome = waited ? Outcome::joined : Outcome::hit;
      return *entry.token;
    }
    if (!entry.in_flight) break;
    const auto awaited = entry.generation;
    done_.wait(lock, [&] { return !entry.in_flight || entry.generation != awaited; });
    waited = true;
    if (entry.last_error && entry.error_generation == awaited) {
      if (entry.token && clock_.now() < entry.token->expires_at) {
        if (outcome) *outcome = Outcome::stale;
        return *entry.token;
      }
      if (outcome) *outcome = Outcome::joined;
      return *entry.last_error;
    }
  }

  entry.in_flight = true;
  const auto generation = ++entry.generation;
  lock.unlock();
  Result<Token> fetched = [&]() -> Result<Token> {
    try {
      return fetch();
    } catch (const std::exception& e) {
      return Error("auth.internal", std::string("token request failed: ") + e.what());
    }
  }();
  lock.lock();
  entry.in_flight = false;
  Result<Token> answer = fetched;
  if (fetched.ok()) {
    entry.token = fetched.value();
    entry.last_error.reset();
    entry.no_refresh_before = {};
    if (outcome) *outcome = Outcome::fetched;
  } else {
    entry.last_error = fetched.error();
    entry.error_generation = generation;
    if (entry.token && clock_.now() < entry.token->expires_at) {
      // Refreshing early exists to avoid an outage; a failed refresh must not cause one.
      answer = *entry.token;
      entry.no_refresh_before = clock_.now() + kRefreshRetryDelay;
      if (outcome) *outcome = Outcome::stale;
    } else if (outcome) {
      *outcome = Outcome::fetched;
    }
  }
  lock.unlock();
  done_.notify_all();
  return answer;
}

void TokenCache::invalidate(const std::string& key, const std::string& access_token) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  Entry& entry = *it->second;
  if (entry.token && entry.token->access_token == access_token) {
    entry.token.reset();
    entry.no_refresh_before = {};
  }
}

std::optional<Token> TokenCache::peek(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second->token;
}

void TokenCache::clear() {
  std::lock_guard lock(mu_);
  for (auto& [key, entry] : entries_) entry->token.reset();
}

}  // namespace extdata::auth
