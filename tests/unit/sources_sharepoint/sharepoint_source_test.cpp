// The sharepoint-list source against graphsim over real loopback HTTP: pages, tokens,
// throttling, expiry mid-sync, faults and the translated errors. Assertions read
// graphsim's counters (what the client sent), not only the records.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <set>

#include <nlohmann/json.hpp>

#include "extract/json_text.h"
#include "harness.h"

namespace extdata::sources::sharepoint::testing {
namespace {

constexpr int kFixtureCustomers = 3;

std::set<std::string> item_ids(const extract::RecordSet& set) {
  std::set<std::string> ids;
  for (size_t i = 0; i < set.size(); ++i) {
    const auto record = set[i].json();
    auto id = record.root()["id"];
    if (!id.error()) ids.insert(std::string(id.get_string().value()));
  }
  return ids;
}

TEST(SharePointSource, FetchesEveryPageWithOneTokenAndCachesTheSite) {
  Harness h({.generate_customers = 1200});
  auto src = h.valid_source("list: Customers\npage_size: 500\ncolumns: {title: fields.Title}\n");
  ASSERT_TRUE(src);
  EXPECT_EQ(src->scope(), "https://graph.microsoft.com/.default");
  EXPECT_EQ(src->token_url(), h.url() + "/contoso.onmicrosoft.com/oauth2/v2.0/token");

  std::vector<int> progress_pages;
  FetchRequest request;
  request.on_progress = [&](const Progress& p) { progress_pages.push_back(p.pages); };
  FetchTrace trace;
  auto records = src->fetch(request, &trace);
  ASSERT_TRUE(records.ok()) << records.error().to_string();
  const size_t total = 1200 + kFixtureCustomers;
  EXPECT_EQ((*records)->size(), total);
  EXPECT_EQ(item_ids(**records).size(), total);
  EXPECT_EQ(trace.pages, 3);
  EXPECT_EQ(progress_pages, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(std::string((*records)->operator[](0).column("title")->root().get_string().value()),
            "Nordlicht Logistik AG");

  EXPECT_EQ(h.tokens_issued(), 1);
  EXPECT_EQ(h.route("site_by_path"), 1);
  EXPECT_EQ(h.route("list"), 1);
  EXPECT_EQ(h.route("items"), 3);
  auto targets = h.item_targets();
  ASSERT_EQ(targets.size(), 3u);
  for (const auto& [target, n] : targets) {
    EXPECT_EQ(n, 1) << target;
    EXPECT_NE(target.find("$expand=fields"), std::string::npos) << target;
    EXPECT_NE(target.find("$top=500"), std::string::npos) << target;
    // The site id's commas are percent-encoded in the path.
    EXPECT_NE(target.find("contoso.sharepoint.com%2C"), std::string::npos) << target;
  }

  // A second fetch reuses the token and the resolved site and list ids.
  auto again = src->fetch({});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->size(), total);
  EXPECT_EQ(h.tokens_issued(), 1);
  EXPECT_EQ(h.route("site_by_path"), 1);
  EXPECT_EQ(h.route("list"), 1);
  EXPECT_EQ(h.route("items"), 6);
  EXPECT_EQ(h.metrics.counter_value("extdata_source_pages_total", {{"source", "customers"}}), 6);
}

// graphsim sends "fields@odata.context" with every item (graph_test.cpp, ItemsShapeLikeGraph);
// records keep the item and its etags but not that per-item context URL.
TEST(SharePointSource, RecordsAreTheItemsWithoutTheirContextUrls) {
  Harness h;
  auto src = h.valid_source();
  ASSERT_TRUE(src);
  auto records = src->fetch({});
  ASSERT_TRUE(records.ok()) << records.error().to_string();
  ASSERT_EQ((*records)->size(), size_t{kFixtureCustomers});
  for (size_t i = 0; i < (*records)->size(); ++i) {
    std::string text;
    extract::append_json(text, (*records)->operator[](i).json().root());
    const auto item = nlohmann::json::parse(text);
    EXPECT_EQ(text.find("@odata.context"), std::string::npos) << text;
    EXPECT_TRUE(item.contains("@odata.etag")) << text;
    EXPECT_TRUE(item["fields"].contains("@odata.etag")) << text;
    EXPECT_TRUE(item["fields"].contains("Title")) << text;
    EXPECT_TRUE(item.contains("webUrl")) << text;
  }
}

TEST(SharePointSource, SelectAndFilterAreSentWithThePreferHeader) {
  Harness h;
  // City is not indexed: graphsim answers 400 unless the Prefer header came along.
  auto src =
      h.valid_source("list: Customers\nselect: [Title, City]\nfilter: \"fields/City eq 'Lyon'\"\n");
  ASSERT_TRUE(src);
  auto records = src->fetch({});
  ASSERT_TRUE(records.ok()) << records.error().to_string();
  ASSERT_EQ((*records)->size(), 1u);
  const auto record = (*records)->operator[](0).json();
  auto fields = record.root()["fields"];
  EXPECT_EQ(std::string(fields["Title"].get_string().value()), "Café Olé SARL");
  EXPECT_TRUE(fields["Country"].error());  // not selected
  auto targets = h.item_targets();
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_NE(targets.begin()->first.find("$expand=fields($select=Title,City)"), std::string::npos);
  EXPECT_NE(targets.begin()->first.find("$filter=fields%2FCity%20eq%20%27Lyon%27"),
            std::string::npos);
}

TEST(SharePointSource, NonIndexedFilterOnABigListIsExplained) {
  Harness h({.generate_customers = 5200});
  auto src = h.valid_source("list: Customers\nfilter: \"fields/City eq 'Lyon'\"\n");
  ASSERT_TRUE(src);
  auto records = src->fetch({});
  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.error().code, "sharepoint.filter_not_indexed");
  EXPECT_NE(records.error().hint.find("Indexed columns"), std::string::npos);
  EXPECT_EQ(records.error().details.at("http_status"), "400");
  EXPECT_FALSE(records.error().details.at("request_id").empty());
}

TEST(SharePointSource, ThrottlingWithFractionalRetryAfterIsWaitedOut) {
  Harness h({.generate_customers = 1200});
  auto src = h.valid_source("list: Customers\npage_size: 500\n");
  ASSERT_TRUE(src);
  h.set_faults("throttle: {every: 2, times: 2, status: 429, retry_after: '2.128'}\n");
  auto records = src->fetch({});
  ASSERT_TRUE(records.ok()) << records.error().to_string();
  EXPECT_EQ((*records)->size(), 1200u + kFixtureCustomers);
  auto c = h.counters();
  EXPECT_EQ(c["throttled"]["by_status"]["429"], 2);
  // Exactly the server's wait, twice, on the injected clock.
  EXPECT_EQ(h.clock.total_slept(), std::chrono::milliseconds(2 * 2128));
  for (const auto& [target, n] : h.item_targets()) EXPECT_EQ(n, 1) << target;
  EXPECT_EQ(h.status_count("200"), 2 + 3);
}

TEST(SharePointSource, ServiceUnavailableWithoutRetryAfterBacksOff) {
  Harness h({.generate_customers = 600});
  auto src = h.valid_source("list: Customers\npage_size: 500\n");
  ASSERT_TRUE(src);
  h.set_faults("throttle: {every: 3, times: 1, status: 503, retry_after: null}\n");
  auto records = src->fetch({});
  ASSERT_TRUE(records.ok()) << records.error().to_string();
  EXPECT_EQ((*records)->size(), 600u + kFixtureCustomers);
  EXPECT_EQ(h.counters()["throttled"]["by_status"]["503"], 1);
  EXPECT_EQ(h.clock.sleeps(), 1);
  EXPECT_GT(h.clock.total_slept().count(), 0);
}

TEST(SharePointSource, PersistentThrottlingBecomesAClearError) {
  Harness h;
  auto src = h.valid_source();
  ASSERT_TRUE(src);
  h.set_faults("throttle: {every: 1, status: 429, retry_after: '1'}\n");
  auto records = src->fetch({});
  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.error().code, "sharepoint.throttled");
  EXPECT_EQ(records.error().details.at("http_status"), "429");
  EXPECT_EQ(h.counters()["throttled"]["total"], 4);  // max_attempts of the test client
}

TEST(SharePointSource, TokenExpiringMidSyncIsReplacedAndNoPageIsFetchedTwice) {
  // graphsim's clock runs ahead of the client's: the token the client still trusts has
  // expired for Graph, which answers 401 in the middle of the sync.
  Harness h({.generate_customers = 1200, .token_lifetime = 600, .own_clock = true});
  auto src = h.valid_source("list: Customers\npage_size: 500\n");
  ASSERT_TRUE(src);
  FetchRequest request;
  request.on_progress = [&](const Progress& p) {
    if (p.pages == 1) h.sim_clock.advance(std::chrono::seconds(601));
  };
  auto records = src->fetch(request);
  ASSERT_TRUE(records.ok()) << records.error().to_string();
  EXPECT_EQ((*records)->size(), 1200u + kFixtureCustomers);
  EXPECT_EQ(item_ids(**records).size(), 1200u + kFixtureCustomers);
  EXPECT_EQ(h.tokens_issued(), 2);
  EXPECT_EQ(h.status_count("401"), 1);
  EXPECT_EQ(h.status_count("200"), 2 + 3);  // site, list, three pages: none twice
  EXPECT_EQ(h.metrics.counter_value("extdata_auth_retries_total", {{"source", "customers"}}), 1);
}

TEST(SharePointSource, RepeatedNextLinkStopsWithAWarning) {
  Harness h({.generate_customers = 1200});
  auto src = h.valid_source("list: Customers\npage_size: 500\n");
  ASSERT_TRUE(src);
  h.set_faults("repeat_next_link: {every: 1, times: 1}\n");
  FetchTrace trace;
  auto records = src->fetch({}, &trace);
  ASSERT_TRUE(records.ok()) << records.error().to_string();
  EXPECT_EQ((*records)->size(), 500u);
  EXPECT_EQ(trace.pages, 1);
  ASSERT_FALSE(trace.warnings.empty());
  EXPECT_NE(trace.warnings.back().find("already fetched"), std::string::npos);
  EXPECT_EQ(h.route("items"), 1);
  EXPECT_EQ(h.counters()["faults"]["repeated_next_links"], 1);
}

TEST(SharePointSource, DroppedConnectionMidBodyIsRetried) {
  Harness h({.generate_customers = 1200});
  auto src = h.valid_source("list: Customers\npage_size: 500\n");
  ASSERT_TRUE(src);
  ASSERT_TRUE(src->site().ok());  // resolve first, so the fault hits an items page
  h.set_faults("drop_connection: {every: 3, times: 1, after_bytes: 2000}\n");
  auto records = src->fetch({});
  ASSERT_TRUE(records.ok()) << records.error().to_string();
  EXPECT_EQ((*records)->size(), 1200u + kFixtureCustomers);
  EXPECT_EQ(h.counters()["faults"]["dropped_connections"], 1);
  EXPECT_EQ(h.status_count("200"), 1 + 1 + 4);  // the dropped page was served twice
}

TEST(SharePointSource, DroppedConnectionEveryTimeIsAClearError) {
  Harness h({.generate_customers = 600});
  auto src = h.valid_source("list: Customers\npage_size: 500\n");
  ASSERT_TRUE(src);
  ASSERT_TRUE(src->fetch({}).ok());
  h.set_faults("drop_connection: {every: 1, after_bytes: 100}\n");
  auto records = src->fetch({});
  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.error().code, "http.transfer");
  EXPECT_EQ(records.error().details.at("step"), "items");
  EXPECT_FALSE(records.error().hint.empty());
}

TEST(SharePointSource, TruncatedJsonIsFetchedAgain) {
  Harness h({.generate_customers = 1200});
  auto src = h.valid_source("list: Customers\npage_size: 500\n");
  ASSERT_TRUE(src);
  ASSERT_TRUE(src->fetch({}).ok());
  h.sim().reset_counters();
  h.set_faults("truncate_body: {every: 2, times: 1, bytes: 3000}\n");
  auto records = src->fetch({});
  ASSERT_TRUE(records.ok()) << records.error().to_string();
  EXPECT_EQ((*records)->size(), 1200u + kFixtureCustomers);
  EXPECT_EQ(h.counters()["faults"]["truncated_bodies"], 1);
  EXPECT_EQ(h.route("items"), 4);
  EXPECT_EQ(h.metrics.counter_value("extdata_source_page_retries_total", {{"source", "customers"}}),
            1);
}

// The next page is asked for while the current one is stored: when page 1 is reported,
// graphsim has received (or is about to receive) the request for page 2 although the fetch
// loop has not moved on. Without the prefetch the wait below would never end well.
TEST(SharePointSource, NextPageIsRequestedWhileThePageIsStored) {
  Harness h({.generate_customers = 1200});
  auto src = h.valid_source("list: Customers\npage_size: 500\n");
  ASSERT_TRUE(src);
  ASSERT_TRUE(src->fetch({}).ok());
  h.sim().reset_counters();
  sources::FetchRequest request;
  long long items_seen_at_page_1 = -1;
  request.on_progress = [&](const sources::Progress& progress) {
    if (progress.pages != 1) return;
    // Bounded wait for a request another thread sends; not a timing assertion.
    for (int i = 0; i < 2000 && h.route("items") < 2; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    items_seen_at_page_1 = h.route("items");
  };
  auto records = src->fetch(request);
  ASSERT_TRUE(records.ok()) << records.error().to_string();
  EXPECT_EQ(items_seen_at_page_1, 2);
  EXPECT_EQ((*records)->size(), 1200u + kFixtureCustomers);
  EXPECT_EQ(h.route("items"), 3);  // every page once
}

TEST(SharePointSource, TruncatedJsonEveryTimeIsAClearError) {
  Harness h({.generate_customers = 600});
  auto src = h.valid_source("list: Customers\npage_size: 500\n");
  ASSERT_TRUE(src);
  ASSERT_TRUE(src->fetch({}).ok());
  h.sim().reset_counters();
  h.set_faults("truncate_body: {every: 1, bytes: 5000}\n");
  auto records = src->fetch({});
  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.error().code, "sharepoint.bad_page");
  EXPECT_NE(records.error().message.find("page 1"), std::string::npos);
  EXPECT_NE(records.error().message.find("3 attempts"), std::string::npos);
  // A page cut short never leads to a request for the next one.
  EXPECT_EQ(h.route("items"), 3);
}

TEST(SharePointSource, ExpiredSecretIsTranslated) {
  Harness h;
  auto src = h.source(h.source_yaml(kExpiredClient, kExpiredSecret));
  ASSERT_TRUE(src.ok());
  auto records = (*src)->fetch({});
  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.error().code, "auth.secret_expired");
  EXPECT_EQ(records.error().details.at("aadsts"), "7000222");
  EXPECT_EQ(h.counters()["graph_requests"]["total"], 0);
}

TEST(SharePointSource, MissingAdminConsentIsTranslated) {
  Harness h;
  auto src = h.source(h.source_yaml(kNoConsentClient, kNoConsentSecret));
  ASSERT_TRUE(src.ok());
  auto records = (*src)->fetch({});
  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.error().code, "sharepoint.consent_missing");
  EXPECT_NE(records.error().hint.find("Grant admin consent"), std::string::npos);
  EXPECT_EQ(records.error().details.at("graph_code"), "AccessDenied");
  EXPECT_FALSE(records.error().details.at("request_id").empty());
}

TEST(SharePointSource, WrongPermissionIsTranslated) {
  Harness h;
  auto src = h.source(h.source_yaml(kUserReadClient, kUserReadSecret));
  ASSERT_TRUE(src.ok());
  auto records = (*src)->fetch({});
  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.error().code, "sharepoint.permission_missing");
  EXPECT_NE(records.error().message.find("Sites.Read.All"), std::string::npos);
  EXPECT_NE(records.error().message.find("User.Read.All"), std::string::npos);
}

TEST(SharePointSource, UnknownSiteIsTranslated) {
  Harness h;
  std::string yaml = h.source_yaml(kValidClient, kValidSecret);
  yaml.replace(yaml.find("/sites/Sales"), 12, "/sites/Sails");
  auto src = h.source(yaml);
  ASSERT_TRUE(src.ok());
  auto records = (*src)->fetch({});
  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.error().code, "sharepoint.site_not_found");
  EXPECT_NE(records.error().message.find("/sites/Sails"), std::string::npos);
  EXPECT_EQ(records.error().details.at("graph_code"), "itemNotFound");
}

TEST(SharePointSource, UnknownListSuggestsTheClosestTitle) {
  Harness h;
  auto src = h.valid_source("list: Custmers\n");
  ASSERT_TRUE(src);
  auto records = src->fetch({});
  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.error().code, "sharepoint.list_not_found");
  EXPECT_NE(records.error().message.find("did you mean 'Customers'?"), std::string::npos)
      << records.error().message;
  EXPECT_NE(records.error().hint.find("Countries"), std::string::npos);
  EXPECT_EQ(h.route("items"), 0);
}

TEST(SharePointSource, ListByIdWorksToo) {
  Harness h;
  auto src = h.valid_source("list: 5f3c2b1a-9e8d-4c7b-a6f5-e4d3c2b1a005\n");
  ASSERT_TRUE(src);
  auto records = src->fetch({});
  ASSERT_TRUE(records.ok()) << records.error().to_string();
  EXPECT_EQ((*records)->size(), 3u);
}

TEST(SharePointSource, ListsAndColumnsForTheWizard) {
  Harness h;
  auto src = h.valid_source();
  ASSERT_TRUE(src);
  auto lists = list_lists(*src);
  ASSERT_TRUE(lists.ok()) << lists.error().to_string();
  std::set<std::string> titles;
  for (const auto& l : *lists) titles.insert(l.display_name);
  EXPECT_EQ(titles, (std::set<std::string>{"Customers", "Countries"}));

  auto columns = list_columns(*src);
  ASSERT_TRUE(columns.ok()) << columns.error().to_string();
  const ColumnInfo* manager = nullptr;
  for (const auto& c : *columns)
    if (c.display_name == "Account Manager") manager = &c;
  ASSERT_NE(manager, nullptr);
  EXPECT_EQ(manager->name, "Account_x0020_Manager");
  EXPECT_EQ(manager->type, "personOrGroup");
  EXPECT_EQ(manager->field_key, "Account_x0020_ManagerLookupId");
  auto json = to_json(*columns);
  bool found_title = false;
  for (const auto& c : json)
    if (c["name"] == "Title") {
      found_title = true;
      EXPECT_EQ(c["indexed"], true);
      EXPECT_EQ(c["template"], "{fields.Title}");
    }
  EXPECT_TRUE(found_title);
  EXPECT_EQ(h.tokens_issued(), 1);
  EXPECT_EQ(h.route("site_by_path"), 1);  // cached between the two calls
}

TEST(SharePointSourceConfig, BadSiteUrlNamesTheKey) {
  Harness h;
  std::string yaml = "type: sharepoint-list\ntenant: contoso.onmicrosoft.com\nclient_id: " +
                     std::string(kValidClient) + "\nclient_secret: x-secret-value\n" +
                     "site: https://intranet.example.com/sites/Sales\nlist: Customers\n";
  auto src = h.source(yaml);
  ASSERT_FALSE(src.ok());
  EXPECT_EQ(src.error().code, "sharepoint.bad_site_url");
  EXPECT_EQ(src.error().details.at("key"), "site");
}

TEST(SharePointSourceConfig, SelectTakesInternalNames) {
  Harness h;
  auto src = h.source(h.source_yaml(kValidClient, kValidSecret,
                                    "list: Customers\nselect: [Title, Account manager]\n"));
  ASSERT_FALSE(src.ok());
  EXPECT_EQ(src.error().code, "sharepoint.bad_select");
  EXPECT_NE(src.error().hint.find("Account_x0020_Manager"), std::string::npos);
}

TEST(SharePointSourceConfig, SecretExpiryWarningIsStatic) {
  Harness h;  // the manual clock starts in January 2027
  auto src = h.source(h.source_yaml(kValidClient, kValidSecret,
                                    "list: Customers\nclient_secret_expires: 2027-01-20\n"));
  ASSERT_TRUE(src.ok()) << src.error().to_string();
  auto warnings = (*src)->static_warnings();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("2027-01-20"), std::string::npos) << warnings[0];
}

}  // namespace
}  // namespace extdata::sources::sharepoint::testing
