// Every source kind sends its requests through the same transport (sources/common/
// transport.h): one way to build the HTTP client and credential, one set of counters.
#include <gtest/gtest.h>

#include "harness.h"
#include "sources/common/transport.h"

namespace extdata::sources::sharepoint::testing {
namespace {

using namespace std::chrono_literals;

const http::CurlOptions& curl_options_of(const Transport& transport) {
  return dynamic_cast<const http::CurlHttpClient&>(transport.http()).options();
}

TEST(Transport, SharePointSourceClampsTheConnectTimeoutToItsTimeout) {
  Harness h;
  auto config = config::parse_source(
      h.source_yaml(kValidClient, kValidSecret, "list: Customers\ntimeout: 2s\n"), "customers");
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  SourceDeps deps{h.clock, h.metrics, h.token_cache, nullptr};  // the default client
  auto source = SharePointSource::create(*config, deps);
  ASSERT_TRUE(source.ok()) << source.error().to_string();
  const http::CurlOptions& options = curl_options_of((*source)->transport());
  EXPECT_EQ(options.total_timeout, 2000ms);
  EXPECT_EQ(options.connect_timeout, 2000ms);
  EXPECT_EQ(options.metrics_label, "customers");
}

TEST(Transport, RestAndSharePointBuildTheSameClientFromTheSameSettings) {
  Harness h;
  SourceDeps deps{h.clock, h.metrics, h.token_cache, nullptr};
  auto rest = config::parse_source(
      "type: rest\nurl: https://api.example.com/x\ntimeout: 500ms\nca_bundle: /etc/ca.pem\n", "r");
  auto sharepoint = config::parse_source(
      h.source_yaml(kValidClient, kValidSecret,
                    "list: Customers\ntimeout: 500ms\nca_bundle: /etc/ca.pem\n"),
      "r");
  ASSERT_TRUE(rest.ok() && sharepoint.ok());
  auto a = Transport::build(*rest, deps, {});
  auto b = Transport::build(*sharepoint, deps, {});
  ASSERT_TRUE(a.ok() && b.ok());
  for (const auto* t : {&*a, &*b}) {
    const http::CurlOptions& o = curl_options_of(*t);
    EXPECT_EQ(o.total_timeout, 500ms);
    EXPECT_EQ(o.connect_timeout, 500ms);
    EXPECT_EQ(o.ca_bundle, std::optional<std::string>("/etc/ca.pem"));
    EXPECT_EQ(o.metrics_label, "r");
  }
}

TEST(Transport, CredentialErrorsNameTheKeyWhereTheKindKeepsIt) {
  Harness h;
  SourceDeps deps{h.clock, h.metrics, h.token_cache, nullptr};
  auto rest = config::parse_source("type: rest\nurl: https://api.example.com/x\n", "r");
  ASSERT_TRUE(rest.ok());
  auto prefixed = Transport::build(
      *rest, deps, {.auth = {{"type", "bearer"}, {"token", ""}}, .key_prefix = "auth."});
  ASSERT_FALSE(prefixed.ok());
  EXPECT_EQ(prefixed.error().details.at("key"), "auth.token");
  auto renamed = Transport::build(*rest, deps,
                                  {.auth = {{"type", "oauth2"}, {"client_id", "c"}},
                                   .key_renames = {{"token_url", "authority"}}});
  ASSERT_FALSE(renamed.ok());
  EXPECT_EQ(renamed.error().details.at("key"), "authority");
}

TEST(Transport, TheCredentialGivesItsTokenWithoutACastToItsClass) {
  Harness h;
  auto source = h.valid_source();
  ASSERT_TRUE(source);
  auto token = source->credential()->access_token();
  ASSERT_TRUE(token.ok()) << token.error().to_string();
  EXPECT_FALSE(token->empty());
  EXPECT_EQ(source->credential()->token_endpoint(),
            h.url() + "/contoso.onmicrosoft.com/oauth2/v2.0/token");
  EXPECT_EQ(source->token_url(), source->credential()->token_endpoint());
}

TEST(Transport, BothKindsCountFetchesAndErrorsWithTheSameLabels) {
  Harness h;
  SourceDeps deps{h.clock, h.metrics, h.token_cache, nullptr};
  auto rest_config =
      config::parse_source("type: rest\nurl: http://127.0.0.1:1/x?country={country}\n", "rest-src");
  ASSERT_TRUE(rest_config.ok());
  auto rest = make_source(*rest_config, deps);
  ASSERT_TRUE(rest.ok());
  auto rest_result = (*rest)->fetch({});
  ASSERT_FALSE(rest_result.ok());

  auto sharepoint = h.valid_source("list: NoSuchList\n");
  ASSERT_TRUE(sharepoint);
  auto sharepoint_result = sharepoint->fetch({});
  ASSERT_FALSE(sharepoint_result.ok());

  for (const auto& [source, code] :
       {std::pair<std::string, std::string>{"rest-src", rest_result.error().code},
        {"customers", sharepoint_result.error().code}}) {
    EXPECT_EQ(h.metrics.counter_value("extdata_source_fetches_total", {{"source", source}}), 1)
        << source;
    EXPECT_EQ(h.metrics.counter_value("extdata_source_errors_total",
                                      {{"source", source}, {"code", code}}),
              1)
        << source << " " << code;
  }
}

}  // namespace
}  // namespace extdata::sources::sharepoint::testing
