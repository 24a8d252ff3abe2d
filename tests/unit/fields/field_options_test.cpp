// Mapping records to options: templates, filter, sort, search ranking, save-time checks.
#include <gtest/gtest.h>

#include "config/config.h"
#include "fields/options.h"

namespace extdata::fields {
namespace {

config::FieldConfig field(const std::string& yaml, const std::string& name = "city") {
  auto parsed = config::parse_field(yaml, name, {"cities"});
  if (!parsed.ok()) throw std::runtime_error(parsed.error().to_string());
  return std::move(parsed).value();
}

extract::RecordSet records(std::string json) {
  extract::RecordSet set;
  auto path = extract::JsonPath::compile("$[*]");
  auto appended = set.append_page(std::move(json), *path, {});
  if (!appended.ok()) throw std::runtime_error(appended.error().message);
  return set;
}

const char* kCities = R"([
  {"id": 1, "fields": {"Title": "Berlin", "Country": "DE", "Population": 3645000, "Active": true}},
  {"id": 2, "fields": {"Title": "Bremen", "Country": "DE", "Population": 567000, "Active": false}},
  {"id": 3, "fields": {"Title": "Bonn", "Country": "DE", "Population": 330000, "Active": true}},
  {"id": 4, "fields": {"Title": "Paris", "Country": "FR", "Population": 2161000, "Active": true}},
  {"id": 5, "fields": {"Title": "Saint-Brieuc", "Country": "FR", "Population": 44000, "Active": true}},
  {"fields": {"Title": "No id", "Country": "FR"}}
])";

std::vector<std::string> labels(const OptionsTable& table) {
  std::vector<std::string> out;
  for (size_t i = 0; i < table.size(); ++i) out.emplace_back(table.label(i));
  return out;
}

TEST(FieldMapping, DefaultsAreIdAndTitle) {
  auto mapping = FieldMapping::compile(field("source: cities\n"));
  ASSERT_TRUE(mapping.ok()) << mapping.error().message;
  EXPECT_EQ(mapping->value.text(), "{id}");
  EXPECT_EQ(mapping->label.text(), "{fields.Title}");
  EXPECT_FALSE(mapping->search.has_value());
  EXPECT_FALSE(mapping->sort.has_value());
  EXPECT_EQ(mapping->limit, 20);
}

TEST(FieldMapping, BadTemplateNamesTheKeyAndPosition) {
  auto mapping = FieldMapping::compile(field("source: cities\nlabel: '{fields.Title'\n"));
  ASSERT_FALSE(mapping.ok());
  EXPECT_EQ(mapping.error().code, "field.bad_template");
  EXPECT_NE(mapping.error().message.find("fields.city.label"), std::string::npos)
      << mapping.error().message;
  EXPECT_FALSE(mapping.error().details.at("position").empty());
}

TEST(FieldMapping, BadFilterIsReported) {
  auto mapping = FieldMapping::compile(field("source: cities\nfilter: '$[?@.fields.Active =='\n"));
  ASSERT_FALSE(mapping.ok());
  EXPECT_EQ(mapping.error().code, "field.bad_filter");
  EXPECT_NE(mapping.error().message.find("fields.city.filter"), std::string::npos);
}

TEST(FieldMapping, LimitOutsideRangeIsRejected) {
  config::FieldConfig f = field("source: cities\n");
  f.spec["limit"] = 1001;
  auto mapping = FieldMapping::compile(f);
  ASSERT_FALSE(mapping.ok());
  EXPECT_EQ(mapping.error().code, "field.bad_limit");
}

TEST(OptionsTable, MapsValueAndLabelInSourceOrderAndSkipsRecordsWithoutValue) {
  auto mapping =
      FieldMapping::compile(field("source: cities\nlabel: '{fields.Title} ({fields.Country})'\n"));
  auto set = records(kCities);
  auto table = OptionsTable::build(*mapping, set);
  ASSERT_TRUE(table.ok()) << table.error().message;
  ASSERT_EQ(table->size(), 5u);
  EXPECT_EQ(table->value(0), "1");
  EXPECT_EQ(table->label(0), "Berlin (DE)");
  EXPECT_EQ(table->label(4), "Saint-Brieuc (FR)");
  EXPECT_EQ(table->record(4), 4u);
  EXPECT_EQ(table->without_value(), 1u);
  EXPECT_EQ(table->find_value("4"), 3u);
  EXPECT_FALSE(table->find_value("6").has_value());
  EXPECT_FALSE(table->find_value("").has_value());
}

TEST(OptionsTable, SortsByTemplateTextAscendingAndNumbersDescending) {
  auto set = records(kCities);
  auto by_title = OptionsTable::build(
      *FieldMapping::compile(field("source: cities\nsort: '{fields.Title}'\n")), set);
  ASSERT_TRUE(by_title.ok());
  EXPECT_EQ(labels(*by_title),
            (std::vector<std::string>{"Berlin", "Bonn", "Bremen", "Paris", "Saint-Brieuc"}));

  auto by_population = OptionsTable::build(
      *FieldMapping::compile(field("source: cities\nsort: '-{fields.Population}'\n")), set);
  ASSERT_TRUE(by_population.ok());
  // Numbers compare as numbers (567000 < 2161000), not as text.
  EXPECT_EQ(labels(*by_population),
            (std::vector<std::string>{"Berlin", "Paris", "Bremen", "Bonn", "Saint-Brieuc"}));
}

TEST(OptionsTable, FilterKeepsMatchingRecords) {
  auto set = records(kCities);
  auto table = OptionsTable::build(
      *FieldMapping::compile(field(
          "source: cities\nfilter: \"$[?@.fields.Country == 'DE' && @.fields.Active == true]\"\n")),
      set);
  ASSERT_TRUE(table.ok()) << table.error().message;
  EXPECT_EQ(labels(*table), (std::vector<std::string>{"Berlin", "Bonn"}));
  EXPECT_EQ(table->filtered_out(), 4u);
  EXPECT_EQ(table->record(1), 2u);
}

TEST(OptionsTable, FilterWorksAcrossChunkBoundaries) {
  std::string json = "[";
  for (int i = 0; i < 10000; ++i) {
    if (i) json += ',';
    json += R"({"id":)" + std::to_string(i) + R"(,"fields":{"Title":"Item )" + std::to_string(i) +
            R"(","Even":)" + (i % 2 == 0 ? "true" : "false") + "}}";
  }
  json += ']';
  auto set = records(json);
  auto table = OptionsTable::build(
      *FieldMapping::compile(field("source: cities\nfilter: '$[?@.fields.Even == true]'\n")), set);
  ASSERT_TRUE(table.ok());
  ASSERT_EQ(table->size(), 5000u);
  EXPECT_EQ(table->value(2048), "4096");
  EXPECT_EQ(table->value(4999), "9998");
}

TEST(OptionsTable, SearchesTheLabelByDefaultRankingPrefixesFirst) {
  auto set = records(kCities);
  auto table = OptionsTable::build(*FieldMapping::compile(field("source: cities\n")), set);
  ASSERT_TRUE(table.ok());
  auto found = table->search("br", 0, 20);
  EXPECT_EQ(found.total, 2u);
  ASSERT_EQ(found.ids.size(), 2u);
  EXPECT_EQ(table->label(found.ids[0]), "Bremen") << "starts-with beats a later word";
  EXPECT_EQ(table->label(found.ids[1]), "Saint-Brieuc");
}

TEST(OptionsTable, SearchTemplateReplacesTheLabelAsSearchText) {
  auto set = records(kCities);
  auto table = OptionsTable::build(
      *FieldMapping::compile(field("source: cities\nsearch: '{fields.Title} {fields.Country}'\n")),
      set);
  ASSERT_TRUE(table.ok());
  auto found = table->search("fr", 0, 20);
  EXPECT_EQ(found.total, 2u);
  EXPECT_EQ(table->label(found.ids[0]), "Paris");
}

TEST(CheckField, WarnsAboutNamesNoRecordHasAndListsTheAvailableOnes) {
  auto set = records(kCities);
  auto warnings =
      check_field(field("source: cities\nlabel: '{fields.Titel} ({fields.Country})'\n"), &set);
  ASSERT_TRUE(warnings.ok());
  ASSERT_EQ(warnings->size(), 1u);
  const std::string& w = (*warnings)[0];
  EXPECT_NE(w.find("label uses fields.Titel, which no record has; available: "), std::string::npos)
      << w;
  EXPECT_NE(w.find("fields.Title"), std::string::npos) << w;
  EXPECT_NE(w.find("fields.Country"), std::string::npos) << w;
  EXPECT_NE(w.find("id"), std::string::npos) << w;
}

TEST(CheckField, AcceptsExistingNamesAndArrayPaths) {
  auto set = records(R"([{"id": 1, "fields": {"Title": "A"}, "tags": [{"name": "x"}]}])");
  auto warnings = check_field(
      field("source: cities\nlabel: '{fields.Title} {tags.0.name}'\nsort: '-{id}'\n"), &set);
  ASSERT_TRUE(warnings.ok());
  EXPECT_TRUE(warnings->empty()) << (*warnings)[0];
}

TEST(CheckField, WithoutSampleOnlyCompiles) {
  auto warnings = check_field(field("source: cities\nlabel: '{fields.Anything}'\n"), nullptr);
  ASSERT_TRUE(warnings.ok());
  EXPECT_TRUE(warnings->empty());
  auto bad = check_field(field("source: cities\nvalue: '{'\n"), nullptr);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "field.bad_template");
}

}  // namespace
}  // namespace extdata::fields
