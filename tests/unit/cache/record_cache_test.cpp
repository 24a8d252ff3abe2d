#include "cache/record_cache.h"

#include <gtest/gtest.h>

#include <thread>

#include "cache_test_support.h"
#include "core/limits.h"
#include "extract/json_text.h"

namespace extdata::cache {
namespace {

using namespace std::chrono_literals;
using testing_support::FakeSource;
using testing_support::ManualExecutor;
using testing_support::TempDir;

std::string first_title(const CachedRecords& cached) {
  return extract::display_text((*cached.records)[0].json().root()["fields"]["Title"].value());
}

class RecordCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing_support::open_store(dir_);
    source_ = std::make_shared<FakeSource>("cities", nlohmann::json{{"cache_ttl", 60}},
                                           testing_support::cities_body);
    cache_ = make_cache();
  }

  std::unique_ptr<RecordCache> make_cache() {
    CacheOptions options;
    options.executor = executor_.executor();
    options.list_sources = [] { return std::vector<std::string>{"cities"}; };
    return std::make_unique<RecordCache>(
        *store_, [this](const std::string& name) { return name == "cities" ? source_ : nullptr; },
        clock_, metrics_, options);
  }

  // A cache over "cities" and a second source, "towns".
  std::unique_ptr<RecordCache> make_cache_with(std::shared_ptr<FakeSource> towns) {
    CacheOptions options;
    options.executor = executor_.executor();
    return std::make_unique<RecordCache>(
        *store_,
        [this, towns](const std::string& name) -> std::shared_ptr<sources::Source> {
          return name == "cities" ? source_ : name == "towns" ? towns : nullptr;
        },
        clock_, metrics_, options);
  }

  long long counter(const std::string& name) {
    return metrics_.counter_value(name, {{"source", "cities"}});
  }

  // A key answered twice is worth a snapshot; its write runs on the executor.
  void serve_twice_and_persist(const sources::Variables& variables) {
    ASSERT_TRUE(cache_->get("cities", variables).ok());
    ASSERT_TRUE(cache_->get("cities", variables).ok());
    executor_.run_all();
    ASSERT_EQ(snapshots(), 1u);
  }

  size_t snapshots(const std::string& source = "cities") {
    auto count = store_->count_snapshots(source);
    EXPECT_TRUE(count.ok());
    return count.ok() ? *count : 0;
  }

  TempDir dir_;
  std::unique_ptr<store::Store> store_;
  ManualClock clock_;
  Metrics metrics_;
  ManualExecutor executor_;
  std::shared_ptr<FakeSource> source_;
  std::unique_ptr<RecordCache> cache_;
};

TEST_F(RecordCacheTest, MissFetchesOnceThenFreshHitsComeFromMemory) {
  auto first = cache_->get("cities", {{"country", "DE"}});
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_FALSE(first->stale);
  EXPECT_EQ(first->records->size(), 3u);
  clock_.advance(59s);
  auto second = cache_->get("cities", {{"country", "DE"}});
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->stale);
  EXPECT_EQ(second->records, first->records);
  EXPECT_DOUBLE_EQ(second->age_seconds, 59);
  EXPECT_EQ(source_->fetches, 1);
  EXPECT_EQ(counter("extdata_cache_misses_total"), 1);
  EXPECT_EQ(counter("extdata_cache_hits_total"), 1);
  EXPECT_EQ(counter("extdata_cache_refreshes_total"), 1);
  EXPECT_EQ(executor_.pending(), 1u) << "only the snapshot write of the key served twice";
}

TEST_F(RecordCacheTest, DifferentVariablesAreDifferentRecordSets) {
  auto de = cache_->get("cities", {{"country", "DE"}});
  auto fr = cache_->get("cities", {{"country", "FR"}});
  ASSERT_TRUE(de.ok() && fr.ok());
  EXPECT_EQ(first_title(*de), "Berlin");
  EXPECT_EQ(first_title(*fr), "Paris v2");
  EXPECT_NE(de->key, fr->key);
  ASSERT_EQ(source_->variables_seen().size(), 2u);
  EXPECT_EQ(source_->variables_seen()[0].at("country"), "DE");
  EXPECT_EQ(source_->variables_seen()[1].at("country"), "FR");
}

TEST_F(RecordCacheTest, ConcurrentMissesShareOneFetch) {
  constexpr int kThreads = 16;
  source_->close_gate();
  std::vector<std::thread> threads;
  std::vector<std::shared_ptr<const extract::RecordSet>> got(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto r = cache_->get("cities", {{"country", "DE"}});
      if (r.ok()) got[i] = r->records;
    });
  }
  source_->wait_entered();
  // Every caller counts its miss before it waits: once all have, they all wait on this fetch.
  while (counter("extdata_cache_misses_total") < kThreads) std::this_thread::yield();
  source_->open_gate();
  for (auto& t : threads) t.join();
  EXPECT_EQ(source_->fetches, 1);
  for (const auto& records : got) {
    ASSERT_NE(records, nullptr);
    EXPECT_EQ(records, got[0]);
  }
}

TEST_F(RecordCacheTest, ExpiredEntryIsServedStaleAndRefreshedOnceInBackground) {
  ASSERT_TRUE(cache_->get("cities", {{"country", "DE"}}).ok());
  clock_.advance(61s);
  auto stale = cache_->get("cities", {{"country", "DE"}});
  ASSERT_TRUE(stale.ok());
  EXPECT_TRUE(stale->stale);
  EXPECT_DOUBLE_EQ(stale->age_seconds, 61);
  EXPECT_EQ(first_title(*stale), "Berlin");
  auto again = cache_->get("cities", {{"country", "DE"}});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->stale);
  EXPECT_EQ(source_->fetches, 1) << "the refresh runs in the background, not on the request";
  EXPECT_EQ(executor_.pending(), 1u) << "one refresh queued for two stale reads";
  EXPECT_EQ(counter("extdata_cache_stale_served_total"), 2);

  EXPECT_EQ(executor_.run_all(), 1u);
  EXPECT_EQ(source_->fetches, 2);
  auto fresh = cache_->get("cities", {{"country", "DE"}});
  ASSERT_TRUE(fresh.ok());
  EXPECT_FALSE(fresh->stale);
  EXPECT_EQ(first_title(*fresh), "Berlin v2");
  EXPECT_NE(fresh->derived, stale->derived) << "derived data belongs to one record set";
}

TEST_F(RecordCacheTest, FailedRefreshServesStaleDataWithTheErrorAndRecordsStatus) {
  ASSERT_TRUE(cache_->get("cities", {{"country", "DE"}}).ok());
  clock_.advance(120s);
  source_->fail = true;
  ASSERT_TRUE(cache_->get("cities", {{"country", "DE"}}).ok());
  executor_.run_all();
  EXPECT_EQ(source_->fetches, 2);

  auto served = cache_->get("cities", {{"country", "DE"}});
  ASSERT_TRUE(served.ok()) << served.error().message;
  EXPECT_TRUE(served->stale);
  EXPECT_EQ(first_title(*served), "Berlin");
  EXPECT_DOUBLE_EQ(served->age_seconds, 120);
  ASSERT_TRUE(served->error.has_value());
  EXPECT_EQ(served->error->code, "source.upstream_error");
  EXPECT_EQ(executor_.run_all(), 1u) << "the snapshot write of the key served thrice; no retry "
                                        "before the error backoff";
  EXPECT_EQ(source_->fetches, 2);

  auto status = store_->get_status("cities");
  ASSERT_TRUE(status.ok() && status->has_value());
  EXPECT_EQ((*status)->last_error, "upstream answered 503");
  EXPECT_EQ((*status)->last_error_hint, "try again later");
  EXPECT_EQ((*status)->records, 3u) << "the last good fetch's count stays";
  EXPECT_LT((*status)->last_success_at, (*status)->last_fetch_at);

  clock_.advance(30s);
  source_->fail = false;
  ASSERT_TRUE(cache_->get("cities", {{"country", "DE"}}).ok());
  EXPECT_EQ(executor_.run_all(), 1u);
  auto recovered = cache_->get("cities", {{"country", "DE"}});
  ASSERT_TRUE(recovered.ok());
  EXPECT_FALSE(recovered->stale);
  EXPECT_FALSE(recovered->error.has_value());
  status = store_->get_status("cities");
  EXPECT_EQ((*status)->last_error, "");
}

TEST_F(RecordCacheTest, FailureWithNothingCachedReturnsTheErrorAndBacksOff) {
  source_->fail = true;
  auto first = cache_->get("cities", {{"country", "DE"}});
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code, "source.upstream_error");
  auto second = cache_->get("cities", {{"country", "DE"}});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(source_->fetches, 1) << "a failing upstream is not asked again within the backoff";
  clock_.advance(30s);
  source_->fail = false;
  auto third = cache_->get("cities", {{"country", "DE"}});
  ASSERT_TRUE(third.ok()) << third.error().message;
  EXPECT_EQ(source_->fetches, 2);
}

TEST_F(RecordCacheTest, UnknownSourceIsAnError) {
  auto r = cache_->get("nope", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "source.not_found");
  auto refreshed = cache_->refresh("nope");
  ASSERT_FALSE(refreshed.ok());
  EXPECT_EQ(refreshed.error().code, "source.not_found");
}

TEST_F(RecordCacheTest, RestartServesTheSnapshotWithoutFetching) {
  serve_twice_and_persist({{"country", "DE"}});
  cache_.reset();
  cache_ = make_cache();  // a new process over the same store
  clock_.advance(10s);
  source_->fail = true;
  auto restored = cache_->get("cities", {{"country", "DE"}});
  ASSERT_TRUE(restored.ok()) << restored.error().message;
  EXPECT_EQ(source_->fetches, 1) << "a fresh snapshot needs no fetch";
  EXPECT_FALSE(restored->stale);
  EXPECT_DOUBLE_EQ(restored->age_seconds, 10);
  EXPECT_EQ(restored->records->size(), 3u);
  EXPECT_EQ(first_title(*restored), "Berlin");
}

TEST_F(RecordCacheTest, RestartWhileUpstreamFailsServesTheLastGoodDataStale) {
  serve_twice_and_persist({{"country", "DE"}});
  cache_.reset();
  cache_ = make_cache();
  clock_.advance(3600s);
  source_->fail = true;
  auto served = cache_->get("cities", {{"country", "DE"}});
  ASSERT_TRUE(served.ok()) << served.error().message;
  EXPECT_TRUE(served->stale);
  EXPECT_DOUBLE_EQ(served->age_seconds, 3600);
  executor_.run_all();
  EXPECT_EQ(source_->fetches, 2);
  auto after = cache_->get("cities", {{"country", "DE"}});
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->stale);
  ASSERT_TRUE(after->error.has_value());
  EXPECT_EQ(after->error->message, "upstream answered 503");
  EXPECT_EQ(first_title(*after), "Berlin");
}

TEST_F(RecordCacheTest, ChangedSourceConfigDoesNotServeOldSnapshots) {
  serve_twice_and_persist({{"country", "DE"}});
  source_->mutable_config().spec["url"] = "https://example.test/other-list";
  cache_->invalidate("cities");
  source_->fail = true;
  auto r = cache_->get("cities", {{"country", "DE"}});
  ASSERT_FALSE(r.ok()) << "the old configuration's snapshot must not be served";
  EXPECT_EQ(source_->fetches, 2);
}

TEST_F(RecordCacheTest, RefreshRefetchesEveryKeyOfTheSource) {
  ASSERT_TRUE(cache_->get("cities", {{"country", "DE"}}).ok());
  ASSERT_TRUE(cache_->get("cities", {{"country", "FR"}}).ok());
  auto report = cache_->refresh("cities");
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->keys, 2u);
  EXPECT_EQ(report->records, 5u);
  EXPECT_TRUE(report->errors.empty());
  EXPECT_EQ(source_->fetches, 4);
  auto de = cache_->get("cities", {{"country", "DE"}});
  EXPECT_TRUE(first_title(*de).starts_with("Berlin v"));

  source_->fail = true;
  report = cache_->refresh("cities");
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->errors.size(), 2u);
  de = cache_->get("cities", {{"country", "DE"}});
  ASSERT_TRUE(de.ok()) << "a failed forced refresh keeps the old records";
  EXPECT_TRUE(de->error.has_value());
  EXPECT_TRUE(de->stale) << "records whose refresh failed are stale even within the TTL";
}

TEST_F(RecordCacheTest, RefreshOfAnUncachedSourceWarmsTheVariableFreeKey) {
  auto report = cache_->refresh("cities");
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->keys, 1u);
  EXPECT_EQ(source_->fetches, 1);
  ASSERT_TRUE(cache_->get("cities", {}).ok());
  EXPECT_EQ(source_->fetches, 1);
}

TEST_F(RecordCacheTest, TickRefreshesSourcesOnTheirSchedule) {
  source_->mutable_config().spec["refresh"] = 900;
  ASSERT_TRUE(cache_->get("cities", {{"country", "DE"}}).ok());
  const auto start = clock_.now();
  cache_->tick(start);
  EXPECT_EQ(executor_.run_all(), 1u);
  EXPECT_EQ(source_->fetches, 2);
  cache_->tick(start + 899s);
  EXPECT_EQ(executor_.run_all(), 0u);
  cache_->tick(start + 900s);
  EXPECT_EQ(executor_.run_all(), 1u);
  EXPECT_EQ(source_->fetches, 3);
}

TEST_F(RecordCacheTest, TickRefreshesUnreadRecordsOnlyAsOftenAsTheirTtlNeeds) {
  source_->mutable_config().spec["refresh"] = 10;  // cache_ttl is 60
  ASSERT_TRUE(cache_->get("cities", {}).ok());
  const auto start = clock_.now();
  cache_->tick(start);  // read since the fetch: refreshed
  EXPECT_EQ(executor_.run_all(), 1u);
  EXPECT_EQ(source_->fetches, 2);
  cache_->tick(start + 10s);  // nobody read the new records, and they are younger than the TTL
  cache_->tick(start + 50s);
  EXPECT_EQ(executor_.run_all(), 0u);
  EXPECT_EQ(metrics_.counter_value("extdata_cache_refreshes_deferred_total",
                                   {{"source", "cities"}, {"reason", "idle"}}),
            2);
  cache_->tick(start + 60s);  // as old as the TTL: refreshed although unread
  EXPECT_EQ(executor_.run_all(), 1u);
  EXPECT_EQ(source_->fetches, 3);
  ASSERT_TRUE(cache_->get("cities", {}).ok());  // a reader: the interval applies again
  cache_->tick(start + 70s);
  EXPECT_EQ(executor_.run_all(), 1u);
  EXPECT_EQ(source_->fetches, 4);
}

TEST_F(RecordCacheTest, ThrottledRefreshStretchesTheScheduleToTheRetryAfter) {
  source_->mutable_config().spec["refresh"] = 10;
  ASSERT_TRUE(cache_->get("cities", {}).ok());
  const auto start = clock_.now();
  source_->fail = true;
  source_->fail_retry_after = "300";  // longer than error_backoff (30 s) and the TTL (60 s)
  cache_->tick(start);
  EXPECT_EQ(executor_.run_all(), 1u);
  EXPECT_EQ(source_->fetches, 2);
  source_->fail = false;
  for (auto t : {10s, 60s, 120s, 299s}) cache_->tick(start + t);
  EXPECT_EQ(executor_.run_all(), 0u) << "no refresh before the upstream's Retry-After";
  EXPECT_EQ(source_->fetches, 2);
  EXPECT_EQ(metrics_.counter_value("extdata_cache_refreshes_deferred_total",
                                   {{"source", "cities"}, {"reason", "backoff"}}),
            4);
  auto served = cache_->get("cities", {});
  ASSERT_TRUE(served.ok()) << "the old records are served meanwhile";
  EXPECT_TRUE(served->stale);
  EXPECT_EQ(executor_.run_all(), 0u) << "a stale answer does not refresh before it either";
  cache_->tick(start + 300s);
  EXPECT_EQ(executor_.run_all(), 1u);
  EXPECT_EQ(source_->fetches, 3);
}

TEST_F(RecordCacheTest, TickIgnoresSourcesWithoutSchedule) {
  ASSERT_TRUE(cache_->get("cities", {}).ok());
  cache_->tick(clock_.now());
  cache_->tick(clock_.now() + 100000s);
  EXPECT_EQ(executor_.run_all(), 0u);
  EXPECT_EQ(source_->fetches, 1);
}

TEST_F(RecordCacheTest, TtlOverrideReplacesTheSourceTtl) {
  ASSERT_TRUE(cache_->get("cities", {}, 5.0).ok());
  clock_.advance(6s);
  auto r = cache_->get("cities", {}, 5.0);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->stale);
  auto by_source_ttl = cache_->get("cities", {});
  EXPECT_FALSE(by_source_ttl->stale);
}

TEST_F(RecordCacheTest, DerivedDataIsBuiltOncePerRecordSet) {
  auto r = cache_->get("cities", {});
  int builds = 0;
  const auto build = [&]() -> Result<std::shared_ptr<const void>> {
    ++builds;
    return std::shared_ptr<const void>(std::make_shared<int>(builds));
  };
  auto a = r->derived->get_or_build("field#1", build);
  auto b = cache_->get("cities", {})->derived->get_or_build("field#1", build);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(builds, 1);
  cache_->drop_derived("field#");
  ASSERT_TRUE(cache_->get("cities", {})->derived->get_or_build("field#1", build).ok());
  EXPECT_EQ(builds, 2);
}

// ---- Bounds (issue 15, row 6): LRU, snapshot retention, new-key rate limit ----

Limits with(std::function<void(Limits&)> change) {
  Limits l = limits();
  change(l);
  return l;
}

TEST_F(RecordCacheTest, LeastRecentlyUsedKeyIsEvictedBeyondTheSourceEntryBound) {
  ScopedLimits bound(with([](Limits& l) { l.cache_source_max_entries = 2; }));
  ASSERT_TRUE(cache_->get("cities", {{"country", "A"}}).ok());
  ASSERT_TRUE(cache_->get("cities", {{"country", "B"}}).ok());
  ASSERT_TRUE(cache_->get("cities", {{"country", "A"}}).ok());  // A is now the more recent
  ASSERT_TRUE(cache_->get("cities", {{"country", "C"}}).ok());
  EXPECT_EQ(cache_->entries(), 2u);
  EXPECT_EQ(counter("extdata_cache_evictions_total"), 1);
  EXPECT_EQ(metrics_.gauge("extdata_cache_entries").value(), 2);
  ASSERT_TRUE(cache_->get("cities", {{"country", "A"}}).ok());
  EXPECT_EQ(source_->fetches, 3) << "A stayed in memory";
  ASSERT_TRUE(cache_->get("cities", {{"country", "B"}}).ok());
  EXPECT_EQ(source_->fetches, 4) << "B was evicted and is fetched again";
  EXPECT_EQ(cache_->entries(), 2u);
}

TEST_F(RecordCacheTest, RecordSetsBeyondTheByteBoundAreEvictedAndServedSetsStayAlive) {
  // ~300 KB of records per key; the bound is 1 MiB per source.
  const std::string big(300 * 1024, 'x');
  source_ = std::make_shared<FakeSource>(
      "cities", nlohmann::json{{"cache_ttl", 60}}, [&](const sources::Variables&, int n) {
        return R"([{"id":)" + std::to_string(n) + R"(,"blob":")" + big + R"("}])";
      });
  ScopedLimits bound(with([](Limits& l) { l.cache_source_max_mb = 1; }));
  auto first = cache_->get("cities", {{"country", "A"}});
  ASSERT_TRUE(first.ok());
  EXPECT_GE(cache_->bytes(), big.size());
  for (const char* key : {"B", "C", "D", "E"})
    ASSERT_TRUE(cache_->get("cities", {{"country", key}}).ok());
  EXPECT_LE(cache_->bytes(), size_t{1} << 20);
  EXPECT_LT(cache_->entries(), 5u);
  EXPECT_EQ(counter("extdata_cache_evictions_total"),
            5 - static_cast<long long>(cache_->entries()));
  EXPECT_EQ(first->records->size(), 1u) << "the evicted set lives on with whoever holds it";
  ASSERT_TRUE(cache_->get("cities", {{"country", "A"}}).ok());
  EXPECT_EQ(source_->fetches, 6) << "A was evicted first";
}

TEST_F(RecordCacheTest, TheOverallBoundCountsEverySource) {
  auto towns = std::make_shared<FakeSource>("towns", nlohmann::json{{"cache_ttl", 60}},
                                            testing_support::cities_body);
  auto cache_ptr = make_cache_with(towns);
  RecordCache& cache = *cache_ptr;
  ScopedLimits bound(with([](Limits& l) { l.cache_max_entries = 2; }));
  ASSERT_TRUE(cache.get("cities", {{"country", "A"}}).ok());
  ASSERT_TRUE(cache.get("towns", {{"country", "A"}}).ok());
  ASSERT_TRUE(cache.get("towns", {{"country", "B"}}).ok());
  EXPECT_EQ(cache.entries(), 2u);
  EXPECT_EQ(counter("extdata_cache_evictions_total"), 1) << "cities?country=A was the oldest";
}

TEST_F(RecordCacheTest, AnEntryWhoseFetchIsInFlightIsNotEvictedSoWaitersShareOneFetch) {
  auto towns = std::make_shared<FakeSource>("towns", nlohmann::json{{"cache_ttl", 60}},
                                            testing_support::cities_body);
  auto cache_ptr = make_cache_with(towns);
  RecordCache& cache = *cache_ptr;
  ScopedLimits bound(with([](Limits& l) { l.cache_max_entries = 1; }));
  source_->close_gate();
  std::shared_ptr<const extract::RecordSet> got[2];
  std::thread first([&] { got[0] = cache.get("cities", {{"country", "DE"}})->records; });
  source_->wait_entered();
  std::thread second([&] { got[1] = cache.get("cities", {{"country", "DE"}})->records; });
  while (counter("extdata_cache_misses_total") < 2) std::this_thread::yield();
  // A new key of another source goes over the bound while DE is being fetched.
  ASSERT_TRUE(cache.get("towns", {}).ok());
  source_->open_gate();
  first.join();
  second.join();
  EXPECT_EQ(source_->fetches, 1) << "single-flight held although the bound was exceeded";
  ASSERT_NE(got[0], nullptr);
  EXPECT_EQ(got[0], got[1]);
  EXPECT_EQ(cache.entries(), 1u) << "back within the bound once the fetch is done";
}

TEST_F(RecordCacheTest, AStaleEntryWithAQueuedRefreshIsNotEvicted) {
  ScopedLimits bound(with([](Limits& l) { l.cache_source_max_entries = 1; }));
  ASSERT_TRUE(cache_->get("cities", {{"country", "DE"}}).ok());
  clock_.advance(61s);
  ASSERT_TRUE(cache_->get("cities", {{"country", "DE"}})->stale);
  ASSERT_TRUE(cache_->get("cities", {{"country", "FR"}}).ok());
  EXPECT_EQ(counter("extdata_cache_evictions_total"), 0) << "DE waits for its refresh";
  EXPECT_EQ(executor_.run_all(), 1u);
  auto fresh = cache_->get("cities", {{"country", "DE"}});
  ASSERT_TRUE(fresh.ok());
  EXPECT_FALSE(fresh->stale) << "stale-while-revalidate delivered the refreshed records";
  EXPECT_EQ(first_title(*fresh), "Berlin v3");
  EXPECT_EQ(cache_->entries(), 1u);
  EXPECT_EQ(source_->fetches, 3);
}

TEST_F(RecordCacheTest, AKeyServedOnceLeavesNoSnapshotAndIsWrittenOnItsSecondAnswer) {
  ASSERT_TRUE(cache_->get("cities", {{"country", "DE"}}).ok());
  EXPECT_EQ(snapshots(), 0u) << "one answer: not worth keeping";
  EXPECT_EQ(executor_.pending(), 0u);
  ASSERT_TRUE(cache_->get("cities", {{"country", "DE"}}).ok());
  EXPECT_EQ(executor_.run_all(), 1u) << "the second answer queues the write";
  EXPECT_EQ(snapshots(), 1u);
  ASSERT_TRUE(cache_->get("cities", {{"country", "DE"}}).ok());
  EXPECT_EQ(executor_.pending(), 0u) << "written once";
  EXPECT_EQ(source_->fetches, 1);
}

TEST_F(RecordCacheTest, VariableFreeKeysAndDeclaredSnapshotsAreWrittenWithTheirFetch) {
  ASSERT_TRUE(cache_->get("cities", {}).ok());
  EXPECT_EQ(snapshots(), 1u) << "one key per source: always kept";
  ASSERT_TRUE(cache_->get("cities", {{"country", "FR"}}, std::nullopt, true).ok());
  EXPECT_EQ(snapshots(), 2u) << "the asking field declares snapshot: true";
  source_->mutable_config().spec["snapshot"] = true;
  ASSERT_TRUE(cache_->get("cities", {{"country", "DE"}}).ok());
  EXPECT_EQ(snapshots(), 3u) << "the source declares snapshot: true";
  EXPECT_EQ(executor_.pending(), 0u);
}

TEST_F(RecordCacheTest, SnapshotsPerSourceAreBoundedAndTheOldestGoFirst) {
  ScopedLimits bound(with([](Limits& l) { l.snapshot_max_per_source = 3; }));
  source_->mutable_config().spec["snapshot"] = true;
  for (const char* key : {"K1", "K2", "K3", "K4", "K5"}) {
    ASSERT_TRUE(cache_->get("cities", {{"country", key}}).ok());
    clock_.advance(1s);
  }
  EXPECT_EQ(snapshots(), 3u);
  cache_.reset();
  cache_ = make_cache();
  source_->fail = true;
  EXPECT_TRUE(cache_->get("cities", {{"country", "K5"}}).ok()) << "the newest are kept";
  EXPECT_TRUE(cache_->get("cities", {{"country", "K3"}}).ok());
  EXPECT_FALSE(cache_->get("cities", {{"country", "K2"}}).ok()) << "the oldest were deleted";
  EXPECT_EQ(source_->fetches, 6);
}

TEST_F(RecordCacheTest, NewKeysBeyondTheBudgetAreRefusedWithRetryAfterUntilTheBucketRefills) {
  ScopedLimits bound(with([](Limits& l) { l.new_keys_per_minute = 2; }));
  ASSERT_TRUE(cache_->get("cities", {{"country", "A"}}).ok());
  ASSERT_TRUE(cache_->get("cities", {{"country", "B"}}).ok());
  auto refused = cache_->get("cities", {{"country", "C"}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "cache.rate_limited");
  EXPECT_EQ(refused.error().category(), ErrorCategory::rate_limited);
  EXPECT_EQ(refused.error().details.at("retry_after"), "30");
  EXPECT_NE(refused.error().hint.find("--max-new-keys-per-minute"), std::string::npos);
  EXPECT_EQ(source_->fetches, 2);
  EXPECT_EQ(cache_->entries(), 2u) << "a refused key leaves no entry behind";
  EXPECT_EQ(counter("extdata_cache_rate_limited_total"), 1);
  EXPECT_TRUE(cache_->get("cities", {{"country", "A"}}).ok()) << "cached keys need no token";
  clock_.advance(29s);
  EXPECT_FALSE(cache_->get("cities", {{"country", "C"}}).ok());
  clock_.advance(1s);
  EXPECT_TRUE(cache_->get("cities", {{"country", "C"}}).ok()) << "one token refilled in 30 s";
  EXPECT_EQ(source_->fetches, 3);
}

TEST_F(RecordCacheTest, RefreshesOfCachedKeysDoNotSpendTheNewKeyBudget) {
  ScopedLimits bound(with([](Limits& l) { l.new_keys_per_minute = 1; }));
  ASSERT_TRUE(cache_->get("cities", {{"country", "DE"}}).ok());
  clock_.advance(61s);
  ASSERT_TRUE(cache_->get("cities", {{"country", "DE"}})->stale);
  executor_.run_all();
  ASSERT_TRUE(cache_->refresh("cities").ok());
  EXPECT_EQ(source_->fetches, 3);
  EXPECT_FALSE(cache_->get("cities", {{"country", "DE"}})->stale);
}

TEST(RecordCacheKey, IsCanonicalAndEscapesSeparators) {
  EXPECT_EQ(RecordCache::key_for("s", {}), "s");
  EXPECT_EQ(RecordCache::key_for("s", {{"b", "2"}, {"a", "x&y=z"}}), "s?a=x%26y%3Dz&b=2");
  EXPECT_NE(RecordCache::key_for("s", {{"a", "1&b=2"}}),
            RecordCache::key_for("s", {{"a", "1"}, {"b", "2"}}));
}

}  // namespace
}  // namespace extdata::cache
