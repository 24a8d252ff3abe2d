#include "config/diff.h"

#include <gtest/gtest.h>

namespace extdata::config {
namespace {

using nlohmann::json;

TEST(DiffSpecs, NamesEachChangedKeyByItsPathWithBothValues) {
  const json before = {{"url", "https://a.example.com"},
                       {"auth", {{"type", "basic"}, {"username", "ann"}}},
                       {"limit", 20},
                       {"headers", json::array({"a", "b"})}};
  const json after = {{"url", "https://b.example.com"},
                      {"auth", {{"type", "basic"}, {"username", "bob"}}},
                      {"headers", json::array({"a", "c"})},
                      {"cache_ttl", 300}};
  const auto changes = diff_specs(before, after, {});
  ASSERT_EQ(changes.size(), 5u);
  EXPECT_EQ(changes[0].key, "auth.username");
  EXPECT_EQ(changes[0].kind, KeyChange::Kind::changed);
  EXPECT_EQ(changes[0].before, "ann");
  EXPECT_EQ(changes[0].after, "bob");
  EXPECT_EQ(changes[1].key, "cache_ttl");
  EXPECT_EQ(changes[1].kind, KeyChange::Kind::added);
  EXPECT_EQ(changes[2].key, "headers");  // arrays compare as a whole
  EXPECT_EQ(changes[2].after, json::array({"a", "c"}));
  EXPECT_EQ(changes[3].key, "limit");
  EXPECT_EQ(changes[3].kind, KeyChange::Kind::removed);
  EXPECT_EQ(changes[3].before, 20);
  EXPECT_EQ(changes[4].key, "url");
  EXPECT_TRUE(diff_specs(before, before, {}).empty());
}

TEST(DiffSpecs, NeverCarriesASecretsValueWhereverItIs) {
  const json before = {{"client_secret", "old-secret-1234"}, {"list", "Customers"}};
  const json after = {{"client_secret", "new-secret-5678"},
                      {"list", "Customers"},
                      {"auth", {{"type", "bearer"}, {"token", "tok-secret-9999"}}},
                      {"headers", json::array({{{"name", "X-Key"}, {"value", "hdr-secret"}}})}};
  const auto changes =
      diff_specs(before, after, {"/client_secret", "/auth/token", "/headers/0/value"});
  ASSERT_EQ(changes.size(), 4u);
  for (const auto& c : changes) {
    const std::string shown = to_json(c).dump();
    for (const char* secret : {"old-secret", "new-secret", "tok-secret", "hdr-secret"})
      EXPECT_EQ(shown.find(secret), std::string::npos) << shown;
  }
  EXPECT_EQ(changes[0].key, "auth.token");
  EXPECT_TRUE(changes[0].secret);
  EXPECT_EQ(changes[1].key, "auth.type");  // the object around the secret shows
  EXPECT_FALSE(changes[1].secret);
  EXPECT_EQ(changes[2].key, "client_secret");
  EXPECT_EQ(changes[2].kind, KeyChange::Kind::changed);
  EXPECT_EQ(to_json(changes[2]),
            (json{{"key", "client_secret"}, {"change", "changed"}, {"secret", true}}));
  EXPECT_EQ(changes[3].key, "headers");  // an array holding a secret hides all of it
  EXPECT_TRUE(changes[3].secret);
}

TEST(DiffSpecs, AnAddedItemListsEveryKeyAsAdded) {
  const auto changes = diff_specs(nullptr, {{"a", 1}, {"b", {{"c", 2}}}}, {});
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[1].key, "b.c");
  EXPECT_EQ(to_json(changes[1]), (json{{"key", "b.c"}, {"change", "added"}, {"after", 2}}));
}

}  // namespace
}  // namespace extdata::config
