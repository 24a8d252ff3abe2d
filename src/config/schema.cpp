#include "config/schema.h"

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

namespace {

Setting str(std::string name, std::string desc, bool required = false) {
  return {.name = std::move(name), .kind = Kind::string, .description = std::move(desc), .required = required};
}
Setting secret(std::string name, std::string desc) {
  return {.name = std::move(name), .kind = Kind::secret, .description = std::move(desc)};
}
Setting url(std::string name, std::string desc, bool required = false) {
  return {.name = std::move(name), .kind = Kind::url, .description = std::move(desc), .required = required};
}
Setting choice(std::string name, std::vector<std::string> choices, std::string def, std::string desc) {
  Setting s{.name = std::move(name), .kind = Kind::choice, .description = std::move(desc)};
  s.choices = std::move(choices);
  if (!def.empty()) s.default_value = def;
  return s;
}
Setting duration(std::string name, std::string desc, std::optional<double> def = std::nullopt) {
  Setting s{.name = std::move(name), .kind = Kind::duration, .description = std::move(desc)};
  if (def) s.default_value = *def;
  s.min = 0;
  return s;
}
Setting integer(std::string name, std::string desc, std::optional<long> def, double min, double max) {
  Setting s{.name = std::move(name), .kind = Kind::integer, .description = std::move(desc)};
  if (def) s.default_value = *def;
  s.min = min;
  s.max = max;
  return s;
}
Setting object(std::string name, const Schema* schema, std::string desc, bool required = false) {
  return {.name = std::move(name), .kind = Kind::object, .description = std::move(desc), .required = required, .object = schema};
}
Setting list_of(std::string name, const Schema* schema, std::string desc) {
  return {.name = std::move(name), .kind = Kind::list, .description = std::move(desc), .object = schema};
}
Setting map(std::string name, std::string desc) {
  return {.name = std::move(name), .kind = Kind::string_map, .description = std::move(desc)};
}

using Check = std::optional<std::pair<std::string, std::string>>;

// ------------------------------------------------------------------ auth

const Schema& certificate_schema() {
  static const Schema s{
      .name = "client_certificate",
      .settings = {
          str("certificate", "PEM certificate text or a path to a PEM file", true),
          {.name = "private_key", .kind = Kind::secret, .description = "PEM private key text or a path to a PEM file", .required = true},
          choice("algorithm", {"RS256", "PS256"}, "RS256",
                 "Assertion signature: RS256 with x5t (default, what Entra accepts everywhere) or PS256 with x5t#S256"),
      }};
  return s;
}

const Schema& auth_none() {
  static const Schema s{.name = "auth (type: none)", .settings = {choice("type", {"none"}, "", "No credentials")}};
  return s;
}
const Schema& auth_basic() {
  static const Schema s{.name = "auth (type: basic)",
                        .settings = {choice("type", {"basic"}, "", "HTTP Basic"),
                                     str("username", "User name", true),
                                     {.name = "password", .kind = Kind::secret, .description = "Password", .required = true}}};
  return s;
}
const Schema& auth_ntlm() {
  static const Schema s{.name = "auth (type: ntlm)",
                        .settings = {choice("type", {"ntlm"}, "", "NTLM (Windows integrated) through libcurl"),
                                     str("username", "User name, DOMAIN\\user or user@domain", true),
                                     {.name = "password", .kind = Kind::secret, .description = "Password", .required = true}}};
  return s;
}
const Schema& auth_bearer() {
  static const Schema s{.name = "auth (type: bearer)",
                        .settings = {choice("type", {"bearer"}, "", "A static bearer token"),
                                     {.name = "token", .kind = Kind::secret, .description = "The token", .required = true}}};
  return s;
}
const Schema& auth_api_key() {
  static const Schema s{.name = "auth (type: api_key)",
                        .settings = {choice("type", {"api_key"}, "", "An API key in a header or query parameter"),
                                     str("name", "Header or query parameter name, e.g. X-Api-Key", true),
                                     {.name = "value", .kind = Kind::secret, .description = "The key", .required = true},
                                     choice("in", {"header", "query"}, "header", "Where the key is sent")}};
  return s;
}
const Schema& auth_headers() {
  static const Schema s{.name = "auth (type: headers)",
                        .settings = {choice("type", {"headers"}, "", "Custom headers sent with every request"),
                                     {.name = "headers", .kind = Kind::string_map, .description = "Header name → value template; values are treated as secrets", .required = true}}};
  return s;
}
const Schema& auth_oauth2() {
  static const Schema s{
      .name = "auth (type: oauth2)",
      .settings =
          {
              choice("type", {"oauth2"}, "", "OAuth 2.0 client-credentials grant"),
              url("token_url", "Token endpoint; may contain {tenant}", true),
              str("tenant", "Fills {tenant} in token_url (directory GUID or domain)"),
              str("client_id", "Application (client) ID", true),
              secret("client_secret", "Client secret value (not its ID)"),
              object("client_certificate", &certificate_schema(), "Certificate credential instead of a secret"),
              {.name = "scope", .kind = Kind::string_or_list, .description = "Scope(s), e.g. https://graph.microsoft.com/.default"},
              choice("client_auth", {"post", "basic"}, "post", "How the client authenticates: form fields (post) or HTTP Basic"),
              map("extra_params", "Extra form parameters (audience, resource …)"),
              {.name = "client_secret_expires", .kind = Kind::date, .description = "Expiry date of the client secret, for warnings"},
              integer("expiry_warning_days", "Warn this many days before the secret or certificate expires", 30, 0, 3650),
          },
      .check = [](const json& j) -> Check {
        if (!j.contains("client_secret") && !j.contains("client_certificate"))
          return std::make_pair("client_secret", "needs client_secret or client_certificate");
        if (j.contains("client_secret") && j.contains("client_certificate"))
          return std::make_pair("client_certificate", "give client_secret or client_certificate, not both");
        return std::nullopt;
      }};
  return s;
}

// ------------------------------------------------------------------ sources

const Schema& variable_schema() {
  static const Schema s{.name = "variables.NAME",
                        .settings = {
                            str("default", "Value when the caller gives none"),
                            {.name = "required", .kind = Kind::boolean, .description = "Fail when no value is given", .default_value = false},
                            {.name = "raw", .kind = Kind::boolean, .description = "Insert without percent-encoding (values that are paths, e.g. sites/Sales)", .default_value = false},
                            str("description", "Shown in the UI"),
                        }};
  return s;
}

const Schema& pagination_schema() {
  static const Schema s{
      .name = "pagination",
      .settings =
          {
              choice("type", {"none", "next_link", "link_header", "offset", "page", "cursor"}, "none",
                     "How pages are followed"),
              str("next", "JSONPath to the next page URL (next_link), e.g. $['@odata.nextLink']"),
              str("cursor", "JSONPath to the cursor in the body (cursor)"),
              str("param", "Query parameter that takes the offset, page number or cursor"),
              str("limit_param", "Query parameter that takes the page size (offset, page)"),
              integer("limit", "Page size sent in limit_param", std::nullopt, 1, 1e9),
              integer("start", "First offset or page number", std::nullopt, 0, 1e9),
              integer("max_pages", "Stop after this many pages", 1000, 1, 1e7),
              integer("max_records", "Stop after this many records", 1000000, 1, 1e9),
          }};
  return s;
}

const Schema& step_schema() {
  static const Schema s{.name = "steps[]",
                        .settings = {
                            str("name", "Step name, shown in test output"),
                            url("url", "Request URL; {variables} allowed", true),
                            choice("method", {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}, "GET", "HTTP method"),
                            map("headers", "Request headers; {variables} allowed"),
                            {.name = "body", .kind = Kind::any, .description = "Request body: an object (JSON) or a string"},
                            choice("body_format", {"json", "form", "raw"}, "json", "How body is encoded"),
                            choice("format", {"json", "xml", "csv", "auto"}, "auto", "Response format"),
                            map("extract", "Variables for later steps: name → JSONPath (or XPath)"),
                        }};
  return s;
}

std::vector<Setting> common_source_settings() {
  return {
      str("name", "Unique source name (letters, digits, -, _)", true),
      str("type", "Source kind", true),
      str("description", "Free text"),
      duration("cache_ttl", "How long fetched records are fresh", 300),
      duration("refresh", "Refresh in the background at this interval (optional)"),
      duration("timeout", "Total timeout of one request", 60),
      str("ca_bundle", "PEM file of CA certificates to trust for this source (private CAs)"),
      {.name = "columns", .kind = Kind::string_map, .description = "Column name → expression relative to each record"},
  };
}

const Schema& rest_source() {
  static const Schema s = [] {
    Schema sc{.name = "sources (type: rest)", .settings = common_source_settings()};
    auto add = [&](Setting st) { sc.settings.push_back(std::move(st)); };
    add(url("url", "Request URL; {variables} allowed"));
    add(choice("method", {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"}, "GET", "HTTP method"));
    add(map("headers", "Request headers; {variables} allowed"));
    add({.name = "body", .kind = Kind::any, .description = "Request body: an object (JSON) or a string"});
    add(choice("body_format", {"json", "form", "raw"}, "json", "How body is encoded"));
    add(object("auth", &auth_schema(), "Credentials"));
    add(choice("format", {"json", "xml", "csv", "auto"}, "auto", "Response format"));
    add(str("records", "Expression selecting the records (JSONPath, XPath for xml)"));
    add({.name = "variables", .kind = Kind::object_map, .description = "Declared variables: name → {default, required, raw}", .object = &variable_schema()});
    add(list_of("steps", &step_schema(), "Requests run in order before the final one"));
    add(object("pagination", &pagination_schema(), "Pagination"));
    add({.name = "namespaces", .kind = Kind::string_map, .description = "XML namespace prefixes for XPath"});
    add(str("delimiter", "CSV delimiter (, ; or tab); detected when absent"));
    sc.check = [](const json& j) -> Check {
      if (!j.contains("url") && !j.contains("steps"))
        return std::make_pair("url", "a rest source needs url (or steps)");
      return std::nullopt;
    };
    return sc;
  }();
  return s;
}

const Schema& sharepoint_source() {
  static const Schema s = [] {
    Schema sc{.name = "sources (type: sharepoint-list)", .settings = common_source_settings()};
    auto add = [&](Setting st) { sc.settings.push_back(std::move(st)); };
    add(str("tenant", "Directory (tenant) ID or domain, e.g. contoso.onmicrosoft.com", true));
    add(str("client_id", "Application (client) ID of the app registration", true));
    add(secret("client_secret", "Client secret value (Certificates & secrets → Value, not Secret ID)"));
    add(object("client_certificate", &certificate_schema(), "Certificate credential instead of a secret"));
    add({.name = "client_secret_expires", .kind = Kind::date, .description = "Expiry date of the client secret, for warnings"});
    add(integer("expiry_warning_days", "Warn this many days before the secret or certificate expires", 30, 0, 3650));
    add(url("site", "Site URL as copied from the browser, e.g. https://contoso.sharepoint.com/sites/Sales"));
    add(str("host", "Site host name (instead of site), e.g. contoso.sharepoint.com"));
    add(str("path", "Server-relative site path (with host), e.g. /sites/Sales"));
    add(str("list", "List title or id", true));
    add({.name = "select", .kind = Kind::string_or_list, .description = "Columns to fetch (internal names); all when absent"});
    add(str("filter", "OData filter on fields, e.g. fields/Country eq 'Germany'"));
    add(integer("page_size", "Items per page ($top)", 5000, 1, 5000));
    Setting authority = url("authority", "Identity platform host (national clouds, graphsim)");
    authority.default_value = "https://login.microsoftonline.com";
    add(authority);
    Setting graph = url("graph", "Graph base URL (national clouds, graphsim)");
    graph.default_value = "https://graph.microsoft.com/v1.0";
    add(graph);
    sc.check = [](const json& j) -> Check {
      if (!j.contains("client_secret") && !j.contains("client_certificate"))
        return std::make_pair("client_secret", "needs client_secret or client_certificate");
      if (j.contains("client_secret") && j.contains("client_certificate"))
        return std::make_pair("client_certificate", "give client_secret or client_certificate, not both");
      if (!j.contains("site") && !(j.contains("host") && j.contains("path")))
        return std::make_pair("site", "needs site (the site URL) or host and path");
      if (j.contains("site") && (j.contains("host") || j.contains("path")))
        return std::make_pair("host", "give site, or host and path, not both");
      return std::nullopt;
    };
    return sc;
  }();
  return s;
}

}  // namespace

std::vector<std::string> source_types() { return {"rest", "sharepoint-list"}; }

const Schema& auth_schema() {
  static const Schema s{
      .name = "auth",
      .settings = {choice("type", {"none", "basic", "bearer", "api_key", "headers", "ntlm", "oauth2"}, "",
                          "Credential method")},
      .discriminator = "type",
      .variant = [](const std::string& t) -> const Schema* {
        if (t == "none") return &auth_none();
        if (t == "basic") return &auth_basic();
        if (t == "bearer") return &auth_bearer();
        if (t == "api_key") return &auth_api_key();
        if (t == "headers") return &auth_headers();
        if (t == "ntlm") return &auth_ntlm();
        if (t == "oauth2") return &auth_oauth2();
        return nullptr;
      }};
  return s;
}

const Schema& source_schema() {
  static const Schema s{.name = "sources",
                        .settings = {str("name", "Unique source name", true),
                                     choice("type", source_types(), "", "Source kind")},
                        .discriminator = "type",
                        .variant = [](const std::string& t) -> const Schema* {
                          if (t == "rest") return &rest_source();
                          if (t == "sharepoint-list") return &sharepoint_source();
                          return nullptr;
                        }};
  return s;
}

const Schema& field_schema() {
  static const Schema s{
      .name = "fields",
      .settings = {
          str("name", "Unique field name (letters, digits, -, _)", true),
          choice("type", {"select", "multiselect", "text", "number"}, "select", "Field type"),
          str("source", "Source the options come from", true),
          str("description", "Free text"),
          map("variables", "Source variable → template over the request context, e.g. {country}"),
          str("value", "Template (or column) for the stored key", false),
          str("label", "Display template, e.g. {fields.Title} ({fields.Country})", false),
          str("search", "Template of the searched text (default: the label)"),
          str("sort", "Template to sort options by (prefix - for descending); source order when absent"),
          str("filter", "JSONPath filter over records, e.g. $[?@.fields.Active == true]"),
          integer("limit", "Default number of options returned", 20, 1, 1000),
          duration("cache_ttl", "Overrides the source's cache_ttl"),
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

const Schema& file_schema() {
  static const Schema s{.name = "file",
                        .settings = {
                            {.name = "sources", .kind = Kind::list, .description = "Data sources", .object = &source_schema()},
                            {.name = "fields", .kind = Kind::list, .description = "Fields", .object = &field_schema()},
                        }};
  return s;
}

namespace {

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::string: return "string";
    case Kind::secret: return "secret";
    case Kind::integer: return "integer";
    case Kind::number: return "number";
    case Kind::boolean: return "boolean";
    case Kind::url: return "URL";
    case Kind::duration: return "duration";
    case Kind::date: return "date";
    case Kind::choice: return "choice";
    case Kind::object: return "object";
    case Kind::list: return "list";
    case Kind::string_map: return "map";
    case Kind::object_map: return "map of objects";
    case Kind::string_or_list: return "string or list";
    case Kind::any: return "any";
  }
  return "?";
}

void schema_table(std::ostringstream& out, const Schema& s) {
  out << "\n### " << s.name << "\n\n| key | type | default | description |\n|---|---|---|---|\n";
  for (const auto& st : s.settings) {
    std::string type = kind_name(st.kind);
    if (st.kind == Kind::choice) {
      type.clear();
      for (const auto& c : st.choices) type += (type.empty() ? "" : " \\| ") + c;
    }
    std::string def = st.required ? "required" : st.default_value ? st.default_value->dump() : "";
    out << "| `" << st.name << "` | " << type << " | " << def << " | " << st.description << " |\n";
  }
}

}  // namespace

std::string schema_markdown() {
  std::ostringstream out;
  for (const auto& t : source_types()) schema_table(out, *source_schema().variant(t));
  schema_table(out, step_schema());
  schema_table(out, pagination_schema());
  schema_table(out, variable_schema());
  for (const auto& t : {"none", "basic", "bearer", "api_key", "headers", "ntlm", "oauth2"})
    schema_table(out, *auth_schema().variant(t));
  schema_table(out, certificate_schema());
  schema_table(out, field_schema());
  return out.str();
}

}  // namespace extdata::config
