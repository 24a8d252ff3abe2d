// The manual two-step SharePoint flow as a plain rest source against graphsim: resolve the
// site by host and path, then page through the list's items with an app-only token.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "config/config.h"
#include "graphsim.h"
#include "sources/common/report.h"
#include "sources/kinds.h"

namespace extdata::sources {
namespace {

using nlohmann::json;

constexpr const char* kFixture = R"(
tenants:
  - id: 3b7e9c2a-5d41-4f8e-a6b0-1c2d3e4f5a6b
    display_name: Contoso
    domains: [contoso.onmicrosoft.com]
    apps:
      - client_id: 11111111-1111-4111-8111-111111111111
        display_name: extdata demo
        admin_consent: true
        roles: [Sites.Read.All]
        secrets:
          - {id: 9d2c7a51-3e8f-4b6a-9c1d-0e5f4a3b2c10, value: "Abc8Q~graphsimDemoSecret.Value-0001xYz2", expires: 2099-12-31T00:00:00Z}
    sites:
      - host: contoso.sharepoint.com
        path: /sites/Sales
        display_name: Sales
        site_collection_id: 6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c03
        web_id: 7b8c9d0e-1f2a-4b3c-9d4e-5f6a7b8c9d04
        lists:
          - title: Customers
            id: 5f3c2b1a-9e8d-4c7b-a6f5-e4d3c2b1a005
            columns:
              - {name: Title, display_name: Customer name, type: text, indexed: true}
              - {name: Country, display_name: Country, type: text}
            items:
              - {id: 1, fields: {Title: "Nordlicht Logistik AG", Country: Germany}}
              - {id: 2, fields: {Title: "Café Olé SARL", Country: France}}
              - {id: 3, fields: {Title: "Björk & Söner AB", Country: Sweden}}
              - {id: 4, fields: {Title: "Østfold Energi AS", Country: Norway}}
              - {id: 5, fields: {Title: "Zürcher Präzision AG", Country: Switzerland}}
)";

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t p = text.find(from); p != std::string::npos; p = text.find(from, p + to.size()))
    text.replace(p, from.size(), to);
  return text;
}

class GraphSimRest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fixture = graphsim::parse_fixture(kFixture);
    ASSERT_TRUE(fixture.ok()) << fixture.error().message;
    auto sim = graphsim::GraphSim::create(std::move(fixture).value());
    ASSERT_TRUE(sim.ok()) << sim.error().message;
    sim_ = std::move(sim).value();
    server_ = std::make_unique<server::HttpServer>(
        server::ServerOptions{},
        server::sync_handler([this](const server::Request& r) { return sim_->handle(r); }));
    ASSERT_TRUE(server_->start().ok());
  }

  std::unique_ptr<graphsim::GraphSim> sim_;
  std::unique_ptr<server::HttpServer> server_;
};

TEST_F(GraphSimRest, DocsExampleResolvesSiteAndPagesThroughItems) {
  // docs/sharepoint-rest-example.yaml, pointed at this graphsim and with two items per page.
  std::string text =
      read_file(std::string(EXTDATA_SOURCE_DIR) + "/docs/sharepoint-rest-example.yaml");
  ASSERT_FALSE(text.empty());
  text = replace_all(text, "http://127.0.0.1:8026", server_->url());
  text = replace_all(text, "expand=fields", "expand=fields&$top=2");
  auto file = config::parse_config(text);
  ASSERT_TRUE(file.ok()) << file.error().message << " "
                         << (file.ok() ? "" : file.error().details.at("issues"));
  ASSERT_EQ(file->sources.size(), 1u);

  ManualClock clock;
  Metrics metrics;
  SourceDeps deps{clock, metrics, nullptr, {}};
  auto source = make_source(file->sources[0], deps);
  ASSERT_TRUE(source.ok()) << source.error().message;

  auto report = test_source(**source, {});
  auto j = to_json(report);
  ASSERT_TRUE(j["ok"]) << j.dump(2);
  EXPECT_EQ(j["records"], 5);
  EXPECT_EQ(j["pages"], 3);
  EXPECT_EQ(j["steps"][0]["step"], "resolve site");
  EXPECT_NE(j["steps"][0]["url"].get<std::string>().find(
                "/v1.0/sites/contoso.sharepoint.com:/sites/Sales"),
            std::string::npos);
  EXPECT_NE(j["steps"][1]["url"].get<std::string>().find(
                "/sites/"
                "contoso.sharepoint.com%2C6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c03%2C7b8c9d0e-1f2a-"
                "4b3c-9d4e-5f6a7b8c9d04/lists/Customers/items"),
            std::string::npos);
  EXPECT_EQ(j["sample"][1],
            json::parse(R"({"id":"2","title":"Café Olé SARL","country":"France"})"));
  EXPECT_TRUE(j["warnings"].empty()) << j["warnings"].dump();

  // One token for four Graph requests; the variable overrides the declared default.
  auto other = test_source(**source, {{"list", "Nope"}});
  EXPECT_FALSE(other.ok);
  ASSERT_TRUE(other.error.has_value());
  EXPECT_EQ(other.error->code, "source.http_status");
  EXPECT_EQ(other.error->details.at("http_status"), "404");
  auto counters = sim_->counters();
  EXPECT_NE(counters.dump().find("\"issued\":1"), std::string::npos) << counters.dump(2);
}

}  // namespace
}  // namespace extdata::sources
