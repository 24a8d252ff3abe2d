// Delta sync as fields see it: the record cache passes the last records and delta link to the
// sharepoint-list source, keeps the link with its snapshot in the SQLite store, and fields
// answer from the changed records. graphsim's counters tell which requests were made.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <map>
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
      const auto want = built->search(q, static_cast<size_t>(offset), 50);
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
  EXPECT_EQ(total(restarted, "gmbh"), built->search("gmbh", 0, 1).total);
}

// What a field answers for q, as its options' values in order, and the total.
std::pair<std::vector<std::string>, size_t> answer_of(fields::FieldService& service,
                                                      const std::string& field,
                                                      const std::string& q) {
  fields::OptionsQuery query;
  query.q = q;
  query.limit = 1000;
  auto got = service.options(field, query);
  EXPECT_TRUE(got.ok()) << (got.ok() ? "" : got.error().to_string());
  std::vector<std::string> values;
  if (got.ok()) {
    for (const auto& option : got->options) values.push_back(option.value);
  }
  return {values, got.ok() ? got->total : 0};
}

// The same from a table built over the records the cache holds now.
std::pair<std::vector<std::string>, size_t> built_answer(store::Store& store,
                                                         cache::RecordCache& cache,
                                                         const std::string& field,
                                                         const std::string& q) {
  auto cached = cache.get("customers", {});
  auto config = store.get_field(field);
  auto mapping = fields::FieldMapping::compile(**config);
  auto built = fields::OptionsTable::build(*mapping, *cached->records);
  const auto found = built->search(q, 0, 1000);
  std::vector<std::string> values;
  for (const uint32_t id : found.ids) values.emplace_back(built->value(id));
  return {values, found.total};
}

// A filter that decides on each record alone is asked about the changed records only and the
// table is patched; one that compares with other records ($) has the table built anew.
TEST_F(DeltaServing, FilteredFieldsArePatchedUnlessTheFilterLooksAtOtherRecords) {
  const std::vector<std::pair<std::string, std::string>> filtered = {
      {"western", "$[?@.fields.Country != 'Japan']"},
      {"unlike_third", "$[?@.fields.Country != $[2].fields.Country]"}};
  for (const auto& [name, filter] : filtered) {
    auto field = config::parse_field(
        "source: customers\nlabel: '{fields.Title}'\nfilter: \"" + filter + "\"\n", name,
        {"customers"});
    ASSERT_TRUE(field.ok()) << field.error().to_string();
    ASSERT_TRUE(store_->put_field(*field).ok());
  }
  Served s(h_, *store_, source());
  const size_t western = answer_of(*s.fields, "western", "").second;
  EXPECT_LT(western, 1203u) << "the Japanese customers are filtered out";
  EXPECT_EQ(answer_of(*s.fields, "unlike_third", "").second, western);
  const std::string list = list_path();
  h_.admin("POST", list + "/items", R"({"id": 1500, "fields": {"Title": "Zebulon Neu GmbH"}})");
  h_.admin("POST", list + "/items",
           R"({"id": 2, "fields": {"Title": "Renamed Ltd", "Country": "Japan"}})");
  h_.admin("DELETE", list + "/items/3");  // a Japanese customer: filtered out before
  ASSERT_TRUE(s.cache->refresh("customers").ok());

  for (const std::string field : {"western", "unlike_third"}) {
    for (const std::string q : {"", "zebulon", "renamed", "cafe", "nordlicht", "#1"}) {
      EXPECT_EQ(answer_of(*s.fields, field, q), built_answer(*store_, *s.cache, field, q))
          << field << " q=" << q;
    }
  }
  EXPECT_EQ(answer_of(*s.fields, "western", "").second, western) << "one in, one out";
  EXPECT_EQ(answer_of(*s.fields, "western", "zebulon").second, 1u);
  EXPECT_EQ(answer_of(*s.fields, "western", "renamed").second, 0u) << "now in Japan";
  const auto patched = [&](const std::string& field) {
    return h_.metrics.counter_value("extdata_fields_tables_patched_total", {{"field", field}});
  };
  const auto rebuilt = [&](const std::string& field, const std::string& reason) {
    return h_.metrics.counter_value("extdata_fields_tables_rebuilt_total",
                                    {{"field", field}, {"reason", reason}});
  };
  EXPECT_EQ(patched("western"), 1);
  EXPECT_EQ(rebuilt("western", "filter"), 0);
  EXPECT_EQ(patched("unlike_third"), 0);
  EXPECT_EQ(rebuilt("unlike_third", "filter"), 1);
  auto value = s.fields->value("western", "3", {});
  ASSERT_TRUE(value.ok());
  EXPECT_FALSE(value->found);
  value = s.fields->value("western", "1500", {});
  ASSERT_TRUE(value.ok());
  EXPECT_TRUE(value->found);
  EXPECT_EQ(value->label, "Zebulon Neu GmbH");
}

// After a patch, an options page whose query none of the changed items matches is served from
// the page rendered before the sync (the same text); the others are rendered from the new
// records, and `value` answers for exactly the changed items.
TEST_F(DeltaServing, AfterADeltaSyncOnlyThePagesTheChangesTouchAreRenderedAgain) {
  Served s(h_, *store_, source());
  const auto rendered = [&](const char* result) {
    return h_.metrics.counter_value("extdata_options_rendered_total", {{"result", result}});
  };
  const auto page = [&](const std::string& q) {
    fields::OptionsQuery query;
    query.q = q;
    query.limit = 30;
    auto text = s.fields->options_json("customer", query);
    EXPECT_TRUE(text.ok());
    auto parsed = nlohmann::json::parse(text.ok() ? *text : "{}");
    return std::make_pair(parsed["options"], parsed["total"]);
  };
  const std::vector<std::string> untouched = {"nordlicht", "xq", "#2", "hamburg #1"};
  const std::vector<std::string> touched = {"", "zebulon", "cafe", "ol", "ltd"};
  std::map<std::string, std::pair<nlohmann::json, nlohmann::json>> before;
  for (const auto& q : untouched) before[q] = page(q);
  for (const auto& q : touched) before[q] = page(q);
  EXPECT_EQ(label_of(s, "2"), "Café Olé SARL");
  EXPECT_EQ(label_of(s, "1"), "Nordlicht Logistik AG");
  const std::string list = list_path();
  h_.admin("POST", list + "/items", R"({"id": 1500, "fields": {"Title": "Zebulon Neu GmbH"}})");
  h_.admin("POST", list + "/items", R"({"id": 2, "fields": {"Title": "Renamed Ltd"}})");
  h_.admin("DELETE", list + "/items/3");
  ASSERT_TRUE(s.cache->refresh("customers").ok());

  const double hits = rendered("hit"), misses = rendered("miss");
  for (const auto& q : untouched) {
    EXPECT_EQ(page(q), before[q]) << q;
    EXPECT_EQ(rendered("miss"), misses) << q << ": served from the page rendered before";
  }
  EXPECT_EQ(rendered("hit"), hits + static_cast<double>(untouched.size()));
  for (const auto& q : touched) {
    const auto now = page(q);
    EXPECT_NE(now, before[q]) << q;
    std::vector<std::string> values;
    for (const auto& option : now.first) values.push_back(option["value"].get<std::string>());
    const auto built = built_answer(*store_, *s.cache, "customer", q);
    EXPECT_EQ(values, std::vector<std::string>(
                          built.first.begin(),
                          built.first.begin() + std::min<size_t>(30, built.first.size())))
        << q;
    EXPECT_EQ(now.second.get<size_t>(), built.second) << q;
  }
  EXPECT_EQ(rendered("miss"), misses + static_cast<double>(touched.size()));
  EXPECT_EQ(
      h_.metrics.counter_value("extdata_fields_tables_patched_total", {{"field", "customer"}}), 1);
  EXPECT_EQ(label_of(s, "2"), "Renamed Ltd");
  EXPECT_EQ(label_of(s, "1500"), "Zebulon Neu GmbH");
  EXPECT_EQ(label_of(s, "3"), "<not found>");
  EXPECT_EQ(label_of(s, "1"), "Nordlicht Logistik AG");
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
