// Issue 15, row 11: one slow source must not hold every worker. A fake transport that holds
// its first request until the test lets it go stands for the hanging upstream.
#include "sources/common/fetch_slots.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "config/config.h"
#include "core/limits.h"
#include "http/http_client.h"
#include "sources/kinds.h"
#include "sources/source.h"

namespace extdata::sources {
namespace {

using nlohmann::json;

// Answers "[]" to every request; the first one waits until release().
class HeldTransport final : public http::HttpClient {
 public:
  Result<http::Response> send(const http::Request& request) override {
    std::unique_lock lock(mu_);
    urls_.push_back(request.url);
    if (urls_.size() == 1) {
      arrived_.notify_all();
      released_cv_.wait(lock, [this] { return released_; });
    }
    return http::Response{.status = 200, .body = "[]"};
  }
  void wait_for_first() {
    std::unique_lock lock(mu_);
    arrived_.wait(lock, [this] { return !urls_.empty(); });
  }
  void release() {
    std::lock_guard lock(mu_);
    released_ = true;
    released_cv_.notify_all();
  }
  size_t requests() {
    std::lock_guard lock(mu_);
    return urls_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable arrived_, released_cv_;
  std::vector<std::string> urls_;
  bool released_ = false;
};

struct SlowSource {
  ManualClock clock;
  Metrics metrics;
  std::shared_ptr<HeldTransport> transport = std::make_shared<HeldTransport>();
  std::shared_ptr<Source> source;

  explicit SlowSource(const std::string& name) {
    SourceDeps deps{clock, metrics, nullptr,
                    [t = transport](const config::SourceConfig&) { return t; }};
    auto config = config::parse_source(
        json{{"type", "rest"}, {"url", "https://slow.example.com/items"}, {"records", "$"}}.dump(),
        name);
    source = make_source(config.value(), deps).value();
  }
  Result<std::shared_ptr<const extract::RecordSet>> fetch() { return source->fetch({}); }
  std::future<Result<std::shared_ptr<const extract::RecordSet>>> fetch_async() {
    return std::async(std::launch::async, [this] { return fetch(); });
  }
};

Limits limits_with(size_t fetches, size_t queued, size_t wait_ms) {
  Limits l;
  l.source_max_fetches = fetches;
  l.source_max_queued_fetches = queued;
  l.source_fetch_wait_ms = wait_ms;
  return l;
}

TEST(FetchSlots, AFetchBeyondTheLimitAndTheQueueIsRefusedWithoutReachingTheUpstream) {
  ScopedLimits scoped(limits_with(1, 0, 60'000));
  SlowSource slow("slots-full");
  auto held = slow.fetch_async();
  slow.transport->wait_for_first();
  auto refused = slow.fetch();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "source.busy");
  EXPECT_NE(refused.error().hint.find("--source-max-fetches"), std::string::npos)
      << refused.error().hint;
  EXPECT_EQ(slow.transport->requests(), 1u);
  EXPECT_EQ(slow.metrics.counter_value("extdata_source_errors_total",
                                       {{"source", "slots-full"}, {"code", "source.busy"}}),
            1);
  slow.transport->release();
  EXPECT_TRUE(held.get().ok());
  EXPECT_TRUE(slow.fetch().ok());  // the slot is free again
  EXPECT_EQ(slow.transport->requests(), 2u);
  EXPECT_EQ(fetch_slots().running("slots-full"), 0u);
}

TEST(FetchSlots, AQueuedFetchRunsWhenASlotFreesAndTheQueueIsBounded) {
  ScopedLimits scoped(limits_with(1, 1, 60'000));
  SlowSource slow("slots-queue");
  auto held = slow.fetch_async();
  slow.transport->wait_for_first();
  auto queued = slow.fetch_async();
  while (fetch_slots().waiting("slots-queue") == 0) std::this_thread::yield();
  auto refused = slow.fetch();  // the one queue place is taken
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "source.busy");
  EXPECT_NE(refused.error().message.find("source_max_queued_fetches"), std::string::npos);
  EXPECT_EQ(slow.transport->requests(), 1u);
  slow.transport->release();
  EXPECT_TRUE(held.get().ok());
  EXPECT_TRUE(queued.get().ok());
  EXPECT_EQ(slow.transport->requests(), 2u);
}

TEST(FetchSlots, AWaitThatRunsOutIsRefusedNamingTheLimit) {
  ScopedLimits scoped(limits_with(1, 1, 1));
  SlowSource slow("slots-wait");
  auto held = slow.fetch_async();
  slow.transport->wait_for_first();
  auto refused = slow.fetch();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "source.busy");
  EXPECT_NE(refused.error().message.find("source_fetch_wait_ms"), std::string::npos);
  slow.transport->release();
  EXPECT_TRUE(held.get().ok());
  EXPECT_EQ(slow.transport->requests(), 1u);
}

TEST(FetchSlots, SourcesDoNotShareSlotsAndACancelledProcessTakesNone) {
  ScopedLimits scoped(limits_with(1, 0, 60'000));
  SlowSource slow("slots-a");
  auto held = slow.fetch_async();
  slow.transport->wait_for_first();
  auto other = fetch_slots().acquire("slots-b");
  EXPECT_TRUE(other.ok());
  CancelSignal stopping;
  stopping.cancel();
  auto cancelled = fetch_slots().acquire("slots-c", stopping);
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.error().code, "http.cancelled");
  slow.transport->release();
  EXPECT_TRUE(held.get().ok());
}

}  // namespace
}  // namespace extdata::sources
