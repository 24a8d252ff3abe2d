// Delta sync of the sharepoint-list source against graphsim (docs/sharepoint.md, "Delta
// sync"): the initial delta enumeration, changes applied from one delta request, 410 →
// full resync, filter → full read, throttling during a delta page. Assertions read graphsim's
// counters (what the client sent), not only the records.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "harness.h"
#include "sources/sharepoint/delta.h"

namespace extdata::sources::sharepoint::testing {
namespace {

constexpr int kFixtureCustomers = 3;

std::map<std::string, std::string> titles_by_id(const extract::RecordSet& set) {
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < set.size(); ++i) {
    std::string_view id, title;
    const auto record = set[i].json();
    auto item = record.root();
    if (item["id"].get(id) == simdjson::SUCCESS &&
        item["fields"]["Title"].get(title) == simdjson::SUCCESS)
      out[std::string(id)] = std::string(title);
  }
  return out;
}

struct Synced {
  std::shared_ptr<const extract::RecordSet> records;
  SyncReport report;
  FetchTrace trace;
};

Synced sync(SharePointSource& src, const SyncBase& previous = {}) {
  Synced out;
  FetchRequest request;
  request.previous = previous;
  request.sync = &out.report;
  auto fetched = src.fetch(request, &out.trace);
  EXPECT_TRUE(fetched.ok()) << (fetched.ok() ? "" : fetched.error().to_string());
  if (fetched.ok()) out.records = *fetched;
  return out;
}

std::vector<std::string> delta_targets(Harness& h) {
  std::vector<std::string> out;
  for (const auto& [target, n] : h.item_targets())
    if (target.find("/items/delta") != std::string::npos)
      for (long long i = 0; i < n; ++i) out.push_back(target);
  return out;
}

TEST(SharePointDelta, InitialSyncReadsEveryDeltaPageAndKeepsTheDeltaLink) {
  Harness h({.generate_customers = 1200});
  std::string yaml = h.source_yaml(kValidClient, kValidSecret, "list: Customers\npage_size: 500\n");
  ASSERT_EQ(yaml.rfind("sync: full\n", 0), 0u);
  yaml.erase(0, std::string("sync: full\n").size());  // no sync key: the default
  auto made = h.source(yaml);
  ASSERT_TRUE(made.ok()) << made.error().to_string();
  auto src = *made;
  EXPECT_TRUE(src->syncs_delta());
  Synced first = sync(*src);
  ASSERT_TRUE(first.records);
  EXPECT_EQ(first.records->size(), 1200u + kFixtureCustomers);
  EXPECT_EQ(first.report.mode, "delta");
  EXPECT_FALSE(first.report.incremental);
  EXPECT_EQ(first.report.requests, 3u);
  EXPECT_EQ(first.trace.pages, 3);
  EXPECT_EQ(h.route("delta"), 3);
  EXPECT_EQ(h.route("items"), 0);
  // The link Graph gave on the last page, verbatim.
  EXPECT_NE(first.report.cursor.find(h.url() + "/v1.0/sites/"), std::string::npos);
  EXPECT_NE(first.report.cursor.find("/items/delta?"), std::string::npos);
  EXPECT_NE(first.report.cursor.find("token="), std::string::npos);
  const auto targets = delta_targets(h);
  ASSERT_EQ(targets.size(), 3u);
  for (const auto& target : targets) {
    EXPECT_NE(target.find("$expand=fields"), std::string::npos) << target;
    EXPECT_NE(target.find("$top=500"), std::string::npos) << target;
  }
  EXPECT_EQ(titles_by_id(*first.records).size(), 1200u + kFixtureCustomers);
}

TEST(SharePointDelta, CreatedRenamedAndDeletedItemsAreExactlyTheChangesOfOneDeltaRequest) {
  Harness h({.generate_customers = 1200});
  auto src = h.valid_source("list: Customers\nsync: delta\npage_size: 500\n");
  ASSERT_TRUE(src);
  Synced first = sync(*src);
  ASSERT_TRUE(first.records);
  const auto before = titles_by_id(*first.records);
  const std::string list = h.admin_list_path(src->site()->id);
  h.admin("POST", list + "/items", R"({"fields": {"Title": "Brand New GmbH"}})");
  h.admin("POST", list + "/items", R"({"id": 2, "fields": {"Title": "Renamed Ltd"}})");
  h.admin("DELETE", list + "/items/3");
  h.sim().reset_counters();

  Synced second = sync(*src, {first.records, first.report.cursor});
  ASSERT_TRUE(second.records);
  EXPECT_TRUE(second.report.incremental);
  EXPECT_EQ(second.report.added, 1u);
  EXPECT_EQ(second.report.updated, 1u);
  EXPECT_EQ(second.report.removed, 1u);
  EXPECT_EQ(second.report.requests, 1u);
  // One request, and it was the stored delta link.
  const auto targets = delta_targets(h);
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_NE(first.report.cursor.find(targets[0].substr(0, targets[0].find('?'))),
            std::string::npos);
  EXPECT_EQ(h.route("items"), 0);
  EXPECT_EQ(h.route("site_by_path") + h.route("list"), 0);  // site and list stay resolved

  auto after = titles_by_id(*second.records);
  EXPECT_EQ(after.size(), before.size());  // one added, one deleted
  EXPECT_EQ(after.at("2"), "Renamed Ltd");
  EXPECT_EQ(after.count("3"), 0u);
  std::set<std::string> added;
  for (const auto& [id, title] : after)
    if (!before.count(id)) added.insert(title);
  EXPECT_EQ(added, std::set<std::string>{"Brand New GmbH"});
  for (const auto& [id, title] : before) {
    if (id != "2" && id != "3") {
      EXPECT_EQ(after.at(id), title) << id;
    }
  }
  // The old set is untouched: readers holding it see a consistent snapshot.
  EXPECT_EQ(titles_by_id(*first.records), before);
  EXPECT_NE(second.report.cursor, first.report.cursor);
}

TEST(SharePointDelta, NoChangesIsOneDeltaRequestAndTheSameRecords) {
  Harness h({.generate_customers = 600});
  auto src = h.valid_source("list: Customers\nsync: delta\npage_size: 500\n");
  ASSERT_TRUE(src);
  Synced first = sync(*src);
  h.sim().reset_counters();
  Synced second = sync(*src, {first.records, first.report.cursor});
  ASSERT_TRUE(second.records);
  EXPECT_TRUE(second.report.incremental);
  EXPECT_EQ(second.report.added + second.report.updated + second.report.removed, 0u);
  EXPECT_EQ(h.route("delta"), 1);
  EXPECT_EQ(titles_by_id(*second.records), titles_by_id(*first.records));
}

TEST(SharePointDelta, ResetDeltaLinkAnswers410AndTheListIsReadInFullThroughDelta) {
  Harness h({.generate_customers = 600});
  auto src = h.valid_source("list: Customers\nsync: delta\npage_size: 500\n");
  ASSERT_TRUE(src);
  Synced first = sync(*src);
  const std::string list = h.admin_list_path(src->site()->id);
  h.admin("POST", list + "/items", R"({"id": 1, "fields": {"Title": "After Reset AG"}})");
  h.admin("POST", list + "/delta/reset");
  h.sim().reset_counters();

  Synced second = sync(*src, {first.records, first.report.cursor});
  ASSERT_TRUE(second.records);
  EXPECT_FALSE(second.report.incremental);
  EXPECT_NE(second.report.note.find("410"), std::string::npos) << second.report.note;
  EXPECT_EQ(h.status_count("410"), 1);
  EXPECT_EQ(h.route("delta"), 1 + 2);  // the refused link, then two pages from the start
  EXPECT_EQ(second.records->size(), 600u + kFixtureCustomers);
  EXPECT_EQ(titles_by_id(*second.records).at("1"), "After Reset AG");
  EXPECT_FALSE(second.report.cursor.empty());
  bool warned = false;
  for (const auto& w : second.trace.warnings) warned |= w.find("410") != std::string::npos;
  EXPECT_TRUE(warned);

  // The new link works: the next sync is incremental again.
  h.sim().reset_counters();
  Synced third = sync(*src, {second.records, second.report.cursor});
  EXPECT_TRUE(third.report.incremental);
  EXPECT_EQ(h.route("delta"), 1);
}

TEST(SharePointDelta, AFilterMakesTheSyncFullAndSaysWhy) {
  Harness h;
  auto src =
      h.valid_source("list: Customers\nsync: delta\nfilter: \"fields/Country eq 'Germany'\"\n");
  ASSERT_TRUE(src);
  EXPECT_FALSE(src->syncs_delta());
  Synced first = sync(*src);
  ASSERT_TRUE(first.records);
  EXPECT_EQ(first.report.mode, "full");
  EXPECT_NE(first.report.note.find("filter"), std::string::npos);
  EXPECT_TRUE(first.report.cursor.empty());
  EXPECT_EQ(h.route("delta"), 0);
  EXPECT_EQ(h.route("items"), 1);
  bool warned = false;
  for (const auto& w : first.trace.warnings) warned |= w.find("$filter") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST(SharePointDelta, SyncFullReadsItemsAndIgnoresAStoredLink) {
  Harness h;
  auto src = h.valid_source("list: Customers\nsync: full\n");
  ASSERT_TRUE(src);
  Synced first = sync(*src);
  Synced second = sync(*src, {first.records, "https://elsewhere.example/delta?token=x"});
  EXPECT_FALSE(second.report.incremental);
  EXPECT_EQ(second.report.mode, "full");
  EXPECT_TRUE(second.report.note.empty());
  EXPECT_EQ(h.route("delta"), 0);
  EXPECT_EQ(h.route("items"), 2);
}

TEST(SharePointDelta, SelectIsSentWithTheDeltaQuery) {
  Harness h;
  auto src = h.valid_source("list: Customers\nsync: delta\nselect: [Title, City]\n");
  ASSERT_TRUE(src);
  Synced first = sync(*src);
  ASSERT_TRUE(first.records);
  const auto targets = delta_targets(h);
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_NE(targets[0].find("$expand=fields($select=Title,City)"), std::string::npos) << targets[0];
}

TEST(SharePointDelta, ThrottledDeltaPageIsWaitedOutAndTheSyncCompletes) {
  Harness h({.generate_customers = 1200});
  auto src = h.valid_source("list: Customers\nsync: delta\npage_size: 500\n");
  ASSERT_TRUE(src);
  Synced first = sync(*src);
  const std::string list = h.admin_list_path(src->site()->id);
  h.admin("POST", list + "/items", R"({"id": 5, "fields": {"Title": "Throttled Change"}})");
  h.sim().reset_counters();
  h.set_faults("throttle: {every: 1, times: 1, status: 429, retry_after: '1.5'}\n");
  Synced second = sync(*src, {first.records, first.report.cursor});
  ASSERT_TRUE(second.records);
  EXPECT_TRUE(second.report.incremental);
  EXPECT_EQ(second.report.updated, 1u);
  EXPECT_EQ(h.counters()["throttled"]["by_status"]["429"], 1);
  EXPECT_EQ(h.clock.total_slept(), std::chrono::milliseconds(1500));
  EXPECT_EQ(titles_by_id(*second.records).at("5"), "Throttled Change");
}

TEST(SharePointDelta, AStoredLinkOnAnotherOriginIsNotFollowed) {
  Harness h;
  auto src = h.valid_source("list: Customers\nsync: delta\n");
  ASSERT_TRUE(src);
  Synced first = sync(*src);
  h.sim().reset_counters();
  Synced second = sync(*src, {first.records, "https://elsewhere.example/v1.0/delta?token=x"});
  ASSERT_TRUE(second.records);
  EXPECT_FALSE(second.report.incremental);
  EXPECT_NE(second.report.note.find("not on"), std::string::npos);
  EXPECT_EQ(h.route("delta"), 1);  // a full delta sync from the start, on graph's origin
}

// apply_delta on hand-written pages: the last change of an id wins and takes the old item's
// place, new items follow, tombstones of unknown ids and changes without an id are ignored.
TEST(SharePointDelta, ApplyDeltaKeepsOrderAndTheLastChangeOfEachId) {
  auto path = extract::JsonPath::compile("$.value[*]");
  ASSERT_TRUE(path.ok());
  extract::RecordSet base;
  ASSERT_TRUE(
      base.append_page(R"({"value":[{"id":"1","v":"a"},{"id":"2","v":"b"},{"id":"3","v":"c"}]})",
                       *path, {})
          .ok());
  extract::RecordSet changes;
  ASSERT_TRUE(changes
                  .append_page(R"({"value":[{"id":"2","v":"b1"},{"id":"4","v":"d"},)"
                               R"({"id":"2","v":"b2"},{"id":"1","deleted":{"state":"deleted"}},)"
                               R"({"id":"9","deleted":{"state":"deleted"}},{"v":"no id"}]})",
                               *path, {})
                  .ok());
  auto applied = apply_delta(base, changes);
  ASSERT_TRUE(applied.ok()) << applied.error().to_string();
  std::vector<std::string> seen;
  for (size_t i = 0; i < applied->records.size(); ++i) {
    std::string_view id, v;
    ASSERT_EQ(applied->records[i].json().root()["id"].get(id), simdjson::SUCCESS);
    ASSERT_EQ(applied->records[i].json().root()["v"].get(v), simdjson::SUCCESS);
    seen.push_back(std::string(id) + "=" + std::string(v));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"2=b2", "3=c", "4=d"}));
  EXPECT_EQ(applied->counts.added, 1u);
  EXPECT_EQ(applied->counts.updated, 1u);
  EXPECT_EQ(applied->counts.removed, 1u);
}

}  // namespace
}  // namespace extdata::sources::sharepoint::testing
