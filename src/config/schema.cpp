#include "config/schema.h"

#include "config/catalog.h"

#include <algorithm>
#include <sstream>

namespace extdata::config {

using nlohmann::json;

const Setting* Schema::find(std::string_view key) const {
  for (const auto& s : settings)
    if (s.name == key) return &s;
  return nullptr;
}

std::vector<std::string> Schema::names() const {
  std::vector<std::string> out;
  for (const auto& s : settings) out.push_back(s.name);
  return out;
}

namespace settings {

Setting string(std::string name, std::string desc, bool required) {
  return {.name = std::move(name),
          .kind = Kind::string,
          .description = std::move(desc),
          .required = required};
}
Setting secret(std::string name, std::string desc, bool required) {
  return {.name = std::move(name),
          .kind = Kind::secret,
          .description = std::move(desc),
          .required = required};
}
Setting url(std::string name, std::string desc, bool required) {
  return {.name = std::move(name),
          .kind = Kind::url,
          .description = std::move(desc),
          .required = required};
}
Setting boolean(std::string name, std::string desc, bool def) {
  return {.name = std::move(name),
          .kind = Kind::boolean,
          .description = std::move(desc),
          .default_value = def};
}
Setting date(std::string name, std::string desc) {
  return {.name = std::move(name), .kind = Kind::date, .description = std::move(desc)};
}
Setting choice(std::string name, std::vector<std::string> choices, std::string def,
               std::string desc) {
  Setting s{.name = std::move(name), .kind = Kind::choice, .description = std::move(desc)};
  s.choices = std::move(choices);
  if (!def.empty()) s.default_value = def;
  return s;
}
Setting duration(std::string name, std::string desc, std::optional<double> def) {
  Setting s{.name = std::move(name), .kind = Kind::duration, .description = std::move(desc)};
  if (def) s.default_value = *def;
  s.min = 0;
  return s;
}
Setting integer(std::string name, std::string desc, std::optional<long> def, double min,
                double max) {
  Setting s{.name = std::move(name), .kind = Kind::integer, .description = std::move(desc)};
  if (def) s.default_value = *def;
  s.min = min;
  s.max = max;
  return s;
}
Setting object(std::string name, const Schema* schema, std::string desc, bool required) {
  return {.name = std::move(name),
          .kind = Kind::object,
          .description = std::move(desc),
          .required = required,
          .object = schema};
}
Setting list_of(std::string name, const Schema* schema, std::string desc) {
  return {.name = std::move(name),
          .kind = Kind::list,
          .description = std::move(desc),
          .object = schema};
}
Setting map(std::string name, std::string desc) {
  return {.name = std::move(name), .kind = Kind::string_map, .description = std::move(desc)};
}
Setting any(std::string name, std::string desc) {
  return {.name = std::move(name), .kind = Kind::any, .description = std::move(desc)};
}
Setting string_or_list(std::string name, std::string desc) {
  return {.name = std::move(name), .kind = Kind::string_or_list, .description = std::move(desc)};
}
Setting with_variables(Setting s) {
  s.variables = true;
  return s;
}
Setting binds_secrets(Setting s, SecretBinding binding) {
  s.binds_secrets = binding;
  return s;
}

}  // namespace settings

using namespace settings;

std::vector<Setting> common_source_settings() {
  return {
      string("name", "Unique source name (letters, digits, -, _)", true),
      string("type", "Source kind", true),
      string("description", "Free text"),
      duration("cache_ttl", "How long fetched records are fresh", 300),
      duration("refresh", "Refresh in the background at this interval (optional)"),
      duration("timeout", "Total timeout of one request", 60),
      string("ca_bundle", "PEM file of CA certificates to trust for this source (private CAs)"),
      choice("follow_redirects", {"same-origin", "any"}, "same-origin",
             "Which redirects to follow: same-origin (scheme, host and port of the request), or "
             "any (credentials and the source's headers are then not sent to another origin)"),
      {.name = "columns",
       .kind = Kind::string_map,
       .description = "Column name → expression relative to each record"},
      {.name = "snapshot",
       .kind = Kind::boolean,
       .description = "Keep a snapshot in the store of every key fetched (default: only keys "
                      "served more than once, and the key without variables)"},
  };
}

std::vector<std::string> source_types() {
  std::vector<std::string> out;
  for (const auto& k : catalog().sources()) out.push_back(k.type);
  return out;
}

const Schema& auth_schema() {
  return catalog().auth_schema();
}

const Schema& source_schema() {
  catalog().require_registered();
  return catalog().source_schema();
}

// One entry of a field's `context:` (docs/fields.md, "Context").
static const Schema& context_rule_schema() {
  static const Schema s{
      .name = "fields[].context.KEY",
      .settings = {
          integer("max_length",
                  "Most bytes of the value (the operator limit --max-context-length applies too)",
                  std::nullopt, 1, 1000000),
          string("pattern",
                 "I-Regexp (RFC 9485) the whole value must match, e.g. [A-Z]{2}; checked when "
                 "the field is first used"),
          {.name = "values",
           .kind = Kind::list,
           .description = "The only values accepted",
           .item = Kind::string},
      }};
  return s;
}

const Schema& field_schema() {
  static const Schema s{
      .name = "fields",
      .settings = {
          string("name", "Unique field name (letters, digits, -, _)", true),
          choice("type", {"select", "multiselect", "text", "number"}, "select", "Field type"),
          string("source", "Source the options come from", true),
          string("description", "Free text"),
          map("variables", "Source variable → template over the request context, e.g. {country}"),
          string("value", "Template (or column) for the stored key", false),
          string("label", "Display template, e.g. {fields.Title} ({fields.Country})", false),
          string("search", "Template of the searched text (default: the label)"),
          string("sort",
                 "Template to sort options by (prefix - for descending); source order when absent"),
          string("filter", "JSONPath filter over records, e.g. $[?@.fields.Active == true]"),
          integer("limit", "Default number of options returned", 20, 1, 1000),
          duration("cache_ttl", "Overrides the source's cache_ttl"),
          {.name = "context",
           .kind = Kind::object_map,
           .description = "Context keys the field takes besides the names its variables use: "
                          "key → {max_length, pattern, values}. Requests with other keys are "
                          "refused (400 field.undeclared_context)",
           .object = &context_rule_schema()},
          {.name = "snapshot",
           .kind = Kind::boolean,
           .description = "Keep a snapshot in the store of every key this field asks for "
                          "(default: only keys served more than once)"},
          map("data",
              "What each option carries for the form besides value and label: name → template or "
              "column, e.g. account_manager: fields.Account_x0020_Manager. Default: nothing; the "
              "records' other columns are never sent"),
      }};
  [[maybe_unused]] static const bool init = [] {
    auto& settings = const_cast<Schema&>(s).settings;
    for (auto& st : settings) {
      if (st.name == "value") st.default_value = "{id}";
      if (st.name == "label") st.default_value = "{fields.Title}";
    }
    return true;
  }();
  return s;
}

const Schema& target_schema() {
  return catalog().target_schema();
}

const Schema& file_schema() {
  static const Schema s{.name = "file",
                        .settings = {
                            {.name = "sources",
                             .kind = Kind::list,
                             .description = "Data sources",
                             .object = &source_schema()},
                            {.name = "fields",
                             .kind = Kind::list,
                             .description = "Fields",
                             .object = &field_schema()},
                        }};
  return s;
}

namespace {

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::string:
      return "string";
    case Kind::secret:
      return "secret";
    case Kind::integer:
      return "integer";
    case Kind::number:
      return "number";
    case Kind::boolean:
      return "boolean";
    case Kind::url:
      return "URL";
    case Kind::duration:
      return "duration";
    case Kind::date:
      return "date";
    case Kind::choice:
      return "choice";
    case Kind::object:
      return "object";
    case Kind::list:
      return "list";
    case Kind::string_map:
      return "map";
    case Kind::object_map:
      return "map of objects";
    case Kind::string_or_list:
      return "string or list";
    case Kind::any:
      return "any";
  }
  return "?";
}

std::string description_of(const Setting& st) {
  if (!st.variables) return st.description;
  const char* where =
      st.kind == Kind::url ? "{variables} allowed in the path and query" : "{variables} allowed";
  return st.description + (st.description.empty() ? "" : "; ") + where;
}

void schema_table(std::ostringstream& out, const Schema& s, const std::string& intro = {}) {
  out << "\n### " << s.name << "\n\n";
  if (!intro.empty()) out << intro << "\n\n";
  out << "| key | type | default | description |\n|---|---|---|---|\n";
  for (const auto& st : s.settings) {
    std::string type = st.secret_values ? "map of secrets" : kind_name(st.kind);
    if (st.kind == Kind::choice) {
      type.clear();
      for (const auto& c : st.choices) type += (type.empty() ? "" : " \\| ") + c;
    }
    std::string def = st.required ? "required" : st.default_value ? st.default_value->dump() : "";
    out << "| `" << st.name << "` | " << type << " | " << def << " | " << description_of(st)
        << " |\n";
  }
}

// The object schemas a table refers to (steps[], pagination, client_certificate …), each
// once, in the order met; discriminated ones (auth) have their own section.
void nested_tables(const Schema& s, std::vector<const Schema*>& out) {
  for (const auto& st : s.settings) {
    const Schema* o = st.object;
    if (o == nullptr || !o->discriminator.empty()) continue;
    if (std::find(out.begin(), out.end(), o) != out.end()) continue;
    out.push_back(o);
    nested_tables(*o, out);
  }
}

}  // namespace

std::string schema_markdown() {
  const Catalog& c = catalog();
  c.require_registered();
  std::ostringstream out;
  out << "# Configuration reference\n\n"
         "Generated from the settings tables of the source kinds (`src/sources/<kind>/`) and auth\n"
         "methods (`src/auth/`) by `extdata config-reference` (`make docs` rewrites this file; a\n"
         "unit test fails when it is out of date). Durations accept `500ms`, `30s`, `15m`, `2h`,\n"
         "`1d` or a number of seconds. In files applied from the command line, strings accept\n"
         "`${env:NAME}` and `${file:NAME}` (a file in the directory of `--secrets-dir` /\n"
         "`EXTDATA_SECRETS_DIR`); the API refuses both (docs/security.md). `{variables}` are\n"
         "filled from the request context.\n";
  auto section = [&](const KindDecl& kind, const Schema* full) {
    schema_table(out, *full, "**" + kind.title + ".** " + kind.description);
  };
  std::vector<const Schema*> nested;
  for (const auto& k : c.sources()) {
    section(k, c.source_variant(k.type));
    nested_tables(*c.source_variant(k.type), nested);
  }
  for (const Schema* n : nested) schema_table(out, *n);
  std::vector<const Schema*> auth_nested;
  for (const auto& k : c.auth()) {
    section(k, c.auth_variant(k.type));
    nested_tables(*c.auth_variant(k.type), auth_nested);
  }
  for (const Schema* n : auth_nested)
    if (std::find(nested.begin(), nested.end(), n) == nested.end()) schema_table(out, *n);
  schema_table(out, field_schema());
  std::vector<const Schema*> field_nested;
  nested_tables(field_schema(), field_nested);
  for (const Schema* n : field_nested) schema_table(out, *n);
  // Targets (`targets:`): their auth is the auth table above.
  for (const auto& k : c.targets()) section(k, c.target_variant(k.type));
  return out.str();
}

const char* kind_id(Kind k) {
  switch (k) {
    case Kind::string:
      return "string";
    case Kind::secret:
      return "secret";
    case Kind::integer:
      return "integer";
    case Kind::number:
      return "number";
    case Kind::boolean:
      return "boolean";
    case Kind::url:
      return "url";
    case Kind::duration:
      return "duration";
    case Kind::date:
      return "date";
    case Kind::choice:
      return "choice";
    case Kind::object:
      return "object";
    case Kind::list:
      return "list";
    case Kind::string_map:
      return "string_map";
    case Kind::object_map:
      return "object_map";
    case Kind::string_or_list:
      return "string_or_list";
    case Kind::any:
      return "any";
  }
  return "?";
}

}  // namespace extdata::config
