#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "fields/search_index.h"
#include "fields/text_fold.h"

namespace extdata::fields {
namespace {

struct Corpus {
  std::vector<std::string> texts;
  std::vector<std::string_view> views() const { return {texts.begin(), texts.end()}; }
};

SearchIndex build_or_die(const std::vector<std::string>& texts) {
  std::vector<std::string_view> views(texts.begin(), texts.end());
  auto index = SearchIndex::build(views);
  EXPECT_TRUE(index.ok());
  return std::move(index).value();
}

std::vector<uint32_t> all_ids(const SearchIndex& index, std::string_view query) {
  return index.search(query, 0, SIZE_MAX).ids;
}

std::vector<std::string_view> split_on_spaces(std::string_view text) {
  std::vector<std::string_view> words;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    words.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

template <typename Visit>
void for_each_word(std::string_view text, Visit&& visit) {
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    visit(text.substr(start, end - start));
    start = end + 1;
  }
}

std::vector<std::string> fold_all(const std::vector<std::string>& texts) {
  std::vector<std::string> keys;
  keys.reserve(texts.size());
  for (const std::string& text : texts) keys.push_back(fold_for_search(text));
  return keys;
}

// The ranking rules of search_index.h, restated as plainly as possible over folded keys:
// try each rule in order, then stable-sort by tier.
std::vector<uint32_t> reference_search_keys(const std::vector<std::string>& keys,
                                            std::string_view query) {
  const std::string q = fold_for_search(query);
  const std::vector<std::string_view> query_words = split_on_spaces(q);
  std::vector<std::pair<int, uint32_t>> hits;
  for (uint32_t id = 0; id < keys.size(); ++id) {
    const std::string_view key = keys[id];
    if (q.empty()) {
      hits.push_back({0, id});
    } else if (key == q) {
      hits.push_back({1, id});
    } else if (key.substr(0, q.size()) == q) {
      hits.push_back({2, id});
    } else {
      int tier = 3;
      for (std::string_view w : query_words) {
        bool prefix = false, inside = false;
        for_each_word(key, [&](std::string_view kw) {
          if (kw.substr(0, w.size()) == w) prefix = true;
          if (kw.find(w) != std::string_view::npos) inside = true;
        });
        if (!inside) {
          tier = -1;
          break;
        }
        if (!prefix) tier = 4;
      }
      if (tier > 0) hits.push_back({tier, id});
    }
  }
  std::stable_sort(hits.begin(), hits.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<uint32_t> ids;
  for (const auto& hit : hits) ids.push_back(hit.second);
  return ids;
}

std::vector<uint32_t> reference_search(const std::vector<std::string>& texts,
                                       std::string_view query) {
  return reference_search_keys(fold_all(texts), query);
}

TEST(SearchIndex, RanksExactThenStartsThenWordThenInside) {
  const std::vector<std::string> texts = {
      "Bau Müller",   // 0: a word starts with "mul"
      "Emuller AG",   // 1: "mul" inside a word
      "Müller",       // 2: starts with "mul"
      "Müller GmbH",  // 3: starts with "mul"
      "Sommer",       // 4: no match
      "MUL",          // 5: exact
  };
  const SearchIndex index = build_or_die(texts);
  const SearchResult result = index.search("mul", 0, 20);
  EXPECT_EQ(result.ids, (std::vector<uint32_t>{5, 2, 3, 0, 1}));
  EXPECT_EQ(result.total, 5u);
  EXPECT_EQ(all_ids(index, "Müller"), (std::vector<uint32_t>{2, 3, 0, 1}));
  EXPECT_EQ(all_ids(index, "gmbh"), (std::vector<uint32_t>{3}));
}

TEST(SearchIndex, OneAndTwoLetterQueriesRankTheSameWay) {
  const std::vector<std::string> texts = {"Amu", "Bmx", "mu", "Mü Bau", "x Mü", "M", "MUx"};
  const SearchIndex index = build_or_die(texts);
  EXPECT_EQ(all_ids(index, "mu"), (std::vector<uint32_t>{2, 3, 6, 4, 0}));
  EXPECT_EQ(all_ids(index, "M"), (std::vector<uint32_t>{5, 2, 3, 6, 4, 0, 1}));
  EXPECT_EQ(all_ids(index, "Ü"), (std::vector<uint32_t>{0, 2, 3, 4, 6}));
}

TEST(SearchIndex, AccentAndCaseInsensitiveBothWays) {
  const std::vector<std::string> texts = {"Société Générale", "Muller GmbH", "Straße AG"};
  const SearchIndex index = build_or_die(texts);
  EXPECT_EQ(all_ids(index, "societe"), (std::vector<uint32_t>{0}));
  EXPECT_EQ(all_ids(index, "GÉN"), (std::vector<uint32_t>{0}));
  EXPECT_EQ(all_ids(index, "Mül"), (std::vector<uint32_t>{1}));
  EXPECT_EQ(all_ids(index, "strasse"), (std::vector<uint32_t>{2}));
  EXPECT_EQ(all_ids(index, "STRAẞE"), (std::vector<uint32_t>{2}));
}

TEST(SearchIndex, MultiWordQueriesNeedEveryWordAndTakeTheWeakestTier) {
  const std::vector<std::string> texts = {
      "Müller GmbH",       // 0: starts with "muller gm"
      "GmbH Müller",       // 1: both words start words
      "Kleinmüller GmbH",  // 2: "muller" only inside
      "Müller AG",         // 3: no "gm"
      "Müller GmbH",       // 4: exact for "müller gmbh"
  };
  const SearchIndex index = build_or_die(texts);
  EXPECT_EQ(all_ids(index, "muller gm"), (std::vector<uint32_t>{0, 4, 1, 2}));
  EXPECT_EQ(all_ids(index, "gm mul"), (std::vector<uint32_t>{0, 1, 4, 2}));
  EXPECT_EQ(all_ids(index, "Müller, GmbH"), (std::vector<uint32_t>{0, 4, 1, 2}));
  EXPECT_EQ(all_ids(index, "ag muller"), (std::vector<uint32_t>{3}));
  EXPECT_EQ(all_ids(index, "muller zz"), (std::vector<uint32_t>{}));
}

TEST(SearchIndex, OffsetLimitAndTotal) {
  std::vector<std::string> texts;
  for (int i = 0; i < 50; ++i)
    texts.push_back((i % 3 == 0 ? "Alpha " : "Beta alpha ") + std::to_string(i));
  const SearchIndex index = build_or_die(texts);
  for (std::string_view query : {"al", "alp", "alpha 1", ""}) {
    const std::vector<uint32_t> everything = all_ids(index, query);
    ASSERT_EQ(everything, reference_search(texts, query)) << query;
    for (size_t offset : {0, 1, 7, 17, 49, 50, 80}) {
      for (size_t limit : {0, 1, 5, 20}) {
        const SearchResult page = index.search(query, offset, limit);
        EXPECT_EQ(page.total, everything.size()) << query;
        std::vector<uint32_t> expected;
        for (size_t i = offset; i < everything.size() && expected.size() < limit; ++i) {
          expected.push_back(everything[i]);
        }
        EXPECT_EQ(page.ids, expected) << query << " offset " << offset << " limit " << limit;
      }
    }
  }
}

TEST(SearchIndex, EmptyQueryReturnsAllRecordsInInputOrder) {
  const std::vector<std::string> texts = {"b", "a", "", "c"};
  const SearchIndex index = build_or_die(texts);
  for (std::string_view query : {"", "  ", " -/ ", "\xFF"}) {
    const SearchResult result = index.search(query, 1, 2);
    EXPECT_EQ(result.total, 4u);
    EXPECT_EQ(result.ids, (std::vector<uint32_t>{1, 2}));
  }
}

TEST(SearchIndex, NoMatchAndEmptyIndex) {
  const SearchIndex index = build_or_die({"Acme", "Globex"});
  EXPECT_EQ(index.search("zz", 0, 20).total, 0u);
  EXPECT_EQ(index.search("q", 0, 20).total, 0u);
  EXPECT_EQ(index.search("acmex", 0, 20).total, 0u);
  EXPECT_EQ(index.search("東京", 0, 20).total, 0u);

  const SearchIndex empty = build_or_die({});
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_EQ(empty.search("", 0, 20).total, 0u);
  EXPECT_EQ(empty.search("a", 0, 20).total, 0u);
  EXPECT_EQ(empty.search("abc", 0, 20).total, 0u);
}

TEST(SearchIndex, OtherScripts) {
  const std::vector<std::string> texts = {"東京株式会社", "株式会社大阪", "ΑΘΗΝΑ", "Москва Сити",
                                          "Κέντρο Αθηνών"};
  const SearchIndex index = build_or_die(texts);
  EXPECT_EQ(all_ids(index, "株式"), (std::vector<uint32_t>{1, 0}));
  EXPECT_EQ(all_ids(index, "株"), (std::vector<uint32_t>{1, 0}));
  EXPECT_EQ(all_ids(index, "αθ"), (std::vector<uint32_t>{2, 4}));
  EXPECT_EQ(all_ids(index, "αθηνα"), (std::vector<uint32_t>{2}));
  EXPECT_EQ(all_ids(index, "СИТИ"), (std::vector<uint32_t>{3}));
  EXPECT_EQ(all_ids(index, "ΚΈ"), (std::vector<uint32_t>{4}));
}

// A small alphabet makes words collide often, so every tier and gram path is exercised.
std::vector<std::string> random_texts(size_t count, uint32_t seed) {
  static const char* const kPieces[] = {"a", "b", "ab", "ba", "é", "Ü", "ß", "s", "ss", "aß", "ü"};
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> words(1, 3), pieces(1, 3), piece(0, std::size(kPieces) - 1),
      sep(0, 3);
  std::vector<std::string> texts;
  for (size_t i = 0; i < count; ++i) {
    std::string text;
    const int n = words(rng);
    for (int w = 0; w < n; ++w) {
      if (w > 0) text += sep(rng) == 0 ? "-" : " ";
      const int p = pieces(rng);
      for (int k = 0; k < p; ++k) text += kPieces[piece(rng)];
    }
    texts.push_back(text);
  }
  return texts;
}

TEST(SearchIndex, AgreesWithReferenceOnRandomCorpus) {
  // 5000 records: above the size where dense posting lists become bitmaps.
  const std::vector<std::string> texts = random_texts(5000, 7);
  const SearchIndex index = build_or_die(texts);
  const std::vector<std::string> queries = {"a",   "b",   "s",    "u",     "e",      "ab",  "ba",
                                            "ss",  "Ü",   "aß",   "ß",     "abab",   "ssu", "usa",
                                            "b a", "a b", "ss a", "ab ba", "abba s", "bb",  "aaa",
                                            "ue",  "x",   "a-b",  "",      "ébé"};
  std::vector<std::string> all_queries = queries;
  const std::string letters = "absue";
  for (char a : letters) {
    for (char b : letters) {
      for (char c : letters) all_queries.push_back({a, b, c});
      all_queries.push_back({a, b, 's', 's'});
      all_queries.push_back({a, ' ', b, 'a'});
    }
  }
  const std::vector<std::string> keys = fold_all(texts);
  for (const std::string& query : all_queries) {
    const std::vector<uint32_t> expected = reference_search_keys(keys, query);
    const SearchResult result = index.search(query, 0, SIZE_MAX);
    ASSERT_EQ(result.ids, expected) << "query '" << query << "'";
    ASSERT_EQ(result.total, expected.size()) << "query '" << query << "'";
    for (size_t offset : {1, 5, 40, 700, 1500}) {
      const SearchResult page = index.search(query, offset, 7);
      ASSERT_EQ(page.total, expected.size());
      const std::vector<uint32_t> expected_page(
          expected.begin() + std::min(offset, expected.size()),
          expected.begin() + std::min(offset + 7, expected.size()));
      ASSERT_EQ(page.ids, expected_page) << "query '" << query << "' offset " << offset;
    }
  }
}

// Labels as an option table holds them: one arena, offsets (LabelTexts with stride 1).
struct Labels {
  std::string arena;
  std::vector<uint32_t> offsets{0};
  explicit Labels(const std::vector<std::string>& labels) {
    for (const std::string& label : labels) {
      arena += label;
      offsets.push_back(static_cast<uint32_t>(arena.size()));
    }
  }
  LabelTexts texts() const { return {arena, offsets, 1}; }
};

// Search texts and labels of `count` records from random_texts: the label is the search text for
// about half, punctuated differently (the same key) for a quarter, and another text (another key)
// for the rest, some of them extended by a word.
struct Labelled {
  std::vector<std::string> texts, labels;
};

Labelled labelled_texts(size_t count, uint32_t seed) {
  Labelled out{random_texts(count, seed), random_texts(count, seed + 1)};
  std::mt19937 rng(seed + 2);
  for (size_t i = 0; i < count; ++i) {
    switch (rng() % 8) {
      case 0:
      case 1:
      case 2:
      case 3:
        out.labels[i] = out.texts[i];
        break;
      case 4:
      case 5:
        out.labels[i] = "(" + out.texts[i] + ", -)";
        break;
      case 6:
        out.labels[i] = out.texts[i] + " bé";
        break;
      default:
        break;  // another random text
    }
  }
  return out;
}

std::vector<std::string> random_corpus_queries() {
  std::vector<std::string> queries = {
      "a",      "b",       "s",      "u",     "e",      "ab",      "ba",    "ss",
      "Ü",      "aß",      "ß",      "abab",  "ssu",    "usa",     "b a",   "a b",
      "ss a",   "ab ba",   "abba s", "bb",    "aaa",    "ue",      "x",     "a-b",
      "",       "ébé",     "a a",    "ab ab", "ab be",  "aba b",   "s b a", "ssu ab",
      "b abab", "ba ss a", "a x",    "be be", "ab-a b", "ssass ab"};
  const std::string letters = "absue";
  for (char a : letters) {
    for (char b : letters) {
      for (char c : letters) queries.push_back({a, b, c});
      queries.push_back({a, b, 's', 's'});
      queries.push_back({a, ' ', b, 'a'});
      queries.push_back({a, b, ' ', b});
      queries.push_back({a, b, 'a', ' ', b, 'a', 'b'});
    }
  }
  return queries;
}

void expect_agrees_with_reference(const SearchIndex& index, const LabelTexts& labels,
                                  const std::vector<std::string>& keys,
                                  const std::vector<std::string>& queries) {
  for (const std::string& query : queries) {
    const std::vector<uint32_t> expected = reference_search_keys(keys, query);
    const SearchResult result = index.search(query, 0, SIZE_MAX, labels);
    ASSERT_EQ(result.ids, expected) << "query '" << query << "'";
    ASSERT_EQ(result.total, expected.size()) << "query '" << query << "'";
    for (size_t offset : {1, 5, 40, 700, 1500}) {
      const SearchResult page = index.search(query, offset, 7, labels);
      ASSERT_EQ(page.total, expected.size());
      const std::vector<uint32_t> expected_page(
          expected.begin() + std::min(offset, expected.size()),
          expected.begin() + std::min(offset + 7, expected.size()));
      ASSERT_EQ(page.ids, expected_page) << "query '" << query << "' offset " << offset;
    }
  }
}

TEST(SearchIndex, OverLabelsStoresOnlyTheKeysTheLabelsDoNotGiveAndAnswersTheSame) {
  // 5000 records (bitmap segments), words at every density, multi-word queries of every tier.
  const Labelled corpus = labelled_texts(5000, 21);
  const Labels labels(corpus.labels);
  std::vector<std::string_view> views(corpus.texts.begin(), corpus.texts.end());
  auto built = SearchIndex::build(views, labels.texts());
  ASSERT_TRUE(built.ok());
  const SearchIndex& index = *built;
  const std::vector<std::string> keys = fold_all(corpus.texts);
  const std::vector<std::string> label_keys = fold_all(corpus.labels);
  size_t differing = 0;
  for (uint32_t id = 0; id < keys.size(); ++id) {
    differing += keys[id] != label_keys[id];
    ASSERT_EQ(index.key(id, labels.texts()), keys[id]) << id;
  }
  EXPECT_GT(differing, 500u);
  EXPECT_LT(differing, 2500u);
  EXPECT_EQ(index.stored_keys(), differing);
  EXPECT_LT(index.memory_bytes(), build_or_die(corpus.texts).memory_bytes());
  expect_agrees_with_reference(index, labels.texts(), keys, random_corpus_queries());
}

TEST(SearchIndex, MultiWordQueriesOverLabelsRankLikeTheirKeys) {
  // Words of many records and of few, prefixes of the whole key, labels that fold differently:
  // every way search_words finds a tier (bitmaps, look-ups per candidate, keys read or folded).
  std::vector<std::string> texts, labels;
  std::mt19937 rng(5);
  static const char* const kWords[] = {"alpha", "alpine", "beta", "bet", "gamma", "gam",
                                       "delta", "del",    "a",    "ab",  "alp",   "zeta"};
  for (uint32_t i = 0; i < 6000; ++i) {
    std::string text;
    const int words = 1 + static_cast<int>(rng() % 4);
    for (int w = 0; w < words; ++w) text += std::string(w ? " " : "") + kWords[rng() % 12];
    if (i % 5 == 0) text += " " + std::to_string(i);  // a word of one record
    texts.push_back(text);
    labels.push_back(i % 11 == 0 ? text + " extra" : (i % 3 == 0 ? "«" + text + "»" : text));
  }
  const Labels label_texts(labels);
  std::vector<std::string_view> views(texts.begin(), texts.end());
  auto index = SearchIndex::build(views, label_texts.texts());
  ASSERT_TRUE(index.ok());
  expect_agrees_with_reference(*index, label_texts.texts(), fold_all(texts),
                               {"alpha beta",
                                "alpha bet",
                                "alp b",
                                "a b",
                                "a",
                                "alpha",
                                "al be ga",
                                "alpha alpha",
                                "bet alpha 5",
                                "zeta 3",
                                "zeta 30",
                                "ze 30",
                                "a 30",
                                "alpha 1000",
                                "alpha 100",
                                "1000 al",
                                "del delta",
                                "delta del",
                                "gam ma",
                                "lpha eta",
                                "l a",
                                "p 5",
                                "ab ab",
                                "zeta zeta zeta",
                                "alpine extra",
                                "5 extra",
                                "30 alp",  // a word of three vocabulary words: keys read
                                "1000 alp",
                                "alp 1000",
                                "lp 30",
                                "30 lp",
                                "a alpha beta gamma",
                                "alpha beta gamma delta zeta"});
  // The same without labels (every key stored) answers the same.
  expect_agrees_with_reference(build_or_die(texts), {}, fold_all(texts),
                               {"alpha bet", "a b", "zeta 30", "1000 al", "alp b"});
}

TEST(SearchIndex, PatchOverLabelsKeepsTheKeysTheLabelsDoNotGive) {
  Labelled corpus = labelled_texts(4500, 31);
  const Labels old_labels(corpus.labels);
  std::vector<std::string_view> views(corpus.texts.begin(), corpus.texts.end());
  auto old = SearchIndex::build(views, old_labels.texts());
  ASSERT_TRUE(old.ok());
  // Every 9th record removed, every 13th replaced (removed and inserted at its place with a new
  // text and label), one inserted at the front and one at the end.
  const Labelled fresh = labelled_texts(400, 41);
  Labelled next;
  std::vector<uint32_t> new_ids(corpus.texts.size(), SearchIndex::kGone);
  std::vector<std::pair<uint32_t, size_t>> inserted_from;  // (new id, fresh record)
  size_t next_fresh = 0;
  const auto insert = [&] {
    inserted_from.push_back({static_cast<uint32_t>(next.texts.size()), next_fresh});
    next.texts.push_back(fresh.texts[next_fresh]);
    next.labels.push_back(fresh.labels[next_fresh++]);
  };
  insert();
  for (uint32_t id = 0; id < corpus.texts.size(); ++id) {
    if (id % 9 == 4) continue;
    if (id % 13 == 6) {
      insert();
      continue;
    }
    new_ids[id] = static_cast<uint32_t>(next.texts.size());
    next.texts.push_back(corpus.texts[id]);
    next.labels.push_back(corpus.labels[id]);
  }
  insert();
  std::vector<SearchIndex::Insert> inserts;
  for (const auto& [id, from] : inserted_from)
    inserts.push_back({id, fresh.texts[from], fresh.labels[from]});
  auto patched = SearchIndex::patch(*old, new_ids, inserts, next.texts.size());
  ASSERT_TRUE(patched.has_value());

  const Labels new_labels(next.labels);
  std::vector<std::string_view> new_views(next.texts.begin(), next.texts.end());
  auto built = SearchIndex::build(new_views, new_labels.texts());
  ASSERT_TRUE(built.ok());
  EXPECT_EQ(patched->stored_keys(), built->stored_keys());
  EXPECT_EQ(patched->memory_bytes() > 0, true);
  const std::vector<std::string> keys = fold_all(next.texts);
  for (uint32_t id = 0; id < keys.size(); ++id) {
    ASSERT_EQ(patched->key(id, new_labels.texts()), keys[id]) << id;
  }
  expect_agrees_with_reference(*patched, new_labels.texts(), keys,
                               {"a", "ab", "b a", "ab ba", "abba s", "ss a", "a b", "aba b", "ssu",
                                "bé", "a bé", "ab bé", "s b a"});
}

TEST(SearchIndex, ConcurrentReadersSeeTheSameResults) {
  const std::vector<std::string> texts = random_texts(2000, 11);
  const SearchIndex index = build_or_die(texts);
  const std::vector<std::string> queries = {"a", "ab", "ssu", "b a", "é"};
  std::vector<std::vector<uint32_t>> expected;
  for (const auto& q : queries) expected.push_back(all_ids(index, q));
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 50; ++round) {
        for (size_t i = 0; i < queries.size(); ++i) {
          if (all_ids(index, queries[i]) != expected[i]) ++mismatches[t];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

TEST(SearchIndex, MillionRecordsBuildAndAnswerCorrectly) {
  static const char* const kFirst[] = {"Müller", "Société", "Schmidt", "Øresund",
                                       "Ærø",    "Dvořák",  "Nguyễn",  "Łukasz",
                                       "Acme",   "Globex",  "Initech", "Straße"};
  static const char* const kSecond[] = {"Bau",        "Générale", "Logistik", "Handel",
                                        "Consulting", "Systems",  "Partners", "Holding"};
  static const char* const kSuffix[] = {"GmbH", "AG", "SA", "S.à r.l.", "Ltd", "& Co. KG"};
  std::vector<std::string> texts;
  texts.reserve(1'000'000);
  for (uint32_t i = 0; i < 1'000'000; ++i) {
    texts.push_back(std::string(kFirst[i % 12]) + " " + kSecond[(i / 12) % 8] + " " +
                    std::to_string(i % 9973) + " " + kSuffix[(i / 96) % 6]);
  }
  const SearchIndex index = build_or_die(texts);
  ASSERT_EQ(index.size(), 1'000'000u);
  EXPECT_GT(index.memory_bytes(), 1'000'000u);

  const std::vector<std::string> keys = fold_all(texts);
  const auto expect_agrees = [&](std::string_view query) {
    const SearchResult result = index.search(query, 3, 20);
    const std::vector<uint32_t> expected = reference_search_keys(keys, query);
    EXPECT_EQ(result.total, expected.size()) << query;
    std::vector<uint32_t> page(expected.begin() + std::min<size_t>(3, expected.size()),
                               expected.begin() + std::min<size_t>(23, expected.size()));
    EXPECT_EQ(result.ids, page) << query;
  };
  expect_agrees("mu");          // two letters: gram postings
  expect_agrees("strasse 99");  // several words
  expect_agrees("1234");        // one vocabulary word
  expect_agrees("olding");      // inside one vocabulary word
}

}  // namespace
}  // namespace extdata::fields
