#pragma once
// What changed between two stored versions of a source or field, key by key: `extdata apply`
// and `apply --dry-run` show it. A secret's value is never part of the result, only that the
// secret was added, removed or changed.
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace extdata::config {

struct KeyChange {
  enum class Kind { added, removed, changed };
  Kind kind = Kind::changed;
  std::string key;  // "auth.token_url"; objects are compared key by key, arrays as a whole
  bool secret = false;
  // The values (null where there is none); both null for a secret.
  nlohmann::json before, after;
};

std::string_view kind_name(KeyChange::Kind kind);  // "added" | "removed" | "changed"

// The changes from `before` to `after`, sorted by key. `secret_pointers` (JSON pointers, those
// of either version) mark the keys whose values stay hidden.
std::vector<KeyChange> diff_specs(const nlohmann::json& before, const nlohmann::json& after,
                                  const std::set<std::string>& secret_pointers);

// {"key", "change", "before", "after"} ({"key", "change", "secret": true} for a secret).
nlohmann::json to_json(const KeyChange& change);

}  // namespace extdata::config
