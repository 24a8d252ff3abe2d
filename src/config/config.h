#pragma once
// Config as code: YAML or JSON documents declaring `sources:` and `fields:`,
// parsed and validated once against the settings tables (schema.h) into
// immutable objects. Every error names the key path and line.
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"

namespace extdata::config {

// A validated source: `spec` holds every key with defaults applied, durations in
// seconds, lists normalised; secrets are resolved (plaintext) and listed in
// `secret_pointers` (JSON pointers into spec) so the store can seal them and
// outputs can mask them.
struct SourceConfig {
  std::string name;
  std::string type;
  nlohmann::json spec;
  std::set<std::string> secret_pointers;
  // Where it came from in a config file ("sources[2]", top-level key → line), so errors
  // found later by the source kind can point at the line; empty for API-made sources.
  std::string origin;
  std::map<std::string, int> key_lines;

  // spec with each secret replaced by {"set": true}: safe to show.
  nlohmann::json masked() const;
};

// Where a source's credentials go, by key path: the values of its SecretBinding settings
// (schema.h) and the kind chosen by each `type` — {"url": "https://api.example.com",
// "auth.type": "oauth2", "auth.token_url": "https://login.example.com/t/token", ...}. Stored
// secrets are bound to these (api/kept_secrets.h).
std::map<std::string, std::string> secret_bindings(const SourceConfig& source);

// "file: sources[0].site (line 7): message" for an error a source kind found in a source of
// a config file; details["key"] names the key.
Error locate_source_error(const std::string& file, const SourceConfig& source, Error e);

struct FieldConfig {
  std::string name;
  std::string source;
  nlohmann::json spec;
};

// A validated target (`targets:`): where a field's options are pushed (src/targets/).
// Secrets (its auth) are resolved and listed in `secret_pointers`, as for sources.
struct TargetConfig {
  std::string name;
  std::string type;   // "jira-field-options"
  std::string field;  // the extdata field whose options are pushed
  nlohmann::json spec;
  std::set<std::string> secret_pointers;

  nlohmann::json masked() const;  // spec with each secret replaced by {"set": true}
};

struct ConfigFile {
  std::vector<SourceConfig> sources;
  std::vector<FieldConfig> fields;
  std::vector<TargetConfig> targets;
};

struct Issue {
  std::string path;  // sources[1].auth.token_url
  int line = 0;      // 1-based; 0 when unknown
  std::string message;
  std::string hint;
  std::string to_string() const;  // "sources[1].auth.token_url (line 14): not a valid URL"
};

// ${env:NAME} and ${file:PATH} in a string setting. They read the host (its environment, its
// files), so only documents an operator applies from the command line resolve them; the API
// refuses them (refuse_host_references) and stored specs keep text as written.
enum class References {
  resolve,  // config files of `extdata validate/apply/source test --config` (the operator's)
  literal,  // API bodies (after refuse_host_references) and stored specs: never read the host
  refuse,   // field documents sent through the API: a reference is an error naming the key
};

struct ParseOptions {
  References references = References::resolve;
  // The only directory ${file:PATH} may read (--secrets-dir / EXTDATA_SECRETS_DIR): a relative
  // PATH is taken inside it, an absolute one must lie inside it, and the canonical path (".."
  // and symlinks resolved) must stay inside it. Empty: ${file:} is refused with a hint.
  std::string secrets_dir;
  // Sources that exist elsewhere (the store) and may be referenced by fields.
  std::set<std::string> known_sources;
};

// Error code "config.invalid" carries every issue in details["issues"] (one per line).
Result<ConfigFile> parse_config(std::string_view text, const ParseOptions& options = {});
Result<ConfigFile> load_config_file(const std::string& path,
                                    std::set<std::string> known_sources = {},
                                    const std::string& secrets_dir = {});

// A source or field document as an API caller sent it: "config.host_reference" (400) naming
// the first key whose value holds ${env:...} or ${file:...}, or — in the values of a custom
// header credential (auth.headers) — {{env.NAME}}; these read the server's environment and
// files and are for operator documents applied from the command line only.
std::optional<Error> refuse_host_references(const nlohmann::json& document);

// One source or field as sent to the API (a JSON or YAML object), or as stored. `name` comes
// from the URL. References are literal text here (see References).
Result<SourceConfig> parse_source(std::string_view text, const std::string& name);
Result<FieldConfig> parse_field(std::string_view text, const std::string& name,
                                const std::set<std::string>& known_sources,
                                References references = References::refuse);
// Rebuilds validated objects from their stored JSON (already valid; re-validated anyway).
Result<SourceConfig> source_from_json(const nlohmann::json& spec);
// A stored target, validated again (secrets already unsealed into spec).
Result<TargetConfig> target_from_json(const nlohmann::json& spec);
Result<FieldConfig> field_from_json(const nlohmann::json& spec,
                                    const std::set<std::string>& known_sources);

// "15m" → 900; "500ms" → 0.5; plain numbers are seconds.
std::optional<double> parse_duration(std::string_view text);

// Levenshtein-closest candidate within a small distance, for "did you mean".
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

bool is_valid_name(std::string_view name);

}  // namespace extdata::config
