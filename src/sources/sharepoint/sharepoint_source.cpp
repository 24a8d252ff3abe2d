#include "sources/sharepoint/sharepoint_source.h"

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <system_error>
#include <unordered_set>

#include "auth/diagnostics.h"
#include "auth/oauth2.h"
#include "config/config.h"
#include "core/log.h"
#include "core/redact.h"
#include "core/strings.h"
#include "core/url.h"
#include "http/curl_client.h"
#include "sources/sharepoint/delta.h"
#include "sources/sharepoint/sharepoint_settings.h"

namespace extdata::sources::sharepoint {

namespace {

constexpr const char* kDefaultGraph = "https://graph.microsoft.com/v1.0";
constexpr const char* kDefaultAuthority = "https://login.microsoftonline.com";
constexpr const char* kHonorNonIndexed = "HonorNonIndexedQueriesWarningMayFailRandomly";
// A page whose body is not valid JSON (a proxy or a dropped connection cut it) is asked for
// again this many times in all before the fetch fails.
constexpr int kPageAttempts = 3;
constexpr size_t kPreviewBytes = 512;
constexpr const char* kFilterNote =
    "sync: delta is not used with a filter (Graph's delta query takes no $filter); every "
    "refresh reads the filtered items in full";

Error config_error(std::string code, std::string key, std::string message, std::string hint = {}) {
  Error e(std::move(code), std::move(message), std::move(hint));
  e.with("key", std::move(key));
  return e.as(ErrorCategory::invalid_input);  // a setting is wrong, whatever the code's usual kind
}

std::string spec_string(const nlohmann::json& spec, const char* key) {
  auto it = spec.find(key);
  return it != spec.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string trim_trailing_slashes(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// Scheme, host and port (the default one left out), or "" for what is not a URL.
std::string origin_of(std::string_view url) {
  auto parsed = Url::parse(url);
  return parsed.ok() ? parsed->origin() : std::string();
}

// Only the scheme, host and path: no query or fragment.
bool is_bare_url(const Url& url) {
  return !url.query() && !url.fragment();
}

// Internal column names are XML-encoded identifiers (Account_x0020_Manager).
bool is_internal_name(std::string_view s) {
  if (s.empty() || s.size() > 255) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

// JSON string starting at text[pos] == '"': returns the index after the closing quote.
std::optional<size_t> skip_string(std::string_view text, size_t pos) {
  for (size_t i = pos + 1; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == '"') {
      return i + 1;
    }
  }
  return std::nullopt;
}

// Decodes the JSON string literal `literal` (quotes included) with simdjson, which already
// handles every escape and surrogate pair.
std::optional<std::string> decode_string(std::string_view literal) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(literal);
  std::string_view value;
  if (parser.parse(padded).get(value)) return std::nullopt;
  return std::string(value);
}

size_t skip_ws(std::string_view text, size_t pos) {
  while (pos < text.size() &&
         (text[pos] == ' ' || text[pos] == '\n' || text[pos] == '\r' || text[pos] == '\t'))
    ++pos;
  return pos;
}

Error bad_page(std::string message) {
  return Error("sharepoint.bad_page", std::move(message),
               "the answer was cut short or is not Graph JSON; try again, and check proxies and "
               "graph if it persists");
}

constexpr std::string_view kNextLinkKey = "\"@odata.nextLink\"";

// A "@odata.nextLink" key at `pos` (its opening quote) that is a member name of the top-level
// object: preceded by '{' or ',' and followed by ':'. Returns the decoded string value.
std::optional<std::string> next_link_at(std::string_view text, size_t pos) {
  size_t before = pos;
  while (before > 0 && std::isspace(static_cast<unsigned char>(text[before - 1]))) --before;
  if (before == 0 || (text[before - 1] != ',' && text[before - 1] != '{')) return std::nullopt;
  size_t colon = skip_ws(text, pos + kNextLinkKey.size());
  if (colon >= text.size() || text[colon] != ':') return std::nullopt;
  size_t value = skip_ws(text, colon + 1);
  if (value >= text.size() || text[value] != '"') return std::nullopt;
  auto end = skip_string(text, value);
  if (!end) return std::nullopt;
  return decode_string(text.substr(value, *end - value));
}

}  // namespace

std::string graph_scope(std::string_view graph_base) {
  auto parsed = Url::parse(graph_base);
  if (parsed.ok()) {
    const std::string& host = parsed->host();
    for (std::string_view known :
         {"graph.microsoft.com", "graph.microsoft.us", "dod-graph.microsoft.us",
          "microsoftgraph.chinacloudapi.cn", "graph.microsoft.de"}) {
      if (host == known) return "https://" + host + "/.default";
    }
  }
  return "https://graph.microsoft.com/.default";
}

// A body that ends with the closing brace of its top-level object (a cut-short body almost never
// does). Only a hint for prefetching; the parse decides whether the page is valid.
bool arrived_whole(std::string_view body) {
  const size_t last = body.find_last_not_of(" \t\r\n");
  return last != std::string_view::npos && body[last] == '}';
}

Result<std::optional<std::string>> find_next_link(std::string_view page) {
  size_t pos = skip_ws(page, 0);
  if (pos >= page.size() || page[pos] != '{') return bad_page("a Graph page is not a JSON object");
  ++pos;
  // Members before "value" are small (@odata.context, @odata.count, @odata.nextLink): walk them.
  for (;;) {
    pos = skip_ws(page, pos);
    if (pos >= page.size()) return bad_page("a Graph page ends early (truncated)");
    if (page[pos] == '}') return std::optional<std::string>();
    if (page[pos] != '"') return bad_page("a Graph page is not valid JSON");
    auto key_end = skip_string(page, pos);
    if (!key_end) return bad_page("a Graph page ends early (truncated)");
    std::string_view key = page.substr(pos, *key_end - pos);
    if (key == kNextLinkKey) {
      auto link = next_link_at(page, pos);
      if (!link) return bad_page("a Graph page's @odata.nextLink is not a complete string");
      return std::optional<std::string>(std::move(*link));
    }
    size_t colon = skip_ws(page, *key_end);
    if (colon >= page.size() || page[colon] != ':')
      return bad_page("a Graph page is not valid JSON");
    size_t value = skip_ws(page, colon + 1);
    if (value >= page.size()) return bad_page("a Graph page ends early (truncated)");
    if (page[value] == '[' || page[value] == '{') break;  // the records: look at the tail instead
    size_t end = value;
    if (page[value] == '"') {
      auto e = skip_string(page, value);
      if (!e) return bad_page("a Graph page ends early (truncated)");
      end = *e;
    } else {
      while (end < page.size() && page[end] != ',' && page[end] != '}') ++end;
    }
    pos = skip_ws(page, end);
    if (pos < page.size() && page[pos] == ',') ++pos;
  }
  // Some servers write the link after the records: it is then a member in the tail, after the
  // last ']' of the records array.
  size_t tail_start = page.rfind(']');
  if (tail_start == std::string_view::npos) return std::optional<std::string>();
  size_t found = page.find(kNextLinkKey, tail_start);
  if (found == std::string_view::npos) return std::optional<std::string>();
  auto link = next_link_at(page, found);
  if (!link) return bad_page("a Graph page's @odata.nextLink is not a complete string");
  return std::optional<std::string>(std::move(*link));
}

// ------------------------------------------------------------------ construction

namespace {

// `select`: a string or a list, entries "a,b" split as well; internal names only.
Result<std::vector<std::string>> parse_select(const nlohmann::json& spec) {
  std::vector<std::string> out;
  auto sel = spec.find("select");
  if (sel == spec.end() || sel->is_null()) return out;
  std::vector<std::string> names;
  if (sel->is_string()) {
    names.push_back(sel->get<std::string>());
  } else if (sel->is_array()) {
    for (const auto& n : *sel)
      if (n.is_string()) names.push_back(n.get<std::string>());
  }
  for (size_t i = 0; i < names.size(); ++i) {
    // "a,b" in one entry is split as well.
    std::string_view all = names[i];
    size_t start = 0;
    while (start <= all.size()) {
      size_t end = all.find(',', start);
      if (end == std::string_view::npos) end = all.size();
      std::string one(all.substr(start, end - start));
      one.erase(0, one.find_first_not_of(' '));
      one.erase(one.find_last_not_of(' ') + 1);
      if (!one.empty()) {
        if (!is_internal_name(one))
          return config_error(
              "sharepoint.bad_select", "select[" + std::to_string(i) + "]",
              "select '" + one + "' is not an internal column name",
              "internal names contain letters, digits and _ only (a display name 'Account "
              "manager' is Account_x0020_Manager); `extdata sharepoint columns SOURCE` lists "
              "them");
        out.push_back(std::move(one));
      }
      start = end + 1;
    }
  }
  return out;
}

// `columns`: name → JSONPath relative to an item ("fields.Title" reads as $.fields.Title).
Result<std::vector<extract::ColumnSpec>> compile_columns(const nlohmann::json& spec) {
  std::vector<extract::ColumnSpec> out;
  auto cols = spec.find("columns");
  if (cols == spec.end() || !cols->is_object()) return out;
  for (const auto& [name, expr] : cols->items()) {
    if (!expr.is_string())
      return config_error("config.wrong_type", "columns." + name, "a column is a JSONPath string");
    std::string text = expr.get<std::string>();
    if (!text.empty() && text.front() != '$') text = text.front() == '[' ? "$" + text : "$." + text;
    auto path = extract::JsonPath::compile(text);
    if (!path.ok()) {
      Error e = path.error();
      e.with("key", "columns." + name);
      e.message = "columns." + name + ": " + e.message;
      return e;
    }
    out.push_back({name, std::move(path).value()});
  }
  return out;
}

}  // namespace

SharePointSource::SharePointSource(const config::SourceConfig& config, const SourceDeps& deps)
    : config_(config), clock_(deps.clock), metrics_(deps.metrics) {}

Result<std::shared_ptr<SharePointSource>> SharePointSource::create(
    const config::SourceConfig& config, const SourceDeps& deps) {
  if (config.type != "sharepoint-list")
    return Error("sharepoint.not_sharepoint", "source '" + config.name + "' is of type " +
                                                  config.type + ", not sharepoint-list");
  const nlohmann::json& spec = config.spec;
  std::shared_ptr<SharePointSource> src(new SharePointSource(config, deps));

  // Graph and authority.
  src->graph_base_ = trim_trailing_slashes(spec_string(spec, "graph"));
  if (src->graph_base_.empty()) src->graph_base_ = kDefaultGraph;
  auto graph_url = Url::parse(src->graph_base_);
  if (!graph_url.ok() || !graph_url->is_http() || graph_url->path() == "/" ||
      !is_bare_url(*graph_url))
    return config_error("sharepoint.bad_graph_url", "graph",
                        "graph '" + src->graph_base_ + "' is not a Graph base URL",
                        "give the scheme, host and version, e.g. https://graph.microsoft.com/v1.0");
  const std::string& graph_host = graph_url->host();
  const bool loopback =
      graph_host == "127.0.0.1" || graph_host == "localhost" || graph_host == "[::1]";
  if (graph_url->scheme() == "http" && !loopback)
    return config_error("sharepoint.bad_graph_url", "graph",
                        "graph must use https (http only for 127.0.0.1 and localhost)",
                        "e.g. https://graph.microsoft.com/v1.0");
  src->graph_origin_ = origin_of(src->graph_base_);
  const bool graph_overridden = src->graph_base_ != kDefaultGraph;

  std::string authority = trim_trailing_slashes(spec_string(spec, "authority"));
  if (authority.empty()) authority = kDefaultAuthority;
  auto authority_url = Url::parse(authority);
  if (!authority_url.ok() || authority_url->path() != "/" || !is_bare_url(*authority_url))
    return config_error("sharepoint.bad_authority", "authority",
                        "authority '" + authority + "' must be the identity platform's origin only",
                        "e.g. https://login.microsoftonline.com (national clouds: "
                        "https://login.microsoftonline.us, https://login.chinacloudapi.cn); the "
                        "tenant goes in tenant");

  // Site.
  const std::string site = spec_string(spec, "site");
  if (!site.empty()) {
    EXTDATA_ASSIGN_OR_RETURN(src->site_address_, parse_site_url(site, graph_overridden));
    src->site_text_ = site;
  } else {
    EXTDATA_ASSIGN_OR_RETURN(src->site_address_,
                             site_from_host_path(spec_string(spec, "host"),
                                                 spec_string(spec, "path"), graph_overridden));
    src->site_text_ = src->site_address_.web_url();
  }

  // List, select, filter, page size.
  src->list_ref_ = spec_string(spec, "list");
  if (src->list_ref_.empty())
    return config_error("config.missing_key", "list", "list is required",
                        "the list's title as shown in SharePoint, or its id; `extdata sharepoint "
                        "lists SOURCE` shows them");
  EXTDATA_ASSIGN_OR_RETURN(src->select_, parse_select(spec));
  src->filter_ = spec_string(spec, "filter");
  if (auto ps = spec.find("page_size"); ps != spec.end() && ps->is_number_integer())
    src->page_size_ = std::clamp(ps->get<int>(), 1, 5000);
  // Graph's delta query takes no $filter: a filtered source reads in full (and says so).
  src->delta_ = spec_string(spec, "sync") != "full" && src->filter_.empty();

  // Records and columns.
  EXTDATA_ASSIGN_OR_RETURN(src->records_path_, extract::JsonPath::compile("$.value[*]"));
  EXTDATA_ASSIGN_OR_RETURN(src->columns_, compile_columns(spec));

  // Transport: the app registration's keys as an oauth2 credential against the authority.
  src->scope_ = graph_scope(src->graph_base_);
  nlohmann::json auth = {{"type", "oauth2"},
                         {"token_url", authority + "/{tenant}/oauth2/v2.0/token"},
                         {"scope", src->scope_}};
  for (const char* key : {"tenant", "client_id", "client_secret", "client_certificate",
                          "client_secret_expires", "expiry_warning_days"}) {
    if (auto it = spec.find(key); it != spec.end() && !it->is_null()) auth[key] = *it;
  }
  EXTDATA_ASSIGN_OR_RETURN(src->transport_,
                           Transport::build(config, deps,
                                            {.auth = std::move(auth),
                                             .key_renames = {{"token_url", "authority"}},
                                             .sharepoint = true}));
  src->token_url_ = src->transport_->credential()->token_endpoint();
  return src;
}

Result<std::shared_ptr<Source>> make_sharepoint_source(const config::SourceConfig& config,
                                                       const SourceDeps& deps) {
  EXTDATA_ASSIGN_OR_RETURN(std::shared_ptr<SharePointSource> src,
                           SharePointSource::create(config, deps));
  return std::shared_ptr<Source>(std::move(src));
}

}  // namespace extdata::sources::sharepoint

namespace extdata::sources::sharepoint {
namespace {
std::string summarize(const config::SourceConfig& s) {
  std::string where = s.spec.value("site", s.spec.value("host", "") + s.spec.value("path", ""));
  return where + " → " + s.spec.value("list", "");
}
}  // namespace
}  // namespace extdata::sources::sharepoint

namespace extdata::sources::kinds {
const SourceKind& sharepoint() {
  static const SourceKind kind{
      {"sharepoint-list", "SharePoint list",
       "A list on a SharePoint site, read through Microsoft Graph with an app registration "
       "(client secret or certificate) in Entra ID.",
       &sharepoint::sharepoint_settings()},
      &sharepoint::make_sharepoint_source,
      &sharepoint::summarize};
  return kind;
}
}  // namespace extdata::sources::kinds

namespace extdata::sources::sharepoint {

std::vector<std::string> SharePointSource::static_warnings() const {
  return auth::expiry_warnings(*transport_->credential(), clock_.now());
}

// ------------------------------------------------------------------ requests

std::string SharePointSource::site_path(const std::string& site_id) const {
  return graph_base_ + "/sites/" + encode_path_segment(site_id);
}

std::string SharePointSource::items_url(const std::string& site_id,
                                        const std::string& list_id) const {
  std::string url =
      site_path(site_id) + "/lists/" + encode_path_segment(list_id) + "/items?$expand=fields";
  if (!select_.empty()) {
    url += "($select=";
    for (size_t i = 0; i < select_.size(); ++i) url += (i ? "," : "") + select_[i];
    url += ")";
  }
  url += "&$top=" + std::to_string(page_size_);
  if (!filter_.empty()) url += "&$filter=" + http::url_encode(filter_);
  return url;
}

std::string SharePointSource::delta_url(const std::string& site_id,
                                        const std::string& list_id) const {
  std::string url =
      site_path(site_id) + "/lists/" + encode_path_segment(list_id) + "/items/delta?$expand=fields";
  if (!select_.empty()) {
    url += "($select=";
    for (size_t i = 0; i < select_.size(); ++i) url += (i ? "," : "") + select_[i];
    url += ")";
  }
  return url + "&$top=" + std::to_string(page_size_);
}

Result<http::Response> SharePointSource::get(const std::string& url, const char* step,
                                             FetchTrace* trace, bool keep_preview) {
  http::Request request;
  request.url = url;
  request.headers.emplace_back("Accept", "application/json");
  if (!filter_.empty()) request.headers.emplace_back("Prefer", kHonorNonIndexed);
  const auto started = std::chrono::steady_clock::now();
  auto response = transport_->client().send(request);
  if (trace) {
    StepTrace s;
    s.step = step;
    s.method = "GET";
    s.url = redact(url);
    s.elapsed_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    if (response.ok()) {
      s.status = response->status;
      s.attempts = response->attempts;
      if (keep_preview || response->status != 200)
        s.response_preview = redact(std::string_view(response->body).substr(0, kPreviewBytes));
    } else {
      s.response_preview = response.error().to_string();
    }
    trace->steps.push_back(std::move(s));
  }
  if (!response.ok()) {
    Error e = std::move(response).error();
    e.with("step", step);
    if (e.code.rfind("http.", 0) == 0 && e.hint.empty())
      e.hint = "check the network path to " + graph_origin_ +
               " (proxy, firewall, ca_bundle) and try again";
    return e;
  }
  return response;
}

Error SharePointSource::graph_error(const http::Response& response, GraphStep step) {
  GraphErrorContext ctx;
  ctx.step = step;
  ctx.site = site_text_;
  ctx.list = list_ref_;
  ctx.filtered = !filter_.empty();
  if (response.status == 403) {
    if (auto token = transport_->credential()->access_token(); token.ok())
      ctx.claims = auth::token_claims(*token);
  }
  return translate_graph_error(response, ctx);
}

Result<SiteInfo> SharePointSource::site(FetchTrace* trace) {
  {
    std::lock_guard lock(resolve_mu_);
    if (site_cache_) return *site_cache_;
  }
  EXTDATA_ASSIGN_OR_RETURN(http::Response r, get(graph_base_ + site_address_.graph_path() +
                                                     "?$select=id,displayName,webUrl",
                                                 "resolve site", trace, true));
  if (r.status != 200) return graph_error(r, GraphStep::site);
  auto body = nlohmann::json::parse(r.body, nullptr, false);
  if (!body.is_object() || !body.contains("id") || !body["id"].is_string())
    return bad_page("Graph's answer for site '" + site_text_ + "' has no id");
  SiteInfo info{body["id"].get<std::string>(), body.value("displayName", ""),
                body.value("webUrl", "")};
  std::lock_guard lock(resolve_mu_);
  site_cache_ = info;
  return info;
}

Result<std::vector<ListInfo>> SharePointSource::fetch_lists(const std::string& site_id,
                                                            FetchTrace* trace) {
  std::vector<ListInfo> out;
  std::string url = site_path(site_id) + "/lists";
  std::unordered_set<std::string> seen;
  while (!url.empty() && seen.insert(url).second) {
    EXTDATA_ASSIGN_OR_RETURN(http::Response r, get(url, "lists", trace, true));
    if (r.status != 200) return graph_error(r, GraphStep::lists);
    auto body = nlohmann::json::parse(r.body, nullptr, false);
    if (!body.is_object() || !body.contains("value") || !body["value"].is_array())
      return bad_page("Graph's list of lists for site '" + site_text_ + "' is not valid JSON");
    for (const auto& l : body["value"]) {
      if (!l.is_object() || l.contains("system")) continue;
      ListInfo info;
      info.id = l.value("id", "");
      info.display_name = l.value("displayName", "");
      info.name = l.value("name", "");
      info.description = l.value("description", "");
      info.web_url = l.value("webUrl", "");
      if (auto facet = l.find("list"); facet != l.end() && facet->is_object()) {
        info.template_name = facet->value("template", "");
        info.hidden = facet->value("hidden", false);
      }
      out.push_back(std::move(info));
    }
    url = body.value("@odata.nextLink", "");
    if (!url.empty() && origin_of(url) != graph_origin_) break;
  }
  return out;
}

Error SharePointSource::list_not_found(const std::string& site_id, FetchTrace* trace,
                                       const http::Response& r) {
  Error e = graph_error(r, GraphStep::list);
  auto lists = fetch_lists(site_id, trace);
  if (!lists.ok() || e.code != "sharepoint.list_not_found") return e;
  std::vector<std::string> titles;
  for (const auto& l : *lists)
    if (!l.hidden) titles.push_back(l.display_name);
  std::optional<std::string> near;
  for (const auto& t : titles)
    if (equals_ignore_case(t, list_ref_)) near = t;
  if (!near) near = config::closest_match(list_ref_, titles);
  if (!near) {
    // "customer" for "Customers": a title that contains what was typed, ignoring case.
    for (const auto& t : titles)
      if (!near && lower(t).find(lower(list_ref_)) != std::string::npos) near = t;
  }
  if (near) {
    e.message += "; did you mean '" + *near + "'?";
    e.with("suggestion", *near);
  }
  std::string available;
  for (size_t i = 0; i < titles.size() && i < 20; ++i) available += (i ? ", " : "") + titles[i];
  if (!available.empty()) {
    e.hint = "lists on this site: " + available + (titles.size() > 20 ? ", …" : "");
    e.with("lists", available);
  }
  return e;
}

Result<std::string> SharePointSource::list_id(const std::string& site_id, FetchTrace* trace) {
  {
    std::lock_guard lock(resolve_mu_);
    if (list_id_cache_) return *list_id_cache_;
  }
  EXTDATA_ASSIGN_OR_RETURN(http::Response r,
                           get(site_path(site_id) + "/lists/" + encode_path_segment(list_ref_) +
                                   "?$select=id,displayName,name",
                               "resolve list", trace, true));
  if (r.status == 404) return list_not_found(site_id, trace, r);
  if (r.status != 200) return graph_error(r, GraphStep::list);
  auto body = nlohmann::json::parse(r.body, nullptr, false);
  if (!body.is_object() || !body.contains("id") || !body["id"].is_string())
    return bad_page("Graph's answer for list '" + list_ref_ + "' has no id");
  std::string id = body["id"].get<std::string>();
  std::lock_guard lock(resolve_mu_);
  list_id_cache_ = id;
  return id;
}

Result<std::vector<ListInfo>> SharePointSource::lists(FetchTrace* trace) {
  EXTDATA_ASSIGN_OR_RETURN(SiteInfo s, site(trace));
  return fetch_lists(s.id, trace);
}

Result<std::vector<ColumnInfo>> SharePointSource::columns(FetchTrace* trace) {
  EXTDATA_ASSIGN_OR_RETURN(SiteInfo s, site(trace));
  EXTDATA_ASSIGN_OR_RETURN(std::string list, list_id(s.id, trace));
  EXTDATA_ASSIGN_OR_RETURN(http::Response r,
                           get(site_path(s.id) + "/lists/" + encode_path_segment(list) + "/columns",
                               "columns", trace, true));
  if (r.status != 200) return graph_error(r, GraphStep::columns);
  auto body = nlohmann::json::parse(r.body, nullptr, false);
  if (!body.is_object() || !body.contains("value") || !body["value"].is_array())
    return bad_page("Graph's list of columns is not valid JSON");
  static constexpr const char* kFacets[] = {"text",        "number",
                                            "currency",    "boolean",
                                            "choice",      "dateTime",
                                            "lookup",      "personOrGroup",
                                            "calculated",  "hyperlinkOrPicture",
                                            "geolocation", "term",
                                            "thumbnail",   "contentApprovalStatus",
                                            "hyperlink"};
  std::vector<ColumnInfo> out;
  for (const auto& c : body["value"]) {
    if (!c.is_object()) continue;
    ColumnInfo info;
    info.name = c.value("name", "");
    info.display_name = c.value("displayName", "");
    info.indexed = c.value("indexed", false);
    info.hidden = c.value("hidden", false);
    info.read_only = c.value("readOnly", false);
    info.type = "unknown";
    for (const char* facet : kFacets) {
      if (c.contains(facet)) {
        info.type = facet;
        break;
      }
    }
    info.field_key = (info.type == "lookup" || info.type == "personOrGroup")
                         ? info.name + "LookupId"
                         : info.name;
    out.push_back(std::move(info));
  }
  return out;
}

// ------------------------------------------------------------------ items

Result<std::shared_ptr<const extract::RecordSet>> SharePointSource::fetch(
    const FetchRequest& request, FetchTrace* trace) {
  return count_fetch(metrics_, config_.name, [&] { return fetch_items(request, trace); });
}

Result<std::shared_ptr<const extract::RecordSet>> SharePointSource::fetch_items(
    const FetchRequest& request, FetchTrace* trace) {
  if (trace) {
    for (auto& w : static_warnings()) trace->warnings.push_back(std::move(w));
  }
  EXTDATA_ASSIGN_OR_RETURN(SiteInfo s, site(trace));
  EXTDATA_ASSIGN_OR_RETURN(std::string list, list_id(s.id, trace));
  SyncReport report;
  report.mode = delta_ ? "delta" : "full";
  auto done = [&](extract::RecordSet records) {
    report_sync(metrics_, config_.name, report, request);
    return std::shared_ptr<const extract::RecordSet>(
        std::make_shared<extract::RecordSet>(std::move(records)));
  };
  if (!delta_) {
    if (!filter_.empty() && spec_string(config_.spec, "sync") != "full") {
      report.note = kFilterNote;
      if (trace) trace->warnings.push_back(report.note);
    }
    extract::RecordSet records = new_record_set();
    EXTDATA_TRY(read_pages(items_url(s.id, list), records, request, trace, report, false));
    return done(std::move(records));
  }
  const SyncBase& previous = request.previous;
  if (previous.records && !previous.cursor.empty()) {
    if (origin_of(previous.cursor) != graph_origin_) {
      report.note = "the stored delta link is not on " + graph_origin_ + "; read in full";
    } else {
      extract::RecordSet changes = new_record_set();
      Status read = read_pages(previous.cursor, changes, request, trace, report, true);
      if (read.ok()) {
        EXTDATA_ASSIGN_OR_RETURN(MergedRecords applied, apply_delta(*previous.records, changes));
        report.incremental = true;
        report.added = applied.counts.added;
        report.updated = applied.counts.updated;
        report.removed = applied.counts.removed;
        report.changes = std::move(applied.changes);
        return done(std::move(applied.records));
      }
      if (read.error().code != "sharepoint.resync_required") return read.error();
      report.note = read.error().message;
      log::info("sharepoint.delta_resync", {{"source", config_.name}, {"reason", report.note}});
    }
    if (trace) trace->warnings.push_back(report.note);
  }
  // A full sync through delta: every item, then the link that gives the changes after them.
  extract::RecordSet items = new_record_set();
  EXTDATA_TRY(read_pages(delta_url(s.id, list), items, request, trace, report, false));
  bool tombstones = false;
  for (size_t i = 0; i < items.size() && !tombstones; ++i)
    tombstones = is_tombstone(items[i].json().root());
  if (!tombstones) return done(std::move(items));
  EXTDATA_ASSIGN_OR_RETURN(MergedRecords initial, apply_delta(extract::RecordSet(), items));
  return done(std::move(initial.records));
}

extract::RecordSet SharePointSource::new_record_set() const {
  extract::RecordSet records;
  // Graph repeats the context URL of the expanded fields in every item ("fields@odata.context",
  // a fifth of an item's bytes). It describes the response's metadata, not the item.
  records.omit_members_ending_with("@odata.context");
  return records;
}

// Reads the pages from `url` on, following every @odata.nextLink, into `records`. In delta
// mode the last page's @odata.deltaLink becomes report.cursor. `stored_link`: `url` is a delta
// link kept from an earlier sync; Graph refusing it (410 resyncRequired, or 400/404 for a link
// it no longer knows) is the error sharepoint.resync_required.
Status SharePointSource::read_pages(std::string url, extract::RecordSet& records_out,
                                    const FetchRequest& request, FetchTrace* trace,
                                    SyncReport& report, bool stored_link) {
  extract::RecordSet* records = &records_out;
  std::unordered_set<std::string> seen;
  Progress progress;
  Counter& pages_counter =
      metrics_.counter("extdata_source_pages_total", {{"source", config_.name}}, "Pages fetched");
  // The next page is requested as soon as this one has arrived whole (its link is found in
  // the raw text: Graph writes @odata.nextLink before "value"), so Graph builds and sends it
  // while this page is parsed and stored. A page cut short on the way (it does not end with
  // its closing brace) does not lead to a request. At most one request is in flight: a page
  // that must be asked for again waits for the prefetch to finish first, and an early return
  // waits for it in the future's destructor.
  std::future<Result<http::Response>> prefetch;
  std::string prefetch_url;
  auto prefetched = [&](const std::string& page_url) -> std::optional<Result<http::Response>> {
    if (!prefetch.valid() || prefetch_url != page_url) return std::nullopt;
    return prefetch.get();
  };
  auto start_prefetch = [&](const std::string& next) {
    if (next.empty() || seen.count(next) || origin_of(next) != graph_origin_) return;
    if (prefetch.valid() && prefetch_url == next) return;
    if (prefetch.valid()) prefetch.wait();
    prefetch_url = next;
    try {
      prefetch = std::async(std::launch::async,
                            [this, next, trace] { return get(next, "items", trace, false); });
    } catch (const std::system_error&) {
      prefetch = {};  // no thread to spare: the page is fetched in turn
    }
  };
  while (!url.empty()) {
    if (!seen.insert(url).second) {
      std::string warning = "Graph returned a next link that was already fetched; stopped after " +
                            std::to_string(progress.pages) + " pages (" +
                            std::to_string(records->size()) + " items)";
      log::warn("sharepoint.repeated_next_link", {{"source", config_.name}, {"url", url}});
      if (trace) trace->warnings.push_back(warning);
      break;
    }
    const bool first_page = progress.pages == 0;
    std::optional<std::string> next;
    for (int attempt = 1;; ++attempt) {
      auto early = attempt == 1 ? prefetched(url) : std::nullopt;
      EXTDATA_ASSIGN_OR_RETURN(http::Response r,
                               early ? std::move(*early) : get(url, "items", trace, first_page));
      if (r.status != 200 && stored_link && first_page &&
          (r.status == 410 || r.status == 400 || r.status == 404)) {
        Error e("sharepoint.resync_required",
                "Graph answered " + std::to_string(r.status) + " to the stored delta link (" +
                    graph_error(r, GraphStep::items).message + "); the list is read in full again",
                "nothing to do: the old records are served until the full read is done");
        return e;
      }
      if (r.status != 200) {
        if (r.status == 404) {
          // The list may have been deleted or recreated: resolve it again next time.
          std::lock_guard lock(resolve_mu_);
          list_id_cache_.reset();
        }
        Error e = graph_error(r, GraphStep::items);
        e.with("page", std::to_string(progress.pages + 1));
        return e;
      }
      auto link = find_next_link(r.body);
      if (link.ok() && *link && arrived_whole(r.body)) start_prefetch(**link);
      Status appended = link.ok() ? records->append_page(std::move(r.body), records_path_, columns_)
                                  : Status(link.error());
      if (appended.ok()) {
        next = std::move(*link);
        break;
      }
      if (prefetch.valid()) prefetch.wait();
      metrics_
          .counter("extdata_source_page_retries_total", {{"source", config_.name}},
                   "Pages asked for again because their body was not valid JSON")
          .inc();
      log::warn("sharepoint.bad_page", {{"source", config_.name},
                                        {"page", std::to_string(progress.pages + 1)},
                                        {"attempt", std::to_string(attempt)},
                                        {"error", appended.error().message}});
      if (attempt >= kPageAttempts) {
        Error e("sharepoint.bad_page",
                "page " + std::to_string(progress.pages + 1) + " of list '" + list_ref_ +
                    "' was not valid JSON in " + std::to_string(kPageAttempts) +
                    " attempts: " + appended.error().message,
                "the answer was cut short on the way (a proxy, a dropped connection); try "
                "again, and check the network path to " +
                    graph_origin_ + " if it persists");
        e.with("page", std::to_string(progress.pages + 1));
        e.with("url", redact(url));
        for (const auto& [k, v] : appended.error().details) e.with("parse_" + k, v);
        return e;
      }
    }
    ++progress.pages;
    progress.records = records->size();
    pages_counter.inc();
    if (trace) trace->pages = progress.pages;
    if (request.on_progress) request.on_progress(progress);
    if (next && !next->empty() && origin_of(*next) != graph_origin_) {
      Error e("sharepoint.foreign_next_link",
              "Graph's next link points to " + origin_of(*next) + ", not to " + graph_origin_ +
                  "; extdata does not send the access token elsewhere",
              "check graph: it must be the endpoint that answers for this tenant");
      e.with("next_link", redact(*next));
      return e;
    }
    url = next ? std::move(*next) : std::string();
  }
  report.requests += static_cast<size_t>(progress.pages);
  if (delta_) {
    report.cursor.clear();
    std::string_view link;
    if (auto root = records->last_page_root();
        root && root->root()["@odata.deltaLink"].get(link) == simdjson::SUCCESS) {
      report.cursor = std::string(link);
    } else if (trace) {
      trace->warnings.push_back(
          "Graph's last delta page has no @odata.deltaLink; the next refresh reads in full");
    }
  }
  return ok_status();
}

// ------------------------------------------------------------------ shared helpers

namespace {
Result<SharePointSource*> as_sharepoint(Source& source) {
  auto* sp = dynamic_cast<SharePointSource*>(&source);
  if (sp == nullptr)
    return Error("sharepoint.not_sharepoint",
                 "source '" + source.config().name + "' is of type " + source.config().type +
                     ", not sharepoint-list",
                 "these commands work on sharepoint-list sources only");
  return sp;
}
}  // namespace

Result<std::vector<ListInfo>> list_lists(Source& source, FetchTrace* trace) {
  EXTDATA_ASSIGN_OR_RETURN(SharePointSource * sp, as_sharepoint(source));
  return sp->lists(trace);
}

Result<std::vector<ColumnInfo>> list_columns(Source& source, FetchTrace* trace) {
  EXTDATA_ASSIGN_OR_RETURN(SharePointSource * sp, as_sharepoint(source));
  return sp->columns(trace);
}

nlohmann::json to_json(const std::vector<ListInfo>& lists) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& l : lists)
    out.push_back({{"id", l.id},
                   {"title", l.display_name},
                   {"name", l.name},
                   {"description", l.description},
                   {"web_url", l.web_url},
                   {"template", l.template_name},
                   {"hidden", l.hidden}});
  return out;
}

nlohmann::json to_json(const std::vector<ColumnInfo>& columns) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : columns)
    out.push_back({{"display_name", c.display_name},
                   {"name", c.name},
                   {"type", c.type},
                   {"indexed", c.indexed},
                   {"hidden", c.hidden},
                   {"read_only", c.read_only},
                   {"field_key", c.field_key},
                   {"template", "{fields." + c.field_key + "}"}});
  return out;
}

}  // namespace extdata::sources::sharepoint
