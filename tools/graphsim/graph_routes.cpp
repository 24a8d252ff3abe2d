// Microsoft Graph v1.0, SharePoint sites, lists, columns and items
// (reference: microsoft-identity-and-graph.md §3 and §4).
#include <algorithm>
#include <charconv>
#include <set>

#include "filter.h"
#include "graphsim.h"
#include "internal.h"

namespace graphsim {

namespace {

constexpr const char* kWwwAuthenticate =
    "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/"
    "authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"";
constexpr const char* kODataJson =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;"
    "charset=utf-8";
constexpr int kDefaultTop = 200;
constexpr int kMaxTop = 5000;
constexpr size_t kListViewThreshold = 5000;

Response graph_error(const GraphSim::Context& ctx, int status, const std::string& code,
                     const std::string& message) {
  nlohmann::ordered_json body = {{"error",
                                  {{"code", code},
                                   {"message", message},
                                   {"innerError",
                                    {{"date", graph_date(ctx.now)},
                                     {"request-id", ctx.request_id},
                                     {"client-request-id", ctx.client_request_id}}}}}};
  Response r;
  r.status = status;
  r.body = body.dump();
  r.headers.emplace_back("Content-Type", "application/json");
  return r;
}

Response graph_json(std::string body) {
  Response r;
  r.status = 200;
  r.body = std::move(body);
  r.headers.emplace_back("Content-Type", kODataJson);
  r.headers.emplace_back("OData-Version", "4.0");
  return r;
}

// System query options work with and without the `$` (Graph accepts `expand=fields`).
std::optional<std::string> option(const Request& request, std::string_view name) {
  for (const auto& [k, v] : request.query) {
    if (k.size() == name.size() + 1 && k[0] == '$' &&
        equals_ignore_case(std::string_view(k).substr(1), name)) {
      return v;
    }
    if (equals_ignore_case(k, name)) return v;
  }
  return std::nullopt;
}

std::vector<std::string> split_list(std::string_view text, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(sep, start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view part = text.substr(start, end - start);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (!part.empty()) out.emplace_back(part);
    start = end + 1;
  }
  return out;
}

std::vector<std::string> split_segments(std::string_view path) {
  return split_list(path, '/');
}

std::string raw_path(const Request& request) {
  size_t q = request.target.find('?');
  return q == std::string::npos ? request.target : request.target.substr(0, q);
}

// The current request's link without the `drop` parameters (nextLink / deltaLink base).
std::string link_without(const GraphSim::Context& ctx, const Request& request,
                         std::initializer_list<std::string_view> drop) {
  std::string link = ctx.base_url + raw_path(request);
  char sep = '?';
  for (const auto& [k, v] : request.query) {
    bool dropped = false;
    for (auto d : drop) dropped = dropped || equals_ignore_case(k, d);
    if (dropped) continue;
    link += sep + percent_encode(k) + "=" + percent_encode(v);
    sep = '&';
  }
  return link;
}

std::string link_with(const GraphSim::Context& ctx, const Request& request,
                      std::initializer_list<std::string_view> drop, const std::string& param,
                      const std::string& value) {
  std::string link = link_without(ctx, request, drop);
  return link + (link.find('?') == std::string::npos ? "?" : "&") + param + "=" + value;
}

std::string etag(const std::string& guid, int version) {
  return "\"" + guid + "," + std::to_string(version) + "\"";
}

std::string content_type_id(const ListSpec& list) {
  std::string hex;
  for (char c : list.id) {
    if (c != '-') hex.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return "0x0100" + hex;
}

std::string list_web_url(const SiteSpec& site, const ListSpec& list) {
  if (list.template_name == "documentLibrary") return site.web_url() + "/" + list.name;
  return site.web_url() + "/Lists/" + list.name;
}

void append_kv(std::string& out, std::string_view key, std::string_view value, bool& first) {
  if (!first) out.push_back(',');
  first = false;
  append_json_string(out, key);
  out.push_back(':');
  append_json_string(out, value);
}

void append_raw(std::string& out, std::string_view key, std::string_view raw, bool& first) {
  if (!first) out.push_back(',');
  first = false;
  append_json_string(out, key);
  out.push_back(':');
  out += raw;
}

std::string identity_json(const TenantSpec& tenant, int lookup_id) {
  const UserSpec* user = tenant.user_by_lookup_id(lookup_id);
  std::string out = "{\"user\":{";
  bool first = true;
  if (user == nullptr) {
    append_kv(out, "displayName", "System Account", first);
  } else {
    if (!user->email.empty()) append_kv(out, "email", user->email, first);
    append_kv(out, "id", user->id, first);
    append_kv(out, "displayName", user->display_name, first);
  }
  return out + "}}";
}

struct ItemView {
  const GraphSim::Context* ctx = nullptr;
  const TenantSpec* tenant = nullptr;
  const SiteSpec* site = nullptr;
  const ListSpec* list = nullptr;
  bool expand_fields = false;
  std::optional<std::set<std::string>> field_select;  // lower-case names
  std::optional<std::set<std::string>> item_select;   // lower-case names
  std::string list_context;                           // "sites('…')/lists('…')"

  bool item_wants(std::string_view key) const {
    return !item_select || item_select->count(lower(key)) > 0;
  }
  bool field_wants(std::string_view key) const {
    return !field_select || field_select->count(lower(key)) > 0;
  }

  void append_fields(std::string& out, const ItemSpec& item) const {
    out.push_back('{');
    bool first = true;
    append_kv(out, "@odata.etag", etag(item.unique_id, item.version), first);
    const std::string* title = nullptr;
    for (const auto& [index, value] : item.values) {
      const ColumnSpec& col = list->columns[index];
      if (col.name == "Title" && value.is_string()) title = value.get_ptr<const std::string*>();
      std::string key = col.field_key();
      if (!field_wants(key) && !field_wants(col.name)) continue;
      if (value.is_string()) {
        append_kv(out, key, value.get_ref<const std::string&>(), first);
      } else {
        append_raw(out, key, value.dump(), first);
      }
    }
    std::string id = std::to_string(item.id);
    if (field_wants("id")) append_kv(out, "id", id, first);
    if (field_wants("ContentType")) append_kv(out, "ContentType", "Item", first);
    if (field_wants("Modified")) append_kv(out, "Modified", format_time(item.modified), first);
    if (field_wants("Created")) append_kv(out, "Created", format_time(item.created), first);
    if (field_wants("AuthorLookupId")) {
      append_kv(out, "AuthorLookupId", std::to_string(item.author_lookup_id), first);
    }
    if (field_wants("EditorLookupId")) {
      append_kv(out, "EditorLookupId", std::to_string(item.editor_lookup_id), first);
    }
    if (field_wants("_UIVersionString")) {
      append_kv(out, "_UIVersionString", std::to_string(item.version) + ".0", first);
    }
    if (field_wants("Attachments")) append_raw(out, "Attachments", "false", first);
    if (title != nullptr) {
      if (field_wants("LinkTitleNoMenu")) append_kv(out, "LinkTitleNoMenu", *title, first);
      if (field_wants("LinkTitle")) append_kv(out, "LinkTitle", *title, first);
    }
    if (field_wants("ItemChildCount")) append_kv(out, "ItemChildCount", "0", first);
    if (field_wants("FolderChildCount")) append_kv(out, "FolderChildCount", "0", first);
    out.push_back('}');
  }

  void append_item(std::string& out, const ItemSpec& item) const {
    out.push_back('{');
    bool first = true;
    std::string tag = etag(item.unique_id, item.version);
    std::string id = std::to_string(item.id);
    append_kv(out, "@odata.etag", tag, first);
    if (item_wants("createdDateTime"))
      append_kv(out, "createdDateTime", format_time(item.created), first);
    if (item_wants("eTag")) append_kv(out, "eTag", tag, first);
    append_kv(out, "id", id, first);
    if (item_wants("lastModifiedDateTime")) {
      append_kv(out, "lastModifiedDateTime", format_time(item.modified), first);
    }
    if (item_wants("webUrl")) {
      append_kv(out, "webUrl", list_web_url(*site, *list) + "/" + id + "_.000", first);
    }
    if (item_wants("createdBy")) {
      append_raw(out, "createdBy", identity_json(*tenant, item.author_lookup_id), first);
    }
    if (item_wants("lastModifiedBy")) {
      append_raw(out, "lastModifiedBy", identity_json(*tenant, item.editor_lookup_id), first);
    }
    if (item_wants("parentReference")) {
      std::string parent = "{";
      bool pfirst = true;
      append_kv(parent, "id", list->id, pfirst);
      append_kv(parent, "siteId", site->id(), pfirst);
      append_raw(out, "parentReference", parent + "}", first);
    }
    if (item_wants("contentType")) {
      std::string ct = "{";
      bool cfirst = true;
      append_kv(ct, "id", content_type_id(*list), cfirst);
      append_kv(ct, "name", "Item", cfirst);
      append_raw(out, "contentType", ct + "}", first);
    }
    if (expand_fields) {
      append_kv(
          out, "fields@odata.context",
          ctx->base_url + "/v1.0/$metadata#" + list_context + "/items('" + id + "')/fields/$entity",
          first);
      if (!first) out.push_back(',');
      first = false;
      out += "\"fields\":";
      append_fields(out, item);
    }
    out.push_back('}');
  }
};

std::string encode_skiptoken(int last_id) {
  return base64url_encode("Paged=TRUE&p_ID=" + std::to_string(last_id));
}

std::optional<int> decode_skiptoken(std::string_view token) {
  auto raw = base64url_decode(token);
  if (!raw) raw = base64_decode(token);
  constexpr std::string_view kPrefix = "Paged=TRUE&p_ID=";
  if (!raw || raw->rfind(kPrefix, 0) != 0) return std::nullopt;
  int id = 0;
  const char* begin = raw->data() + kPrefix.size();
  auto [end, ec] = std::from_chars(begin, raw->data() + raw->size(), id);
  if (ec != std::errc() || end != raw->data() + raw->size() || id < 0) return std::nullopt;
  return id;
}

struct DeltaToken {
  std::string list_id;
  uint64_t epoch = 0;
  uint64_t seq = 0;
  bool initial = false;
};

std::string encode_delta_token(const DeltaToken& t) {
  return base64url_encode("graphsim-delta|" + t.list_id + "|" + std::to_string(t.epoch) + "|" +
                          std::to_string(t.seq) + "|" + (t.initial ? "1" : "0"));
}

std::optional<DeltaToken> decode_delta_token(std::string_view text) {
  auto raw = base64url_decode(text);
  if (!raw) return std::nullopt;
  auto parts = split_list(*raw, '|');
  if (parts.size() != 5 || parts[0] != "graphsim-delta") return std::nullopt;
  DeltaToken t;
  t.list_id = parts[1];
  auto parse_u64 = [](const std::string& s, uint64_t& out) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
  };
  if (!parse_u64(parts[2], t.epoch) || !parse_u64(parts[3], t.seq)) return std::nullopt;
  if (parts[4] != "0" && parts[4] != "1") return std::nullopt;
  t.initial = parts[4] == "1";
  return t;
}

// Parses `$expand`: "fields" or "fields($select=A,B)"; anything else is a 400.
std::optional<std::string> parse_expand(const std::string& expand, ItemView& view) {
  std::string_view e = expand;
  while (!e.empty() && e.front() == ' ') e.remove_prefix(1);
  if (e.size() < 6 || !equals_ignore_case(e.substr(0, 6), "fields")) {
    std::string name(e.substr(0, e.find('(')));
    return "Parsing OData Select and Expand failed: Could not find a property named '" + name +
           "' on type 'microsoft.graph.listItem'.";
  }
  e.remove_prefix(6);
  view.expand_fields = true;
  if (e.empty()) return std::nullopt;
  if (e.front() != '(' || e.back() != ')') {
    return "Parsing OData Select and Expand failed: syntax error in '" + expand + "'.";
  }
  std::string_view inner = e.substr(1, e.size() - 2);
  size_t eq = inner.find('=');
  if (eq == std::string_view::npos) {
    return "Parsing OData Select and Expand failed: syntax error in '" + expand + "'.";
  }
  std::string_view key = inner.substr(0, eq);
  if (!equals_ignore_case(key, "$select") && !equals_ignore_case(key, "select")) {
    return "Parsing OData Select and Expand failed: only $select is supported inside "
           "fields(...) by graphsim, got '" +
           std::string(key) + "'.";
  }
  std::set<std::string> names;
  for (const auto& n : split_list(inner.substr(eq + 1), ',')) names.insert(lower(n));
  view.field_select = std::move(names);
  return std::nullopt;
}

// --- the route table ---
//
// A Graph request passes authentication (the token), authorization (the tenant and the
// Sites.* application roles), the method check, the site lookup, and then the table below:
// each route is a method, a pattern of the path segments after /v1.0/sites/{site} ({list} and
// {id} are parameters, the rest literal), the label it is counted under in the counters'
// by_route, and a small handler.

// One Graph call on its way through the table.
struct GraphCall {
  GraphSim& sim;
  const Request& request;
  GraphSim::Context& ctx;
  const TenantSpec& tenant;
  const SiteSpec* site = nullptr;
  std::string site_label;             // "site_by_path" or "site": how the site was named
  std::vector<std::string> segments;  // after the site: "lists", "{list}", "items", ...
  const ListSpec* list = nullptr;     // routes with {list}
  std::string site_context;           // "sites('…')"
  std::string list_context;           // "sites('…')/lists('…')"
};

Response segment_not_found(const GraphSim::Context& ctx, const std::string& segment) {
  return graph_error(ctx, 400, "BadRequest",
                     "Resource not found for the segment '" + segment + "'.");
}

const ListSpec* find_list(const SiteSpec& site, std::string_view ref) {
  const ListSpec* found = nullptr;
  for (const auto& l : site.lists) {
    if (equals_ignore_case(l->id, ref) || equals_ignore_case(l->display_name, ref) ||
        equals_ignore_case(l->name, ref))
      found = l.get();
  }
  return found;
}

nlohmann::ordered_json list_json(const SiteSpec& site, const ListSpec& list) {
  nlohmann::ordered_json j = {{"@odata.etag", etag(list.id, 1)},
                              {"createdDateTime", format_time(list.created)},
                              {"description", list.description},
                              {"eTag", etag(list.id, 1)},
                              {"id", list.id},
                              {"lastModifiedDateTime", format_time(list.modified)},
                              {"name", list.name},
                              {"webUrl", list_web_url(site, list)},
                              {"displayName", list.display_name},
                              {"createdBy", {{"user", {{"displayName", "System Account"}}}}},
                              {"parentReference", {{"siteId", site.id()}}},
                              {"list",
                               {{"contentTypesEnabled", false},
                                {"hidden", list.hidden},
                                {"template", list.template_name}}}};
  if (list.system) j["system"] = nlohmann::json::object();
  return j;
}

nlohmann::ordered_json column_facet(const ColumnSpec& c) {
  switch (c.type) {
    case ColumnType::Text:
      return {{"allowMultipleLines", false},
              {"appendChangesToExistingText", false},
              {"linesForEditing", 0},
              {"maxLength", 255}};
    case ColumnType::Number:
      return {{"decimalPlaces", "automatic"}, {"displayAs", "number"}};
    case ColumnType::Currency:
      return {{"locale", "en-US"}};
    case ColumnType::Boolean:
      return nlohmann::ordered_json::object();
    case ColumnType::Choice:
      return {{"allowTextEntry", false}, {"choices", c.choices}, {"displayAs", "dropDownMenu"}};
    case ColumnType::DateTime:
      return {{"displayAs", "default"}, {"format", "dateTime"}};
    case ColumnType::PersonOrGroup:
      return {{"allowMultipleSelection", false},
              {"displayAs", "account"},
              {"chooseFromType", "peopleOnly"}};
    case ColumnType::Lookup:
      return {{"allowMultipleValues", false},
              {"allowUnlimitedLength", false},
              {"columnName", "Title"},
              {"listId", c.lookup_list_id}};
  }
  return nlohmann::ordered_json::object();
}

nlohmann::ordered_json column_json(const ColumnSpec& c, const char* group) {
  nlohmann::ordered_json j = {
      {"columnGroup", group},         {"description", ""},  {"displayName", c.display_name},
      {"enforceUniqueValues", false}, {"hidden", c.hidden}, {"id", c.id},
      {"indexed", c.indexed},         {"name", c.name},     {"readOnly", c.read_only},
      {"required", c.required}};
  j[column_type_name(c.type)] = column_facet(c);
  return j;
}

// The read-only columns every list has besides its own.
std::vector<ColumnSpec> builtin_columns() {
  struct Builtin {
    const char* name;
    const char* display;
    ColumnType type;
    const char* id;
  };
  static const Builtin kBuiltins[] = {
      {"Modified", "Modified", ColumnType::DateTime, "28cf69c5-fa48-462a-b5cd-27b6f9d2bd5f"},
      {"Created", "Created", ColumnType::DateTime, "8c06beca-0777-48f7-91c7-6da68bc07b69"},
      {"Author", "Created By", ColumnType::PersonOrGroup, "1df5e554-ec7e-46a6-901d-d85a3881cb18"},
      {"Editor", "Modified By", ColumnType::PersonOrGroup, "d31655d1-1d5b-4511-95a1-7a09e9b75bf2"},
      {"Attachments", "Attachments", ColumnType::Boolean, "67df98f4-9dec-48ff-a553-29bece9c5bf4"}};
  std::vector<ColumnSpec> out;
  for (const auto& b : kBuiltins) {
    ColumnSpec c;
    c.name = b.name;
    c.display_name = b.display;
    c.type = b.type;
    c.id = b.id;
    c.read_only = true;
    out.push_back(std::move(c));
  }
  return out;
}

std::set<std::string> lower_case_names(std::string_view list) {
  std::set<std::string> names;
  for (const auto& n : split_list(list, ',')) names.insert(lower(n));
  return names;
}

bool honors_non_indexed_queries(const Request& request) {
  for (const auto& [k, v] : request.headers) {
    if (equals_ignore_case(k, "Prefer") &&
        lower(v).find("honornonindexedquerieswarningmayfailrandomly") != std::string::npos)
      return true;
  }
  return false;
}

// --- authentication and authorization (reference §3) ---

Response unauthorized(const GraphSim::Context& ctx, const std::string& message) {
  Response r = graph_error(ctx, 401, "InvalidAuthenticationToken", message);
  r.headers.emplace_back("WWW-Authenticate", kWwwAuthenticate);
  return r;
}

std::string bearer_token(const Request& request) {
  std::string token;
  if (auto auth = request.header("Authorization");
      auth && auth->size() > 7 && equals_ignore_case(auth->substr(0, 7), "Bearer ")) {
    token = auth->substr(7);
    while (!token.empty() && token.front() == ' ') token.erase(token.begin());
  }
  return token;
}

long long claim_seconds(const nlohmann::json& claims, const char* name) {
  return claims.contains(name) && claims[name].is_number() ? claims[name].get<long long>() : 0;
}

bool may_read_sites(const nlohmann::json& claims) {
  if (!claims.contains("roles") || !claims["roles"].is_array()) return false;
  for (const auto& role : claims["roles"]) {
    if (!role.is_string()) continue;
    const std::string& r = role.get_ref<const std::string&>();
    if (r == "Sites.Read.All" || r == "Sites.ReadWrite.All" || r == "Sites.Manage.All" ||
        r == "Sites.FullControl.All")
      return true;
  }
  return false;
}

// --- dispatch ---

// --- handlers ---

// The item named by segment 3 ("/items/{id}"), or nullptr when absent or deleted.
const ItemSpec* named_item(const GraphCall& call) {
  const std::string& text = call.segments[3];
  int id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  const ItemSpec* item =
      ec == std::errc() && end == text.data() + text.size() ? call.list->item(id) : nullptr;
  return item == nullptr || item->deleted ? nullptr : item;
}

Response item_not_found(const GraphSim::Context& ctx) {
  return graph_error(ctx, 404, "itemNotFound", "The specified list item was not found");
}

Response with_context(const GraphSim::Context& ctx, const std::string& context, std::string out) {
  std::string prefix = "{\"@odata.context\":";
  append_json_string(prefix, ctx.base_url + "/v1.0/$metadata#" + context);
  return graph_json(prefix + "," + out.substr(1));
}

// Where a delta request starts: the initial sync, "latest", or a token of ours; a token that
// does not fit the list (any more) is a 410 that sends the client to resync.
std::optional<Response> delta_start(const GraphCall& call, DeltaToken& from) {
  const ListSpec& list = *call.list;
  from = {list.id, list.delta_epoch, 0, true};
  auto t = option(call.request, "token");
  if (!t) return std::nullopt;
  if (*t == "latest") {
    from.seq = list.change_seq;
    from.initial = false;
    return std::nullopt;
  }
  auto decoded = decode_delta_token(*t);
  if (!decoded || decoded->list_id != list.id || decoded->epoch != list.delta_epoch ||
      decoded->seq > list.change_seq) {
    Response r =
        graph_error(call.ctx, 410, "resyncRequired",
                    "Resync required. Replace any local items with the server's version (including "
                    "deletes) if you're sure that the service was up to date with your local "
                    "changes when you last sync'd. Upload any local changes that the server "
                    "doesn't know about.");
    r.headers.emplace_back("Location",
                           link_without(call.ctx, call.request, {"token", "$skiptoken"}));
    return r;
  }
  from = *decoded;
  return std::nullopt;
}

// $filter on items: parsed against the list's columns; non-indexed columns need the Prefer
// header, and even then fail on lists over the list view threshold (as SharePoint does).
std::optional<Response> read_item_filter(const GraphCall& call, std::optional<Filter>& filter) {
  auto f = option(call.request, "filter");
  if (!f) return std::nullopt;
  auto parsed = parse_item_filter(*f, *call.list);
  if (!parsed.ok()) return graph_error(call.ctx, 400, "invalidRequest", parsed.error().message);
  filter = std::move(parsed).value();
  const bool honor = honors_non_indexed_queries(call.request);
  for (int index : filter->columns) {
    const ColumnSpec& c = call.list->columns[static_cast<size_t>(index)];
    if (c.indexed) continue;
    if (!honor) {
      return graph_error(call.ctx, 400, "invalidRequest",
                         "Field '" + c.name +
                             "' cannot be referenced in filter or orderby as it is not "
                             "indexed. Provide the 'Prefer: "
                             "HonorNonIndexedQueriesWarningMayFailRandomly' header to allow "
                             "this, but be warned that such queries may fail on large lists.");
    }
    if (call.list->items.size() > kListViewThreshold) {
      return graph_error(call.ctx, 400, "invalidRequest",
                         "The attempted operation is prohibited because it exceeds the list "
                         "view threshold.");
    }
  }
  return std::nullopt;
}

}  // namespace

// The handlers of the table and the steps before it; GraphSim's friend, as they read its
// fixture, signing key and faults.
struct GraphRoutes {
  static Response answer(GraphSim& sim, const Request& request, GraphSim::Context& ctx,
                         std::string& route);

  static std::optional<Response> verify_token(GraphSim& sim, const Request& request,
                                              GraphSim::Context& ctx, nlohmann::json& claims);
  static std::optional<Response> authorize(GraphSim& sim, GraphSim::Context& ctx,
                                           const nlohmann::json& claims, const TenantSpec*& tenant);
  static std::optional<Response> find_site(GraphCall& call, std::string_view site_part);
  static Response route_in_site(GraphCall& call, std::string& route);

  static Response site(GraphCall& call);
  static Response lists(GraphCall& call);
  static Response list(GraphCall& call);
  static Response columns(GraphCall& call);
  static Response items(GraphCall& call);
  static Response delta(GraphCall& call);
  static Response item(GraphCall& call);
  static Response item_fields(GraphCall& call);

  static std::optional<Response> read_item_options(GraphCall& call, ItemView& view, int& top);
  static std::string next_link_or_repeat(GraphCall& call, std::string next);
};

namespace {

struct GraphRoute {
  std::string_view method;
  std::string_view pattern;
  std::string_view label;  // empty: counted under the site lookup's label
  Response (*handler)(GraphCall&);
};

constexpr GraphRoute kRoutes[] = {
    {"GET", "", "", &GraphRoutes::site},
    {"GET", "lists", "lists", &GraphRoutes::lists},
    {"GET", "lists/{list}", "list", &GraphRoutes::list},
    {"GET", "lists/{list}/columns", "columns", &GraphRoutes::columns},
    {"GET", "lists/{list}/items", "items", &GraphRoutes::items},
    {"GET", "lists/{list}/items/delta", "delta", &GraphRoutes::delta},
    {"GET", "lists/{list}/items/delta()", "delta", &GraphRoutes::delta},
    {"GET", "lists/{list}/items/{id}", "item", &GraphRoutes::item},
    {"GET", "lists/{list}/items/{id}/fields", "item_fields", &GraphRoutes::item_fields},
};

bool is_parameter(std::string_view pattern_segment) {
  return pattern_segment.size() > 2 && pattern_segment.front() == '{' &&
         pattern_segment.back() == '}';
}

// How many leading `segments` the route's pattern accepts (all of them and no more = a match).
size_t matched_prefix(const GraphRoute& route, const std::vector<std::string>& segments) {
  const auto pattern = split_segments(route.pattern);
  size_t n = 0;
  while (n < pattern.size() && n < segments.size() &&
         (is_parameter(pattern[n]) || pattern[n] == segments[n]))
    ++n;
  return n;
}

bool route_fits(const GraphRoute& route, const std::vector<std::string>& segments) {
  return split_segments(route.pattern).size() == segments.size() &&
         matched_prefix(route, segments) == segments.size();
}

bool any_route_accepts(std::string_view method) {
  for (const GraphRoute& route : kRoutes)
    if (route.method == method) return true;
  return false;
}

}  // namespace

std::optional<Response> GraphRoutes::verify_token(GraphSim& sim, const Request& request,
                                                  GraphSim::Context& ctx, nlohmann::json& claims) {
  const std::string token = bearer_token(request);
  if (token.empty()) return unauthorized(ctx, "Access token is empty.");
  auto jwt = split_jwt(token);
  nlohmann::json header;
  if (jwt) {
    try {
      header = nlohmann::json::parse(jwt->header_json);
      claims = nlohmann::json::parse(jwt->payload_json);
    } catch (const nlohmann::json::exception&) {
      jwt.reset();
    }
  }
  if (!jwt || !header.is_object() || !claims.is_object())
    return unauthorized(ctx, "CompactToken parsing failed with error code: 80049217");
  if (header.value("alg", "") != "RS256" ||
      !sim.signing_key_->verify_rs256(jwt->signing_input, jwt->signature))
    return unauthorized(ctx, "Access token validation failure. Invalid signature.");
  const std::string aud = claims.value("aud", "");
  if (!equals_ignore_case(aud, kGraphResource) &&
      !equals_ignore_case(aud, std::string(kGraphResource) + "/") &&
      !equals_ignore_case(aud, kGraphAppId))
    return unauthorized(ctx, "Access token validation failure. Invalid audience.");
  const long long now =
      std::chrono::duration_cast<std::chrono::seconds>(ctx.now.time_since_epoch()).count();
  // Natural expiry, or the expire_token fault (which only sees otherwise valid tokens).
  bool expired = now >= claim_seconds(claims, "exp") || now < claim_seconds(claims, "nbf");
  if (!expired) {
    const std::string uti = claims.contains("uti") && claims["uti"].is_string()
                                ? claims["uti"].get<std::string>()
                                : std::string();
    expired = sim.token_expired_by_fault(uti.empty() ? token : "uti:" + uti);
  }
  if (expired) return unauthorized(ctx, "Access token has expired or is not yet valid.");
  return std::nullopt;
}

// With data_mu_ held: the tenant the token's tid names, and the application's right to read.
std::optional<Response> GraphRoutes::authorize(GraphSim& sim, GraphSim::Context& ctx,
                                               const nlohmann::json& claims,
                                               const TenantSpec*& tenant) {
  const std::string tid = claims.value("tid", "");
  for (const auto& t : sim.fixture_.tenants) {
    if (t->id == tid) tenant = t.get();
  }
  if (tenant == nullptr)
    return unauthorized(ctx, "Access token validation failure. Invalid issuer.");
  const bool has_roles =
      claims.contains("roles") && claims["roles"].is_array() && !claims["roles"].empty();
  if (!has_roles && !claims.contains("scp"))
    return graph_error(ctx, 403, "AccessDenied",
                       "Either scp or roles claim need to be present in the token.");
  if (!may_read_sites(claims)) return graph_error(ctx, 403, "accessDenied", "Access denied");
  return std::nullopt;
}

Response GraphRoutes::answer(GraphSim& sim, const Request& request, GraphSim::Context& ctx,
                             std::string& route) {
  nlohmann::json claims;
  if (auto refused = verify_token(sim, request, ctx, claims)) return *refused;
  std::shared_lock lock(sim.data_mu_);
  const TenantSpec* tenant = nullptr;
  if (auto refused = authorize(sim, ctx, claims, tenant)) return *refused;
  if (!any_route_accepts(request.method)) {
    return graph_error(ctx, 405, "BadRequest",
                       "The HTTP method '" + request.method +
                           "' is not simulated by graphsim: it serves SharePoint reads only.");
  }
  const std::string_view rest = std::string_view(request.path).substr(5);  // after "/v1.0"
  if (rest.rfind("/sites/", 0) != 0) {
    auto segs = split_segments(rest);
    return segment_not_found(ctx, segs.empty() ? std::string() : segs.front());
  }
  const std::string_view site_part = rest.substr(7);
  if (site_part.empty()) {
    route = "sites";
    return graph_error(ctx, 400, "invalidRequest",
                       "graphsim simulates site lookup by path or id only "
                       "(GET /sites/{host}:/{path}); site search is not simulated.");
  }
  GraphCall call{.sim = sim, .request = request, .ctx = ctx, .tenant = *tenant};
  auto not_found = find_site(call, site_part);
  route = call.site_label;
  if (not_found) return *not_found;
  return route_in_site(call, route);
}

// The site named by "{host}:/{path}:" (label site_by_path) or by its id or "root" (label site);
// sets call.site and call.segments (what follows the site).
std::optional<Response> GraphRoutes::find_site(GraphCall& call, std::string_view site_part) {
  std::string_view remainder;
  const size_t colon = site_part.find(':');
  const size_t slash = site_part.find('/');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon < slash)) {
    call.site_label = "site_by_path";
    const std::string_view host = site_part.substr(0, colon);
    const std::string_view after = site_part.substr(colon + 1);
    std::string path = "/";
    if (!after.empty() && after.front() == '/') {
      const size_t end = after.find(':');
      path = std::string(after.substr(0, end));
      remainder = end == std::string_view::npos ? std::string_view() : after.substr(end + 1);
    } else {
      remainder = after;
    }
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    for (const auto& s : call.tenant.sites) {
      if (equals_ignore_case(s->host, host) && equals_ignore_case(s->path, path))
        call.site = s.get();
    }
  } else {
    call.site_label = "site";
    const std::string_view id = site_part.substr(0, slash);
    remainder = slash == std::string_view::npos ? std::string_view() : site_part.substr(slash);
    const auto parts = split_list(id, ',');
    for (const auto& s : call.tenant.sites) {
      if (parts.size() == 3 && equals_ignore_case(parts[0], s->host) &&
          equals_ignore_case(parts[1], s->site_collection_id) &&
          equals_ignore_case(parts[2], s->web_id)) {
        call.site = s.get();
      } else if (parts.size() == 1 && s->path == "/" &&
                 (equals_ignore_case(parts[0], "root") || equals_ignore_case(parts[0], s->host)) &&
                 call.site == nullptr) {
        call.site = s.get();
      }
    }
  }
  if (call.site == nullptr)
    return graph_error(call.ctx, 404, "itemNotFound", "Requested site could not be found");
  call.segments = split_segments(remainder);
  call.site_context = "sites('" + call.site->id() + "')";
  return std::nullopt;
}

// Finds the route for call.segments, resolves its {list}, and runs its handler. A path no
// route fits is answered as Graph does: a 400 naming the first segment no route accepts.
Response GraphRoutes::route_in_site(GraphCall& call, std::string& route) {
  const auto& segs = call.segments;
  const GraphRoute* found = nullptr;
  size_t deepest = 0;
  for (const GraphRoute& candidate : kRoutes) {
    if (candidate.method != call.request.method) continue;
    if (route_fits(candidate, segs)) {
      found = &candidate;
      break;
    }
    deepest = std::max(deepest, matched_prefix(candidate, segs));
  }
  if (found != nullptr && !found->label.empty()) route = found->label;
  if (found == nullptr && deepest > 0) route = segs.size() >= 3 ? segs[2] : "list";
  if (segs.size() >= 2 && segs[0] == "lists") {
    call.list = find_list(*call.site, segs[1]);
    if (call.list == nullptr)
      return graph_error(call.ctx, 404, "itemNotFound", "The specified list was not found");
    call.list_context = call.site_context + "/lists('" + call.list->id + "')";
  }
  if (found == nullptr)
    return segment_not_found(call.ctx, segs[std::min(deepest, segs.size() - 1)]);
  return found->handler(call);
}

Response GraphRoutes::site(GraphCall& call) {
  const SiteSpec& site = *call.site;
  nlohmann::ordered_json body = {
      {"@odata.context", call.ctx.base_url + "/v1.0/$metadata#sites/$entity"},
      {"createdDateTime", format_time(site.created)},
      {"description", site.description},
      {"id", site.id()},
      {"lastModifiedDateTime", format_time(site.modified)},
      {"name", site.name()},
      {"webUrl", site.web_url()},
      {"displayName", site.display_name}};
  if (site.path == "/") body["root"] = nlohmann::json::object();
  body["siteCollection"] = {{"hostname", site.host}};
  return graph_json(body.dump());
}

Response GraphRoutes::lists(GraphCall& call) {
  std::optional<std::set<std::string>> select;
  if (auto s = option(call.request, "select")) select = lower_case_names(*s);
  std::optional<std::string> display_name_filter;
  if (auto f = option(call.request, "filter")) {
    display_name_filter = parse_list_filter(*f);
    if (!display_name_filter) {
      return graph_error(call.ctx, 400, "invalidRequest",
                         "Invalid filter clause: lists can be filtered on displayName eq "
                         "'…' only.");
    }
  }
  const bool with_system = select && select->count("system") > 0;
  nlohmann::ordered_json value = nlohmann::ordered_json::array();
  for (const auto& list : call.site->lists) {
    if (list->system && !with_system) continue;
    if (display_name_filter && !equals_ignore_case(*display_name_filter, list->display_name))
      continue;
    auto j = list_json(*call.site, *list);
    if (select) {
      nlohmann::ordered_json picked = {{"@odata.etag", j["@odata.etag"]}};
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (select->count(lower(it.key()))) picked[it.key()] = it.value();
      }
      j = std::move(picked);
    }
    value.push_back(std::move(j));
  }
  nlohmann::ordered_json body = {
      {"@odata.context", call.ctx.base_url + "/v1.0/$metadata#" + call.site_context + "/lists"},
      {"value", value}};
  return graph_json(body.dump());
}

Response GraphRoutes::list(GraphCall& call) {
  nlohmann::ordered_json body = {{"@odata.context", call.ctx.base_url + "/v1.0/$metadata#" +
                                                        call.site_context + "/lists/$entity"}};
  const auto j = list_json(*call.site, *call.list);
  for (auto it = j.begin(); it != j.end(); ++it) body[it.key()] = it.value();
  return graph_json(body.dump());
}

Response GraphRoutes::columns(GraphCall& call) {
  nlohmann::ordered_json value = nlohmann::ordered_json::array();
  for (const auto& c : call.list->columns) value.push_back(column_json(c, "Custom Columns"));
  for (const auto& c : builtin_columns()) value.push_back(column_json(c, "_Hidden"));
  nlohmann::ordered_json body = {
      {"@odata.context", call.ctx.base_url + "/v1.0/$metadata#" + call.list_context + "/columns"},
      {"value", value}};
  return graph_json(body.dump());
}

// $expand, $select, $top and $orderby, as every items route reads them.
std::optional<Response> GraphRoutes::read_item_options(GraphCall& call, ItemView& view, int& top) {
  view.ctx = &call.ctx;
  view.tenant = &call.tenant;
  view.site = call.site;
  view.list = call.list;
  view.list_context = call.list_context;
  if (auto e = option(call.request, "expand")) {
    if (auto err = parse_expand(*e, view)) return graph_error(call.ctx, 400, "BadRequest", *err);
  }
  if (auto s = option(call.request, "select")) view.item_select = lower_case_names(*s);
  top = kDefaultTop;
  if (auto t = option(call.request, "top")) {
    int v = 0;
    auto [end, ec] = std::from_chars(t->data(), t->data() + t->size(), v);
    if (ec != std::errc() || end != t->data() + t->size() || v < 1) {
      return graph_error(call.ctx, 400, "BadRequest",
                         "Invalid value '" + *t +
                             "' for $top query option found. The $top "
                             "query option requires a non-negative integer value.");
    }
    top = std::min(v, kMaxTop);
  }
  if (option(call.request, "orderby"))
    return graph_error(call.ctx, 400, "invalidRequest", "$orderby is not simulated by graphsim.");
  return std::nullopt;
}

// The repeat_next_link fault: the link of the page just served instead of the next one.
std::string GraphRoutes::next_link_or_repeat(GraphCall& call, std::string next) {
  GraphSim& sim = call.sim;
  std::lock_guard fl(sim.fault_mu_);
  if (sim.fire(sim.faults_.repeat_next_link, sim.repeat_state_)) {
    ++sim.fault_counts_["repeated_next_links"];
    return call.ctx.base_url + call.request.target;
  }
  return next;
}

Response GraphRoutes::item(GraphCall& call) {
  ItemView view;
  int top = 0;
  if (auto refused = read_item_options(call, view, top)) return *refused;
  const ItemSpec* item = named_item(call);
  if (item == nullptr) return item_not_found(call.ctx);
  std::string out;
  view.append_item(out, *item);
  return with_context(call.ctx, call.list_context + "/items/$entity", std::move(out));
}

Response GraphRoutes::item_fields(GraphCall& call) {
  ItemView view;
  int top = 0;
  if (auto refused = read_item_options(call, view, top)) return *refused;
  const ItemSpec* item = named_item(call);
  if (item == nullptr) return item_not_found(call.ctx);
  std::string out;
  view.append_fields(out, *item);
  return with_context(
      call.ctx, call.list_context + "/items('" + std::to_string(item->id) + "')/fields/$entity",
      std::move(out));
}

Response GraphRoutes::delta(GraphCall& call) {
  ItemView view;
  int top = 0;
  if (auto refused = read_item_options(call, view, top)) return *refused;
  if (option(call.request, "filter"))
    return graph_error(call.ctx, 400, "invalidRequest", "$filter is not supported with delta.");
  DeltaToken from;
  if (auto refused = delta_start(call, from)) return *refused;
  const ListSpec& list = *call.list;
  std::string out;
  out.reserve(static_cast<size_t>(top) * 900 + 512);
  out += "{\"@odata.context\":";
  append_json_string(out, call.ctx.base_url + "/v1.0/$metadata#Collection(listItem)");
  std::string values = ",\"value\":[";
  int count = 0;
  uint64_t last_seq = from.seq;
  bool more = false;
  for (auto it = list.changes.upper_bound(from.seq); it != list.changes.end(); ++it) {
    const ItemSpec* item = list.item(it->second);
    if (item == nullptr) continue;
    if (item->deleted && from.initial) {
      last_seq = it->first;
      continue;
    }
    if (count == top) {
      more = true;
      break;
    }
    if (count > 0) values.push_back(',');
    if (item->deleted) {
      values += "{\"id\":";
      append_json_string(values, std::to_string(item->id));
      values += ",\"deleted\":{\"state\":\"deleted\"}}";
    } else {
      view.append_item(values, *item);
    }
    ++count;
    last_seq = it->first;
  }
  values += "]";
  if (more) {
    out += ",\"@odata.nextLink\":";
    append_json_string(
        out,
        next_link_or_repeat(
            call,
            link_with(call.ctx, call.request, {"token", "$skiptoken"}, "token",
                      encode_delta_token({list.id, list.delta_epoch, last_seq, from.initial}))));
  } else {
    out += ",\"@odata.deltaLink\":";
    append_json_string(
        out, link_with(call.ctx, call.request, {"token", "$skiptoken"}, "token",
                       encode_delta_token({list.id, list.delta_epoch, list.change_seq, false})));
  }
  out += values + "}";
  return graph_json(std::move(out));
}

Response GraphRoutes::items(GraphCall& call) {
  ItemView view;
  int top = 0;
  if (auto refused = read_item_options(call, view, top)) return *refused;
  std::optional<Filter> filter;
  if (auto refused = read_item_filter(call, filter)) return *refused;
  int after = 0;
  if (auto s = option(call.request, "skiptoken")) {
    auto decoded = decode_skiptoken(*s);
    if (!decoded) return graph_error(call.ctx, 400, "invalidRequest", "Invalid skip token.");
    after = *decoded;
  }
  const ListSpec& list = *call.list;
  std::string out;
  out.reserve(static_cast<size_t>(top) * 900 + 512);
  out += "{\"@odata.context\":";
  append_json_string(out, call.ctx.base_url + "/v1.0/$metadata#" + call.list_context + "/items");
  std::string values = ",\"value\":[";
  values.reserve(std::min<size_t>(static_cast<size_t>(top), list.items.size()) * 2048);
  auto it = std::upper_bound(list.items.begin(), list.items.end(), after,
                             [](int v, const ItemSpec& item) { return v < item.id; });
  int count = 0;
  int last_id = after;
  bool more = false;
  for (; it != list.items.end(); ++it) {
    if (it->deleted) continue;
    if (filter && !filter->matches(*it, list)) continue;
    if (count == top) {
      more = true;
      break;
    }
    if (count > 0) values.push_back(',');
    view.append_item(values, *it);
    last_id = it->id;
    ++count;
  }
  values += "]}";
  if (more) {
    out += ",\"@odata.nextLink\":";
    append_json_string(out, next_link_or_repeat(
                                call, link_with(call.ctx, call.request, {"$skiptoken", "skiptoken"},
                                                "$skiptoken", encode_skiptoken(last_id))));
  }
  out += values;
  return graph_json(std::move(out));
}

Response GraphSim::handle_graph(const Request& request, Context& ctx) {
  std::string route = "unknown";
  Response response = GraphRoutes::answer(*this, request, ctx, route);
  std::lock_guard lock(fault_mu_);
  ++graph_total_;
  ++graph_by_route_[route];
  ++graph_by_target_[request.target];
  ++graph_by_status_[std::to_string(response.status)];
  return response;
}

}  // namespace graphsim
