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

const Schema& file_schema();    // top level: sources, fields
const Schema& source_schema();  // discriminated by `type`
const Schema& field_schema();
const Schema& auth_schema();    // discriminated by `type`
std::vector<std::string> source_types();

// Markdown reference of every setting, generated from the tables (docs/configuration.md).
std::string schema_markdown();

}  // namespace extdata::config
