// Fixture loading: the demo fixture, errors with key path and line, generated items.
#include <gtest/gtest.h>

#include "fixture.h"
#include "helpers.h"

namespace graphsim::testing {
namespace {

TEST(GraphsimFixture, DemoFixtureLoads) {
  auto fixture = load_fixture_file(demo_fixture_path());
  ASSERT_TRUE(fixture.ok()) << fixture.error().to_string();
  ASSERT_EQ(fixture->tenants.size(), 1u);
  const auto& tenant = *fixture->tenants[0];
  EXPECT_EQ(tenant.id, kTenantId);
  EXPECT_EQ(tenant.apps.size(), 4u);
  const SiteSpec* sales = nullptr;
  for (const auto& s : tenant.sites) {
    if (s->path == "/sites/Sales") sales = s.get();
  }
  ASSERT_NE(sales, nullptr);
  EXPECT_EQ(sales->id(), kSalesSiteId);
  const ListSpec& customers = *sales->lists[0];
  EXPECT_EQ(customers.display_name, "Customers");
  EXPECT_EQ(customers.items.size(), 60u);
  const ColumnSpec* manager = customers.column("Account_x0020_Manager");
  ASSERT_NE(manager, nullptr);  // derived from the display name "Account Manager"
  EXPECT_EQ(manager->field_key(), "Account_x0020_ManagerLookupId");
  bool system_list = false;
  for (const auto& l : sales->lists) system_list = system_list || l->system;
  EXPECT_TRUE(system_list);
}

std::string error_of(const std::string& yaml) {
  auto f = parse_fixture(yaml);
  EXPECT_FALSE(f.ok());
  return f.ok() ? std::string() : f.error().message;
}

constexpr const char* kTenantHead = R"(tenants:
  - id: 3b7e9c2a-5d41-4f8e-a6b0-1c2d3e4f5a6b
    domains: [contoso.onmicrosoft.com]
)";

TEST(GraphsimFixture, ErrorsNameKeyPathAndLine) {
  EXPECT_EQ(error_of(std::string(kTenantHead) + R"(    sites:
      - host: contoso.sharepoint.com
        path: /sites/Sales
        lists:
          - title: Customers
            columns:
              - {name: Title}
              - {name: Country, type: txt}
)"),
            "tenants[0].sites[0].lists[0].columns[1].type (line 11): unknown column type 'txt'");
  EXPECT_EQ(error_of(R"(tenants:
  - id: not-a-guid
)"),
            "tenants[0].id (line 2): a tenant id is a GUID, got 'not-a-guid'");
  EXPECT_EQ(error_of(std::string(kTenantHead) + R"(    apps:
      - client_id: 11111111-1111-4111-8111-111111111111
        secrets:
          - {value: abc, expires: tomorrow}
)"),
            "tenants[0].apps[0].secrets[0].expires (line 7): expected an RFC 3339 time such as "
            "2026-01-31T00:00:00Z, got 'tomorrow'");
  EXPECT_EQ(error_of(std::string(kTenantHead) + R"(    sites:
      - host: contoso.sharepoint.com
        lists:
          - title: Customers
            indexd: true
)"),
            "tenants[0].sites[0].lists[0].indexd (line 8): unknown key 'indexd'");
  std::string missing_column = error_of(std::string(kTenantHead) + R"(    sites:
      - host: contoso.sharepoint.com
        lists:
          - title: Customers
            items:
              - fields: {Title: a, Country: b}
)");
  EXPECT_EQ(missing_column.rfind("tenants[0].sites[0].lists[0].items[0].fields.Country (line 9): "
                                 "no column with internal name 'Country'",
                                 0),
            0u)
      << missing_column;
  std::string bad_number = error_of(std::string(kTenantHead) + R"(    sites:
      - host: contoso.sharepoint.com
        lists:
          - title: Customers
            columns: [{name: Revenue, type: number}]
            items:
              - fields: {Revenue: lots}
)");
  EXPECT_EQ(bad_number,
            "tenants[0].sites[0].lists[0].items[0].fields.Revenue (line 10): expected a "
            "number, got 'lots'");
  EXPECT_NE(error_of("tenants: [").find("(line "), std::string::npos);
  EXPECT_EQ(error_of("tenant: []"), "tenant (line 1): unknown key 'tenant'");
}

TEST(GraphsimFixture, MissingFileFailsClearly) {
  auto f = load_fixture_file("/nonexistent/fixture.yaml");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find("/nonexistent/fixture.yaml"), std::string::npos);
}

TEST(GraphsimFixture, JsonFixturesWork) {
  auto f = parse_fixture(R"({"tenants": [{"id": "3b7e9c2a-5d41-4f8e-a6b0-1c2d3e4f5a6b",
    "sites": [{"host": "contoso.sharepoint.com", "path": "/sites/X",
      "lists": [{"title": "L", "columns": [{"display_name": "Due Date", "type": "dateTime"}],
                 "items": [{"fields": {"Title": "a", "Due_x0020_Date": "2026-01-02T03:04:05+01:00"}}]}]}]}]})");
  ASSERT_TRUE(f.ok()) << f.error().to_string();
  const auto& list = *f->tenants[0]->sites[0]->lists[0];
  ASSERT_EQ(list.items.size(), 1u);
  ASSERT_EQ(list.items[0].values.size(), 2u);
  EXPECT_EQ(list.items[0].values[1].second, "2026-01-02T02:04:05Z");
}

TEST(GraphsimFixture, GeneratedItemsAreDeterministicAndUseFixtureValues) {
  auto a = load_fixture_file(demo_fixture_path());
  auto b = load_fixture_file(demo_fixture_path());
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(generate_items(*a, "Customers", 1000).ok());
  ASSERT_TRUE(generate_items(*b, "customers", 1000).ok());
  const ListSpec& la = *a->tenants[0]->sites[1]->lists[0];
  const ListSpec& lb = *b->tenants[0]->sites[1]->lists[0];
  ASSERT_EQ(la.items.size(), 1060u);
  EXPECT_EQ(la.items.back().id, 1060);
  for (size_t i = 0; i < la.items.size(); ++i) {
    ASSERT_EQ(la.items[i].values, lb.items[i].values) << i;
  }
  int country = la.column_index("Country");
  std::set<std::string> fixture_countries;
  for (size_t i = 0; i < 60; ++i) {
    for (const auto& [idx, v] : la.items[i].values) {
      if (idx == country) fixture_countries.insert(v.get<std::string>());
    }
  }
  for (size_t i = 60; i < la.items.size(); ++i) {
    for (const auto& [idx, v] : la.items[i].values) {
      if (idx == country) {
        EXPECT_TRUE(fixture_countries.count(v.get<std::string>()));
      }
    }
  }
  auto missing = generate_items(*a, "Nope", 1);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().hint.find("Customers"), std::string::npos);
}

TEST(GraphsimFixture, TimeParsing) {
  EXPECT_EQ(format_time(*parse_time("2026-01-02T03:04:05Z")), "2026-01-02T03:04:05Z");
  EXPECT_EQ(format_time(*parse_time("2026-01-02T03:04:05.123Z")), "2026-01-02T03:04:05Z");
  EXPECT_EQ(format_time(*parse_time("2026-01-02")), "2026-01-02T00:00:00Z");
  EXPECT_FALSE(parse_time("2026-13-02"));
  EXPECT_FALSE(parse_time("yesterday"));
}

}  // namespace
}  // namespace graphsim::testing
