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
  const auto shared = shared_;
  lock.unlock();
  const Fetch guarded = [&]() -> Result<Token> {
    try {
      return fetch();
    } catch (const std::exception& e) {
      return Error("auth.internal", std::string("token request failed: ") + e.what());
    }
  };
  bool from_shared = false;
  Result<Token> fetched = shared ? fetch_shared(key, guarded, *shared, from_shared) : guarded();
  lock.lock();
  entry.in_flight = false;
  Result<Token> answer = fetched;
  if (fetched.ok()) {
    entry.token = fetched.value();
    entry.last_error.reset();
    entry.no_refresh_before = {};
    if (outcome) *outcome = from_shared ? Outcome::shared : Outcome::fetched;
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

Result<Token> TokenCache::fetch_shared(const std::string& key, const Fetch& fetch,
                                       SharedTokens& shared, bool& from_shared) {
  // A shared token due for refresh is not taken: this instance would ask again at once.
  const auto usable = [&](const std::optional<Token>& token) {
    return token && clock_.now() < refresh_time(*token);
  };
  const auto give_up_at = clock_.now() + kSharedWait;
  for (;;) {
    if (auto token = shared.find(key); usable(token)) {
      from_shared = true;
      return *token;
    }
    if (shared.lead(key)) break;
    if (clock_.now() >= give_up_at) return fetch();  // the other instance seems stuck
    clock_.sleep_for(kSharedPoll);                   // another instance is asking the endpoint
  }
  // It may have published between the look and the lead.
  if (auto token = shared.find(key); usable(token)) {
    shared.end_lead(key);
    from_shared = true;
    return *token;
  }
  Result<Token> fetched = fetch();
  if (fetched.ok()) shared.publish(key, *fetched);
  shared.end_lead(key);
  return fetched;
}

void TokenCache::share(std::shared_ptr<SharedTokens> shared) {
  std::lock_guard lock(mu_);
  shared_ = std::move(shared);
}

void TokenCache::invalidate(const std::string& key, const std::string& access_token) {
  std::shared_ptr<SharedTokens> shared;
  {
    std::lock_guard lock(mu_);
    shared = shared_;
  }
  if (shared) shared->drop(key, access_token);
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
