#include "sources/rest/rest_settings.h"

namespace extdata::sources {

namespace s = config::settings;
using config::Kind;
using config::Setting;

namespace {

const config::Schema& variable_settings() {
  static const config::Schema table{
      .name = "variables.NAME",
      .settings = {
          s::string("default", "Value when the caller gives none"),
          s::boolean("required", "Fail when no value is given", false),
          s::boolean("raw",
                     "Insert without percent-encoding (values that are paths, e.g. sites/Sales)",
                     false),
          s::string("description", "Shown in the UI"),
      }};
  return table;
}

const config::Schema& pagination_settings() {
  static const config::Schema table{
      .name = "pagination",
      .settings = {
          s::choice("type", {"none", "next_link", "link_header", "offset", "page", "cursor"},
                    "none", "How pages are followed"),
          s::string("next", "JSONPath to the next page URL (next_link), e.g. $['@odata.nextLink']"),
          s::string("cursor", "JSONPath to the cursor in the body (cursor)"),
          s::string("param", "Query parameter that takes the offset, page number or cursor"),
          s::string("limit_param", "Query parameter that takes the page size (offset, page)"),
          s::integer("limit", "Page size sent in limit_param", std::nullopt, 1, 1e9),
          s::integer("start", "First offset or page number", std::nullopt, 0, 1e9),
          s::integer("max_pages", "Stop after this many pages", 1000, 1, 1e7),
          s::integer("max_records", "Stop after this many records", 1000000, 1, 1e9),
      }};
  return table;
}

const config::Schema& incremental_settings() {
  static const config::Schema table{
      .name = "incremental",
      .settings =
          {
              s::string("since_param", "Query parameter that takes the last sync's cursor", true),
              s::string("key", "JSONPath in each record to its identity, e.g. $.id", true),
              s::string("cursor",
                        "JSONPath in the (last page's) response to the next cursor, e.g. "
                        "$.sync_token"),
              s::string("cursor_max",
                        "JSONPath in each record; the greatest value is the next cursor, e.g. "
                        "$.updated_at (numbers compare as numbers, text as text)"),
              s::string("deleted",
                        "JSONPath in each record; a changed record where it selects a value "
                        "other than false or null is removed, e.g. $.deleted"),
              s::duration("full_every",
                          "Read everything again when the last full sync is this old (removals "
                          "an API does not report)"),
          },
      .check = [](const nlohmann::json& j) -> config::Check {
        if (j.contains("cursor") == j.contains("cursor_max"))
          return std::make_pair("cursor",
                                "incremental needs one of cursor (in the response) and "
                                "cursor_max (the greatest record value)");
        return std::nullopt;
      }};
  return table;
}

// The keys of one request, shared by the source itself and each of its steps.
Setting method() {
  return s::choice("method", {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}, "GET",
                   "HTTP method");
}
Setting headers() {
  return s::with_variables(s::map("headers", "Request headers"));
}
Setting body() {
  return s::with_variables(s::any("body", "Request body: an object (JSON) or a string"));
}
Setting body_format() {
  return s::choice("body_format", {"json", "form", "raw"}, "json", "How body is encoded");
}
Setting format() {
  return s::choice("format", {"json", "xml", "csv", "auto"}, "auto", "Response format");
}

const config::Schema& step_settings() {
  static const config::Schema table{
      .name = "steps[]",
      .settings = {
          s::string("name", "Step name, shown in test output"),
          s::binds_secrets(s::with_variables(s::url("url", "Request URL", true)),
                           config::SecretBinding::origin),
          method(),
          headers(),
          body(),
          body_format(),
          format(),
          s::map("extract", "Variables for later steps: name → JSONPath (or XPath)"),
      }};
  return table;
}

}  // namespace

const config::Schema& rest_settings() {
  static const config::Schema table{
      .name = "rest",
      .settings =
          {
              s::binds_secrets(s::with_variables(s::url("url", "Request URL")),
                               config::SecretBinding::origin),
              method(),
              headers(),
              body(),
              body_format(),
              s::object("auth", &config::auth_schema(), "Credentials"),
              format(),
              s::string("records", "Expression selecting the records (JSONPath, XPath for xml)"),
              {.name = "variables",
               .kind = Kind::object_map,
               .description = "Declared variables: name → {default, required, raw}",
               .object = &variable_settings()},
              s::list_of("steps", &step_settings(), "Requests run in order before the final one"),
              s::object("pagination", &pagination_settings(), "Pagination"),
              s::map("namespaces", "XML namespace prefixes for XPath"),
              s::string("delimiter", "CSV delimiter (, ; or tab); detected when absent"),
              s::object("incremental", &incremental_settings(),
                        "Refreshes ask only for what changed since the last sync"),
          },
      .check = [](const nlohmann::json& j) -> config::Check {
        if (!j.contains("url") && !j.contains("steps"))
          return std::make_pair("url", "a rest source needs url (or steps)");
        return std::nullopt;
      }};
  return table;
}

}  // namespace extdata::sources
