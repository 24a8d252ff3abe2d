#include "config/diff.h"

#include <map>

namespace extdata::config {

using nlohmann::json;

namespace {

// Objects down to their leaves, pointer → value; arrays, scalars and empty objects are leaves.
void flatten(const json& value, const std::string& pointer, std::map<std::string, json>& out) {
  if (!value.is_object() || value.empty()) {
    out.emplace(pointer, value);
    return;
  }
  for (const auto& [key, child] : value.items()) {
    std::string escaped;
    for (char c : key) escaped += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
    flatten(child, pointer + "/" + escaped, out);
  }
}

// "/auth/token_url" → "auth.token_url", as config errors name keys.
std::string dotted(const std::string& pointer) {
  std::string out;
  for (size_t i = 1; i < pointer.size(); ++i) {
    if (pointer[i] == '/')
      out += '.';
    else if (pointer[i] == '~' && i + 1 < pointer.size())
      out += pointer[++i] == '1' ? '/' : '~';
    else
      out += pointer[i];
  }
  return out;
}

// A key is secret when it is a secret's pointer, lies within one, or holds one (an array of
// headers, say).
bool holds_secret(const std::string& pointer, const std::set<std::string>& secret_pointers) {
  for (const auto& secret : secret_pointers)
    if (secret == pointer || secret.starts_with(pointer + "/") || pointer.starts_with(secret + "/"))
      return true;
  return false;
}

}  // namespace

std::string_view kind_name(KeyChange::Kind kind) {
  switch (kind) {
    case KeyChange::Kind::added:
      return "added";
    case KeyChange::Kind::removed:
      return "removed";
    case KeyChange::Kind::changed:
      break;
  }
  return "changed";
}

std::vector<KeyChange> diff_specs(const json& before, const json& after,
                                  const std::set<std::string>& secret_pointers) {
  std::map<std::string, json> old_leaves, new_leaves;
  if (!before.is_null()) flatten(before, "", old_leaves);
  if (!after.is_null()) flatten(after, "", new_leaves);
  std::set<std::string> keys;
  for (const auto& [k, v] : old_leaves) keys.insert(k);
  for (const auto& [k, v] : new_leaves) keys.insert(k);
  std::vector<KeyChange> out;
  for (const auto& pointer : keys) {
    auto was = old_leaves.find(pointer);
    auto is = new_leaves.find(pointer);
    KeyChange change;
    if (was == old_leaves.end())
      change.kind = KeyChange::Kind::added;
    else if (is == new_leaves.end())
      change.kind = KeyChange::Kind::removed;
    else if (was->second == is->second)
      continue;
    change.key = dotted(pointer);
    change.secret = holds_secret(pointer, secret_pointers);
    if (!change.secret) {
      if (was != old_leaves.end()) change.before = was->second;
      if (is != new_leaves.end()) change.after = is->second;
    }
    out.push_back(std::move(change));
  }
  return out;
}

json to_json(const KeyChange& change) {
  json out = {{"key", change.key}, {"change", std::string(kind_name(change.kind))}};
  if (change.secret) {
    out["secret"] = true;
    return out;
  }
  if (change.kind != KeyChange::Kind::added) out["before"] = change.before;
  if (change.kind != KeyChange::Kind::removed) out["after"] = change.after;
  return out;
}

}  // namespace extdata::config
