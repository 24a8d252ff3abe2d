// Several instances (record caches, each with its own store connection, source and metrics) on
// one SQLite data directory: one upstream sync per refresh, a dead holder's lease expires.
#include <gtest/gtest.h>

#include <thread>

#include "cache/record_cache.h"
#include "cache_test_support.h"
#include "extract/json_text.h"

namespace extdata::cache {
namespace {

using namespace std::chrono_literals;
using testing_support::FakeSource;
using testing_support::TempDir;

// Time moves only when the test says so; a waiting instance's poll only yields the thread, so
// waiting never expires a lease by itself.
class PollingClock final : public Clock {
 public:
  time_point now() const override { return inner_.now(); }
  void sleep_for(std::chrono::milliseconds) override { std::this_thread::yield(); }
  void advance(std::chrono::milliseconds d) { inner_.advance(d); }

 private:
  ManualClock inner_;
};

struct Instance {
  Instance(const TempDir& dir, PollingClock& clock, const std::string& holder,
           const std::string& tag)
      : store(testing_support::open_store(dir)),
        source(std::make_shared<FakeSource>(
            "cities", nlohmann::json{{"cache_ttl", 60}}, [tag](const sources::Variables&, int) {
              return R"([{"id":1,"fields":{"Title":"fetched by )" + tag + R"("}}])";
            })) {
    CacheOptions options;
    options.executor = [](std::function<void()> task) { task(); };
    options.cluster.holder = holder;
    options.cluster.lease_ttl = 30s;
    cache = std::make_unique<RecordCache>(
        *store, [this](const std::string& name) { return name == "cities" ? source : nullptr; },
        clock, metrics, options);
  }
  std::string title() {
    auto got = cache->get("cities", {});
    EXPECT_TRUE(got.ok());
    return extract::display_text((*got->records)[0].json().root()["fields"]["Title"].value());
  }
  long long loaded_from_peer() {
    return metrics.counter_value("extdata_cache_snapshots_loaded_from_store_total",
                                 {{"source", "cities"}, {"reason", "peer_sync"}});
  }

  Metrics metrics;
  std::unique_ptr<store::Store> store;
  std::shared_ptr<FakeSource> source;
  std::unique_ptr<RecordCache> cache;
};

TEST(ClusterCache, ThreeInstancesRefreshingAtOnceSyncOnceAndTwoLoadTheSnapshot) {
  TempDir dir;
  PollingClock clock;
  Instance a(dir, clock, "instance-a", "a"), b(dir, clock, "instance-b", "b"),
      c(dir, clock, "instance-c", "c");
  a.source->close_gate();
  std::thread syncing([&] { ASSERT_TRUE(a.cache->refresh("cities").ok()); });
  a.source->wait_entered();
  std::thread waiting_b([&] { ASSERT_TRUE(b.cache->refresh("cities").ok()); });
  std::thread waiting_c([&] { ASSERT_TRUE(c.cache->refresh("cities").ok()); });
  while (b.metrics.counter_value("extdata_cluster_lease_waits_total", {{"source", "cities"}}) +
             c.metrics.counter_value("extdata_cluster_lease_waits_total", {{"source", "cities"}}) <
         2)
    std::this_thread::yield();
  a.source->open_gate();
  syncing.join();
  waiting_b.join();
  waiting_c.join();

  EXPECT_EQ(a.source->fetches + b.source->fetches + c.source->fetches, 1);
  EXPECT_EQ(b.loaded_from_peer(), 1);
  EXPECT_EQ(c.loaded_from_peer(), 1);
  EXPECT_EQ(b.title(), "fetched by a");
  EXPECT_EQ(c.title(), "fetched by a");
  EXPECT_EQ(a.metrics.counter_value("extdata_cluster_lease_acquired_total", {{"purpose", "sync"}}),
            1);
}

TEST(ClusterCache, ARefreshAfterAPeersSyncEndedFetchesAgain) {
  TempDir dir;
  PollingClock clock;
  Instance a(dir, clock, "instance-a", "a"), b(dir, clock, "instance-b", "b");
  ASSERT_TRUE(a.cache->refresh("cities").ok());
  clock.advance(2s);
  ASSERT_TRUE(b.cache->refresh("cities").ok());
  EXPECT_EQ(b.source->fetches, 1) << "a refresh asks for data newer than the call";
  EXPECT_EQ(a.title(), "fetched by a") << "in memory; the store has b's";
}

TEST(ClusterCache, AHolderThatHangsLosesTheLeaseAtExpiryAndItsLateWriteIsRefused) {
  TempDir dir;
  PollingClock clock;
  Instance a(dir, clock, "instance-a", "a"), b(dir, clock, "instance-b", "b");
  a.source->close_gate();
  std::thread hung([&] { ASSERT_TRUE(a.cache->refresh("cities").ok()); });
  a.source->wait_entered();
  clock.advance(29s);
  std::thread waiting([&] { ASSERT_TRUE(b.cache->refresh("cities").ok()); });
  while (b.metrics.counter_value("extdata_cluster_lease_waits_total", {{"source", "cities"}}) < 1)
    std::this_thread::yield();
  EXPECT_EQ(b.source->fetches, 0) << "the lease has not expired yet";
  clock.advance(1s);
  waiting.join();
  EXPECT_EQ(b.source->fetches, 1) << "b took the expired lease and synced";

  a.source->open_gate();
  hung.join();
  EXPECT_EQ(a.metrics.counter_value("extdata_cluster_fenced_writes_total"), 2)
      << "a's snapshot and status writes were refused";
  Instance late(dir, clock, "instance-late", "late");
  EXPECT_EQ(late.title(), "fetched by b") << "b's snapshot stayed";
  EXPECT_EQ(late.source->fetches, 0);
}

TEST(ClusterCache, WithoutAHolderIdEachInstanceFetchesOnItsOwn) {
  TempDir dir;
  PollingClock clock;
  Instance a(dir, clock, "", "a"), b(dir, clock, "", "b");
  ASSERT_TRUE(a.cache->refresh("cities").ok());
  ASSERT_TRUE(b.cache->refresh("cities").ok());
  EXPECT_EQ(a.source->fetches + b.source->fetches, 2);
  EXPECT_EQ(a.metrics.counter_value("extdata_cluster_lease_acquired_total", {{"purpose", "sync"}}),
            0);
}

}  // namespace
}  // namespace extdata::cache
