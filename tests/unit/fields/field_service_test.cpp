// FieldService over a real SQLite store and RecordCache with a fake source: options and value
// queries, dependent fields, JSON shapes, bad input, stale data.
#include "fields/field_service.h"

#include <gtest/gtest.h>

#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include "../cache/cache_test_support.h"
#include "core/limits.h"

namespace extdata::fields {
namespace {

using namespace std::chrono_literals;
using testing_support::FakeSource;
using testing_support::ManualExecutor;
using testing_support::TempDir;

class FieldServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing_support::open_store(dir_);
    source_ = std::make_shared<FakeSource>(
        "cities", nlohmann::json{{"cache_ttl", 60}},
        [this](const sources::Variables& vars, int number) {
          return body_ ? body_(vars, number) : testing_support::cities_body(vars, number);
        });
    lookup_ = [this](const std::string& name) -> std::shared_ptr<sources::Source> {
      return name == "cities" ? source_ : nullptr;
    };
    cache::CacheOptions options;
    options.executor = executor_.executor();
    cache_ = std::make_unique<cache::RecordCache>(*store_, lookup_, clock_, metrics_, options);
    service_ = std::make_unique<FieldService>(*store_, lookup_, *cache_, metrics_);
    put_field("city",
              "source: cities\nvariables: {country: '{country}'}\nlabel: '{fields.Title}'\n"
              "data: {population: fields.Population, where: '{fields.Title}, {country|?}'}\n");
    put_field("all_cities", "source: cities\nlimit: 2\n");
  }

  void put_field(const std::string& name, const std::string& yaml) {
    auto parsed = config::parse_field(yaml, name, {"cities", "missing"});
    ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
    ASSERT_TRUE(store_->put_field(*parsed).ok());
  }

  OptionsQuery query(std::string q, Context context = {}) {
    OptionsQuery out;
    out.q = std::move(q);
    out.context = std::move(context);
    return out;
  }

  TempDir dir_;
  std::unique_ptr<store::Store> store_;
  ManualClock clock_;
  Metrics metrics_;
  ManualExecutor executor_;
  FakeSource::Body body_;
  std::shared_ptr<FakeSource> source_;
  cache::SourceLookup lookup_;
  std::unique_ptr<cache::RecordCache> cache_;
  std::unique_ptr<FieldService> service_;
};

TEST_F(FieldServiceTest, OptionsJsonHasTheDocumentedShape) {
  auto result = service_->options("city", query("bon", {{"country", "DE"}}));
  ASSERT_TRUE(result.ok()) << result.error().message;
  const std::string text = to_json(*result);
  const auto json = nlohmann::json::parse(text);
  EXPECT_EQ(json["options"].size(), 1u);
  EXPECT_EQ(json["options"][0]["value"], "3");
  EXPECT_EQ(json["options"][0]["label"], "Bonn");
  EXPECT_EQ(json["options"][0]["data"],
            (nlohmann::json{{"population", "330000"}, {"where", "Bonn, ?"}}));
  EXPECT_EQ(json["total"], 1);
  EXPECT_EQ(json["stale"], false);
  EXPECT_EQ(json["fetched_at"], "2027-01-15T08:00:00Z");  // ManualClock's start, 1.8e9 seconds
  EXPECT_EQ(json["age_seconds"], 0);
  EXPECT_FALSE(json.contains("warnings"));
  EXPECT_FALSE(json.contains("error"));
}

TEST_F(FieldServiceTest, RepeatedQueriesReuseTheRenderedPageButNotItsFreshness) {
  service_ = std::make_unique<FieldService>(*store_, lookup_, *cache_, metrics_, 1 << 20);
  const auto rendered = [&](const char* result) {
    return metrics_.counter_value("extdata_options_rendered_total", {{"result", result}});
  };
  auto q = query("b", {{"country", "DE"}});
  auto first = service_->options_json("city", q);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(*first, to_json(*service_->options("city", q)));
  EXPECT_EQ(rendered("miss"), 1);
  EXPECT_EQ(rendered("hit"), 0);

  clock_.advance(30s);
  auto second = service_->options_json("city", q);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(rendered("hit"), 1);
  const auto a = nlohmann::json::parse(*first), b = nlohmann::json::parse(*second);
  EXPECT_EQ(b["options"], a["options"]);
  EXPECT_EQ(b["age_seconds"], 30) << "freshness is written per request";
  EXPECT_EQ(*second, to_json(*service_->options("city", q)));

  q.limit = 1;  // another page of the same query is rendered on its own
  auto one = service_->options_json("city", q);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(nlohmann::json::parse(*one)["options"].size(), 1u);
  EXPECT_EQ(rendered("miss"), 2);

  // New records make a new table: nothing rendered from the old records is served.
  ASSERT_TRUE(cache_->refresh("cities").ok());
  q.limit.reset();
  auto refreshed = service_->options_json("city", q);
  ASSERT_TRUE(refreshed.ok());
  EXPECT_EQ(nlohmann::json::parse(*refreshed)["options"][0]["label"], "Berlin v2");
  EXPECT_EQ(rendered("miss"), 3);
}

TEST_F(FieldServiceTest, ReloadChangedPicksUpFieldsChangedInTheStore) {
  auto before = service_->options("all_cities", query(""));
  ASSERT_TRUE(before.ok()) << before.error().message;
  EXPECT_EQ(before->options.size(), 2u);
  put_field("all_cities", "source: cities\nlimit: 3\n");  // as another process would
  EXPECT_EQ(service_->options("all_cities", query(""))->options.size(), 2u)
      << "compiled fields are kept until the store is looked at again";
  service_->reload_changed();
  EXPECT_EQ(service_->options("all_cities", query(""))->options.size(), 3u);
  EXPECT_EQ(source_->fetches, 1) << "the records stay cached";
}

TEST_F(FieldServiceTest, RenderedPagesStayWithinTheirBudget) {
  Metrics metrics;
  RenderedOptions pages(1000, metrics);
  for (int i = 0; i < 20; ++i)
    pages.put("k" + std::to_string(i), std::make_shared<const std::string>(100, 'x'));
  EXPECT_LE(pages.bytes(), 1000u);
  EXPECT_EQ(pages.find("k0"), nullptr) << "the least recently used page went first";
  EXPECT_NE(pages.find("k19"), nullptr);
  EXPECT_GT(metrics.counter_value("extdata_options_rendered_evictions_total"), 0);
  pages.put("huge", std::make_shared<const std::string>(600, 'x'));
  EXPECT_EQ(pages.find("huge"), nullptr) << "a page over a quarter of the budget is not kept";
  RenderedOptions off(0, metrics);
  off.put("k", std::make_shared<const std::string>("x"));
  EXPECT_EQ(off.find("k"), nullptr);
}

TEST_F(FieldServiceTest, MovedPagesAreFoundUnderTheirNewKeyAndTheOthersAreDropped) {
  Metrics metrics;
  RenderedOptions pages(100000, metrics);
  pages.put("7:0:20:ab", std::make_shared<const std::string>("page ab"));
  pages.put("7:0:20:zz", std::make_shared<const std::string>("page zz"));
  pages.put("70:0:20:ab", std::make_shared<const std::string>("another table's"));
  pages.put("8:0:20:ok", std::make_shared<const std::string>("rendered already"));
  pages.put("7:0:20:ok", std::make_shared<const std::string>("old ok"));
  const size_t before = pages.bytes();
  std::vector<std::string> asked;
  pages.move_prefix("7:", "8:", [&](std::string_view rest) {
    asked.emplace_back(rest);
    return rest != "0:20:zz";
  });
  std::sort(asked.begin(), asked.end());
  EXPECT_EQ(asked, (std::vector<std::string>{"0:20:ab", "0:20:ok", "0:20:zz"}));
  ASSERT_NE(pages.find("8:0:20:ab"), nullptr);
  EXPECT_EQ(*pages.find("8:0:20:ab"), "page ab");
  EXPECT_EQ(pages.find("8:0:20:zz"), nullptr);
  EXPECT_EQ(*pages.find("8:0:20:ok"), "rendered already") << "the new table's own page stays";
  EXPECT_EQ(pages.find("7:0:20:ab"), nullptr);
  EXPECT_EQ(pages.find("7:0:20:ok"), nullptr);
  EXPECT_EQ(*pages.find("70:0:20:ab"), "another table's");
  EXPECT_EQ(pages.bytes(),
            before - std::string("7:0:20:zz").size() - 7 - std::string("7:0:20:ok").size() - 6);
}

TEST_F(FieldServiceTest, DependentFieldUsesTheContextAsSourceVariables) {
  auto de = service_->options("city", query("", {{"country", "DE"}}));
  auto fr = service_->options("city", query("", {{"country", "FR"}}));
  ASSERT_TRUE(de.ok() && fr.ok());
  ASSERT_EQ(de->options.size(), 3u);
  EXPECT_EQ(de->options[0].label, "Berlin");
  ASSERT_EQ(fr->options.size(), 2u);
  EXPECT_EQ(fr->options[0].label, "Paris v2");
  auto seen = source_->variables_seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], (sources::Variables{{"country", "DE"}}));
  EXPECT_EQ(seen[1], (sources::Variables{{"country", "FR"}}));

  // The same context again is a cache hit.
  ASSERT_TRUE(service_->options("city", query("b", {{"country", "DE"}})).ok());
  EXPECT_EQ(source_->fetches, 2);
}

TEST_F(FieldServiceTest, MissingContextValueIsABadContextError) {
  auto r = service_->options("city", query(""));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "field.bad_context");
  EXPECT_NE(r.error().message.find("country"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().hint.find("ctx.country"), std::string::npos) << r.error().hint;
  EXPECT_EQ(source_->fetches, 0);
}

TEST_F(FieldServiceTest, MalformedContextIsRejected) {
  auto r = service_->options("city", query("", {{"coun\ntry", "DE"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "field.bad_context");
  r = service_->options("city", query("", {{"country", std::string(5000, 'x')}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "field.context_too_long");

  EXPECT_EQ(parse_context_json(R"({"country": {"nested": 1}})").error().code, "field.bad_context");
  EXPECT_EQ(parse_context_json("[1]").error().code, "field.bad_context");
  EXPECT_EQ(parse_context_json("{not json").error().code, "field.bad_context");
  auto ok = parse_context_json(R"({"country": "DE", "year": 2024, "active": true, "none": null})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, (Context{{"active", "true"}, {"country", "DE"}, {"year", "2024"}}));
}

TEST_F(FieldServiceTest, UnknownFieldAndUnknownSource) {
  auto r = service_->options("cty", query(""));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "field.not_found");
  EXPECT_NE(r.error().hint.find("city"), std::string::npos) << r.error().hint;

  put_field("orphan", "source: missing\n");
  r = service_->options("orphan", query(""));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "source.not_found");
}

TEST_F(FieldServiceTest, LimitDefaultsToTheFieldAndMustBeInRange) {
  auto r = service_->options("all_cities", query(""));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->options.size(), 2u);
  EXPECT_EQ(r->total, 3u);

  for (const std::int64_t bad : {0, -1, 1001}) {
    OptionsQuery q = query("");
    q.limit = bad;
    auto err = service_->options("all_cities", q);
    ASSERT_FALSE(err.ok());
    EXPECT_EQ(err.error().code, "field.bad_limit");
  }
  OptionsQuery q = query("");
  q.offset = -1;
  EXPECT_EQ(service_->options("all_cities", q).error().code, "field.bad_offset");
}

TEST_F(FieldServiceTest, OffsetPagesThroughRankedMatches) {
  OptionsQuery q = query("b");
  q.limit = 1;
  q.offset = 1;
  auto r = service_->options("all_cities", q);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->options.size(), 1u);
  EXPECT_EQ(r->options[0].label, "Bremen");
  EXPECT_EQ(r->total, 3u);
}

TEST_F(FieldServiceTest, LabelsAreEscapedInJson) {
  body_ = [](const sources::Variables&, int) {
    return std::string(
        R"([{"id":"a\"b","fields":{"Title":"Line\nbreak \"quoted\" \\ back</script>"}}])");
  };
  auto r = service_->options("all_cities", query(""));
  ASSERT_TRUE(r.ok());
  const auto json = nlohmann::json::parse(to_json(*r));
  EXPECT_EQ(json["options"][0]["value"], "a\"b");
  EXPECT_EQ(json["options"][0]["label"], "Line\nbreak \"quoted\" \\ back</script>");
}

TEST_F(FieldServiceTest, StaleDataAfterUpstreamFailureIsMarkedWithItsAgeAndError) {
  ASSERT_TRUE(service_->options("all_cities", query("")).ok());
  clock_.advance(300s);
  source_->fail = true;
  ASSERT_TRUE(service_->options("all_cities", query("")).ok());
  executor_.run_all();
  auto r = service_->options("all_cities", query("be"));
  ASSERT_TRUE(r.ok());
  const auto json = nlohmann::json::parse(to_json(*r));
  EXPECT_EQ(json["stale"], true);
  EXPECT_EQ(json["age_seconds"], 300);
  EXPECT_EQ(json["options"][0]["label"], "Berlin");
  EXPECT_EQ(json["error"]["code"], "source.upstream_error");
}

TEST_F(FieldServiceTest, StaleDataSurvivesARestart) {
  // Served twice: worth a snapshot (written in the background).
  ASSERT_TRUE(service_->options("city", query("", {{"country", "FR"}})).ok());
  ASSERT_TRUE(service_->options("city", query("l", {{"country", "FR"}})).ok());
  executor_.run_all();
  // A new process: a new cache and service over the same store, the upstream down.
  service_.reset();
  cache::CacheOptions options;
  options.executor = executor_.executor();
  cache_ = std::make_unique<cache::RecordCache>(*store_, lookup_, clock_, metrics_, options);
  service_ = std::make_unique<FieldService>(*store_, lookup_, *cache_, metrics_);
  source_->fail = true;
  clock_.advance(7200s);
  auto r = service_->options("city", query("ly", {{"country", "FR"}}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->stale);
  EXPECT_EQ(r->age_seconds, 7200);
  ASSERT_EQ(r->options.size(), 1u);
  EXPECT_EQ(r->options[0].label, "Lyon");
}

TEST_F(FieldServiceTest, ValueResolvesAStoredKeyAndSaysWhenItIsGone) {
  auto found = service_->value("city", "2", {{"country", "DE"}});
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found->found);
  EXPECT_EQ(found->label, "Bremen");
  auto json = nlohmann::json::parse(to_json(*found));
  EXPECT_EQ(json["found"], true);
  EXPECT_EQ(json["value"], "2");
  EXPECT_EQ(json["label"], "Bremen");
  EXPECT_EQ(json["data"]["population"], "567000");
  EXPECT_EQ(json["stale"], false);

  // Upstream drops record 2; after a refresh the key no longer resolves.
  body_ = [](const sources::Variables&, int) {
    return std::string(R"([{"id":1,"fields":{"Title":"Berlin"}}])");
  };
  ASSERT_TRUE(cache_->refresh("cities").ok());
  auto gone = service_->value("city", "2", {{"country", "DE"}});
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->found);
  json = nlohmann::json::parse(to_json(*gone));
  EXPECT_EQ(json["found"], false);
  EXPECT_EQ(json["value"], "2");
  EXPECT_TRUE(json["label"].is_null());
  EXPECT_TRUE(json["data"].is_null());
  EXPECT_EQ(json["message"], "the key no longer exists upstream");
}

TEST_F(FieldServiceTest, ChangedFieldIsRecompiledAfterInvalidate) {
  auto before = service_->options("all_cities", query("berlin"));
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->options[0].label, "Berlin");
  put_field("all_cities", "source: cities\nlabel: '{fields.Title} ({fields.Country})'\n");
  auto cached = service_->options("all_cities", query("berlin"));
  EXPECT_EQ(cached->options[0].label, "Berlin") << "compiled once, until invalidated";
  service_->invalidate_field("all_cities");
  auto after = service_->options("all_cities", query("berlin"));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->options[0].label, "Berlin (DE)");
  EXPECT_EQ(source_->fetches, 1) << "a field change does not refetch the records";
}

TEST_F(FieldServiceTest, EmptyValuesAreReportedAsWarning) {
  body_ = [](const sources::Variables&, int) {
    return std::string(R"([{"id":1,"fields":{"Title":"A"}},{"fields":{"Title":"no id"}}])");
  };
  auto r = service_->options("all_cities", query(""));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->options.size(), 1u);
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].find("1 records have an empty value"), std::string::npos);
  EXPECT_TRUE(nlohmann::json::parse(to_json(*r)).contains("warnings"));
}

TEST_F(FieldServiceTest, CheckFetchesASampleAndWarnsAboutUnknownColumns) {
  auto parsed =
      config::parse_field("source: cities\nlabel: '{fields.Titel}'\n", "draft", {"cities"});
  ASSERT_TRUE(parsed.ok());
  auto warnings = service_->check(*parsed);
  ASSERT_TRUE(warnings.ok()) << warnings.error().message;
  ASSERT_EQ(warnings->size(), 1u);
  EXPECT_NE((*warnings)[0].find("label uses fields.Titel"), std::string::npos) << (*warnings)[0];
  EXPECT_NE((*warnings)[0].find("fields.Title"), std::string::npos);

  auto orphan = config::parse_field("source: missing\n", "draft", {"missing"});
  EXPECT_EQ(service_->check(*orphan).error().code, "source.not_found");
}

TEST_F(FieldServiceTest, ManyOptionsRequestsReuseOneTable) {
  body_ = [](const sources::Variables&, int) {
    std::string json = "[";
    for (int i = 0; i < 2000; ++i) {
      if (i) json += ',';
      json += R"({"id":)" + std::to_string(i) + R"(,"fields":{"Title":"Name )" + std::to_string(i) +
              R"("}})";
    }
    return json + "]";
  };
  for (int i = 0; i < 50; ++i) {
    auto r = service_->options("all_cities", query("na"));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->total, 2000u);
  }
  EXPECT_EQ(source_->fetches, 1);
  EXPECT_EQ(metrics_.counter_value("extdata_cache_hits_total", {{"source", "cities"}}), 49);
}

// ---- Declared context (issue 15, row 6) ----

TEST_F(FieldServiceTest, ContextKeysTheFieldDoesNotDeclareAreRefusedByName) {
  auto r = service_->options("city", query("", {{"country", "DE"}, {"evil", "1"}, {"x", "2"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "field.undeclared_context");
  EXPECT_EQ(r.error().category(), ErrorCategory::invalid_input);
  EXPECT_NE(r.error().message.find("'evil', 'x'"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("it takes 'country'"), std::string::npos) << r.error().message;
  r = service_->options("all_cities", query("", {{"country", "DE"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("it takes no context"), std::string::npos) << r.error().message;
  EXPECT_FALSE(service_->value("city", "1", {{"country", "DE"}, {"evil", "1"}}).ok());
  EXPECT_EQ(source_->fetches, 0) << "refused before anything is fetched";
}

TEST_F(FieldServiceTest, ContextDeclaredUnderContextTakesMaxLengthValuesAndPattern) {
  put_field("town",
            "source: cities\nvariables: {country: '{country}'}\n"
            "context:\n  country: {max_length: 2, values: [DE, FR]}\n"
            "  region: {pattern: '[A-Z]{2}'}\n");
  auto ok = service_->options("town", query("", {{"country", "DE"}, {"region", "BY"}}));
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  auto r = service_->options("town", query("", {{"country", "DEU"}}));
  EXPECT_EQ(r.error().code, "field.context_too_long");
  EXPECT_NE(r.error().message.find("fields.town.context.country.max_length"), std::string::npos)
      << r.error().message;
  r = service_->options("town", query("", {{"country", "CH"}}));
  EXPECT_EQ(r.error().code, "field.context_rejected");
  EXPECT_NE(r.error().message.find(".values"), std::string::npos) << r.error().message;
  r = service_->options("town", query("", {{"country", "FR"}, {"region", "BYX"}}));
  EXPECT_EQ(r.error().code, "field.context_rejected") << "the whole value must match";
  EXPECT_NE(r.error().message.find("[A-Z]{2}"), std::string::npos) << r.error().message;
  EXPECT_EQ(source_->fetches, 1);
}

TEST_F(FieldServiceTest, ContextValuesOverTheOperatorLimitAreRefusedNamingIt) {
  Limits bounded = limits();
  bounded.context_max_length = 8;
  ScopedLimits scoped(bounded);
  auto r = service_->options("city", query("", {{"country", "123456789"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "field.context_too_long");
  EXPECT_NE(r.error().message.find("context_max_length"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("--max-context-length"), std::string::npos);
  EXPECT_TRUE(service_->options("city", query("", {{"country", "12345678"}})).ok());
}

TEST_F(FieldServiceTest, AContextPatternThatDoesNotCompileNamesItsKey) {
  put_field("broken", "source: cities\ncontext: {country: {pattern: '[A-'}}\n");
  auto r = service_->options("broken", query("", {{"country", "DE"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "field.bad_context_rule");
  EXPECT_NE(r.error().message.find("fields.broken.context.country.pattern"), std::string::npos)
      << r.error().message;
}

TEST_F(FieldServiceTest, ContextEntriesAreObjectsInTheConfig) {
  auto parsed = config::parse_field("source: cities\ncontext: {country: 5}\n", "f", {"cities"});
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message.find("context.country"), std::string::npos)
      << parsed.error().message;
}

TEST_F(FieldServiceTest, AFieldDeclaringSnapshotKeepsEveryKeyItAsksFor) {
  put_field("kept_city", "source: cities\nvariables: {country: '{country}'}\nsnapshot: true\n");
  ASSERT_TRUE(service_->options("city", query("", {{"country", "DE"}})).ok());
  EXPECT_EQ(*store_->count_snapshots("cities"), 0u) << "served once: not kept";
  ASSERT_TRUE(service_->options("kept_city", query("", {{"country", "FR"}})).ok());
  EXPECT_EQ(*store_->count_snapshots("cities"), 1u);
}

// Restart (docs/fields.md, "Restart"): option tables stored beside the snapshot.
class StoredTableTest : public FieldServiceTest {
 protected:
  void SetUp() override {
    FieldServiceTest::SetUp();
    service_->set_store_tables_from(0);
    put_field("sorted",
              "source: cities\nlabel: '{fields.Title} ({fields.Country})'\n"
              "sort: '{fields.Title}'\nsearch: '{fields.Title} {fields.Country}'\n");
  }

  // A new process over the same store, with the upstream down.
  void restart() {
    service_.reset();
    cache::CacheOptions options;
    options.executor = executor_.executor();
    cache_ = std::make_unique<cache::RecordCache>(*store_, lookup_, clock_, metrics_, options);
    service_ = std::make_unique<FieldService>(*store_, lookup_, *cache_, metrics_);
    service_->set_store_tables_from(0);
    source_->fail = true;
  }

  // Every answer the tests compare: pages of several queries and a value.
  std::vector<std::string> answers() {
    std::vector<std::string> out;
    for (const char* q : {"", "b", "br", "bonn", "de", "ber de", "zz"}) {
      for (int offset : {0, 1}) {
        OptionsQuery page = query(q);
        page.offset = offset;
        auto r = service_->options("sorted", page);
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
        if (!r.ok()) continue;
        std::string line = std::string(q) + "@" + std::to_string(offset) + " total " +
                           std::to_string(r->total) + ":";
        for (const Option& o : r->options) line += " " + o.value + "=" + o.label + " " + o.data;
        out.push_back(line);
      }
    }
    auto v = service_->value("sorted", "2", {});
    EXPECT_TRUE(v.ok());
    if (v.ok()) out.push_back("value 2: " + v->label + " " + v->data);
    return out;
  }

  long long loaded() {
    return metrics_.counter_value("extdata_fields_tables_loaded_total", {{"field", "sorted"}});
  }
  long long rejected(const std::string& reason) {
    return metrics_.counter_value("extdata_fields_tables_rejected_total",
                                  {{"field", "sorted"}, {"reason", reason}});
  }
  long long saved() {
    return metrics_.counter_value("extdata_cache_derived_saved_total", {{"source", "cities"}});
  }

  // Flips one byte in the middle of every stored option table (rows keyed "derived:…").
  void damage_stored_tables() { damage_rows("key LIKE 'derived:%'"); }
  // ... or of the records' snapshot.
  void damage_stored_records() { damage_rows("key NOT LIKE 'derived:%'"); }
  void damage_rows(const std::string& where) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_.path / "extdata.db").c_str(), &db), SQLITE_OK);
    const std::string sql =
        "UPDATE snapshot_chunks SET data = substr(data, 1, length(data) / 2) || "
        "CASE WHEN substr(data, length(data) / 2 + 1, 1) = X'00' THEN X'01' ELSE X'00' END || "
        "substr(data, length(data) / 2 + 2) WHERE " +
        where;
    char* message = nullptr;
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message), SQLITE_OK) << message;
    EXPECT_GT(sqlite3_changes(db), 0);
    sqlite3_close(db);
  }
};

TEST_F(StoredTableTest, AfterARestartTheStoredTableAnswersBeforeTheRecordsAreLoaded) {
  const std::vector<std::string> before = answers();
  executor_.run_all();  // the snapshot and the table are written in the background
  EXPECT_EQ(saved(), 1);
  restart();
  EXPECT_EQ(answers(), before) << "search, pages and value exactly as the built table answered";
  EXPECT_EQ(loaded(), 1) << "read once, not rebuilt";
  EXPECT_EQ(cache_->entries(), 0u) << "the records are not loaded yet: the table answered";
  EXPECT_EQ(source_->fetches, 1) << "nothing asked upstream";
  executor_.run_all();  // the snapshot loads in the background
  EXPECT_EQ(cache_->entries(), 1u);
  EXPECT_EQ(answers(), before) << "the same answers once the records are in memory";
  EXPECT_EQ(loaded(), 1) << "the early table is adopted by the loaded records, not read again";
  executor_.run_all();
  EXPECT_EQ(saved(), 1) << "a loaded table is not stored again";
}

TEST_F(StoredTableTest, AnswersBeforeTheRecordsCarryTheSnapshotsFreshness) {
  answers();
  executor_.run_all();
  restart();
  clock_.advance(7200s);
  auto r = service_->options("sorted", query("b"));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(r->stale) << "older than the TTL";
  EXPECT_EQ(r->age_seconds, 7200);
  EXPECT_EQ(cache_->entries(), 0u);
}

TEST_F(StoredTableTest, WhenTheRecordsCannotBeLoadedTheStoredTableAnswersStaleWithTheError) {
  const std::vector<std::string> before = answers();
  executor_.run_all();
  damage_stored_records();
  restart();  // the upstream is down
  auto early = service_->options("sorted", query("b"));
  ASSERT_TRUE(early.ok()) << early.error().to_string();
  EXPECT_FALSE(early->stale) << "nothing failed yet: the records are still to be loaded";
  EXPECT_FALSE(early->error.has_value());
  executor_.run_all();  // the snapshot is refused, the fetch fails
  EXPECT_EQ(source_->fetches, 2);
  auto failed = service_->options("sorted", query("b"));
  ASSERT_TRUE(failed.ok()) << failed.error().to_string();
  EXPECT_TRUE(failed->stale) << "stale-if-error, as any answer whose refresh failed";
  ASSERT_TRUE(failed->error.has_value());
  EXPECT_EQ(failed->error->code, "source.upstream_error");
  EXPECT_EQ(nlohmann::json::parse(to_json(*failed))["error"]["code"], "source.upstream_error");
  EXPECT_EQ(failed->options.size(), early->options.size()) << "the stored table still answers";
  EXPECT_EQ(failed->total, early->total);
  executor_.run_all();
  EXPECT_EQ(source_->fetches, 2) << "no new attempt within the failure's backoff";

  clock_.advance(31s);  // past the backoff, the upstream is back
  source_->fail = false;
  auto retrying = service_->options("sorted", query("b"));
  ASSERT_TRUE(retrying.ok());
  EXPECT_TRUE(retrying->stale);
  ASSERT_TRUE(service_->options("sorted", query("br")).ok());
  executor_.run_all();  // one more load, queued once
  EXPECT_EQ(source_->fetches, 3);
  auto fresh = service_->options("sorted", query("b"));
  ASSERT_TRUE(fresh.ok()) << fresh.error().to_string();
  EXPECT_FALSE(fresh->stale);
  EXPECT_FALSE(fresh->error.has_value());
  EXPECT_EQ(cache_->entries(), 1u);
}

TEST_F(StoredTableTest, AFieldWithDataColumnsWaitsForTheRecords) {
  put_field("sorted", "source: cities\nsort: '{fields.Title}'\ndata: {pop: fields.Population}\n");
  auto first = service_->options("sorted", query("bre"));
  ASSERT_TRUE(first.ok());
  executor_.run_all();
  restart();
  auto r = service_->options("sorted", query("bre"));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->options.size(), 1u);
  EXPECT_EQ(r->options[0].data, "{\"pop\":\"567000\"}");
  EXPECT_EQ(cache_->entries(), 1u) << "loaded before answering";
  EXPECT_EQ(loaded(), 1) << "the stored table is still used, once the records are there";
}

TEST_F(StoredTableTest, ACorruptStoredTableIsRebuiltNotServed) {
  const std::vector<std::string> before = answers();
  executor_.run_all();
  damage_stored_tables();
  restart();
  EXPECT_EQ(answers(), before);
  EXPECT_EQ(loaded(), 0);
  EXPECT_EQ(rejected("checksum") + rejected("truncated"), 1);
  executor_.run_all();
  EXPECT_EQ(saved(), 2) << "the rebuilt table replaces the corrupt one";
  restart();
  EXPECT_EQ(answers(), before);
  EXPECT_EQ(loaded(), 1);
}

TEST_F(StoredTableTest, AChangedFieldDoesNotUseTheTableStoredForItsOldDefinition) {
  answers();
  executor_.run_all();
  put_field("sorted", "source: cities\nlabel: 'City {fields.Title}'\nsort: '{fields.Title}'\n");
  restart();
  auto r = service_->options("sorted", query("bre"));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->options.size(), 1u);
  EXPECT_EQ(r->options[0].label, "City Bremen");
  EXPECT_EQ(loaded(), 0);
  EXPECT_EQ(rejected("records"), 0) << "not even read: its stamp names the old definition";
}

TEST_F(StoredTableTest, ATableStoredForOlderRecordsIsNotUsedForANewerSnapshot) {
  answers();
  executor_.run_all();
  clock_.advance(120s);
  ASSERT_TRUE(cache_->refresh("cities").ok());  // new records ("Bremen v2"), a new snapshot
  executor_.run_all();
  restart();
  auto r = service_->options("sorted", query("bre"));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->options.size(), 1u);
  EXPECT_EQ(r->options[0].label, "Bremen v2 (DE)");
  EXPECT_EQ(loaded(), 0);
}

TEST_F(StoredTableTest, SmallRecordSetsAreNotStored) {
  service_->set_store_tables_from(1000);
  answers();
  executor_.run_all();
  EXPECT_EQ(saved(), 0);
}

}  // namespace
}  // namespace extdata::fields
