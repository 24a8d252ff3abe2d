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

// The first answers after a delta sync come from the previous option table patched with the
// changes, not from a table built again: the same answers a built table gives, counted, and the
// patched table stored beside the new snapshot like a built one.
TEST_F(DeltaServing, TheOptionTableIsPatchedWithTheChangesAndAnswersAsABuiltOne) {
  Served s(h_, *store_, source());
  s.fields->set_store_tables_from(1000);
  EXPECT_EQ(total(s, ""), 1203u);
  s.executor.run_all();  // the built table is stored
  const auto saved = [&] {
    return h_.metrics.counter_value("extdata_cache_derived_saved_total", {{"source", "customers"}});
  };
  EXPECT_EQ(saved(), 1);
  const std::string list = list_path();
  h_.admin("POST", list + "/items", R"({"id": 1500, "fields": {"Title": "Zebulon Neu GmbH"}})");
  h_.admin("POST", list + "/items", R"({"id": 2, "fields": {"Title": "Aaron Renamed Ltd"}})");
  h_.admin("DELETE", list + "/items/3");
  ASSERT_TRUE(s.cache->refresh("customers").ok());

  const auto patched = [&] {
    return h_.metrics.counter_value("extdata_fields_tables_patched_total", {{"field", "customer"}});
  };
  EXPECT_EQ(patched(), 0) << "patched when first asked for";
  EXPECT_EQ(label_of(s, "2"), "Aaron Renamed Ltd");
  EXPECT_EQ(label_of(s, "1500"), "Zebulon Neu GmbH");
  EXPECT_EQ(label_of(s, "3"), "<not found>");
  EXPECT_EQ(patched(), 1);
  for (const char* reason : {"filter", "changes", "mismatch"}) {
    EXPECT_EQ(h_.metrics.counter_value("extdata_fields_tables_rebuilt_total",
                                       {{"field", "customer"}, {"reason", reason}}),
              0)
        << reason;
  }
  s.executor.run_all();
  EXPECT_EQ(saved(), 2) << "the patched table is stored as a built one is";

  // The answers of a table built from the same records, query by query.
  auto cached = s.cache->get("customers", {});
  ASSERT_TRUE(cached.ok());
  auto config = store_->get_field("customer");
  auto mapping = fields::FieldMapping::compile(**config);
  auto built = fields::OptionsTable::build(*mapping, *cached->records);
  ASSERT_TRUE(built.ok());
  for (const std::string q : {"", "a", "ze", "zebulon", "aaron renamed", "gmbh", "nord ag", "xq"}) {
    for (const std::int64_t offset : {0, 7}) {
      fields::OptionsQuery query;
      query.q = q;
      query.offset = offset;
      query.limit = 50;
      auto got = s.fields->options("customer", query);
      ASSERT_TRUE(got.ok());
      const auto want = built->index().search(q, static_cast<size_t>(offset), 50);
      EXPECT_EQ(got->total, want.total) << q;
      std::vector<std::string> got_values, want_values;
      for (const auto& option : got->options) got_values.push_back(option.value);
      for (const uint32_t id : want.ids) want_values.emplace_back(built->value(id));
      EXPECT_EQ(got_values, want_values) << "q=" << q << " offset=" << offset;
    }
  }
  EXPECT_EQ(patched(), 1) << "patched once";

  // A restart answers from the stored patched table, and the same.
  Served restarted(h_, *store_, source());
  restarted.fields->set_store_tables_from(1000);
  EXPECT_EQ(total(restarted, "aaron renamed"), 1u);
  EXPECT_EQ(h_.metrics.counter_value("extdata_fields_tables_loaded_total", {{"field", "customer"}}),
            1);
  EXPECT_EQ(total(restarted, "gmbh"), built->index().search("gmbh", 0, 1).total);
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
