// Templates keep the origin literal: no variable in the scheme, host or port of a source url,
// a step url or a token_url, and no value substituted into a path can change where the
// request goes (issue #15, row 3).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "core/url_template.h"
#include "sources/common/request_template.h"
#include "sources/kinds.h"
#include "sources/rest/rest_source.h"
#include "unit/sources_rest/scripted_server.h"
#include "unit/sources_rest/source_fixture.h"

namespace extdata::sources {
namespace {

using nlohmann::json;
using testing::RecordingServer;

using Fixture = testing::SourceFixture;

Result<std::shared_ptr<const extract::RecordSet>> fetch(Source& source, Variables vars) {
  FetchRequest request;
  request.variables = std::move(vars);
  return source.fetch(request, nullptr);
}

TEST(OriginLiteral, VariableInSchemeHostOrPortIsAValidationErrorNamingTheKey) {
  Fixture f;
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"type", "rest"}, {"url", "http://127.0.0.1:18801{+path}"}}, "url"},
      {{{"type", "rest"}, {"url", "https://{host}/records"}}, "url"},
      {{{"type", "rest"}, {"url", "https://api.example.com:{port}/records"}}, "url"},
      {{{"type", "rest"}, {"url", "https://{tenant}.example.com/records"}}, "url"},
      {{{"type", "rest"}, {"url", "https://user:{pw}@api.example.com/"}}, "url"},
      {{{"type", "rest"}, {"url", "https://api.example.com{{x}}/"}}, "url"},
      {{{"type", "rest"},
        {"steps",
         {{{"name", "login"}, {"url", "https://{host}/login"}, {"extract", {{"t", "$.t"}}}}}},
        {"url", "https://api.example.com/records"}},
       "steps[0].url"},
      {{{"type", "rest"},
        {"url", "https://api.example.com/records"},
        {"auth",
         {{"type", "oauth2"},
          {"token_url", "https://{tenant}.login.example.com/token"},
          {"client_id", "c"},
          {"client_secret", "s"}}}},
       "auth.token_url"},
  };
  for (const auto& [spec, key] : cases) {
    auto source = f.make(spec);
    ASSERT_FALSE(source.ok()) << spec.dump();
    EXPECT_NE(source.error().message.find(key), std::string::npos)
        << spec.dump() << " → " << source.error().message;
    EXPECT_NE(source.error().message.find("scheme, host or port"), std::string::npos)
        << source.error().message;
  }
}

TEST(OriginLiteral, RequestTemplateRefusesAPlaceholderInTheOriginItself) {
  auto t = RequestTemplate::compile({{"url", "http://127.0.0.1:18801{+path}"}}, "steps[1].");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, "source.template");
  EXPECT_EQ(t.error().details.at("key"), "steps[1].url");
  EXPECT_TRUE(RequestTemplate::compile({{"url", "http://127.0.0.1:18801/{+path}"}}, "").ok());
}

TEST(OriginLiteral, BraceInOriginFindsThePositionOnlyBeforeThePath) {
  EXPECT_EQ(brace_in_origin("https://{host}/x"), 8u);
  EXPECT_EQ(brace_in_origin("{base}/x"), 0u);
  EXPECT_EQ(brace_in_origin("http://h:80{+p}"), 11u);
  EXPECT_FALSE(brace_in_origin("https://h/{a}?q={b}#{c}"));
  EXPECT_FALSE(brace_in_origin("https://h?q={b}"));
}

// The reproduction of row 3: the bearer token of a source must not reach another server
// whatever a caller puts in a variable.
TEST(OriginLiteral, NoValueInAPathChangesTheAuthority) {
  RecordingServer target(
      [](int, const server::Request&) { return server::Response::json(200, "[]"); });
  RecordingServer other(
      [](int, const server::Request&) { return server::Response::json(200, "[]"); });
  const std::string other_authority = other.url().substr(std::string("http://").size());
  Fixture f;
  auto source = f.make({{"type", "rest"},
                        {"url", target.url("/api/{id}/{+path}?q={q}")},
                        {"auth", {{"type", "bearer"}, {"token", "secret-bearer"}}}});
  ASSERT_TRUE(source.ok()) << source.error().message;
  const std::vector<std::string> hostile = {"@" + other_authority + "/records",
                                            "//" + other_authority + "/records",
                                            "\\\\" + other_authority + "\\records",
                                            "http://" + other_authority + "/",
                                            other_authority,
                                            "%2F%2F" + other_authority,
                                            "#@" + other_authority,
                                            "?x=@" + other_authority};
  for (const auto& value : hostile) {
    for (const char* name : {"id", "path", "q"}) {
      Variables vars = {{"id", "1"}, {"path", "p"}, {"q", "x"}};
      vars[name] = value;
      auto r = fetch(**source, vars);
      EXPECT_TRUE(r.ok() || r.error().code == "source.variable_value")
          << name << "=" << value << ": " << r.error().message;
    }
  }
  EXPECT_TRUE(other.received().empty());
  for (const auto& got : target.received())
    EXPECT_EQ(got.header("Authorization"), "Bearer secret-bearer");
}

TEST(OriginLiteral, DotSegmentsFromValuesAreRefusedPerPosition) {
  RecordingServer srv(
      [](int, const server::Request&) { return server::Response::json(200, "[]"); });
  Fixture f;
  auto source = f.make({{"type", "rest"}, {"url", srv.url("/api/users/{id}/{+path}?q={q}")}});
  ASSERT_TRUE(source.ok()) << source.error().message;
  // In a path segment: "." and ".." would climb; encoded forms stay literal text.
  for (const char* bad : {"..", "."}) {
    auto r = fetch(**source, {{"id", bad}, {"path", "p"}, {"q", "x"}});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "source.variable_value") << r.error().message;
  }
  // In a reserved expansion: any dot segment, also percent-encoded.
  for (const char* bad : {"../../admin", "a/./b", "%2e%2e/admin", "%2E./x", "a/.%2E"}) {
    auto r = fetch(**source, {{"id", "1"}, {"path", bad}, {"q", "x"}});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "source.variable_value") << bad << ": " << r.error().message;
  }
  // In the query, dots are just text; and values that merely contain dots are fine.
  ASSERT_TRUE(fetch(**source, {{"id", "%2e%2e"}, {"path", "a..b/c."}, {"q", "../.."}}).ok());
  ASSERT_TRUE(fetch(**source, {{"id", "a\\b@c"}, {"path", "x"}, {"q", "1"}}).ok());
  auto got = srv.targets();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], "/api/users/%252e%252e/a..b/c.?q=..%2F..");
  EXPECT_EQ(got[1], "/api/users/a%5Cb%40c/x?q=1");
}

}  // namespace
}  // namespace extdata::sources
