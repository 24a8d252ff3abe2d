#include <gtest/gtest.h>

#include <functional>

#include <nlohmann/json.hpp>

#include "extract/csv.h"
#include "extract/json_text.h"
#include "extract/record_set.h"
#include "extract/template.h"
#include "extract/xml.h"

namespace extdata::extract {
namespace {

std::vector<ColumnSpec> graph_columns() {
  return {{"title", JsonPath::compile("$.fields.Title").value()},
          {"country", JsonPath::compile("$.fields.Country").value()}};
}

std::string text(const std::optional<RecordJson>& e) {
  return e ? std::string(e->root().get_string().value()) : std::string("<missing>");
}

TEST(RecordSet, AppendsPagesAndKeepsRecordJson) {
  RecordSet set;
  auto records = JsonPath::compile("$.value[*]").value();
  std::string page1 = R"({"value":[{"id":"1","fields":{"Title":"Acme","Country":"DE"}}]})";
  std::string page2 =
      R"({"value":[{"id":"2","fields":{"Title":"Globex"}},{"id":"3","fields":{"Title":"Initech","Country":"US"}}]})";
  ASSERT_TRUE(set.append_page(page1, records, graph_columns()).ok());
  ASSERT_TRUE(set.append_page(page2, records, graph_columns()).ok());
  ASSERT_EQ(set.size(), 3u);
  EXPECT_EQ(set.page_count(), 2u);
  EXPECT_EQ(text(set[0].column("title")), "Acme");
  EXPECT_EQ(text(set[1].column("country")), "<missing>");
  EXPECT_EQ(text(set[2].column(1)), "US");
  EXPECT_EQ(std::string(set[2].json().root()["id"].get_string().value()), "3");
  EXPECT_GT(set.memory_bytes(), 0u);
}

TEST(RecordSet, MemoryIsTrimmedToTheDocument) {
  std::string big = "{\"value\":[";
  for (int i = 0; i < 2000; ++i)
    big += (i ? "," : "") + std::string(R"({"fields":{"Title":"Item number )") + std::to_string(i) +
           "\"}}";
  big += "]}";
  const size_t input = big.size();
  RecordSet set;
  ASSERT_TRUE(
      set.append_page(std::move(big), JsonPath::compile("$.value[*]").value(), graph_columns())
          .ok());
  // simdjson alone reserves ~9.7 bytes per input byte.
  EXPECT_LT(set.memory_bytes(), input * 4);
}

TEST(RecordSet, LargePagesKeepEveryValue) {
  std::string big = "{\"value\":[";
  int count = 0;
  while (big.size() < (size_t{9} << 20)) {
    big += (count ? "," : "") + std::string(R"({"id":)") + std::to_string(count) +
           R"(,"fields":{"Title":"Item \u00e9 )" + std::to_string(count) + R"(","Country":"DE"}})";
    ++count;
  }
  big += "]}";
  const size_t input = big.size();
  RecordSet set;
  ASSERT_TRUE(
      set.append_page(std::move(big), JsonPath::compile("$.value[*]").value(), graph_columns())
          .ok());
  ASSERT_EQ(set.size(), static_cast<size_t>(count));
  EXPECT_EQ(text(set[count - 1].column("title")), "Item \u00e9 " + std::to_string(count - 1));
  EXPECT_EQ(set[count - 1].json().root()["id"].get_int64().value(), count - 1);
  EXPECT_LT(set.memory_bytes(), input * 4);
}

// Member names and repeated values are stored once per page: 5000 records whose strings are
// all repeats except the id cost little more than their tape (8 bytes per value).
TEST(RecordSet, RepeatedStringsAreStoredOnce) {
  std::string page = "{\"value\":[";
  const int count = 5000;
  for (int i = 0; i < count; ++i) {
    page += (i ? "," : "") + std::string(R"({"id":"item-)") + std::to_string(i) +
            R"(","contentType":{"id":"0x0100A1B2C3D4E5F60718293A4B5C6D7E8F90","name":"Item"},)" +
            R"("createdBy":{"user":{"displayName":")" + (i % 2 ? "Megan Bowen" : "Léa Dubois") +
            R"("}},"fields":{"Title":"Acme","Country":"Germany"}})";
  }
  page += "]}";
  RecordSet set;
  ASSERT_TRUE(
      set.append_page(std::move(page), JsonPath::compile("$.value[*]").value(), graph_columns())
          .ok());
  ASSERT_EQ(set.size(), static_cast<size_t>(count));
  // Per record: 26 tape words (208 bytes), a 15-byte id string and 48 bytes of record and
  // column tables: about 271 bytes. Its other strings, written out each time, would add 200.
  EXPECT_LT(set.memory_bytes(), count * 300);
  EXPECT_EQ(text(set[count - 1].column("title")), "Acme");
  EXPECT_EQ(std::string(set[count - 1].json().root()["id"].get_string().value()),
            "item-" + std::to_string(count - 1));
  EXPECT_EQ(
      std::string(set[1].json().root()["createdBy"]["user"]["displayName"].get_string().value()),
      "Megan Bowen");
  EXPECT_EQ(
      std::string(set[2].json().root()["createdBy"]["user"]["displayName"].get_string().value()),
      "Léa Dubois");
}

// Sharing strings must not change any record: every record written back equals the record as
// simdjson parsed it, for strings that repeat, prefix one another, are empty or hold NUL.
TEST(RecordSet, SharedStringsLeaveEveryRecordAsParsed) {
  std::string page = "[";
  const std::vector<std::string> words = {"",  "a",       "ab",        "abc",      "b",
                                          "A", "\\u0000", "a\\u0000b", "ab\\u0000"};
  uint32_t state = 12345;
  auto next = [&] { return state = state * 1103515245u + 12345u, (state >> 16) % 1000; };
  for (int i = 0; i < 20000; ++i) {
    page += (i ? "," : "") + std::string("{\"") + words[next() % words.size()] + "\":\"" +
            words[next() % words.size()] + "\",\"n\":\"" + std::to_string(next() % 50) + "-" +
            std::to_string(next()) + "\",\"k\":[\"" + words[next() % words.size()] + "\",1.5,-3]}";
  }
  page += "]";
  simdjson::dom::parser parser;
  simdjson::dom::element reference = parser.parse(page).value();
  RecordSet set;
  ASSERT_TRUE(set.append_page(page, JsonPath::compile("$[*]").value(), {}).ok());
  simdjson::dom::array items = reference.get_array().value();
  ASSERT_EQ(set.size(), items.size());
  size_t i = 0;
  for (simdjson::dom::element item : items) {
    std::string expected, actual;
    append_json(expected, item);
    append_json(actual, set[i].json().root());
    ASSERT_EQ(actual, expected) << "record " << i;
    ++i;
  }
}

TEST(RecordSet, OmittedMembersGoWithTheirValuesAndTheRestStaysNavigable) {
  RecordSet set;
  set.omit_members_ending_with("@odata.context");
  const std::string page = R"({"@odata.context":"https://g/$metadata#items","value":[
    {"a@odata.context":{"deep":[1,{"x":2}]},"id":"1","fields@odata.context":"u1",
     "fields":{"@odata.context":[1,2,3],"Title":"One","n@odata.context":-7,"n":1.5},
     "tail@odata.context":true},
    {"only@odata.context":null},
    {"id":"3","list":[{"x@odata.context":"drop","keep":"x@odata.context"}],"z":12345678901}
  ]})";
  std::vector<ColumnSpec> columns = {{"title", JsonPath::compile("$.fields.Title").value()},
                                     {"n", JsonPath::compile("$.fields.n").value()},
                                     {"deep", JsonPath::compile("$..x").value()}};
  ASSERT_TRUE(set.append_page(page, JsonPath::compile("$.value[*]").value(), columns).ok());
  ASSERT_EQ(set.size(), 3u);
  auto json_of = [&](size_t i) {
    std::string out;
    append_json(out, set[i].json().root());
    return out;
  };
  EXPECT_EQ(json_of(0), R"({"id":"1","fields":{"Title":"One","n":1.5}})");
  EXPECT_EQ(json_of(1), "{}");
  EXPECT_EQ(json_of(2), R"({"id":"3","list":[{"keep":"x@odata.context"}],"z":12345678901})");
  // Counts in the container words follow the omission.
  EXPECT_EQ(set[0].json().root().get_object().value().size(), 2u);
  EXPECT_EQ(set[0].json().root()["fields"].get_object().value().size(), 2u);
  EXPECT_EQ(set[1].json().root().get_object().value().size(), 0u);
  EXPECT_EQ(text(set[0].column("title")), "One");
  EXPECT_EQ(set[0].column("n")->root().get_double().value(), 1.5);
  EXPECT_FALSE(set[0].column("deep").has_value());  // the only "x" was inside an omitted value
  EXPECT_FALSE(set[2].column("deep").has_value());
}

// Random documents with and without omitted members: every record must equal, member order
// and all, the parsed document with those members erased, and every container's count must
// match its members.
TEST(RecordSet, OmittedMembersMatchTheDocumentWithThoseMembersErased) {
  using Json = nlohmann::ordered_json;
  uint32_t state = 777;
  auto next = [&](uint32_t bound) {
    state = state * 1103515245u + 12345u;
    return (state >> 8) % bound;
  };
  const std::vector<std::string> names = {
      "a", "b@odata.context", "@odata.context", "c", "@odata.etag", "d@odata.contex", "e"};
  std::function<Json(int)> random_value = [&](int depth) -> Json {
    switch (depth > 3 ? next(4) : next(6)) {
      case 0:
        return Json(names[next(names.size())]);
      case 1:
        return Json(static_cast<int64_t>(next(1u << 31)) - (1 << 30));
      case 2:
        return Json(next(2) == 0);
      case 3:
        return Json(nullptr);
      case 4: {
        Json array = Json::array();
        for (uint32_t i = next(4); i > 0; --i) array.push_back(random_value(depth + 1));
        return array;
      }
      default: {
        Json object = Json::object();
        for (uint32_t i = next(5); i > 0; --i)
          object[names[next(names.size())] + std::to_string(next(3))] = random_value(depth + 1);
        for (uint32_t i = next(3); i > 0; --i)
          object[names[next(names.size())]] = random_value(depth + 1);
        return object;
      }
    }
  };
  std::function<void(Json&)> erase_omitted = [&](Json& value) {
    if (value.is_object()) {
      Json kept = Json::object();
      for (auto& [name, member] : value.items()) {
        const std::string suffix = "@odata.context";
        if (name.size() >= suffix.size() &&
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
          continue;
        erase_omitted(member);
        kept[name] = member;
      }
      value = kept;
    } else if (value.is_array()) {
      for (Json& item : value) erase_omitted(item);
    }
  };
  std::function<void(simdjson::dom::element)> check_counts = [&](simdjson::dom::element e) {
    if (e.is_object()) {
      simdjson::dom::object object = e.get_object().value();
      size_t members = 0;
      for (auto field : object) {
        check_counts(field.value);
        ++members;
      }
      ASSERT_EQ(object.size(), members);
    } else if (e.is_array()) {
      simdjson::dom::array array = e.get_array().value();
      size_t items = 0;
      for (auto item : array) {
        check_counts(item);
        ++items;
      }
      ASSERT_EQ(array.size(), items);
    }
  };
  Json page = Json::array();
  for (int i = 0; i < 3000; ++i) page.push_back(random_value(0));
  RecordSet set;
  set.omit_members_ending_with("@odata.context");
  ASSERT_TRUE(set.append_page(page.dump(), JsonPath::compile("$[*]").value(), {}).ok());
  ASSERT_EQ(set.size(), page.size());
  for (size_t i = 0; i < page.size(); ++i) {
    Json expected = page[i];
    erase_omitted(expected);
    std::string actual;
    append_json(actual, set[i].json().root());
    ASSERT_EQ(Json::parse(actual), expected) << "record " << i << ": " << page[i].dump();
    check_counts(set[i].json().root());
  }
}

TEST(RecordSet, LastPageRootIsTheWholeLastPage) {
  RecordSet set;
  EXPECT_FALSE(set.last_page_root().has_value());
  auto records = JsonPath::compile("$.value[*]").value();
  ASSERT_TRUE(set.append_page(R"({"value":[{"id":1}],"next":"p2"})", records, {}).ok());
  ASSERT_TRUE(set.append_page(R"({"value":[{"id":2}],"next":"p3"})", records, {}).ok());
  auto root = set.last_page_root();
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(std::string(root->root()["next"].get_string().value()), "p3");
  // A page that fails to parse leaves the last page as it was.
  EXPECT_FALSE(set.append_page(R"({"value":[)", records, {}).ok());
  EXPECT_EQ(std::string(set.last_page_root()->root()["next"].get_string().value()), "p3");
}

TEST(RecordSet, ColumnsSharingPrefixesAndNonSingularColumns) {
  RecordSet set;
  std::vector<ColumnSpec> columns = {{"a", JsonPath::compile("$.f.a").value()},
                                     {"b", JsonPath::compile("$['f']['b']").value()},
                                     {"tag", JsonPath::compile("$.tags[-1]").value()},
                                     {"any", JsonPath::compile("$..x").value()},
                                     {"self", JsonPath::compile("$").value()}};
  ASSERT_TRUE(
      set.append_page(R"([{"f":{"b":"B","a":"A","a":"dup"},"tags":["t1","t2"],"deep":{"x":"X"}}])",
                      JsonPath::compile("$[*]").value(), columns)
          .ok());
  EXPECT_EQ(text(set[0].column("a")), "A");
  EXPECT_EQ(text(set[0].column("b")), "B");
  EXPECT_EQ(text(set[0].column("tag")), "t2");
  EXPECT_EQ(text(set[0].column("any")), "X");
  EXPECT_TRUE(set[0].column("self")->root().is_object());
}

// Regression: trimming read one tape word past the end, which after a larger page was a stale
// string entry of that page (found by ASan).
TEST(RecordSet, SmallPageAfterLargerPageCopiesOnlyItsOwnTape) {
  auto records = JsonPath::compile("$[*]").value();
  RecordSet first;
  ASSERT_TRUE(
      first
          .append_page(R"([{"a":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","b":["y","z","w","v"]}])",
                       records, {})
          .ok());
  RecordSet second;
  ASSERT_TRUE(second.append_page(R"([{"a":"s"}])", records, {}).ok());
  EXPECT_EQ(second.to_json(), R"([{"record":{"a":"s"},"columns":{}}])");
}

TEST(RecordSet, SnapshotRoundTrip) {
  RecordSet set;
  ASSERT_TRUE(
      set.append_page(
             R"({"value":[{"fields":{"Title":"A \"q\"","Country":"DE"}},{"fields":{"Title":"B"}}]})",
             JsonPath::compile("$.value[*]").value(), graph_columns())
          .ok());
  const std::string snapshot = set.to_json();
  auto restored = RecordSet::from_json(snapshot);
  ASSERT_TRUE(restored.ok()) << restored.error().message;
  ASSERT_EQ(restored->size(), 2u);
  EXPECT_EQ(text((*restored)[0].column("title")), "A \"q\"");
  EXPECT_EQ(text((*restored)[1].column("country")), "<missing>");
  EXPECT_EQ(restored->to_json(), snapshot);
}

TEST(RecordSet, BadPagesAreErrorsAndLeaveTheSetUnchanged) {
  RecordSet set;
  auto records = JsonPath::compile("$[*]").value();
  auto invalid = set.append_page("[{\"a\":", records, {});
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().code, "extract.json");
  std::string deep(5000, '[');
  deep += std::string(5000, ']');
  auto too_deep = set.append_page(deep, records, {});
  ASSERT_FALSE(too_deep.ok());
  EXPECT_EQ(too_deep.error().code, "extract.depth");
  auto bad_utf8 = set.append_page("[\"\xC3\x28\"]", records, {});
  EXPECT_FALSE(bad_utf8.ok());
  EXPECT_EQ(set.size(), 0u);
  ASSERT_TRUE(set.append_page("[1]", records, graph_columns()).ok());
  EXPECT_EQ(set.append_page("[2]", records, {}).error().code, "extract.columns");
}

// A Graph list item as bench/gen-graph-items.py writes it (deterministic for `i`).
std::string graph_item(int i, bool with_context) {
  static const char* const kWords[] = {"Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne"};
  static const char* const kCities[] = {"Berlin", "Zürich", "São Paulo", "Tokyo"};
  const std::string n = std::to_string(i);
  const std::string etag = "\"\\\"" + n + "-1111-2222,1\\\"\"";
  const std::string title = std::string(kWords[i % 6]) + " " + kWords[(i * 7) % 6] + " " + n;
  const auto person = [](int k) {
    return R"({"user":{"email":"user)" + std::to_string(k) + R"(@contoso.com","id":")" +
           std::to_string(k) + R"(-aaaa","displayName":"User )" + std::to_string(k) + "\"}}";
  };
  std::string fields = R"({"@odata.etag":)" + etag + R"(,"Title":")" + title +
                       R"(","Country":"DE","AccountManager":"Manager )" + std::to_string(i % 200) +
                       R"(","Revenue":)" + std::to_string(i * 13) + "." + std::to_string(i % 97) +
                       R"(,"Active":)" + (i % 5 ? "true" : "false") + R"(,"Tags":[)" +
                       (i % 3 ? R"("Acme","Stark")" : "") + R"(],"id":")" + n +
                       R"(","ContentType":"Item","Attachments":false,"Edit":"","LinkTitle":")" +
                       title + R"(","ItemChildCount":"0")";
  if (i % 10) fields += std::string(R"(,"City":")") + kCities[i % 4] + "\"";
  fields += "}";
  std::string item = R"({"@odata.etag":)" + etag + R"(,"createdDateTime":"2025-01-0)" +
                     std::to_string(1 + i % 9) + R"(T08:00:00Z","id":")" + n +
                     R"(","webUrl":"https://contoso.sharepoint.com/sites/sales/Lists/Customers/)" +
                     n + R"(_.000","createdBy":)" + person(i % 50) + R"(,"lastModifiedBy":)" +
                     person((i * 3) % 50) +
                     R"(,"parentReference":{"id":"5a6b7c8d","siteId":"contoso,2c3a6f55"},)"
                     R"("contentType":{"id":"0x0100A1B2","name":"Item"},)";
  if (with_context)
    item += R"("fields@odata.context":"https://graph.microsoft.com/v1.0/$metadata#items(')" + n +
            R"(')/fields/$entity",)";
  return item + R"("fields":)" + fields + "}";
}

std::string graph_page(int first, int count, bool with_context) {
  std::string page = R"({"@odata.context":"https://graph.microsoft.com/v1.0/$metadata","value":[)";
  for (int i = first; i < first + count; ++i) {
    if (i > first) page += ',';
    page += graph_item(i, with_context);
  }
  return page + R"(],"@odata.nextLink":"https://graph.microsoft.com/next"})";
}

std::vector<ColumnSpec> graph_item_columns() {
  return {{"title", JsonPath::compile("$.fields.Title").value()},
          {"city", JsonPath::compile("$.fields.City").value()},
          {"manager", JsonPath::compile("$.createdBy.user.displayName").value()}};
}

TEST(RecordSet, GraphItemsDecodeAsSimdjsonParsesEachItemWithoutItsOmittedMembers) {
  RecordSet set;
  set.omit_members_ending_with("@odata.context");
  const auto records = JsonPath::compile("$.value[*]").value();
  for (int page = 0; page < 3; ++page)
    ASSERT_TRUE(
        set.append_page(graph_page(page * 500, 500, true), records, graph_item_columns()).ok());
  ASSERT_EQ(set.size(), 1500u);
  simdjson::dom::parser parser;
  for (size_t i = 0; i < set.size(); ++i) {
    const std::string expected = graph_item(static_cast<int>(i), false);
    const simdjson::dom::element parsed = parser.parse(expected).value();
    ASSERT_EQ(simdjson::to_string(set[i].json().root()), simdjson::to_string(parsed)) << i;
    const auto title = set[i].column("title");
    ASSERT_TRUE(title.has_value());
    EXPECT_EQ(title->root().get_string().value(), parsed["fields"]["Title"].get_string().value());
    EXPECT_EQ(set[i].column("city").has_value(), i % 10 != 0) << i;
    EXPECT_EQ(simdjson::to_string(set[i].column("manager")->root()),
              simdjson::to_string(parsed["createdBy"]["user"]["displayName"].value()));
  }
  EXPECT_EQ(std::string(set.last_page_root()->root()["@odata.nextLink"].get_string().value()),
            "https://graph.microsoft.com/next");
}

// The shape store's point (issue #18): member names once per page, 4-byte slots, strings once.
// The items of this test take 344 bytes each with three columns (a simdjson tape with its
// distinct strings took more than twice that: 8 bytes per value, per member name and per
// container end).
TEST(RecordSet, AGraphItemIsKeptInUnder360Bytes) {
  RecordSet set;
  set.omit_members_ending_with("@odata.context");
  const auto records = JsonPath::compile("$.value[*]").value();
  for (int page = 0; page < 4; ++page)
    ASSERT_TRUE(
        set.append_page(graph_page(page * 5000, 5000, true), records, graph_item_columns()).ok());
  const double per_record = static_cast<double>(set.memory_bytes()) / set.size();
  EXPECT_LT(per_record, 360.0) << per_record;
}

TEST(RecordSet, CombineSharesPagesAndKeepsEachRecordAndColumnAsItWas) {
  const auto records = JsonPath::compile("$.value[*]").value();
  RecordSet base, additions;
  ASSERT_TRUE(base.append_page(graph_page(0, 10, false), records, graph_item_columns()).ok());
  ASSERT_TRUE(base.append_page(graph_page(10, 10, false), records, graph_item_columns()).ok());
  ASSERT_TRUE(additions
                  .append_page(R"({"value":[{"id":"x","fields":{"Title":"New"}}]})", records,
                               graph_item_columns())
                  .ok());
  std::vector<RecordSet::Pick> picks = {{15, false}, {0, true}, {3, false}, {19, false}};
  auto combined = RecordSet::combine(base, additions, picks);
  ASSERT_TRUE(combined.ok());
  EXPECT_EQ(combined->page_count(), 3u);
  ASSERT_EQ(combined->size(), 4u);
  const RecordSet* from[] = {&base, &additions};
  for (size_t i = 0; i < picks.size(); ++i) {
    const RecordRef expected = (*from[picks[i].from_additions])[picks[i].index];
    EXPECT_EQ(simdjson::to_string((*combined)[i].json().root()),
              simdjson::to_string(expected.json().root()));
    for (size_t c = 0; c < 3; ++c) {
      const auto got = (*combined)[i].column(c), want = expected.column(c);
      ASSERT_EQ(got.has_value(), want.has_value());
      if (got) {
        EXPECT_EQ(simdjson::to_string(got->root()), simdjson::to_string(want->root()));
      }
    }
  }
  // The combined set outlives both inputs: it shares their pages.
  base = RecordSet();
  additions = RecordSet();
  EXPECT_EQ(std::string((*combined)[1].column("title")->root().get_string().value()), "New");
  EXPECT_EQ(std::string((*combined)[3].json().root()["id"].get_string().value()), "19");
}

TEST(RecordSet, ScalarRecordsAndColumnsOfEveryType) {
  RecordSet set;
  ASSERT_TRUE(set.append_page(R"([1, -9223372036854775808, 18446744073709551615, 2.5, "s", null,
                                 true, false, [], {}, [[1], {"a": []}]])",
                              JsonPath::compile("$[*]").value(),
                              {{"self", JsonPath::compile("$").value()},
                               {"first", JsonPath::compile("$[0]").value()}})
                  .ok());
  ASSERT_EQ(set.size(), 11u);
  EXPECT_TRUE(set.to_json().starts_with(
      R"([{"record":1,"columns":{"self":1}},{"record":-9223372036854775808,"columns":{"self":)"))
      << set.to_json();
  EXPECT_EQ(simdjson::to_string(set[10].column("first")->root()), "[1]");
  EXPECT_FALSE(set[9].column("first").has_value());
  EXPECT_EQ(set[2].json().root().get_uint64().value(), 18446744073709551615ull);
  auto restored = RecordSet::from_json(set.to_json());
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(restored->to_json(), set.to_json());
}

TEST(Template, RendersRecordFieldsDefaultsAndBraces) {
  RecordSet set;
  ASSERT_TRUE(set.append_page(R"([{"id":7,"fields":{"Title":"Acme","Country":"DE","City":null}}])",
                              JsonPath::compile("$[*]").value(), graph_columns())
                  .ok());
  auto label =
      Template::compile("{fields.Title} ({fields.Country}) {fields.City|—} {{{id}}} {title}");
  ASSERT_TRUE(label.ok()) << label.error().message;
  EXPECT_EQ(label->render(RecordContext(set[0])), "Acme (DE) — {7} Acme");
  EXPECT_EQ(label->referenced_names(), (std::vector<std::string>{"fields.Title", "fields.Country",
                                                                 "fields.City", "id", "title"}));
}

TEST(Template, EncoderAppliesToValuesOnly) {
  std::map<std::string, std::string, std::less<>> vars{{"q", "a b&c"}};
  auto url = Template::compile("/search?q={q}&x={missing|d e}").value();
  const auto encode = [](std::string_view v) {
    std::string out;
    for (char c : v)
      out += (c == ' ' ? std::string("%20") : c == '&' ? std::string("%26") : std::string(1, c));
    return out;
  };
  EXPECT_EQ(url.render(MapContext(vars), encode), "/search?q=a%20b%26c&x=d%20e");
}

TEST(Template, SyntaxErrorsHavePositions) {
  auto unterminated = Template::compile("Hello {name");
  ASSERT_FALSE(unterminated.ok());
  EXPECT_EQ(unterminated.error().message,
            "template error at 6: unterminated placeholder: expected '}'");
  EXPECT_EQ(Template::compile("a } b").error().details.at("position"), "2");
  EXPECT_EQ(Template::compile("{ }").error().code, "template.syntax");
}

TEST(Csv, QuotesNewlinesBomAndCrlf) {
  auto table = parse_csv(
      "\xEF\xBB\xBFname,note\r\n\"Acme, Inc\",\"said \"\"hi\"\"\nthen left\"\r\nGlobex,\r\n");
  ASSERT_TRUE(table.ok()) << table.error().message;
  EXPECT_EQ(table->columns, (std::vector<std::string>{"name", "note"}));
  ASSERT_EQ(table->rows.size(), 2u);
  EXPECT_EQ(table->rows[0][0], "Acme, Inc");
  EXPECT_EQ(table->rows[0][1], "said \"hi\"\nthen left");
  EXPECT_EQ(table->rows[1][1], "");
  EXPECT_EQ(table->row_lines, (std::vector<size_t>{2, 4}));
}

TEST(Csv, DetectsSemicolonAndTab) {
  EXPECT_EQ(parse_csv("a;b\n1;2\n")->delimiter, ';');
  EXPECT_EQ(parse_csv("a\tb\n1\t2\n")->delimiter, '\t');
  CsvOptions options;
  options.delimiter = ';';
  options.header = false;
  auto table = parse_csv("1,5;2\n", options);
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->rows[0], (std::vector<std::string>{"1,5", "2"}));
  EXPECT_EQ(table->columns[1], "column2");
}

TEST(Csv, ErrorsNameTheLine) {
  auto ragged = parse_csv("a,b\n1,2\n3\n");
  ASSERT_FALSE(ragged.ok());
  EXPECT_EQ(ragged.error().code, "csv.ragged");
  EXPECT_EQ(ragged.error().message,
            "CSV error at line 3: the row has 1 fields, expected 2 (as in the header)");
  auto unterminated = parse_csv("a,b\n1,\"open\n2,3\n");
  ASSERT_FALSE(unterminated.ok());
  EXPECT_EQ(unterminated.error().details.at("line"), "2");
  EXPECT_EQ(parse_csv("a\n\xFF\n").error().code, "csv.utf8");
  EXPECT_EQ(parse_csv("a,a\n1,2\n").error().code, "csv.header");
}

TEST(Csv, RecordsThroughRecordSet) {
  auto table = parse_csv("Title,Country\nAcme,DE\n").value();
  RecordSet set;
  ASSERT_TRUE(set.append_page(csv_table_to_json(table), JsonPath::compile("$[*]").value(),
                              {{"country", JsonPath::compile("$.Country").value()}})
                  .ok());
  EXPECT_EQ(Template::compile("{Title}/{country}")->render(RecordContext(set[0])), "Acme/DE");
}

TEST(Xml, RecordsColumnsAndNamespaces) {
  const std::string xml = R"(<feed xmlns="urn:feed" xmlns:x="urn:extra">
    <entry id="1"><title>Acme</title><x:country>DE</x:country></entry>
    <entry id="2"><title>Globex</title></entry></feed>)";
  XmlQuery query;
  query.records = "//f:entry";
  query.columns = {
      {"id", "@id"}, {"title", "f:title"}, {"country", "e:country"}, {"n", "count(*)"}};
  query.namespaces = {{"f", "urn:feed"}, {"e", "urn:extra"}};
  auto json = xml_records_to_json(xml, query);
  ASSERT_TRUE(json.ok()) << json.error().message;
  EXPECT_EQ(
      *json,
      R"([{"id":"1","title":"Acme","country":"DE","n":"2"},{"id":"2","title":"Globex","n":"1"}])");
}

TEST(Xml, ErrorsHaveLinesAndOffsets) {
  auto broken = xml_records_to_json("<a>\n<b></a>", XmlQuery{});
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().code, "xml.syntax");
  EXPECT_NE(broken.error().message.find("line 2"), std::string::npos) << broken.error().message;
  auto bad_xpath = validate_xpath("//a[");
  ASSERT_FALSE(bad_xpath.ok());
  EXPECT_EQ(bad_xpath.error().code, "xpath.syntax");
}

TEST(Xml, DefaultRecordShape) {
  XmlQuery query;
  query.records = "/list/item";
  auto json = xml_records_to_json("<list><item key=\"k\"><name>N</name></item></list>", query);
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(*json, R"([{"name":"item","@key":"k"}])");
}

}  // namespace
}  // namespace extdata::extract
