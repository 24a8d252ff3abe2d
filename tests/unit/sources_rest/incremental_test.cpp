// Incremental sync of REST sources (`incremental:`, docs/rest.md "Incremental sync").
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "fields/field_service.h"
#include "sources/common/report.h"
#include "sources/kinds.h"
#include "sources/rest/incremental.h"
#include "unit/cache/cache_test_support.h"
#include "unit/sources_rest/scripted_server.h"
#include "unit/sources_rest/source_fixture.h"

namespace extdata::sources {
namespace {

using nlohmann::json;
using testing::RecordingServer;

struct Fixture : testing::SourceFixture {
  Fixture() { name = "tickets"; }
};

json tickets_spec(const std::string& url, json incremental) {
  return {{"type", "rest"},
          {"url", url},
          {"records", "$.items[*]"},
          {"incremental", std::move(incremental)}};
}

struct Synced {
  std::shared_ptr<const extract::RecordSet> records;
  SyncReport report;
};

Synced sync(Source& source, const Synced* previous = nullptr) {
  Synced out;
  FetchRequest request;
  request.sync = &out.report;
  if (previous) request.previous = {previous->records, previous->report.cursor};
  auto fetched = source.fetch(request);
  EXPECT_TRUE(fetched.ok()) << (fetched.ok() ? "" : fetched.error().to_string());
  if (fetched.ok()) out.records = *fetched;
  return out;
}

std::vector<std::string> ids_and_titles(const extract::RecordSet& set) {
  std::vector<std::string> out;
  for (const auto& r : records_to_json(set))
    out.push_back(r["id"].dump() + "=" + r.value("title", std::string("?")));
  return out;
}

std::string since_of(const std::string& cursor) {
  auto decoded = rest::SyncCursor::decode(cursor);
  return decoded ? decoded->since : "<none>";
}

const json kByUpdatedAt = {{"since_param", "updated_since"},
                           {"key", "$.id"},
                           {"cursor_max", "$.updated_at"},
                           {"deleted", "$.deleted"}};

TEST(RestIncremental, FirstSyncReadsEverythingWithoutTheParameterAndKeepsTheGreatestValue) {
  RecordingServer srv([](int, const server::Request&) {
    return server::Response::json(
        200, R"({"items":[{"id":1,"title":"a","updated_at":"2026-11-30T10:00:00Z"},)"
             R"({"id":2,"title":"b","updated_at":"2026-12-01T09:30:00Z"},)"
             R"({"id":3,"title":"c","updated_at":"2026-11-02T00:00:00Z"}]})");
  });
  Fixture f;
  auto source = f.must_make(tickets_spec(srv.url("/tickets?project=X"), kByUpdatedAt));
  ASSERT_TRUE(source);
  Synced first = sync(*source);
  ASSERT_TRUE(first.records);
  EXPECT_EQ(srv.targets(), (std::vector<std::string>{"/tickets?project=X"}));
  EXPECT_EQ(first.report.mode, "incremental");
  EXPECT_FALSE(first.report.incremental);
  EXPECT_EQ(since_of(first.report.cursor), "2026-12-01T09:30:00Z");
  EXPECT_EQ(first.records->size(), 3u);
}

TEST(RestIncremental, ARefreshSendsTheCursorAndAppliesUpdatesAdditionsAndRemovalsByKey) {
  RecordingServer srv([](int n, const server::Request&) {
    if (n == 1) {
      return server::Response::json(
          200, R"({"items":[{"id":1,"title":"a","updated_at":"2026-11-30T10:00:00Z"},)"
               R"({"id":2,"title":"b","updated_at":"2026-12-01T09:30:00Z"},)"
               R"({"id":3,"title":"c","updated_at":"2026-11-02T00:00:00Z"}]})");
    }
    // The boundary record comes again (inclusive "since"), 1 renamed, 4 new, 3 deleted.
    return server::Response::json(
        200, R"({"items":[{"id":2,"title":"b","updated_at":"2026-12-01T09:30:00Z"},)"
             R"({"id":1,"title":"a2","updated_at":"2026-12-01T11:00:00Z"},)"
             R"({"id":4,"title":"d","updated_at":"2026-12-01T11:05:00Z"},)"
             R"({"id":3,"deleted":true,"updated_at":"2026-12-01T11:06:00Z"},)"
             R"({"id":9,"deleted":true,"updated_at":"2026-12-01T11:07:00Z"}]})");
  });
  Fixture f;
  auto source = f.must_make(tickets_spec(srv.url("/tickets?project=X"), kByUpdatedAt));
  ASSERT_TRUE(source);
  Synced first = sync(*source);
  Synced second = sync(*source, &first);
  ASSERT_TRUE(second.records);
  EXPECT_EQ(srv.targets()[1], "/tickets?project=X&updated_since=2026-12-01T09%3A30%3A00Z");
  EXPECT_TRUE(second.report.incremental);
  EXPECT_EQ(second.report.added, 1u);
  EXPECT_EQ(second.report.updated, 2u);
  EXPECT_EQ(second.report.removed, 1u);
  ASSERT_TRUE(second.report.changes);
  EXPECT_EQ(ids_and_titles(*second.records), (std::vector<std::string>{"1=a2", "2=b", "4=d"}));
  EXPECT_EQ(since_of(second.report.cursor), "2026-12-01T11:07:00Z");
  // The last records stay as they were (the cache may still serve them).
  EXPECT_EQ(ids_and_titles(*first.records), (std::vector<std::string>{"1=a", "2=b", "3=c"}));
}

TEST(RestIncremental, NumericCursorsCompareAsNumbersAndANoChangeRefreshKeepsTheCursor) {
  RecordingServer srv([](int n, const server::Request&) {
    if (n == 1)
      return server::Response::json(200, R"({"items":[{"id":"a","v":9},{"id":"b","v":10}]})");
    return server::Response::json(200, R"({"items":[]})");
  });
  Fixture f;
  auto source = f.must_make(tickets_spec(
      srv.url("/t"), {{"since_param", "since"}, {"key", "$.id"}, {"cursor_max", "$.v"}}));
  ASSERT_TRUE(source);
  Synced first = sync(*source);
  EXPECT_EQ(since_of(first.report.cursor), "10");  // not "9", which sorts after "10" as text
  Synced second = sync(*source, &first);
  EXPECT_EQ(srv.targets()[1], "/t?since=10");
  EXPECT_TRUE(second.report.incremental);
  EXPECT_EQ(second.records->size(), 2u);
  EXPECT_EQ(since_of(second.report.cursor), "10");
}

TEST(RestIncremental, ACursorFromTheResponseIsSentBackOnTheNextRefresh) {
  RecordingServer srv([](int n, const server::Request&) {
    if (n == 1)
      return server::Response::json(200, R"({"items":[{"id":"a","t":"x"}],"sync":{"token":"T1"}})");
    return server::Response::json(200, R"({"items":[{"id":"b","t":"y"}],"sync":{"token":"T2"}})");
  });
  Fixture f;
  auto source = f.must_make(tickets_spec(
      srv.url("/t"), {{"since_param", "sync_token"}, {"key", "$.id"}, {"cursor", "$.sync.token"}}));
  ASSERT_TRUE(source);
  Synced first = sync(*source);
  EXPECT_EQ(since_of(first.report.cursor), "T1");
  Synced second = sync(*source, &first);
  EXPECT_EQ(srv.targets()[1], "/t?sync_token=T1");
  EXPECT_EQ(since_of(second.report.cursor), "T2");
  EXPECT_EQ(second.records->size(), 2u);
}

TEST(RestIncremental, ACursorTheApiNoLongerTakesIs410AndEverythingIsReadAgain) {
  RecordingServer srv([](int n, const server::Request&) {
    if (n == 2) return server::Response::json(410, R"({"error":"cursor expired"})");
    return server::Response::json(200, n == 1 ? R"({"items":[{"id":1,"v":1}]})"
                                              : R"({"items":[{"id":1,"v":5},{"id":2,"v":6}]})");
  });
  Fixture f;
  auto source = f.must_make(tickets_spec(
      srv.url("/t"), {{"since_param", "since"}, {"key", "$.id"}, {"cursor_max", "$.v"}}));
  ASSERT_TRUE(source);
  Synced first = sync(*source);
  Synced second = sync(*source, &first);
  EXPECT_EQ(srv.targets(), (std::vector<std::string>{"/t", "/t?since=1", "/t"}));
  EXPECT_FALSE(second.report.incremental);
  EXPECT_NE(second.report.note.find("410"), std::string::npos) << second.report.note;
  EXPECT_EQ(second.records->size(), 2u);
  EXPECT_EQ(since_of(second.report.cursor), "6");
}

TEST(RestIncremental, OtherErrorsOfARefreshAreErrorsNotAFullRead) {
  RecordingServer srv([](int n, const server::Request&) {
    if (n == 2) return server::Response::json(403, R"({"error":"forbidden"})");
    return server::Response::json(200, R"({"items":[{"id":1,"v":1}]})");
  });
  Fixture f;
  auto source = f.must_make(tickets_spec(
      srv.url("/t"), {{"since_param", "since"}, {"key", "$.id"}, {"cursor_max", "$.v"}}));
  ASSERT_TRUE(source);
  Synced first = sync(*source);
  FetchRequest request;
  request.previous = {first.records, first.report.cursor};
  auto second = source->fetch(request);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().details.at("http_status"), "403");
  EXPECT_EQ(srv.targets().size(), 2u);
}

TEST(RestIncremental, FullEveryReadsEverythingAgainOnceTheLastFullSyncIsThatOld) {
  RecordingServer srv([](int, const server::Request&) {
    return server::Response::json(200, R"({"items":[{"id":1,"v":1}]})");
  });
  Fixture f;
  auto source = f.must_make(tickets_spec(
      srv.url("/t"),
      {{"since_param", "since"}, {"key", "$.id"}, {"cursor_max", "$.v"}, {"full_every", "1d"}}));
  ASSERT_TRUE(source);
  Synced first = sync(*source);
  f.clock.advance(std::chrono::hours(23));
  Synced second = sync(*source, &first);
  EXPECT_TRUE(second.report.incremental);
  f.clock.advance(std::chrono::hours(1));
  Synced third = sync(*source, &second);
  EXPECT_FALSE(third.report.incremental);
  EXPECT_NE(third.report.note.find("full_every"), std::string::npos);
  EXPECT_EQ(srv.targets(), (std::vector<std::string>{"/t", "/t?since=1", "/t"}));
}

TEST(RestIncremental, AStoredCursorFromElsewhereMeansAFullRead) {
  RecordingServer srv([](int, const server::Request&) {
    return server::Response::json(200, R"({"items":[{"id":1,"v":1}]})");
  });
  Fixture f;
  auto source = f.must_make(tickets_spec(
      srv.url("/t"), {{"since_param", "since"}, {"key", "$.id"}, {"cursor_max", "$.v"}}));
  ASSERT_TRUE(source);
  Synced first = sync(*source);
  first.report.cursor = "https://graph.example/delta?token=x";  // not a REST cursor
  Synced second = sync(*source, &first);
  EXPECT_FALSE(second.report.incremental);
  EXPECT_EQ(srv.targets(), (std::vector<std::string>{"/t", "/t"}));
}

TEST(RestIncremental, ConfigurationErrorsNameTheKey) {
  Fixture f;
  auto both = f.make(tickets_spec(
      "http://127.0.0.1:1/t",
      {{"since_param", "s"}, {"key", "$.id"}, {"cursor", "$.c"}, {"cursor_max", "$.v"}}));
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.error().message.find("incremental.cursor"), std::string::npos)
      << both.error().message;
  auto no_key =
      f.make(tickets_spec("http://127.0.0.1:1/t", {{"since_param", "s"}, {"cursor_max", "$.v"}}));
  ASSERT_FALSE(no_key.ok());
  EXPECT_NE(no_key.error().message.find("incremental.key"), std::string::npos)
      << no_key.error().message;
  auto bad_path = f.make(tickets_spec(
      "http://127.0.0.1:1/t", {{"since_param", "s"}, {"key", "id"}, {"cursor_max", "$.v"}}));
  ASSERT_FALSE(bad_path.ok());
  EXPECT_EQ(bad_path.error().code, "source.jsonpath");
  EXPECT_NE(bad_path.error().message.find("incremental.key"), std::string::npos)
      << bad_path.error().message;
}

TEST(RestIncremental, WithoutIncrementalEveryRefreshIsFullAndHasNoCursor) {
  RecordingServer srv([](int, const server::Request&) {
    return server::Response::json(200, R"({"items":[{"id":1,"v":1}]})");
  });
  Fixture f;
  auto source = f.must_make({{"type", "rest"}, {"url", srv.url("/t")}, {"records", "$.items[*]"}});
  ASSERT_TRUE(source);
  Synced first = sync(*source);
  EXPECT_EQ(first.report.mode, "full");
  EXPECT_TRUE(first.report.cursor.empty());
  first.report.cursor = rest::SyncCursor{"1", 0}.encode();
  Synced second = sync(*source, &first);
  EXPECT_FALSE(second.report.incremental);
  EXPECT_EQ(srv.targets(), (std::vector<std::string>{"/t", "/t"}));
}

// The record cache passes the last records and cursor to a rest source, keeps the cursor with
// the snapshot, and the field over the source answers from the merged records with its option
// table patched, not built again.
TEST(RestIncrementalServing, ChangesReachOptionsAndValuesAndTheTableIsPatched) {
  std::mutex mu;
  std::string page =
      R"({"items":[{"id":1,"title":"Acme","updated_at":1},)"
      R"({"id":2,"title":"Bolt","updated_at":2},{"id":3,"title":"Cork","updated_at":3}]})";
  RecordingServer srv([&](int, const server::Request&) {
    std::lock_guard lock(mu);
    return server::Response::json(200, page);
  });
  Fixture f;
  std::shared_ptr<Source> source =
      f.must_make(tickets_spec(srv.url("/t"), {{"since_param", "since"},
                                               {"key", "$.id"},
                                               {"cursor_max", "$.updated_at"},
                                               {"deleted", "$.deleted"}}));
  ASSERT_TRUE(source);
  testing_support::TempDir dir;
  auto store = testing_support::open_store(dir);
  auto field = config::parse_field("source: tickets\nvalue: '{id}'\nlabel: '{title}'\n", "ticket",
                                   {"tickets"});
  ASSERT_TRUE(field.ok()) << field.error().to_string();
  ASSERT_TRUE(store->put_field(*field).ok());
  cache::SourceLookup lookup = [&](const std::string& name) -> std::shared_ptr<Source> {
    return name == "tickets" ? source : nullptr;
  };
  testing_support::ManualExecutor executor;
  cache::CacheOptions options;
  options.executor = executor.executor();
  options.list_sources = [] { return std::vector<std::string>{"tickets"}; };
  cache::RecordCache cache(*store, lookup, f.clock, f.metrics, options);
  fields::FieldService service(*store, lookup, cache, f.metrics);
  auto total = [&](const std::string& q) -> size_t {
    fields::OptionsQuery query;
    query.q = q;
    auto o = service.options("ticket", query);
    EXPECT_TRUE(o.ok()) << (o.ok() ? "" : o.error().to_string());
    return o.ok() ? o->total : 0;
  };
  auto label = [&](const std::string& id) -> std::string {
    auto v = service.value("ticket", id, {});
    EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().to_string());
    return v.ok() && v->found ? v->label : std::string("<not found>");
  };
  EXPECT_EQ(total(""), 3u);
  {
    std::lock_guard lock(mu);
    page = R"({"items":[{"id":2,"title":"Bolt Renamed","updated_at":4},)"
           R"({"id":3,"deleted":true,"updated_at":5},{"id":7,"title":"Dune","updated_at":6}]})";
  }
  auto refreshed = cache.refresh("tickets");
  ASSERT_TRUE(refreshed.ok());
  EXPECT_TRUE(refreshed->errors.empty());
  EXPECT_EQ(srv.targets(), (std::vector<std::string>{"/t", "/t?since=3"}));
  EXPECT_EQ(total(""), 3u);
  EXPECT_EQ(total("renamed"), 1u);
  EXPECT_EQ(label("2"), "Bolt Renamed");
  EXPECT_EQ(label("7"), "Dune");
  EXPECT_EQ(label("3"), "<not found>");
  EXPECT_EQ(f.metrics.counter_value("extdata_fields_tables_patched_total", {{"field", "ticket"}}),
            1);
  auto status = store->get_status("tickets");
  ASSERT_TRUE(status.ok() && status->has_value());
  EXPECT_EQ((*status)->sync.mode, "incremental");
  EXPECT_EQ((*status)->sync.last_added, 1u);
  EXPECT_EQ((*status)->sync.last_updated, 1u);
  EXPECT_EQ((*status)->sync.last_removed, 1u);
  EXPECT_EQ(f.metrics.counter_value("extdata_source_syncs_total",
                                    {{"source", "tickets"}, {"sync", "incremental"}}),
            1);
}

}  // namespace
}  // namespace extdata::sources
