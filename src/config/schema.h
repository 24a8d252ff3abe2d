#pragma once
// One table of settings: every config key has a name, a type, a default, a
// description and optional checks. Validation and docs both come from here.
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace extdata::config {

enum class Kind {
  string,
  secret,          // a string that is sealed at rest and never shown; ${env:X} / ${file:P} allowed
  integer,
  number,
  boolean,
  url,             // absolute http(s) URL; may contain {variables}
  duration,        // "500ms", "30s", "15m", "2h", "1d" or a number of seconds → stored as seconds
  date,            // YYYY-MM-DD
  choice,          // one of `choices`
  object,          // nested schema
  list,            // list of `item` (scalar kind or object)
  string_map,      // map of string → string (headers, extract, variables bindings)
  object_map,      // map of name → object of `object` schema
  string_or_list,  // "a" or ["a", "b"] → stored as a list
  any,             // any JSON/YAML value (request bodies)
};

struct Schema;

// Settings that decide where a source's credentials go. A stored secret is bound to them: an
// API caller who keeps it ({"set": true}) while one of them changes must enter it again
// (api/kept_secrets.h). `origin`: scheme, host and port count (request URLs, whose paths vary
// with {variables}); `value`: any change counts (token endpoints, tenants, authorities).
enum class SecretBinding { none, origin, value };

struct Setting {
  std::string name;
  Kind kind = Kind::string;
  std::string description;
  bool required = false;
  std::optional<nlohmann::json> default_value;
  std::vector<std::string> choices;        // Kind::choice
  const Schema* object = nullptr;          // Kind::object, or Kind::list of objects
  Kind item = Kind::string;                // Kind::list of scalars
  std::optional<double> min, max;          // numbers and durations
  bool variables = false;                  // "{variable}" placeholders may stand in the value
  bool secret_values = false;              // Kind::string_map whose values are credentials
  SecretBinding binds_secrets = SecretBinding::none;

  bool secret() const { return kind == Kind::secret || secret_values; }
};

struct Schema {
  std::string name;  // for docs: "sources (type: rest)"
  std::vector<Setting> settings;
  // Selects a variant schema by the value of a key (e.g. auth by `type`).
  std::string discriminator;
  std::function<const Schema*(const std::string&)> variant;
  // Extra checks across keys of one object, after each key is valid.
  // Returns an error message and the key it concerns, or nothing.
  std::function<std::optional<std::pair<std::string, std::string>>(const nlohmann::json&)> check;

  const Setting* find(std::string_view key) const;
  std::vector<std::string> names() const;
};

// Result of a cross-key check: the key it concerns and a message.
using Check = std::optional<std::pair<std::string, std::string>>;

// Builders for settings tables (src/sources/<kind>/*_settings.cpp, src/auth/*).
namespace settings {
Setting string(std::string name, std::string desc, bool required = false);
Setting secret(std::string name, std::string desc, bool required = false);
Setting url(std::string name, std::string desc, bool required = false);
Setting boolean(std::string name, std::string desc, bool def);
Setting date(std::string name, std::string desc);
Setting choice(std::string name, std::vector<std::string> choices, std::string def,
               std::string desc);
Setting duration(std::string name, std::string desc, std::optional<double> def = std::nullopt);
Setting integer(std::string name, std::string desc, std::optional<long> def, double min,
                double max);
Setting object(std::string name, const Schema* schema, std::string desc, bool required = false);
Setting list_of(std::string name, const Schema* schema, std::string desc);
Setting map(std::string name, std::string desc);
Setting any(std::string name, std::string desc);
Setting string_or_list(std::string name, std::string desc);
// The same setting with {variable} placeholders allowed.
Setting with_variables(Setting s);
// The same setting, deciding where credentials go (SecretBinding).
Setting binds_secrets(Setting s, SecretBinding binding);
}  // namespace settings

const Schema& file_schema();    // top level: sources, fields
const Schema& source_schema();  // discriminated by `type`; variants from the catalog
const Schema& field_schema();
const Schema& auth_schema();    // discriminated by `type`; variants from the catalog
const Schema& target_schema();  // discriminated by `type`; variants from the catalog
// The keys every source has, whatever its kind (name, type, cache_ttl, timeout ...).
std::vector<Setting> common_source_settings();
// The registered source kinds (catalog.h).
std::vector<std::string> source_types();

// Markdown reference of every setting, generated from the tables (docs/configuration.md).
std::string schema_markdown();
// Type name of a setting in the kinds document ("string", "url", "string_map" ...).
const char* kind_id(Kind kind);

}  // namespace extdata::config
