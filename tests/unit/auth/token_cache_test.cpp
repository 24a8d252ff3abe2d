#include "auth/oauth2/token_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <thread>

namespace extdata::auth {
namespace {

using namespace std::chrono_literals;

Token token_for(ManualClock& clock, const std::string& value, std::chrono::seconds lifetime) {
  Token t;
  t.access_token = value;
  t.obtained_at = clock.now();
  t.expires_at = clock.now() + lifetime;
  return t;
}

TEST(RefreshTime, SmallerOfFiveMinutesAndTenPercent) {
  ManualClock clock;
  const auto hour = token_for(clock, "a", 3600s);
  EXPECT_EQ(hour.expires_at - refresh_time(hour), 300s);
  const auto ten_minutes = token_for(clock, "b", 600s);
  EXPECT_EQ(ten_minutes.expires_at - refresh_time(ten_minutes), 60s);
  const auto day = token_for(clock, "c", 86400s);
  EXPECT_EQ(day.expires_at - refresh_time(day), 300s);
}

TEST(TokenCache, ServesCachedTokenUntilRefreshTimeThenFetchesAgain) {
  ManualClock clock;
  TokenCache cache(clock);
  int fetches = 0;
  auto fetch = [&]() -> Result<Token> {
    ++fetches;
    return token_for(clock, "t" + std::to_string(fetches), 3600s);
  };
  TokenCache::Outcome outcome{};
  EXPECT_EQ(cache.get("k", fetch, &outcome)->access_token, "t1");
  EXPECT_EQ(outcome, TokenCache::Outcome::fetched);
  clock.advance(3299s);
  EXPECT_EQ(cache.get("k", fetch, &outcome)->access_token, "t1");
  EXPECT_EQ(outcome, TokenCache::Outcome::hit);
  clock.advance(1s);  // 5 minutes before expiry
  EXPECT_EQ(cache.get("k", fetch, &outcome)->access_token, "t2");
  EXPECT_EQ(outcome, TokenCache::Outcome::fetched);
  EXPECT_EQ(fetches, 2);
}

TEST(TokenCache, KeysAreIndependent) {
  ManualClock clock;
  TokenCache cache(clock);
  auto a = cache.get("a", [&]() -> Result<Token> { return token_for(clock, "A", 3600s); });
  auto b = cache.get("b", [&]() -> Result<Token> { return token_for(clock, "B", 3600s); });
  EXPECT_EQ(a->access_token, "A");
  EXPECT_EQ(b->access_token, "B");
}

TEST(TokenCache, ThousandConcurrentColdCallersCauseOneFetch) {
  ManualClock clock;
  TokenCache cache(clock);
  constexpr int kCallers = 1000;
  std::atomic<int> fetches{0};
  std::atomic<int> started{0};
  std::mutex gate_mu;
  std::condition_variable gate;
  // The single fetch holds until every caller has started, so the others pile up behind it.
  auto fetch = [&]() -> Result<Token> {
    fetches.fetch_add(1);
    std::unique_lock lock(gate_mu);
    gate.wait_for(lock, 30s, [&] { return started.load() == kCallers; });
    return token_for(clock, "shared", 3600s);
  };
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  threads.reserve(kCallers);
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&] {
      {
        std::lock_guard lock(gate_mu);
        started.fetch_add(1);
      }
      gate.notify_all();
      auto t = cache.get("cold", fetch);
      if (t.ok() && t->access_token == "shared") ok.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(fetches.load(), 1);
  EXPECT_EQ(ok.load(), kCallers);
}

TEST(TokenCache, ErrorIsSharedWithWaitersButNotCached) {
  ManualClock clock;
  TokenCache cache(clock);
  std::atomic<int> fetches{0};
  std::atomic<bool> release{false};
  std::atomic<int> waiting{0};
  auto failing = [&]() -> Result<Token> {
    fetches.fetch_add(1);
    while (!release.load()) std::this_thread::yield();
    return Error("auth.invalid_secret", "bad secret");
  };
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      waiting.fetch_add(1);
      auto t = cache.get("k", failing);
      if (!t.ok() && t.error().code == "auth.invalid_secret") errors.fetch_add(1);
    });
  while (waiting.load() < 8) std::this_thread::yield();
  release = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 8);
  EXPECT_GE(fetches.load(), 1);
  // The next caller asks again: errors are not cached.
  const int before = fetches.load();
  auto again = cache.get("k", [&]() -> Result<Token> {
    fetches.fetch_add(1);
    return token_for(clock, "ok", 3600s);
  });
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(fetches.load(), before + 1);
}

TEST(TokenCache, FailedEarlyRefreshServesTheStillValidTokenAndRestsBeforeRetrying) {
  ManualClock clock;
  TokenCache cache(clock);
  int fetches = 0;
  bool fail = false;
  auto fetch = [&]() -> Result<Token> {
    ++fetches;
    if (fail) return Error("auth.token_endpoint_unreachable", "down");
    return token_for(clock, "t" + std::to_string(fetches), 3600s);
  };
  ASSERT_TRUE(cache.get("k", fetch).ok());
  clock.advance(3400s);  // inside the refresh window, not expired
  fail = true;
  TokenCache::Outcome outcome{};
  auto served = cache.get("k", fetch, &outcome);
  ASSERT_TRUE(served.ok());
  EXPECT_EQ(served->access_token, "t1");
  EXPECT_EQ(outcome, TokenCache::Outcome::stale);
  EXPECT_EQ(fetches, 2);
  // Within the rest period no new request goes out.
  EXPECT_TRUE(cache.get("k", fetch).ok());
  EXPECT_EQ(fetches, 2);
  clock.advance(TokenCache::kRefreshRetryDelay);
  EXPECT_TRUE(cache.get("k", fetch).ok());
  EXPECT_EQ(fetches, 3);
  // Once the old token has expired the error comes through.
  clock.advance(300s);
  auto expired = cache.get("k", fetch);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().code, "auth.token_endpoint_unreachable");
}

TEST(TokenCache, InvalidateDropsOnlyTheRefusedToken) {
  ManualClock clock;
  TokenCache cache(clock);
  int fetches = 0;
  auto fetch = [&]() -> Result<Token> {
    ++fetches;
    return token_for(clock, "t" + std::to_string(fetches), 3600s);
  };
  ASSERT_EQ(cache.get("k", fetch)->access_token, "t1");
  cache.invalidate("k", "some-older-token");
  EXPECT_EQ(cache.get("k", fetch)->access_token, "t1");
  cache.invalidate("k", "t1");
  EXPECT_EQ(cache.get("k", fetch)->access_token, "t2");
  cache.invalidate("unknown-key", "t2");
  cache.clear();
  EXPECT_EQ(cache.get("k", fetch)->access_token, "t3");
}

}  // namespace
}  // namespace extdata::auth
