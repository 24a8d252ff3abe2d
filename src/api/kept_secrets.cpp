#include "api/kept_secrets.h"

#include "core/redact.h"

namespace extdata::api {

using nlohmann::json;

namespace {

// "/auth/headers/X~1Key" → "auth.headers.X/Key"
std::string key_path(const std::string& pointer) {
  std::string out;
  for (size_t i = 0; i < pointer.size(); ++i) {
    if (pointer[i] == '/') {
      if (i > 0) out += '.';
    } else if (pointer[i] == '~' && i + 1 < pointer.size()) {
      out += pointer[++i] == '1' ? '/' : '~';
    } else {
      out += pointer[i];
    }
  }
  return out;
}

std::string shown(const std::map<std::string, std::string>& bindings, const std::string& key) {
  auto it = bindings.find(key);
  return it == bindings.end() ? "(not set)" : "'" + redact(it->second) + "'";
}

}  // namespace

std::vector<std::string> restore_kept_secrets(json& document, const config::SourceConfig* stored) {
  std::vector<std::string> kept;
  if (!stored) return kept;
  for (const auto& ptr : stored->secret_pointers) {
    json::json_pointer p(ptr);
    if (document.contains(p) && document[p] == json{{"set", true}} && stored->spec.contains(p)) {
      document[p] = stored->spec[p];
      kept.push_back(ptr);
    }
  }
  return kept;
}

std::optional<Error> check_kept_secrets(const std::vector<std::string>& kept,
                                        const config::SourceConfig& stored,
                                        const config::SourceConfig& edited) {
  if (kept.empty()) return std::nullopt;
  const auto before = config::secret_bindings(stored);
  const auto after = config::secret_bindings(edited);
  if (before == after) return std::nullopt;
  std::string changed;
  for (const auto* side : {&before, &after})
    for (const auto& [key, value] : *side)
      if (changed.empty() &&
          (!before.count(key) || !after.count(key) || before.at(key) != after.at(key)))
        changed = key;
  const std::string secret = key_path(kept.front());
  return Error("config.secret_rebound",
               secret + " keeps the stored secret ({\"set\": true}) but " + changed +
                   " changed from " + shown(before, changed) + " to " + shown(after, changed) +
                   ": a stored secret is only sent where it was entered for",
               "Enter the secret again in " + secret + " to use it with the new " + changed +
                   ", or leave " + changed + " as it was.")
      .with("key", secret)
      .with("changed", changed);
}

}  // namespace extdata::api
