#pragma once
// Access tokens shared by every source that uses the same application, keyed by token
// URL, client ID, scope, extra parameters and a fingerprint of the credential (a rotated
// secret never reuses the old token). Refreshes ahead of expiry; single-flight: however
// many callers want a cold token at once, exactly one of them asks the token endpoint.
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/error.h"

namespace extdata::auth {

struct Token {
  std::string access_token;
  std::string token_type = "Bearer";
  Clock::time_point obtained_at{};
  Clock::time_point expires_at{};
  std::string scope;  // as granted, when the server says so
};

// When a token of this lifetime should be replaced: the smaller of 5 minutes and 10 % of
// its lifetime before it expires.
Clock::time_point refresh_time(const Token& token);

// Tokens shared by the instances on one store (api::StoreTokens implements it on the store's
// shared token cache and leases): a token one instance fetched is used by all, and of
// instances wanting the same cold token one asks the endpoint while the others wait for it.
class SharedTokens {
 public:
  virtual ~SharedTokens() = default;
  // An unexpired token another instance published for `key`.
  virtual std::optional<Token> find(const std::string& key) = 0;
  virtual void publish(const std::string& key, const Token& token) = 0;
  // Forgets the published token for `key` if it is still `access_token`.
  virtual void drop(const std::string& key, const std::string& access_token) = 0;
  // True when this instance may ask the token endpoint for `key` now (no other instance is
  // asking); end_lead() after the request. A store that fails answers true.
  virtual bool lead(const std::string& key) = 0;
  virtual void end_lead(const std::string& key) = 0;
};

class TokenCache {
 public:
  enum class Outcome {
    hit,      // a fresh cached token
    fetched,  // this caller asked the token endpoint
    joined,   // waited for another caller's request
    stale,    // refresh failed, the old token has not expired yet and was served
    shared,   // another instance's token, from the shared cache (SharedTokens)
  };
  using Fetch = std::function<Result<Token>()>;

  explicit TokenCache(Clock& clock) : clock_(clock) {}

  // A fresh token for `key`, calling `fetch` only when none is cached (or it is due for
  // refresh) and no other caller is already fetching it. An error is shared with the
  // callers who waited for that request and never cached.
  Result<Token> get(const std::string& key, const Fetch& fetch, Outcome* outcome = nullptr);

  // Forgets the token for `key` if it is still `access_token` (a resource refused it). A
  // newer token, fetched meanwhile by another caller, is kept.
  void invalidate(const std::string& key, const std::string& access_token);

  // After a failed refresh while the old token is still valid, the old token is served
  // and the endpoint is not asked again for this long.
  static constexpr std::chrono::seconds kRefreshRetryDelay{10};

  // From now on, tokens are looked up in and published to `shared` before the endpoint is
  // asked; waiting for another instance's request polls every kSharedPoll, at most
  // kSharedWait (then this instance asks itself).
  void share(std::shared_ptr<SharedTokens> shared);
  static constexpr std::chrono::milliseconds kSharedPoll{100};
  static constexpr std::chrono::seconds kSharedWait{10};

  // Drops every cached token (e.g. after a source's credential changed).
  void clear();

  // The token cached for `key`, without asking for one (for status pages).
  std::optional<Token> peek(const std::string& key);

 private:
  struct Entry {
    std::optional<Token> token;
    bool in_flight = false;
    unsigned long long generation = 0;  // incremented per request
    std::optional<Error> last_error;
    unsigned long long error_generation = 0;
    Clock::time_point no_refresh_before{};
  };
  // The endpoint's or another instance's token (SharedTokens); the caller holds no lock.
  Result<Token> fetch_shared(const std::string& key, const Fetch& fetch, SharedTokens& shared,
                             bool& from_shared);

  Clock& clock_;
  std::shared_ptr<SharedTokens> shared_;  // guarded by mu_
  std::mutex mu_;
  std::condition_variable done_;
  std::map<std::string, std::unique_ptr<Entry>> entries_;
};

}  // namespace extdata::auth
