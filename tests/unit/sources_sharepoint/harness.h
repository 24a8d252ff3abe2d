#pragma once
// GraphSim in-process on a real loopback HttpServer, and sharepoint-list sources pointed at
// it through real CurlHttpClients (no sleeps: every wait goes through a ManualClock).
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "auth/oauth2/token_cache.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "graphsim.h"
#include "http/curl_client.h"
#include "server/http_server.h"
#include "sources/sharepoint/sharepoint_source.h"

namespace extdata::sources::sharepoint::testing {

inline constexpr const char* kValidClient = "11111111-1111-4111-8111-111111111111";
inline constexpr const char* kValidSecret = "Abc8Q~testValidSecret.Value-0001xYz2";
inline constexpr const char* kExpiredClient = "22222222-2222-4222-8222-222222222222";
inline constexpr const char* kExpiredSecret = "Exp7Q~testExpiredSecret.Value-02aB";
inline constexpr const char* kNoConsentClient = "33333333-3333-4333-8333-333333333333";
inline constexpr const char* kNoConsentSecret = "Nc5Q~testNoConsentSecret.Value-03cD";
inline constexpr const char* kUserReadClient = "44444444-4444-4444-8444-444444444444";
inline constexpr const char* kUserReadSecret = "Usr4Q~testUserReadAllSecret.Val-04eF";

inline std::string read_fixture_text() {
  std::ifstream in(std::string(EXTDATA_SOURCE_DIR) + "/tests/unit/sources_sharepoint/fixture.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct SimOptions {
  int generate_customers = 0;
  std::optional<int> token_lifetime;
  bool own_clock = false;  // graphsim keeps its own clock (token expiry the client cannot see)
};

class Harness {
 public:
  explicit Harness(SimOptions options = {}) {
    auto fixture = graphsim::parse_fixture(read_fixture_text());
    EXPECT_TRUE(fixture.ok()) << (fixture.ok() ? "" : fixture.error().to_string());
    if (options.generate_customers > 0) {
      auto st = graphsim::generate_items(*fixture, "Customers", options.generate_customers);
      EXPECT_TRUE(st.ok());
    }
    graphsim::GraphSimOptions sim_options;
    sim_options.clock = options.own_clock ? &sim_clock : &clock;
    sim_options.token_lifetime_seconds = options.token_lifetime;
    auto sim = graphsim::GraphSim::create(std::move(*fixture), sim_options);
    EXPECT_TRUE(sim.ok());
    sim_ = std::move(*sim);
    server_ = std::make_unique<server::HttpServer>(
        server::ServerOptions{},
        server::sync_handler([this](const server::Request& r) { return sim_->handle(r); }));
    auto started = server_->start();
    EXPECT_TRUE(started.ok()) << (started.ok() ? "" : started.error().to_string());
    token_cache = std::make_shared<auth::TokenCache>(clock);
  }
  ~Harness() { server_->stop(); }

  graphsim::GraphSim& sim() { return *sim_; }
  std::string url() const { return server_->url(); }

  // A sharepoint-list source config pointed at graphsim; `extra` is appended YAML. Unless
  // `extra` names a sync mode, the source reads in full (`sync: full`): the tests written
  // before delta sync assert on the items route; delta_sync_test.cpp covers `sync: delta`.
  std::string source_yaml(const std::string& client_id, const std::string& secret,
                          const std::string& extra = "list: Customers\n") const {
    const std::string sync = extra.find("sync:") == std::string::npos ? "sync: full\n" : "";
    return sync +
           "type: sharepoint-list\n"
           "tenant: contoso.onmicrosoft.com\n"
           "client_id: " +
           client_id +
           "\n"
           "client_secret: \"" +
           secret +
           "\"\n"
           "site: https://contoso.sharepoint.com/sites/Sales\n"
           "authority: " +
           url() +
           "\n"
           "graph: " +
           url() + "/v1.0\n" + extra;
  }

  Result<std::shared_ptr<SharePointSource>> source(const std::string& yaml) {
    auto config = config::parse_source(yaml, "customers");
    if (!config.ok()) return config.error();
    SourceDeps deps{clock, metrics, token_cache, [this](const config::SourceConfig&) {
                      http::CurlOptions options;
                      options.retry.max_attempts = 4;
                      return std::shared_ptr<http::HttpClient>(
                          std::make_shared<http::CurlHttpClient>(options, &clock, &metrics));
                    }};
    return SharePointSource::create(*config, deps);
  }

  std::shared_ptr<SharePointSource> valid_source(const std::string& extra = "list: Customers\n") {
    auto s = source(source_yaml(kValidClient, kValidSecret, extra));
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().to_string());
    return s.ok() ? *s : nullptr;
  }

  void set_faults(const std::string& yaml) {
    auto node = YAML::Load(yaml);
    auto faults = graphsim::parse_faults(graphsim::YamlReader(node, "faults"));
    ASSERT_TRUE(faults.ok()) << faults.error().to_string();
    sim_->set_faults(*faults);
  }

  // The admin endpoint (docs/graphsim.md): change the list between syncs.
  nlohmann::json admin(const std::string& method, const std::string& path,
                       const std::string& body = "") {
    server::Request r;
    r.method = method;
    r.target = path;
    r.path = path;
    r.body = body;
    r.headers.emplace_back("Host", "127.0.0.1");
    auto response = sim_->handle(r);
    EXPECT_EQ(response.status, 200) << method << " " << path << ": " << response.body;
    return nlohmann::json::parse(response.body, nullptr, false);
  }
  std::string admin_list_path(const std::string& site_id) const {
    return "/_graphsim/sites/" + site_id + "/lists/Customers";
  }

  nlohmann::json counters() const { return sim_->counters(); }
  long long tokens_issued() const { return counters()["token_requests"]["issued"]; }
  long long route(const std::string& name) const {
    auto c = counters()["graph_requests"]["by_route"];
    return c.contains(name) ? c[name].get<long long>() : 0;
  }
  long long status_count(const std::string& status) const {
    auto c = counters()["graph_requests"]["by_status"];
    return c.contains(status) ? c[status].get<long long>() : 0;
  }
  // Items requests by target, as graphsim saw them.
  std::map<std::string, long long> item_targets() const {
    std::map<std::string, long long> out;
    const nlohmann::json all = counters();
    for (auto& [target, n] : all["graph_requests"]["by_target"].items())
      if (target.find("/items") != std::string::npos) out[target] = n.get<long long>();
    return out;
  }

  ManualClock clock;
  ManualClock sim_clock;
  Metrics metrics;
  std::shared_ptr<auth::TokenCache> token_cache;

 private:
  std::unique_ptr<graphsim::GraphSim> sim_;
  std::unique_ptr<server::HttpServer> server_;
};

}  // namespace extdata::sources::sharepoint::testing
