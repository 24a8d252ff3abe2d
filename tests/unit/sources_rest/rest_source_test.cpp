#include "sources/rest/rest_source.h"

#include <gtest/gtest.h>

#include <sstream>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "sources/common/report.h"
#include "sources/kinds.h"
#include "unit/sources_rest/scripted_server.h"
#include "unit/sources_rest/source_fixture.h"

namespace extdata::sources {
namespace {

using nlohmann::json;
using testing::RecordingServer;
using testing::with_header;

using Fixture = testing::SourceFixture;

Result<std::shared_ptr<const extract::RecordSet>> fetch(Source& source, Variables vars = {},
                                                        FetchTrace* trace = nullptr) {
  FetchRequest request;
  request.variables = std::move(vars);
  return source.fetch(request, trace);
}

std::vector<std::string> titles(const extract::RecordSet& set) {
  std::vector<std::string> out;
  for (const auto& r : records_to_json(set)) out.push_back(r.value("title", r.dump()));
  return out;
}

// ------------------------------------------------------------------ variables

TEST(RestVariables, EncodesEachValueForWhereItStands) {
  RecordingServer srv(
      [](int, const server::Request&) { return server::Response::json(200, "[]"); });
  Fixture f;
  auto source = f.must_make({{"type", "rest"},
                             {"url", srv.url("/users/{id}/files/{+path}?q={q}&tag={tag|none}")},
                             {"headers", {{"X-Who", "{who}"}}}});
  ASSERT_TRUE(source);
  auto r = fetch(*source, {{"id", "a/b c"},
                           {"path", "sites/Sales Team"},
                           {"q", "x&y=z/ü"},
                           {"who", "Ann \"A\" Smith"}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto got = srv.received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].target,
            "/users/a%2Fb%20c/files/sites/Sales%20Team?q=x%26y%3Dz%2F%C3%BC&tag=none");
  EXPECT_EQ(got[0].header("X-Who").value_or(""), "Ann \"A\" Smith");
}

TEST(RestVariables, DeclaredRawVariableKeepsSlashesAndDefaultsApply) {
  RecordingServer srv(
      [](int, const server::Request&) { return server::Response::json(200, "[]"); });
  Fixture f;
  auto source = f.must_make({{"type", "rest"},
                             {"url", srv.url("/sites/{host}:/{path}?list={list}")},
                             {"variables",
                              {{"path", {{"raw", true}, {"default", "sites/Sales"}}},
                               {"host", {{"required", true}}},
                               {"list", {{"default", "Customers & Co"}}}}}});
  ASSERT_TRUE(source);
  ASSERT_TRUE(fetch(*source, {{"host", "contoso.sharepoint.com"}}).ok());
  EXPECT_EQ(srv.targets().at(0),
            "/sites/contoso.sharepoint.com:/sites/Sales?list=Customers%20%26%20Co");
  auto names = source->variable_names();
  EXPECT_EQ(names, (std::vector<std::string>{"host", "list", "path"}));
}

TEST(RestVariables, JsonBodyValuesAreEscapedInsideStrings) {
  RecordingServer srv(
      [](int, const server::Request&) { return server::Response::json(200, "[]"); });
  Fixture f;
  auto source = f.must_make(
      {{"type", "rest"},
       {"url", srv.url("/search")},
       {"method", "POST"},
       {"body",
        {{"filter", {{"name", "{name}"}, {"tags", json::array({"{tag}", 3})}}}, {"limit", 10}}}});
  ASSERT_TRUE(source);
  ASSERT_TRUE(fetch(*source, {{"name", "He said \"hi\"\n{x}"}, {"tag", "a\\b"}}).ok());
  auto got = srv.received().at(0);
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.header("Content-Type").value_or(""), "application/json");
  auto body = json::parse(got.body);
  EXPECT_EQ(body["filter"]["name"], "He said \"hi\"\n{x}");
  EXPECT_EQ(body["filter"]["tags"], json::array({"a\\b", 3}));
  EXPECT_EQ(body["limit"], 10);
}

TEST(RestVariables, JsonTextBodyEscapesValues) {
  RecordingServer srv(
      [](int, const server::Request&) { return server::Response::json(200, "[]"); });
  Fixture f;
  auto source = f.must_make({{"type", "rest"},
                             {"url", srv.url("/q")},
                             {"method", "POST"},
                             {"body", "{{\"q\": \"{q}\"}}"}});
  ASSERT_TRUE(source);
  ASSERT_TRUE(fetch(*source, {{"q", "a\"b"}}).ok());
  EXPECT_EQ(srv.received().at(0).body, R"({"q": "a\"b"})");
}

TEST(RestVariables, FormBodyIsFormEncoded) {
  RecordingServer srv(
      [](int, const server::Request&) { return server::Response::json(200, "[]"); });
  Fixture f;
  auto source = f.must_make({{"type", "rest"},
                             {"url", srv.url("/form")},
                             {"method", "POST"},
                             {"body_format", "form"},
                             {"body", {{"q", "{q}"}, {"page size", 5}}}});
  ASSERT_TRUE(source);
  ASSERT_TRUE(fetch(*source, {{"q", "a b&c=d"}}).ok());
  auto got = srv.received().at(0);
  EXPECT_EQ(got.header("Content-Type").value_or(""), "application/x-www-form-urlencoded");
  EXPECT_EQ(got.body, "page%20size=5&q=a%20b%26c%3Dd");
}

TEST(RestVariables, HeaderValueWithLineBreakIsRejected) {
  RecordingServer srv(
      [](int, const server::Request&) { return server::Response::json(200, "[]"); });
  Fixture f;
  auto source =
      f.must_make({{"type", "rest"}, {"url", srv.url("/")}, {"headers", {{"X-Who", "{who}"}}}});
  ASSERT_TRUE(source);
  auto r = fetch(*source, {{"who", "a\r\nX-Evil: 1"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "source.header");
  EXPECT_NE(r.error().message.find("headers.X-Who"), std::string::npos);
  EXPECT_TRUE(srv.received().empty());
}

TEST(RestVariables, MissingVariableIsNamedWithWhereItIsUsed) {
  RecordingServer srv(
      [](int, const server::Request&) { return server::Response::json(200, "[]"); });
  Fixture f;
  auto source = f.must_make({{"type", "rest"}, {"url", srv.url("/customers?country={country}")}});
  ASSERT_TRUE(source);
  auto r = fetch(*source);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "source.variable_missing");
  EXPECT_EQ(r.error().message, "missing required variable 'country' (used in url)");
  EXPECT_TRUE(srv.received().empty());
  EXPECT_EQ(f.metrics.counter_value("extdata_source_errors_total",
                                    {{"source", "src"}, {"code", "source.variable_missing"}}),
            1);
}

TEST(RestVariables, DeclaredRequiredVariableMissing) {
  Fixture f;
  auto source = f.must_make({{"type", "rest"},
                             {"url", "http://127.0.0.1:9/x"},
                             {"variables", {{"list", {{"required", true}}}}}});
  ASSERT_TRUE(source);
  auto r = fetch(*source);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "source.variable_missing");
  EXPECT_NE(r.error().message.find("'list'"), std::string::npos);
}

TEST(RestConfig, TemplateErrorsNameTheKeyAndPosition) {
  Fixture f;
  auto r = f.make({{"type", "rest"}, {"url", "http://h/a?x={oops"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "source.template");
  EXPECT_EQ(r.error().message.rfind("url: template error at 13", 0), 0u) << r.error().message;
  auto bad_records =
      f.make({{"type", "rest"}, {"url", "http://h/"}, {"format", "json"}, {"records", "$.value["}});
  ASSERT_FALSE(bad_records.ok());
  EXPECT_EQ(bad_records.error().details.at("key"), "records");
  auto bad_step = f.make(
      {{"type", "rest"}, {"url", "http://h/"}, {"steps", json::array({{{"url", "http://h/{a"}}})}});
  ASSERT_FALSE(bad_step.ok());
  EXPECT_EQ(bad_step.error().details.at("key"), "steps[0].url");
}

TEST(RestConfig, UnknownTypeAndKeyAreClearErrors) {
  Fixture f;
  config::SourceConfig config;
  config.name = "x";
  config.type = "ftp";
  auto r = make_source(config, f.deps);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "source.unknown_type");
  EXPECT_NE(r.error().message.find("'ftp'"), std::string::npos);
  auto unknown_key =
      f.make({{"type", "rest"}, {"url", "http://h/"}, {"paginaton", {{"type", "cursor"}}}});
  ASSERT_FALSE(unknown_key.ok());
  EXPECT_EQ(unknown_key.error().code, "config.invalid");
}

// ------------------------------------------------------------------ steps

TEST(RestSteps, ExtractedValuesFeedLaterRequests) {
  RecordingServer srv([](int, const server::Request& req) {
    if (req.path == "/sites/contoso:/sites/Sales")
      return server::Response::json(200, R"({"id":"contoso,a/1,b"})");
    return server::Response::json(200, R"({"value":[{"title":"one"},{"title":"two"}]})");
  });
  Fixture f;
  auto source = f.must_make({{"type", "rest"},
                             {"steps",
                              {{{"name", "resolve site"},
                                {"url", srv.url("/sites/{host}:/{+path}")},
                                {"extract", {{"site_id", "$.id"}}}}}},
                             {"url", srv.url("/sites/{site_id}/items")},
                             {"records", "$.value[*]"},
                             {"columns", {{"title", "title"}}}});
  ASSERT_TRUE(source);
  FetchTrace trace;
  auto r = fetch(*source, {{"host", "contoso"}, {"path", "sites/Sales"}}, &trace);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(srv.targets(), (std::vector<std::string>{"/sites/contoso:/sites/Sales",
                                                     "/sites/contoso%2Ca%2F1%2Cb/items"}));
  EXPECT_EQ(titles(**r), (std::vector<std::string>{"one", "two"}));
  ASSERT_EQ(trace.steps.size(), 2u);
  EXPECT_EQ(trace.steps[0].step, "resolve site");
  EXPECT_EQ(trace.steps[0].status, 200);
  EXPECT_EQ(trace.steps[1].step, "fetch");
  EXPECT_EQ(trace.pages, 1);
  // site_id comes from the step, so callers are not asked for it.
  EXPECT_EQ(source->variable_names(), (std::vector<std::string>{"host", "path"}));
}

TEST(RestSteps, ExtractMatchingNothingNamesStepAndPath) {
  RecordingServer srv(
      [](int, const server::Request&) { return server::Response::json(200, R"({"name":"x"})"); });
  Fixture f;
  auto source = f.must_make(
      {{"type", "rest"},
       {"steps", {{{"name", "lookup"}, {"url", srv.url("/a")}, {"extract", {{"id", "$.id"}}}}}},
       {"url", srv.url("/b/{id}")}});
  ASSERT_TRUE(source);
  auto r = fetch(*source);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "source.extract");
  EXPECT_NE(r.error().message.find("step 'lookup'"), std::string::npos);
  EXPECT_NE(r.error().message.find("$.id"), std::string::npos);
  EXPECT_EQ(srv.received().size(), 1u);
}

TEST(RestSteps, XmlStepExtractsByXPath) {
  RecordingServer srv([](int, const server::Request& req) {
    if (req.path == "/token")
      return server::Response::text(200, "<r><sid>S 1</sid></r>", "application/xml");
    return server::Response::json(200, "[{\"title\":\"ok\"}]");
  });
  Fixture f;
  auto source =
      f.must_make({{"type", "rest"},
                   {"steps", {{{"url", srv.url("/token")}, {"extract", {{"sid", "/r/sid"}}}}}},
                   {"url", srv.url("/items?session={sid}")}});
  ASSERT_TRUE(source);
  ASSERT_TRUE(fetch(*source).ok());
  EXPECT_EQ(srv.targets().at(1), "/items?session=S%201");
}

// ------------------------------------------------------------------ pagination

std::string page_of(const std::vector<std::string>& items, const std::string& extra = "") {
  json j = {{"value", json::array()}};
  for (const auto& i : items) j["value"].push_back({{"title", i}});
  std::string text = j.dump();
  if (!extra.empty()) text = text.substr(0, text.size() - 1) + "," + extra + "}";
  return text;
}

json paged_source(const std::string& url, json pagination) {
  return {{"type", "rest"},
          {"url", url},
          {"records", "$.value[*]"},
          {"columns", {{"title", "title"}}},
          {"pagination", pagination}};
}

TEST(RestPagination, NextLinkByPathAbsoluteAndRelative) {
  RecordingServer* self = nullptr;
  RecordingServer srv([&self](int n, const server::Request&) {
    if (n == 1)
      return server::Response::json(
          200, page_of({"a", "b"}, R"("@odata.nextLink":")" + self->url("/items?skip=2") + "\""));
    if (n == 2)
      return server::Response::json(200, page_of({"c"}, R"("@odata.nextLink":"/items?skip=3")"));
    return server::Response::json(200, page_of({"d"}));
  });
  self = &srv;
  Fixture f;
  auto source = f.must_make(paged_source(srv.url("/items"), {{"type", "next_link"}}));
  ASSERT_TRUE(source);
  FetchTrace trace;
  std::vector<int> progress;
  FetchRequest request;
  request.on_progress = [&](const Progress& p) { progress.push_back(static_cast<int>(p.records)); };
  auto r = source->fetch(request, &trace);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(titles(**r), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(srv.targets(), (std::vector<std::string>{"/items", "/items?skip=2", "/items?skip=3"}));
  EXPECT_EQ(trace.pages, 3);
  EXPECT_EQ(trace.steps.at(2).step, "fetch (page 3)");
  EXPECT_EQ(progress, (std::vector<int>{2, 3, 4}));
  EXPECT_TRUE(trace.warnings.empty());
  EXPECT_EQ(f.metrics.counter_value("extdata_source_pages_total", {{"source", "src"}}), 3);
  EXPECT_EQ(f.metrics.counter_value("extdata_source_fetches_total", {{"source", "src"}}), 1);
}

TEST(RestPagination, RepeatedNextLinkStopsWithWarning) {
  RecordingServer srv([](int n, const server::Request&) {
    return server::Response::json(
        200, page_of({"p" + std::to_string(n)}, R"("@odata.nextLink":"/items?skip=1")"));
  });
  Fixture f;
  auto source = f.must_make(paged_source(srv.url("/items"), {{"type", "next_link"}}));
  ASSERT_TRUE(source);
  FetchTrace trace;
  auto r = fetch(*source, {}, &trace);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(srv.targets(), (std::vector<std::string>{"/items", "/items?skip=1"}));
  EXPECT_EQ((*r)->size(), 2u);
  ASSERT_EQ(trace.warnings.size(), 1u);
  EXPECT_NE(trace.warnings[0].find("repeats"), std::string::npos);
}

TEST(RestPagination, LinkHeader) {
  RecordingServer srv([](int n, const server::Request&) {
    auto r = server::Response::json(200, "[{\"title\":\"t" + std::to_string(n) + "\"}]");
    if (n == 1)
      return with_header(r, "Link", "</items?page=2>; rel=\"next\", </items?page=9>; rel=\"last\"");
    if (n == 2)
      return with_header(r, "Link",
                         "</items?page=1>; rel=\"prev first\", </items?page=3>; rel=\"next\"");
    return with_header(r, "Link", "</items?page=1>; rel=\"first\"");
  });
  Fixture f;
  auto source = f.must_make(
      {{"type", "rest"}, {"url", srv.url("/items")}, {"pagination", {{"type", "link_header"}}}});
  ASSERT_TRUE(source);
  auto r = fetch(*source);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(srv.targets(), (std::vector<std::string>{"/items", "/items?page=2", "/items?page=3"}));
  EXPECT_EQ((*r)->size(), 3u);
}

TEST(RestPagination, OffsetLimitStopsAtShortPage) {
  RecordingServer srv([](int, const server::Request& req) {
    const int offset = std::stoi(req.query_param("offset").value_or("-1"));
    std::vector<std::string> items;
    for (int i = offset; i < std::min(offset + 2, 5); ++i) items.push_back("r" + std::to_string(i));
    return server::Response::json(200, page_of(items));
  });
  Fixture f;
  auto source =
      f.must_make(paged_source(srv.url("/items?sort=id"), {{"type", "offset"}, {"limit", 2}}));
  ASSERT_TRUE(source);
  auto r = fetch(*source);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(titles(**r), (std::vector<std::string>{"r0", "r1", "r2", "r3", "r4"}));
  EXPECT_EQ(srv.targets(), (std::vector<std::string>{"/items?sort=id&offset=0&limit=2",
                                                     "/items?sort=id&limit=2&offset=2",
                                                     "/items?sort=id&limit=2&offset=4"}));
}

TEST(RestPagination, PageNumberStopsAtEmptyPage) {
  RecordingServer srv([](int, const server::Request& req) {
    const int page = std::stoi(req.query_param("p").value_or("0"));
    return server::Response::json(200,
                                  page <= 2 ? page_of({"x" + std::to_string(page)}) : page_of({}));
  });
  Fixture f;
  auto source = f.must_make(paged_source(srv.url("/items"), {{"type", "page"}, {"param", "p"}}));
  ASSERT_TRUE(source);
  auto r = fetch(*source);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(titles(**r), (std::vector<std::string>{"x1", "x2"}));
  EXPECT_EQ(srv.targets(), (std::vector<std::string>{"/items?p=1", "/items?p=2", "/items?p=3"}));
}

TEST(RestPagination, CursorFromBodyAndRepeatedCursorWarning) {
  RecordingServer srv([](int, const server::Request& req) {
    const auto cursor = req.query_param("after");
    if (!cursor) return server::Response::json(200, page_of({"a"}, R"("meta":{"next":"c/1=="})"));
    if (*cursor == "c/1==")
      return server::Response::json(200, page_of({"b"}, R"("meta":{"next":"c2"})"));
    return server::Response::json(200, page_of({"c"}, R"("meta":{"next":"c2"})"));
  });
  Fixture f;
  auto source = f.must_make(paged_source(
      srv.url("/items"), {{"type", "cursor"}, {"cursor", "$.meta.next"}, {"param", "after"}}));
  ASSERT_TRUE(source);
  FetchTrace trace;
  auto r = fetch(*source, {}, &trace);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(titles(**r), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(srv.targets(),
            (std::vector<std::string>{"/items", "/items?after=c%2F1%3D%3D", "/items?after=c2"}));
  ASSERT_EQ(trace.warnings.size(), 1u);
  EXPECT_NE(trace.warnings[0].find("cursor repeats"), std::string::npos);
}

TEST(RestPagination, MaxPagesAndMaxRecordsCaps) {
  RecordingServer srv([](int n, const server::Request&) {
    return server::Response::json(
        200, page_of({"a" + std::to_string(n), "b" + std::to_string(n)},
                     R"("@odata.nextLink":"/items?n=)" + std::to_string(n) + "\""));
  });
  Fixture f;
  auto pages =
      f.must_make(paged_source(srv.url("/items"), {{"type", "next_link"}, {"max_pages", 2}}));
  ASSERT_TRUE(pages);
  FetchTrace trace;
  auto r = fetch(*pages, {}, &trace);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->size(), 4u);
  EXPECT_EQ(srv.received().size(), 2u);
  ASSERT_EQ(trace.warnings.size(), 1u);
  EXPECT_NE(trace.warnings[0].find("max_pages (2)"), std::string::npos);

  auto records =
      f.must_make(paged_source(srv.url("/items"), {{"type", "next_link"}, {"max_records", 3}}));
  ASSERT_TRUE(records);
  FetchTrace trace2;
  auto r2 = fetch(*records, {}, &trace2);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(titles(**r2), (std::vector<std::string>{"a3", "b3", "a4"}));
  EXPECT_EQ(srv.received().size(), 4u);
  ASSERT_EQ(trace2.warnings.size(), 1u);
  EXPECT_NE(trace2.warnings[0].find("max_records (3)"), std::string::npos);
}

// ------------------------------------------------------------------ formats and errors

TEST(RestFormats, NonJsonBodyIsAFormatError) {
  RecordingServer srv([](int, const server::Request&) {
    return server::Response::text(200, "<html>login page</html>", "text/html");
  });
  Fixture f;
  auto source = f.must_make({{"type", "rest"}, {"url", srv.url("/")}, {"format", "json"}});
  ASSERT_TRUE(source);
  auto r = fetch(*source);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "source.format");
  EXPECT_NE(r.error().message.find("not valid JSON"), std::string::npos);
  EXPECT_NE(r.error().hint.find("text/html"), std::string::npos);
}

// The page body moves into the record set; the error still quotes its start, marked as cut.
TEST(RestFormats, FormatErrorQuotesTheStartOfALongBody) {
  const std::string body = "<html>" + std::string(1000, 'x') + "</html>";
  RecordingServer srv(
      [&](int, const server::Request&) { return server::Response::text(200, body, "text/html"); });
  Fixture f;
  auto source = f.must_make({{"type", "rest"}, {"url", srv.url("/")}, {"format", "json"}});
  ASSERT_TRUE(source);
  auto r = fetch(*source);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "source.format");
  EXPECT_EQ(r.error().details.at("body"), body.substr(0, 300) + "…");
}

TEST(RestFormats, XmlRecordsAndColumns) {
  RecordingServer srv([](int, const server::Request&) {
    return server::Response::text(
        200,
        R"(<feed xmlns="urn:c"><entry id="1"><name>Acme</name></entry><entry id="2"><name>Béta</name></entry></feed>)",
        "application/atom+xml");
  });
  Fixture f;
  auto source = f.must_make({{"type", "rest"},
                             {"url", srv.url("/")},
                             {"format", "xml"},
                             {"namespaces", {{"c", "urn:c"}}},
                             {"records", "//c:entry"},
                             {"columns", {{"id", "@id"}, {"name", "c:name"}}}});
  ASSERT_TRUE(source);
  auto r = fetch(*source);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(records_to_json(**r),
            json::parse(R"([{"id":"1","name":"Acme"},{"id":"2","name":"Béta"}])"));
}

TEST(RestFormats, CsvWithDetectedFormatAndHeaderColumns) {
  RecordingServer srv([](int, const server::Request&) {
    return server::Response::text(200, "Customer Name;Country\r\nAcme;DE\r\n\"Bolt; Inc\";FR\r\n",
                                  "text/csv");
  });
  Fixture f;
  auto source = f.must_make({{"type", "rest"},
                             {"url", srv.url("/")},
                             {"columns", {{"name", "Customer Name"}, {"country", "Country"}}}});
  ASSERT_TRUE(source);
  auto r = fetch(*source);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(records_to_json(**r),
            json::parse(R"([{"name":"Acme","country":"DE"},{"name":"Bolt; Inc","country":"FR"}])"));
  EXPECT_EQ(records_to_csv(**r), "country,name\r\nDE,Acme\r\nFR,Bolt; Inc\r\n");
  // What `extdata fetch --output json` streams: the same records, one per line.
  std::ostringstream streamed;
  write_records_json(streamed, **r);
  EXPECT_EQ(streamed.str(),
            "[\n{\"country\":\"DE\",\"name\":\"Acme\"},\n{\"country\":\"FR\",\"name\":\"Bolt; "
            "Inc\"}\n]\n");
  EXPECT_EQ(json::parse(streamed.str()), records_to_json(**r));
}

TEST(RestErrors, UpstreamStatusIsTranslated) {
  RecordingServer srv([](int, const server::Request&) {
    return server::Response::json(
        404, R"({"error":{"code":"itemNotFound","message":"The list does not exist."}})");
  });
  Fixture f;
  auto source = f.must_make({{"type", "rest"}, {"url", srv.url("/lists/{list}")}});
  ASSERT_TRUE(source);
  FetchTrace trace;
  auto r = fetch(*source, {{"list", "Nope"}}, &trace);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "source.http_status");
  EXPECT_EQ(r.error().details.at("http_status"), "404");
  EXPECT_EQ(r.error().details.at("upstream_code"), "itemNotFound");
  EXPECT_NE(r.error().message.find("The list does not exist."), std::string::npos);
  EXPECT_NE(r.error().hint.find("does not exist"), std::string::npos);
  ASSERT_EQ(trace.steps.size(), 1u);
  EXPECT_EQ(trace.steps[0].status, 404);
}

// ------------------------------------------------------------------ auth

TEST(RestAuth, BearerAndApiKeyAreSentAndNotTraced) {
  RecordingServer srv(
      [](int, const server::Request&) { return server::Response::json(200, "[]"); });
  Fixture f;
  auto bearer = f.must_make({{"type", "rest"},
                             {"url", srv.url("/a")},
                             {"auth", {{"type", "bearer"}, {"token", "tok-123456789"}}}});
  ASSERT_TRUE(bearer);
  ASSERT_TRUE(fetch(*bearer).ok());
  auto query_key = f.must_make({{"type", "rest"},
                                {"url", srv.url("/b")},
                                {"auth",
                                 {{"type", "api_key"},
                                  {"name", "api_key"},
                                  {"value", "k3y-secret-value"},
                                  {"in", "query"}}}});
  ASSERT_TRUE(query_key);
  FetchTrace trace;
  ASSERT_TRUE(fetch(*query_key, {}, &trace).ok());
  auto header_key = f.must_make(
      {{"type", "rest"},
       {"url", srv.url("/c")},
       {"auth", {{"type", "api_key"}, {"name", "X-Api-Key"}, {"value", "k3y-header-value"}}}});
  ASSERT_TRUE(header_key);
  ASSERT_TRUE(fetch(*header_key).ok());
  auto got = srv.received();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].header("Authorization").value_or(""), "Bearer tok-123456789");
  EXPECT_EQ(got[1].query_param("api_key").value_or(""), "k3y-secret-value");
  EXPECT_EQ(got[2].header("X-Api-Key").value_or(""), "k3y-header-value");
  EXPECT_EQ(trace.steps.at(0).url.find("k3y"), std::string::npos);
}

// ------------------------------------------------------------------ test report

TEST(RestReport, TestReportJson) {
  RecordingServer srv([](int, const server::Request&) {
    return server::Response::json(200, R"({"value":[{"title":"a","n":1},{"title":"b","n":2}]})");
  });
  Fixture f;
  auto source = f.must_make({{"type", "rest"}, {"url", srv.url("/x")}, {"records", "$.value[*]"}});
  ASSERT_TRUE(source);
  auto report = test_source(*source, {});
  auto j = to_json(report);
  EXPECT_TRUE(j["ok"]);
  EXPECT_EQ(j["pages"], 1);
  EXPECT_EQ(j["records"], 2);
  EXPECT_EQ(j["columns"], json::array({"title", "n"}));
  EXPECT_EQ(j["sample"][1], json::parse(R"({"title":"b","n":2})"));
  EXPECT_EQ(j["steps"][0]["status"], 200);
  EXPECT_EQ(j["steps"][0]["url"], srv.url("/x"));
  EXPECT_FALSE(j.contains("error"));
  EXPECT_NE(render_text(report).find("records: 2"), std::string::npos);

  auto failing = f.must_make({{"type", "rest"}, {"url", srv.url("/x?c={country}")}});
  auto failed = to_json(test_source(*failing, {}));
  EXPECT_FALSE(failed["ok"]);
  EXPECT_EQ(failed["error"]["code"], "source.variable_missing");
  EXPECT_TRUE(failed["error"].contains("hint"));
}

}  // namespace
}  // namespace extdata::sources
