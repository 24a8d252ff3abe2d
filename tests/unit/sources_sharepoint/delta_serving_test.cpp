// Delta sync as fields see it: the record cache passes the last records and delta link to the
// sharepoint-list source, keeps the link with its snapshot in the SQLite store, and fields
// answer from the changed records. graphsim's counters tell which requests were made.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include "../cache/cache_test_support.h"
#include "fields/field_service.h"
#include "harness.h"

namespace extdata::sources::sharepoint::testing {
namespace {

using namespace std::chrono_literals;
using testing_support::ManualExecutor;
using testing_support::TempDir;

// A served process: store, record cache and field service over one sharepoint-list source.
struct Served {
  Served(Harness& h, store::Store& store, std::shared_ptr<SharePointSource> src)
      : source(std::move(src)) {
    cache::SourceLookup lookup = [this](const std::string& name) -> std::shared_ptr<Source> {
      return name == "customers" ? source : nullptr;
    };
    cache::CacheOptions options;
    options.executor = executor.executor();
    options.list_sources = [] { return std::vector<std::string>{"customers"}; };
    cache = std::make_unique<cache::RecordCache>(store, lookup, h.clock, h.metrics, options);
    fields = std::make_unique<fields::FieldService>(store, lookup, *cache, h.metrics);
  }
  std::shared_ptr<SharePointSource> source;
  ManualExecutor executor;
  std::unique_ptr<cache::RecordCache> cache;
  std::unique_ptr<fields::FieldService> fields;
};

class DeltaServing : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing_support::open_store(dir_);
    auto field = config::parse_field("source: customers\nlabel: '{fields.Title}'\n", "customer",
                                     {"customers"});
    ASSERT_TRUE(field.ok()) << field.error().to_string();
    ASSERT_TRUE(store_->put_field(*field).ok());
  }

  std::shared_ptr<SharePointSource> source() {
    return h_.valid_source("list: Customers\nsync: delta\npage_size: 500\ncache_ttl: 60\n");
  }

  std::string label_of(Served& s, const std::string& id) {
    auto v = s.fields->value("customer", id, {});
    EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().to_string());
    return v.ok() && v->found ? v->label : std::string("<not found>");
  }
  size_t total(Served& s, const std::string& q) {
    fields::OptionsQuery query;
    query.q = q;
    auto o = s.fields->options("customer", query);
    EXPECT_TRUE(o.ok()) << (o.ok() ? "" : o.error().to_string());
    return o.ok() ? o->total : 0;
  }
  std::string list_path() { return h_.admin_list_path(served_site_id()); }
  std::string served_site_id() {
    auto src = source();
    return src ? src->site()->id : std::string();
  }

  Harness h_{{.generate_customers = 1200}};
  TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(DeltaServing, ChangesReachOptionsAndValuesWithOneDeltaRequest) {
  Served s(h_, *store_, source());
  const size_t all = total(s, "");
  EXPECT_EQ(all, 1203u);
  EXPECT_EQ(h_.route("delta"), 3);
  const std::string list = list_path();
  h_.admin("POST", list + "/items", R"({"id": 1500, "fields": {"Title": "Zebulon Neu GmbH"}})");
  h_.admin("POST", list + "/items", R"({"id": 2, "fields": {"Title": "Renamed Ltd"}})");
  h_.admin("DELETE", list + "/items/3");
  h_.sim().reset_counters();

  auto report = s.cache->refresh("customers");
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->errors.empty());
  EXPECT_EQ(h_.route("delta"), 1);
  EXPECT_EQ(h_.route("items"), 0);
  EXPECT_EQ(total(s, ""), all);
  EXPECT_EQ(total(s, "zebulon"), 1u);
  EXPECT_EQ(total(s, "renamed"), 1u);
  EXPECT_EQ(label_of(s, "2"), "Renamed Ltd");
  EXPECT_EQ(label_of(s, "1500"), "Zebulon Neu GmbH");
  EXPECT_EQ(label_of(s, "3"), "<not found>");

  auto status = store_->get_status("customers");
  ASSERT_TRUE(status.ok() && status->has_value());
  const auto& sync = (*status)->sync;
  EXPECT_EQ(sync.mode, "delta");
  EXPECT_GT(sync.last_full_at, 0);
  EXPECT_EQ(sync.last_full_records, 1203u);
  EXPECT_GT(sync.last_incremental_at, 0);
  EXPECT_EQ(sync.last_added, 1u);
  EXPECT_EQ(sync.last_updated, 1u);
  EXPECT_EQ(sync.last_removed, 1u);
  EXPECT_EQ(h_.metrics.counter_value("extdata_source_syncs_total",
                                     {{"source", "customers"}, {"sync", "incremental"}}),
            1);
}

TEST_F(DeltaServing, ARestartContinuesFromTheStoredDeltaLink) {
  {
    Served s(h_, *store_, source());
    EXPECT_EQ(total(s, ""), 1203u);  // the variable-free key: its snapshot is written
  }
  ASSERT_EQ(*store_->count_snapshots("customers"), 1u);
  h_.admin("POST", list_path() + "/items", R"({"id": 7, "fields": {"Title": "After Restart"}})");
  h_.sim().reset_counters();

  Served restarted(h_, *store_, source());  // a new process: new source, cache and fields
  EXPECT_EQ(total(restarted, "after restart"), 0u) << "the snapshot answers first";
  EXPECT_EQ(h_.counters()["graph_requests"]["total"], 0);
  ASSERT_TRUE(restarted.cache->refresh("customers").ok());
  EXPECT_EQ(h_.route("delta"), 1) << "one request from the stored link, no full read";
  EXPECT_EQ(h_.route("items"), 0);
  EXPECT_EQ(label_of(restarted, "7"), "After Restart");
  EXPECT_EQ(total(restarted, ""), 1203u);
}

TEST_F(DeltaServing, AResetDeltaLinkResyncsInFullWhileTheOldRecordsAreServed) {
  Served s(h_, *store_, source());
  EXPECT_EQ(label_of(s, "1"), "Nordlicht Logistik AG");
  const std::string list = list_path();
  h_.admin("POST", list + "/items", R"({"id": 1, "fields": {"Title": "Resynced AG"}})");
  h_.admin("POST", list + "/delta/reset");
  h_.sim().reset_counters();

  h_.clock.advance(61s);  // past cache_ttl: the next answer is stale and starts a refresh
  EXPECT_EQ(label_of(s, "1"), "Nordlicht Logistik AG") << "old records served meanwhile";
  EXPECT_EQ(h_.route("delta"), 0) << "the refresh runs in the background";
  ASSERT_EQ(s.executor.run_all(), 1u);
  EXPECT_EQ(h_.status_count("410"), 1);
  EXPECT_EQ(h_.route("delta"), 1 + 3);  // the refused link, then every page from the start
  EXPECT_EQ(label_of(s, "1"), "Resynced AG");
  auto status = store_->get_status("customers");
  ASSERT_TRUE(status.ok() && status->has_value());
  EXPECT_NE((*status)->sync.note.find("410"), std::string::npos) << (*status)->sync.note;
  EXPECT_EQ((*status)->last_error, "");
}

// Flips one byte of the stored snapshot's second piece (a page), through another connection.
void flip_a_stored_byte(const std::filesystem::path& dir) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "extdata.db").string().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(db, "SELECT data FROM snapshot_chunks WHERE seq = 2", -1, &st, nullptr),
      SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  std::string data(static_cast<const char*>(sqlite3_column_blob(st, 0)),
                   static_cast<size_t>(sqlite3_column_bytes(st, 0)));
  sqlite3_finalize(st);
  ASSERT_GT(data.size(), 1000u);
  data[data.size() / 2] = static_cast<char>(data[data.size() / 2] ^ 0x01);
  ASSERT_EQ(
      sqlite3_prepare_v2(db, "UPDATE snapshot_chunks SET data = ? WHERE seq = 2", -1, &st, nullptr),
      SQLITE_OK);
  sqlite3_bind_blob(st, 1, data.data(), static_cast<int>(data.size()), SQLITE_TRANSIENT);
  EXPECT_EQ(sqlite3_step(st), SQLITE_DONE) << sqlite3_errmsg(db);
  EXPECT_EQ(sqlite3_changes(db), 1);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_F(DeltaServing, ACorruptSnapshotIsDetectedReportedAndFetchedAgainNeverServed) {
  {
    Served s(h_, *store_, source());
    EXPECT_EQ(total(s, ""), 1203u);
  }
  flip_a_stored_byte(dir_.path);
  h_.sim().reset_counters();
  Served restarted(h_, *store_, source());
  EXPECT_EQ(total(restarted, ""), 1203u);
  EXPECT_EQ(h_.route("delta"), 3) << "fetched again in full, not served from the snapshot";
  EXPECT_EQ(h_.metrics.counter_value("extdata_cache_snapshots_rejected_total",
                                     {{"source", "customers"}, {"reason", "checksum"}}),
            1);
  auto status = store_->get_status("customers");
  ASSERT_TRUE(status.ok() && status->has_value());
  EXPECT_NE((*status)->sync.note.find("not served (checksum)"), std::string::npos)
      << (*status)->sync.note;
  // The refetch wrote a good snapshot again: the next restart serves it.
  h_.sim().reset_counters();
  Served again(h_, *store_, source());
  EXPECT_EQ(total(again, ""), 1203u);
  EXPECT_EQ(h_.counters()["graph_requests"]["total"], 0);
}

}  // namespace
}  // namespace extdata::sources::sharepoint::testing
