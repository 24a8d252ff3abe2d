// Patching an option table after an incremental sync (OptionsTable::patch, SearchIndex::patch):
// random small change sets applied to random records, and the patched table compared with a
// table built from scratch over the same records, query by query.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "config/config.h"
#include "extract/jsonpath/jsonpath_scope.h"
#include "extract/record_changes.h"
#include "fields/options.h"

namespace extdata::fields {
namespace {

using extract::RecordChanges;
using extract::RecordSet;

FieldMapping mapping_of(const std::string& yaml) {
  auto parsed = config::parse_field(yaml, "company", {"companies"});
  if (!parsed.ok()) throw std::runtime_error(parsed.error().to_string());
  auto mapping = FieldMapping::compile(*parsed);
  if (!mapping.ok()) throw std::runtime_error(mapping.error().to_string());
  return std::move(mapping).value();
}

RecordSet records_of(const std::string& json) {
  RecordSet set;
  auto appended = set.append_page(json, *extract::JsonPath::compile("$[*]"), {});
  if (!appended.ok()) throw std::runtime_error(appended.error().message);
  return set;
}

// Words chosen so that labels share prefixes, grams and whole words, with accents and case.
const std::vector<std::string> kWords = {
    "Berlin", "Bern", "Bonn",   "Müller", "MULLER", "Société", "Générale", "GmbH",  "Ltd",
    "ab",     "a",    "Zürich", "zu",     "Be",     "Saint",   "Brieuc",   "Ölund", "b",
    "x-ray",  "Co.",  "",       "bé",     "Anna",   "anne",    "Nordlicht"};
const std::vector<std::string> kCities = {"Bonn", "Köln", "", "Paris", "Bern", "Basel"};

// Generates items with ids unique per generator, titles of zero to four words, some without
// an id (no value), some with a number to sort by and some with a text there.
class Items {
 public:
  explicit Items(unsigned seed) : random_(seed) {}

  std::string item(bool with_id = true) {
    std::string title;
    const int words = pick(5);
    for (int w = 0; w < words; ++w) title += (w ? " " : "") + kWords[pick(kWords.size())];
    std::string json = "{";
    if (with_id && pick(25) != 0) json += R"("id":")" + std::to_string(next_id_++) + R"(",)";
    json += R"("fields":{"Title":)" + nlohmann::json(title).dump() + R"(,"City":")" +
            kCities[pick(kCities.size())] + R"(","Rank":)";
    json +=
        pick(4) == 0 ? nlohmann::json(kWords[pick(kWords.size())]).dump() : std::to_string(pick(7));
    return json + "}}";
  }
  std::string page(size_t count) {
    std::string json = "[";
    for (size_t i = 0; i < count; ++i) json += (i ? "," : "") + item();
    return json + "]";
  }
  size_t pick(size_t below) { return std::uniform_int_distribution<size_t>(0, below - 1)(random_); }

 private:
  std::mt19937 random_;
  size_t next_id_ = 1;
};

// A random change set on `base`: some records removed, some replaced by a new version, some new
// ones put between the others or at the end (combine keeps the base records in order).
struct Changed {
  RecordSet records;
  RecordChanges changes;
};

Changed change(const RecordSet& base, Items& items, size_t max_changes) {
  const size_t changes = 1 + items.pick(max_changes);
  std::set<size_t> touched;
  while (touched.size() < std::min(changes, base.size())) touched.insert(items.pick(base.size()));
  std::string additions = "[";
  uint32_t added = 0;
  const auto add = [&] {
    additions += (added ? "," : "") + items.item();
    return added++;
  };
  std::vector<RecordSet::Pick> picks;
  for (size_t r = 0; r < base.size(); ++r) {
    if (touched.count(r)) {
      switch (items.pick(3)) {
        case 0:  // removed
          break;
        case 1:  // replaced
          picks.push_back({add(), true});
          break;
        default:  // a new record before it
          picks.push_back({add(), true});
          picks.push_back({static_cast<uint32_t>(r), false});
      }
      continue;
    }
    picks.push_back({static_cast<uint32_t>(r), false});
  }
  if (items.pick(2)) picks.push_back({add(), true});
  additions += "]";
  RecordSet add_set = records_of(additions);
  auto combined = RecordSet::combine(base, add_set, picks);
  if (!combined.ok()) throw std::runtime_error(combined.error().message);
  auto described = RecordChanges::of_picks(base.size(), picks);
  if (!described) throw std::runtime_error("picks out of order");
  return Changed{std::move(combined).value(), std::move(*described)};
}

// Queries taken from the labels: grams of one and two characters, word prefixes, inner parts,
// two words, and a few that match nothing or everything.
std::vector<std::string> queries_for(const OptionsTable& table, Items& items) {
  std::vector<std::string> out = {"",    "b",   "B",    "be",   "mu",      "mü",
                                  "zu",  "ber", "bonn", "gmbh", "société", "saint b",
                                  "a b", "x",   "ray",  "qq",   "-",       "anna ltd"};
  for (int i = 0; i < 12 && table.size() > 0; ++i) {
    const std::string label(table.label(items.pick(table.size())));
    if (label.size() < 2) continue;
    const size_t at = items.pick(label.size() - 1);
    out.push_back(label.substr(at, 1 + items.pick(std::min<size_t>(6, label.size() - at))));
    out.push_back(label.substr(0, label.find(' ', 3)));
    out.push_back(label.substr(0, 1 + items.pick(label.size())));  // often several words
  }
  return out;
}

void expect_same(const OptionsTable& patched, const OptionsTable& built, Items& items,
                 const std::string& where) {
  SCOPED_TRACE(where);
  ASSERT_EQ(patched.size(), built.size());
  EXPECT_EQ(patched.without_value(), built.without_value());
  EXPECT_EQ(patched.filtered_out(), built.filtered_out());
  // The same keys stored (those the labels do not give), the others folded from the labels.
  EXPECT_EQ(patched.index().stored_keys(), built.index().stored_keys());
  for (size_t i = 0; i < built.size(); ++i) {
    ASSERT_EQ(patched.value(i), built.value(i)) << "option " << i;
    ASSERT_EQ(patched.label(i), built.label(i)) << "option " << i;
    ASSERT_EQ(patched.record(i), built.record(i)) << "option " << i;
    ASSERT_EQ(patched.search_key(i), built.search_key(i));
    // The first option of each value answers `field value` (duplicate keys included).
    ASSERT_EQ(patched.find_value(built.value(i)), built.find_value(built.value(i)));
  }
  for (const char* missing : {"", "0", "999999", "Bonn"})
    EXPECT_EQ(patched.find_value(missing), built.find_value(missing)) << missing;
  for (const std::string& q : queries_for(built, items)) {
    for (const auto& [offset, limit] : std::vector<std::pair<size_t, size_t>>{
             {0, 20}, {0, 1000000}, {3, 5}, {17, 2}, {built.size(), 5}}) {
      const SearchResult a = patched.search(q, offset, limit);
      const SearchResult b = built.search(q, offset, limit);
      ASSERT_EQ(a.total, b.total) << "q=" << q << " offset=" << offset;
      ASSERT_EQ(a.ids, b.ids) << "q=" << q << " offset=" << offset << " limit=" << limit;
    }
  }
}

// Several rounds of changes, each patched onto the last patched table.
void patch_rounds(const std::string& field_yaml, size_t records, size_t rounds, size_t max_changes,
                  unsigned seed) {
  const FieldMapping mapping = mapping_of(field_yaml);
  Items items(seed);
  auto current = std::make_unique<RecordSet>(records_of(items.page(records)));
  auto built = OptionsTable::build(mapping, *current);
  ASSERT_TRUE(built.ok()) << built.error().to_string();
  OptionsTable table = std::move(built).value();
  for (size_t round = 0; round < rounds; ++round) {
    Changed next = change(*current, items, max_changes);
    std::string why_not;
    auto patched =
        OptionsTable::patch(table, mapping, *current, next.records, next.changes, why_not);
    ASSERT_TRUE(patched.has_value()) << why_not;
    auto rebuilt = OptionsTable::build(mapping, next.records);
    ASSERT_TRUE(rebuilt.ok());
    expect_same(*patched, *rebuilt, items,
                "seed " + std::to_string(seed) + " round " + std::to_string(round));
    if (::testing::Test::HasFatalFailure()) return;
    table = std::move(*patched);
    current = std::make_unique<RecordSet>(std::move(next.records));
  }
}

const char* kFields[] = {
    "source: companies\n",                                                  // source order
    "source: companies\nlabel: '{fields.Title} ({fields.City})'\n",         // the bench's field
    "source: companies\nsearch: '{fields.City} {fields.Title}'\n",          // its own search text
    "source: companies\nsort: '{fields.Rank}'\n",                           // numbers, then texts
    "source: companies\nsort: '-{fields.Title}'\n",                         // descending, ties
    "source: companies\nvalue: '{fields.City}'\nsort: '{fields.Title}'\n",  // duplicate values
    // A search text that folds like the label only where the city is empty: the index keeps the
    // other records' keys (search_index.h, "Keys").
    "source: companies\nlabel: '{fields.Title}'\nsearch: '{fields.Title} {fields.City}'\n",
};

TEST(TablePatch, RandomSmallChangesGiveTheTableABuildWouldGive) {
  for (unsigned seed = 1; seed <= 6; ++seed) {
    for (const char* field : kFields) {
      SCOPED_TRACE(field);
      patch_rounds(field, 150, 6, 6, seed);
      if (HasFatalFailure()) return;
    }
  }
}

// Filters that decide on each record alone: the patch asks them about the fresh records only.
const char* kFilteredFields[] = {
    "source: companies\nfilter: '$[?@.fields.City == \"Bonn\" || @.fields.Rank > 3]'\n",
    "source: companies\nfilter: '$[*].fields[?@ == \"Bern\" || @ == \"Paris\"]'\n"
    "sort: '{fields.Title}'\n",
    "source: companies\nfilter: '$..[?@.Rank >= 2]'\nlabel: '{fields.Title} ({fields.City})'\n",
    "source: companies\nfilter: '$[?!search(@.fields.Title, \"[Bb]\")]'\n"
    "value: '{fields.City}'\n",
};

TEST(TablePatch, FiltersThatLookAtEachRecordAlonePatchAndGiveTheTableABuildWouldGive) {
  for (unsigned seed = 1; seed <= 4; ++seed) {
    for (const char* field : kFilteredFields) {
      SCOPED_TRACE(field);
      ASSERT_TRUE(mapping_of(field).filter_per_element);
      patch_rounds(field, 150, 6, 6, seed);
      if (HasFatalFailure()) return;
    }
  }
}

TEST(TablePatch, AFilterSelectsPerElementUnlessItQueriesTheRootOrPicksByPosition) {
  const auto per_element = [](const std::string& filter) {
    auto path = extract::JsonPath::compile(filter);
    if (!path.ok()) throw std::runtime_error(path.error().message);
    return extract::selects_per_element(*path);
  };
  for (const char* alone :
       {"$[?@.fields.Active == true]", "$[*]", "$[*].fields[?@ == 'Bern']", "$..[?@.Rank >= 2]",
        "$[?count(@.fields.*) > 2]", "$[?@.items[?@.x == 1]]", "$[?match(@.id, '[0-9]+')]",
        "$[?@.fields.Title]", "$.value"}) {
    EXPECT_TRUE(per_element(alone)) << alone;
  }
  for (const char* whole :
       {"$[?@.fields.City == $[0].fields.City]", "$[?length($) > 3]", "$[?@.a[?@.b == $[0].b]]",
        "$[?count($[*]) > 1 && @.x]", "$[*].fields[?@ == $[1].fields.City]", "$[0]", "$[0:10]",
        "$[-1]", "$[*, 1]", "$..[0]", "$"}) {
    EXPECT_FALSE(per_element(whole)) << whole;
  }
}

TEST(TablePatch, ChangesToATableWithBitmapSegmentsGiveTheTableABuildWouldGive) {
  // From 4096 records on, dense posting lists are bitmaps whose bits shift with the changes.
  for (const char* field : {kFields[1], kFields[3], kFields[6]}) {
    SCOPED_TRACE(field);
    patch_rounds(field, 4700, 3, 40, 11);
    if (HasFatalFailure()) return;
  }
}

TEST(TablePatch, ChangesToWordsOfManyRecordsGiveTheTableABuildWouldGive) {
  // A vocabulary word first in 255 or more keys keeps its place counts apart (word_big_places_):
  // here each city is the first word of ~400 search keys.
  patch_rounds(kFields[2], 3000, 3, 20, 5);
}

TEST(TablePatch, AnOptionMovesWhenItsSortKeyChanges) {
  const FieldMapping mapping = mapping_of("source: companies\nsort: '{fields.Rank}'\n");
  RecordSet base = records_of(R"([{"id":"1","fields":{"Title":"One","Rank":1}},
    {"id":"2","fields":{"Title":"Two","Rank":2}},{"id":"3","fields":{"Title":"Three","Rank":3}}])");
  auto table = OptionsTable::build(mapping, base);
  RecordSet additions = records_of(R"([{"id":"1","fields":{"Title":"One Last","Rank":9}}])");
  const std::vector<RecordSet::Pick> picks = {{0, true}, {1, false}, {2, false}};
  auto records = RecordSet::combine(base, additions, picks);
  std::string why_not;
  auto patched = OptionsTable::patch(*table, mapping, base, *records,
                                     *RecordChanges::of_picks(base.size(), picks), why_not);
  ASSERT_TRUE(patched.has_value()) << why_not;
  ASSERT_EQ(patched->size(), 3u);
  EXPECT_EQ(patched->label(0), "Two");
  EXPECT_EQ(patched->label(2), "One Last");
  EXPECT_EQ(patched->record(2), 0u);
  EXPECT_EQ(patched->search("last", 0, 5).ids, std::vector<uint32_t>{2});
  EXPECT_EQ(patched->search("one", 0, 5).total, 1u);
}

TEST(TablePatch, IsDeclinedForAFilterOverTheWholeArrayOrTooManyChanges) {
  Items items(3);
  RecordSet base = records_of(items.page(100));
  Changed few = change(base, items, 3);
  std::string why_not;
  const FieldMapping filtered =
      mapping_of("source: companies\nfilter: '$[?@.fields.City == $[0].fields.City]'\n");
  auto table = OptionsTable::build(filtered, base);
  EXPECT_FALSE(OptionsTable::patch(*table, filtered, base, few.records, few.changes, why_not));
  EXPECT_EQ(why_not, "filter");

  const FieldMapping plain = mapping_of(kFields[0]);
  auto plain_table = OptionsTable::build(plain, base);
  RecordChanges many = few.changes;
  many.removed.resize(100);
  for (uint32_t i = 0; i < 100; ++i) many.removed[i] = i;
  many.fresh.clear();
  for (uint32_t i = 0; i < few.records.size(); ++i) many.fresh.push_back(i);
  EXPECT_FALSE(OptionsTable::patch(*plain_table, plain, base, few.records, many, why_not));
  EXPECT_EQ(why_not, "changes");

  RecordChanges other = few.changes;
  other.old_size += 1;  // not the records the table was built from
  EXPECT_FALSE(OptionsTable::patch(*plain_table, plain, base, few.records, other, why_not));
  EXPECT_EQ(why_not, "mismatch");
}

TEST(RecordChanges, PicksInOrderSayWhatWasRemovedAndWhatIsFresh) {
  // base 0 1 2 3 4 → 0, new, 2 (1 removed), replaced 3, 4, new at the end
  const std::vector<RecordSet::Pick> picks = {{0, false}, {0, true},  {2, false},
                                              {1, true},  {4, false}, {2, true}};
  auto changes = RecordChanges::of_picks(5, picks);
  ASSERT_TRUE(changes.has_value());
  EXPECT_EQ(changes->removed, (std::vector<uint32_t>{1, 3}));
  EXPECT_EQ(changes->fresh, (std::vector<uint32_t>{1, 3, 5}));
  const uint32_t gone = RecordChanges::kGone;
  EXPECT_EQ(changes->new_indexes(), (std::vector<uint32_t>{0, gone, 2, gone, 4}));
  EXPECT_FALSE(RecordChanges::of_picks(5, {{1, false}, {0, false}})) << "out of order";
}

}  // namespace
}  // namespace extdata::fields
