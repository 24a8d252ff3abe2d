#include "api/api_server.h"

#include <simdjson.h>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "api/access.h"
#include "api/kept_secrets.h"
#include "api/oauth_connect.h"
#include "api/openapi.h"
#include "api/preconditions.h"
#include "api/sharepoint_routes.h"
#include "api/sql_routes.h"
#include "api/static_files.h"
#include "auth/diagnostics.h"
#include "config/catalog.h"
#include "core/bounded_json.h"
#include "core/error_codes.h"
#include "core/error_json.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/redact.h"
#include "sources/common/report.h"

namespace extdata::api {

using nlohmann::json;
using server::Request;
using server::Respond;
using server::Response;

Response error_response(const Error& e) {
  Response r = Response::json(
      http_status(e), error_document(e).dump(-1, ' ', false, json::error_handler_t::replace));
  // A refusal that ends by itself (cache.rate_limited) says when (RFC 9110 §10.2.3).
  if (const auto it = e.details.find("retry_after");
      it != e.details.end() && e.category() == ErrorCategory::rate_limited)
    r.headers.emplace_back("Retry-After", it->second);
  return r;
}

namespace {

Response json_ok(const json& j, int status = 200) {
  return Response::json(status, j.dump(-1, ' ', false, json::error_handler_t::replace));
}

Response with_etag(Response res, const std::string& version) {
  res.headers.emplace_back("ETag", etag_of(version));
  return res;
}

enum class Role { none, reader, admin };

// The values of a route's {placeholders}, in the order of the pattern.
using Params = std::vector<std::string>;

// The next non-empty '/'-separated segment of `path` from `pos`; empty at the end.
std::string_view next_segment(std::string_view path, size_t& pos) {
  while (pos < path.size() && path[pos] == '/') ++pos;
  const size_t start = pos;
  while (pos < path.size() && path[pos] != '/') ++pos;
  return path.substr(start, pos - start);
}

// A pattern's segments match the path's one for one; "{name}" matches any one segment. Runs
// for every request (the inline path included): no allocation unless a placeholder matches.
bool match_path(std::string_view pattern, std::string_view path, Params* params) {
  Params found;
  size_t p = 0, q = 0;
  for (;;) {
    const std::string_view want = next_segment(pattern, p);
    const std::string_view got = next_segment(path, q);
    if (want.empty() || got.empty()) {
      if (!want.empty() || !got.empty()) return false;
      *params = std::move(found);
      return true;
    }
    if (want.front() == '{')
      found.emplace_back(got);
    else if (want != got)
      return false;
  }
}

bool is_api_path(std::string_view path) {
  size_t pos = 0;
  return next_segment(path, pos) == "api" && next_segment(path, pos) == "v1";
}

// Runs a PUT or DELETE with what its If-Match / If-None-Match headers expect (400 when they
// are malformed).
template <typename Write>
Response conditional(const Request& req, AllowNoneMatch none_match, Write write) {
  auto expect = expect_of(req, none_match);
  if (!expect.ok()) return error_response(expect.error());
  return write(*expect);
}

}  // namespace

struct ApiServer::Impl {
  Runtime& runtime;
  ApiOptions options;
  std::unique_ptr<server::HttpServer> http;
  boost::asio::thread_pool pool;
  std::mutex token_mu;
  std::map<std::string, std::pair<Role, Clock::time_point>>
      token_cache;  // secret → role, checked at
  // Scheduled refresh (`refresh: 15m`): a timer thread asks the cache once a second.
  std::thread ticker;
  std::mutex tick_mu;
  std::condition_variable tick_cv;
  bool stopping = false;
  Counter& inline_answers;  // looked up once: the inline path is the hot one

  // One row per endpoint: the whole URL space of the API in one table (routes() below).
  struct Route {
    std::string_view method;
    std::string_view pattern;  // "/api/v1/sources/{name}/test"
    Role role;                 // the least role that may call it
    // Answers on the network thread when it can do so without waiting (nullopt: "go to the
    // worker pool"); nullptr for routes that always run on the pool.
    std::optional<Response> (*try_inline)(Impl&, const Request&, const Params&);
    // The `endpoint` label of extdata_api_requests_total: a fixed, small set (never the raw
    // path, which would make one series per field or source name).
    std::string_view label;
    Response (*handler)(Impl&, const Request&, const Params&);
  };
  static const std::vector<Route>& routes();

  // The route for a request: `route` when method and path match, `path_route` when at
  // least the path does (for the role check and a 405).
  struct Match {
    const Route* route = nullptr;
    const Route* path_route = nullptr;
    Params params;
    std::string_view label = "other";
  };
  static Match find_route(const Request& req);

  void count(std::string_view endpoint, int status);

  // The store's health, copied into extdata_store_up and extdata_store_reconnects_total.
  store::StoreHealth store_health() {
    const store::StoreHealth health = runtime.store().health();
    runtime.metrics()
        .gauge("extdata_store_up", {}, "1 when the store answered its last call, 0 when not")
        .set(health.up ? 1 : 0);
    Counter& reconnects = runtime.metrics().counter("extdata_store_reconnects_total", {},
                                                    "Store connections opened again after a loss");
    if (health.reconnects > reconnects.value())
      reconnects.inc(health.reconnects - reconnects.value());
    return health;
  }

  void start_ticker() {
    // Every 250 ms the store is asked whether another instance changed it (cheap: SQLite's
    // data_version, PostgreSQL's notifications), so a change anywhere is served everywhere
    // within a second; scheduled refreshes are looked at once a second.
    ticker = std::thread([this] {
      std::unique_lock lock(tick_mu);
      for (unsigned beat = 0;
           !tick_cv.wait_for(lock, std::chrono::milliseconds(250), [this] { return stopping; });
           ++beat) {
        lock.unlock();
        runtime.sync_with_store();
        if (beat % 4 == 3) runtime.cache().tick(runtime.clock().now());
        lock.lock();
      }
    });
  }
  void stop_ticker() {
    {
      std::lock_guard lock(tick_mu);
      stopping = true;
    }
    tick_cv.notify_all();
    if (ticker.joinable()) ticker.join();
  }

  Impl(Runtime& r, ApiOptions o)
      : runtime(r),
        options(std::move(o)),
        pool(static_cast<size_t>(std::max(1, options.workers))),
        inline_answers(runtime.metrics().counter(
            "extdata_api_inline_total", {},
            "Requests answered on the network thread, without the worker pool")) {}

  // The caller's role when it is known without the store (no token, a malformed header, a
  // token checked in the last 30 s); nullopt when the store must be asked.
  std::optional<Result<Role>> known_role(const Request& req) {
    auto header = req.header("Authorization");
    if (!header) return Result<Role>(Role::none);
    auto token = api_token(*header);
    if (!token)
      return Result<Role>(Error(
          "api.unauthenticated", "the Authorization header is neither a Bearer token nor Basic",
          "Send Authorization: Bearer <token from 'extdata token create'>, or HTTP Basic with "
          "any user name and the token as password."));
    std::lock_guard lock(token_mu);
    auto it = token_cache.find(*token);
    if (it != token_cache.end() &&
        runtime.clock().now() - it->second.second < std::chrono::seconds(30))
      return Result<Role>(it->second.first);
    return std::nullopt;
  }

  Result<Role> role_of(const Request& req) {
    if (auto known = known_role(req)) return std::move(*known);
    std::string secret = *api_token(*req.header("Authorization"));
    auto now = runtime.clock().now();
    EXTDATA_ASSIGN_OR_RETURN(auto token, runtime.store().find_token(secret));
    if (!token)
      return Error("api.unauthenticated", "the API token is not valid (unknown or revoked)",
                   "Create one with: extdata token create --role admin");
    Role role = token->role == "admin" ? Role::admin : Role::reader;
    std::lock_guard lock(token_mu);
    if (token_cache.size() > 10000) token_cache.clear();
    token_cache[secret] = {role, now};
    return role;
  }

  std::optional<Error> require(const Request& req, Role needed) {
    if (needed == Role::none) return std::nullopt;
    return check_role(role_of(req), needed);
  }

  std::optional<Error> check_role(const Result<Role>& role, Role needed) {
    if (!role.ok()) return role.error();
    if (*role == Role::none) {
      if (needed == Role::reader && options.anonymous_read) return std::nullopt;
      return Error(
          "api.unauthenticated", "this endpoint needs an API token",
          std::string(
              "Send Authorization: Bearer <token>; create one with: extdata token create --role ") +
              (needed == Role::admin ? "admin" : "reader"));
    }
    if (needed == Role::admin && *role != Role::admin)
      return Error("api.forbidden", "this endpoint needs an admin token; yours is a reader token",
                   "Use a token created with --role admin.");
    return std::nullopt;
  }

  // An error on a reader endpoint, trimmed to what the caller's role may see (access.h).
  Response reader_error(const Request& req, const Error& e) {
    auto role = role_of(req);
    const bool admin = role.ok() && *role == Role::admin;
    return error_response(visible_error(e, admin ? ErrorAudience::admin : ErrorAudience::reader));
  }

  void add_cors(const Request& req, Response& res) {
    auto origin = req.header("Origin");
    if (!origin || !options.cors_origins.count(*origin)) return;
    res.headers.emplace_back("Access-Control-Allow-Origin", *origin);
    res.headers.emplace_back("Vary", "Origin");
  }

  Response static_file(const std::string& path) {
    if (options.web_dir.empty())
      return error_response(Error("api.not_found", "no such page: " + path, ""));
    const std::string file =
        resolve_static_file(options.web_dir, path == "/demo/form" ? "/demo/form.html" : path);
    std::ifstream in(file, std::ios::binary);
    if (file.empty() || !in)
      return error_response(
          Error("api.not_found", "no such page: " + path, "See / for the admin UI."));
    std::stringstream ss;
    ss << in.rdbuf();
    auto res = Response::text(200, ss.str(), static_content_type(file));
    res.headers.emplace_back("Cache-Control", "no-cache");
    return res;
  }

  // ------------------------------------------------------------ config endpoints

  Response list_sources() {
    auto list = runtime.store().list_sources();
    if (!list.ok()) return error_response(list.error());
    const std::map<std::string, json> targets = targets_by_source();
    json out = json::array();
    for (const auto& s : *list) {
      json item = s.masked();
      item["warnings"] = source_warnings(runtime, s.name);
      if (json c = connection_json(runtime, s.name, public_url()); !c.is_null())
        item["connection"] = c;
      if (json status = runtime.status_of(s.name); !status.is_null()) item["status"] = status;
      if (auto t = targets.find(s.name); t != targets.end()) item["targets"] = t->second;
      out.push_back(item);
    }
    return json_ok({{"sources", out}});
  }

  // The targets fed by each source (through their field): {"name","type","field","last_sync"}.
  std::map<std::string, json> targets_by_source() {
    std::map<std::string, json> out;
    auto targets = runtime.targets().list();
    auto fields = runtime.store().list_fields();
    if (!targets.ok() || !fields.ok()) return out;
    std::map<std::string, std::string> source_of;
    for (const auto& f : *fields) source_of[f.name] = f.source;
    for (const auto& t : *targets) {
      auto source = source_of.find(t.value("field", ""));
      if (source == source_of.end()) continue;
      out[source->second].push_back({{"name", t["name"]},
                                     {"type", t["type"]},
                                     {"field", t["field"]},
                                     {"last_sync", t["last_sync"]}});
    }
    return out;
  }

  Response get_source(const std::string& name) {
    auto s = runtime.store().get_source_versioned(name);
    if (!s.ok()) return error_response(s.error());
    if (!*s) return error_response(source_not_found(runtime.store(), name));
    json item = (*s)->value.masked();
    item["warnings"] = source_warnings(runtime, name);
    if (json c = connection_json(runtime, name, public_url()); !c.is_null()) item["connection"] = c;
    if (json status = runtime.status_of(name); !status.is_null()) item["status"] = status;
    return with_etag(json_ok(item), (*s)->version);
  }

  // Answers a PUT or DELETE whose If-Match / If-None-Match the stored item does not meet
  // before its body is read (RFC 9110 §13.2.2); the store checks again as it writes.
  template <typename Versioned>
  std::optional<Response> unmet(std::string_view kind, const std::string& name,
                                const store::Expect& expect, const Result<Versioned>& stored) {
    if (!stored.ok()) return error_response(stored.error());
    std::optional<std::string> version;
    if (*stored) version = (*stored)->version;
    if (auto met = store::check_expected(kind, name, version, expect); !met.ok())
      return error_response(with_current_etag(met.error()));
    return std::nullopt;
  }

  Response put_source(const std::string& name, const std::string& body,
                      const store::Expect& expect) {
    if (expect.kind != store::Expect::Kind::any)
      if (auto early = unmet("source", name, expect, runtime.store().get_source_versioned(name)))
        return *early;
    auto body_json = parse_request_object(
        body, "Send the source as JSON, e.g. {\"type\": \"rest\", \"url\": ...}.");
    if (!body_json.ok()) return error_response(body_json.error());
    json parsed = std::move(*body_json);
    if (auto refused = config::refuse_host_references(parsed)) return error_response(*refused);
    // A secret sent back as {"set": true} (as GET shows it) keeps the stored value, bound to
    // where it was entered for (kept_secrets.h).
    auto existing = runtime.store().get_source(name);
    if (!existing.ok()) return error_response(existing.error());
    const auto kept = restore_kept_secrets(parsed, existing->has_value() ? &**existing : nullptr);
    auto cfg = config::parse_source(parsed.dump(), name);
    if (!cfg.ok()) return error_response(cfg.error());
    if (auto moved = *existing ? check_kept_secrets(kept, **existing, *cfg) : std::nullopt)
      return error_response(*moved);
    if (auto checked = check_source(*cfg); !checked.ok()) return error_response(checked.error());
    auto written = runtime.store().put_source(*cfg, expect);
    if (!written.ok()) return error_response(with_current_etag(written.error()));
    runtime.source_changed(name);
    json out = cfg->masked();
    out["warnings"] = source_warnings(runtime, name);
    return with_etag(json_ok(out, written->change == store::Change::created ? 201 : 200),
                     written->version);
  }

  Response delete_source(const std::string& name, const store::Expect& expect) {
    const auto revocation = revocation_for(runtime, name);  // read before the grant goes
    auto removed = runtime.store().delete_source(name, expect);
    if (!removed.ok()) return error_response(with_current_etag(removed.error()));
    if (!*removed) return error_response(source_not_found(runtime.store(), name));
    runtime.source_changed(name);
    runtime.metrics().drop_gauges(auth::kSecretExpiryGauge, {"source", name});
    if (revocation) revoke(*revocation, runtime.metrics(), name);
    return json_ok({{"deleted", name}});
  }

  std::set<std::string> source_names() {
    std::set<std::string> out;
    if (auto list = runtime.store().list_sources(); list.ok())
      for (const auto& s : *list) out.insert(s.name);
    return out;
  }

  Response list_fields() {
    auto list = runtime.store().list_fields();
    if (!list.ok()) return error_response(list.error());
    json out = json::array();
    for (const auto& f : *list) out.push_back(f.spec);
    return json_ok({{"fields", out}});
  }

  Response get_field(const std::string& name) {
    auto f = runtime.store().get_field_versioned(name);
    if (!f.ok()) return error_response(f.error());
    if (!*f) return error_response(field_not_found(runtime.store(), name));
    return with_etag(json_ok((*f)->value.spec), (*f)->version);
  }

  Response put_field(const std::string& name, const std::string& body,
                     const store::Expect& expect) {
    if (expect.kind != store::Expect::Kind::any)
      if (auto early = unmet("field", name, expect, runtime.store().get_field_versioned(name)))
        return *early;
    if (auto deep = check_request_depth(body); !deep.ok()) return error_response(deep.error());
    auto cfg = config::parse_field(body, name, source_names());
    if (!cfg.ok()) return error_response(cfg.error());
    auto written = runtime.store().put_field(*cfg, expect);
    if (!written.ok()) return error_response(with_current_etag(written.error()));
    runtime.fields().invalidate_field(name);
    json out = cfg->spec;
    // Templates naming columns no record has are saved, with a warning listing what exists.
    out["warnings"] = json::array();
    if (auto warnings = runtime.fields().check(*cfg); warnings.ok())
      for (const auto& w : *warnings) out["warnings"].push_back(w);
    else
      out["warnings"].push_back("could not check the templates against records: " +
                                redact(warnings.error().message));
    return with_etag(json_ok(out, written->change == store::Change::created ? 201 : 200),
                     written->version);
  }

  Response delete_field(const std::string& name, const store::Expect& expect) {
    auto removed = runtime.store().delete_field(name, expect);
    if (!removed.ok()) return error_response(with_current_etag(removed.error()));
    if (!*removed) return error_response(field_not_found(runtime.store(), name));
    runtime.fields().invalidate_field(name);
    return json_ok({{"deleted", name}});
  }

  std::string public_url() const {
    return options.public_url.empty() && http ? http->url() : options.public_url;
  }

  // Connect: the sign-in URL to open in a new window; the provider sends the browser back to
  // GET /oauth2/callback (no token: the state is the proof), which stores the connection.
  Response connect(const std::string& name) {
    return answer(begin_sign_in(runtime, name, public_url()));
  }

  Response oauth_callback(const Request& req) {
    std::map<std::string, std::string> query;
    for (const auto& [k, v] : req.query) query.emplace(k, v);
    auto outcome = complete_sign_in(runtime, query);
    if (!outcome.ok())
      log::warn("auth.sign_in_failed",
                {{"code", outcome.error().code}, {"message", outcome.error().message}});
    auto res = Response::text(outcome.ok() ? 200 : http_status(outcome.error()),
                              callback_page(outcome), "text/html; charset=utf-8");
    res.headers.emplace_back("Cache-Control", "no-store");
    res.headers.emplace_back("Referrer-Policy", "no-referrer");
    return res;
  }

  Response authenticate(const std::string& name) {
    auto src = runtime.source(name);
    if (!src.ok()) return error_response(src.error());
    return authenticate_source(**src);
  }

  // The sql explorer's columns (api/sql_routes.h) of the table named by ?table= or "table".
  Response sql_columns(sources::Source& src, const std::optional<std::string>& table) {
    auto name = sql::table_argument(table);
    if (!name.ok()) return error_response(name.error());
    return answer(sql::columns(src, *name));
  }
  Response sql_columns_saved(const std::string& source, const Request& req) {
    auto src = runtime.source(source);
    if (!src.ok()) return error_response(src.error());
    return sql_columns(**src, req.query_param("table"));
  }
  static std::optional<std::string> table_in_body(const std::string& body) {
    auto parsed = json::parse(body, nullptr, false);
    if (!parsed.is_object() || !parsed.contains("table") || !parsed["table"].is_string())
      return std::nullopt;
    return parsed["table"].get<std::string>();
  }

  // The SharePoint site explorer (api/sharepoint_routes.h) and the sql explorer's tables on a
  // saved source.
  Response explore_saved(const std::string& name,
                         Result<json> (*explore)(sources::Source& source)) {
    auto src = runtime.source(name);
    if (!src.ok()) return error_response(src.error());
    return answer(explore(**src));
  }

  static Response answer(const Result<json>& result) {
    return result.ok() ? json_ok(*result) : error_response(result.error());
  }

  Response authenticate_source(sources::Source& src) {
    auto cred = src.credential();
    if (!cred)
      return json_ok({{"ok", true},
                      {"token_type", "none"},
                      {"claims", json::object()},
                      {"warnings", json::array()}});
    auto report = auth::authenticate(*cred, runtime.clock());
    // The call worked, the credential did not: 200 with the error, for the Authenticate button.
    if (!report.ok()) return json_ok(error_document(report.error()));
    return json_ok(auth::to_json(*report, false));
  }

  // A source described in the request body, built but never stored: the wizard's steps
  // before "Save". Body: {"source": {...spec...}, "variables": {...}}.
  Result<std::shared_ptr<sources::Source>> draft_source(const std::string& body, json* variables,
                                                        std::string_view step) {
    const char* shape = "Send the source spec under \"source\".";
    EXTDATA_ASSIGN_OR_RETURN(json parsed, parse_request_object(body, shape));
    if (!parsed.contains("source") || !parsed["source"].is_object())
      return Error("api.bad_json",
                   "the request body must be {\"source\": {...}, \"variables\": {...}}",
                   "Send the source spec under \"source\".");
    if (variables) *variables = parsed.value("variables", json::object());
    std::string name = parsed["source"].value("name", "draft");
    json& spec = parsed["source"];
    spec.erase("name");
    if (auto refused = config::refuse_host_references(spec)) return *refused;
    // Editing a stored source: secrets the browser never saw come back as {"set": true}, and
    // stay bound to where they were entered for (kept_secrets.h).
    std::optional<config::SourceConfig> stored;
    if (auto found = runtime.store().get_source(name); found.ok() && *found) stored = **found;
    const auto kept = restore_kept_secrets(spec, stored ? &*stored : nullptr);
    sharepoint::fill_draft_placeholders(spec, step);
    sql::fill_draft_placeholders(spec, step);
    EXTDATA_ASSIGN_OR_RETURN(auto cfg, config::parse_source(spec.dump(), name));
    if (auto moved = stored ? check_kept_secrets(kept, *stored, cfg) : std::nullopt) return *moved;
    return sources::make_source(cfg, runtime.source_deps());
  }

  static Result<sources::Variables> variables_from(const json& j) {
    sources::Variables vars;
    if (j.is_null()) return vars;
    if (!j.is_object())
      return Error("api.bad_json", "variables must be an object of strings",
                   "Send {\"variables\": {\"country\": \"DE\"}}.");
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it->is_structured())  // a scalar's text, never a dump of a caller's tree
        return Error("api.bad_json", "variables." + it.key() + " must be a string",
                     "Send {\"variables\": {\"country\": \"DE\"}}.");
      vars[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
    }
    return vars;
  }

  Response test_source(sources::Source& src, const json& variables) {
    auto vars = variables_from(variables);
    if (!vars.ok()) return error_response(vars.error());
    auto report = sources::test_source(src, *vars);
    // Record the outcome like a fetch does, so the sources page shows it.
    return json_ok(sources::to_json(report));
  }

  Response test_saved(const std::string& name, const std::string& body) {
    auto body_json = parse_request_object(body, "Send {\"variables\": {...}}.", true);
    if (!body_json.ok()) return error_response(body_json.error());
    const json& parsed = *body_json;
    auto src = runtime.source(name);
    if (!src.ok()) return error_response(src.error());
    return test_source(**src, parsed.value("variables", json::object()));
  }

  Response draft_field_options(const std::string& body) {
    auto body_json = parse_request_object(body, "Send {\"field\": {...}}.");
    if (!body_json.ok()) return error_response(body_json.error());
    json& parsed = *body_json;
    if (!parsed.contains("field") || !parsed["field"].is_object())
      return error_response(
          Error("api.bad_json",
                "the request body must be {\"field\": {...}, \"q\": .., \"context\": {..}}", ""));
    json field = parsed["field"];
    std::string name = "preview-" + field.value("name", std::string("field"));
    field.erase("name");
    auto cfg = config::parse_field(field.dump(), name, source_names());
    if (!cfg.ok()) return error_response(cfg.error());
    auto mapping = fields::FieldMapping::compile(*cfg);
    if (!mapping.ok()) return error_response(mapping.error());
    // Resolve the field's variables against the preview context, as a saved field would.
    std::map<std::string, std::string, std::less<>> context;
    if (parsed.contains("context") && parsed["context"].is_object())
      for (auto it = parsed["context"].begin(); it != parsed["context"].end(); ++it)
        if (!it->is_structured())  // a scalar's text, never a dump of a caller's tree
          context[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
    extract::MapContext ctx(context);
    sources::Variables vars;
    for (const auto& [var, tmpl] : mapping->variables) vars[var] = tmpl.render(ctx);
    auto cached = runtime.cache().get(cfg->source, vars, mapping->cache_ttl);
    if (!cached.ok()) return error_response(cached.error());
    auto table = fields::OptionsTable::build(*mapping, *cached->records);
    if (!table.ok()) return error_response(table.error());
    const std::string q = parsed.value("q", std::string());
    size_t limit = static_cast<size_t>(std::clamp<long long>(parsed.value("limit", 20LL), 1, 1000));
    auto found = table->search(q, 0, limit);
    json options = json::array();
    for (uint32_t id : found.ids)
      options.push_back(
          {{"value", std::string(table->value(id))},
           {"label", std::string(table->label(id))},
           {"data",
            json::parse(simdjson::to_string((*cached->records)[table->record(id)].json().root()),
                        nullptr, false)}});
    json warnings = json::array();
    if (auto w = fields::check_field(*cfg, cached->records.get()); w.ok())
      for (const auto& text : *w) warnings.push_back(text);
    return json_ok({{"options", options},
                    {"total", found.total},
                    {"stale", cached->stale},
                    {"warnings", warnings}});
  }

  // Builds the draft source of the request body for `step` and hands it to `use`.
  template <typename Use>
  Response with_draft(const Request& req, std::string_view step, Use use) {
    json variables;
    auto src = draft_source(req.body, &variables, step);
    if (!src.ok()) return error_response(src.error());
    return use(**src, variables);
  }

  Result<fields::OptionsQuery> options_query(const Request& req) {
    fields::OptionsQuery q;
    auto number = [](const char* code, const std::string& key,
                     const std::string& text) -> Result<std::int64_t> {
      try {
        size_t used = 0;
        long long v = std::stoll(text, &used);
        if (used == text.size()) return static_cast<std::int64_t>(v);
      } catch (...) {
      }
      return Error(code, key + " must be a whole number, not '" + text + "'", "");
    };
    if (req.method == "POST") {
      EXTDATA_ASSIGN_OR_RETURN(
          json body,
          parse_request_object(
              req.body,
              "Send {\"q\": \"..\", \"limit\": 20, \"context\": {\"country\": \"DE\"}}."));
      if (body.contains("q") && body["q"].is_string()) q.q = body["q"];
      if (body.contains("limit")) {
        if (!body["limit"].is_number_integer())
          return Error("field.bad_limit", "limit must be a whole number", "");
        q.limit = body["limit"].get<std::int64_t>();
      }
      if (body.contains("offset")) {
        if (!body["offset"].is_number_integer())
          return Error("field.bad_offset", "offset must be a whole number", "");
        q.offset = body["offset"].get<std::int64_t>();
      }
      if (body.contains("context")) {
        EXTDATA_ASSIGN_OR_RETURN(q.context, fields::context_from_json(body["context"]));
      }
    } else {
      for (const auto& [k, v] : req.query) {
        if (k == "q")
          q.q = v;
        else if (k == "limit") {
          EXTDATA_ASSIGN_OR_RETURN(q.limit, number("field.bad_limit", "limit", v));
        } else if (k == "offset") {
          EXTDATA_ASSIGN_OR_RETURN(q.offset, number("field.bad_offset", "offset", v));
        } else if (k.rfind("ctx.", 0) == 0 && k.size() > 4)
          q.context[k.substr(4)] = v;
      }
    }
    if (q.offset < 0) return Error("field.bad_offset", "offset must not be negative", "");
    return q;
  }

  // Options answered from memory run on the network thread: handing them to the worker pool
  // (two thread wake-ups) costs more than the answer. Whatever may wait goes to the pool.
  std::optional<Response> answer_inline(const Request& req, const Match& match) {
    if (!match.route || !match.route->try_inline) return std::nullopt;
    if (match.route->role == Role::none) return match.route->try_inline(*this, req, match.params);
    auto role = known_role(req);
    if (!role) return std::nullopt;
    if (auto e = check_role(*role, match.route->role)) return error_response(*e);
    return match.route->try_inline(*this, req, match.params);
  }

  std::optional<Response> field_options_if_ready(const std::string& name, const Request& req) {
    if (req.query_param("format")) return std::nullopt;  // the flat array: never cached pages
    auto q = options_query(req);
    if (!q.ok()) return error_response(q.error());
    auto r = runtime.fields().options_json_if_ready(name, *q);
    if (!r) return std::nullopt;
    if (!r->ok()) return reader_error(req, r->error());
    inline_answers.inc();
    return Response::json(200, std::move(**r));
  }

  Response field_options(const std::string& name, const Request& req) {
    auto q = options_query(req);
    if (!q.ok()) return error_response(q.error());
    if (auto format = req.query_param("format")) {
      if (*format != "array")
        return error_response(Error("field.bad_format",
                                    "format must be 'array' (or absent), not '" + *format + "'",
                                    "Call …/options?format=array for the flat array."));
      auto r = runtime.fields().options_array_json(name, *q, limits().options_array_max_bytes);
      if (!r.ok()) return reader_error(req, r.error());
      return Response::json(200, std::move(*r));
    }
    auto r = runtime.fields().options_json(name, *q);
    if (!r.ok()) return reader_error(req, r.error());
    return Response::json(200, std::move(*r));
  }

  Response field_value(const std::string& name, const Request& req) {
    auto key = req.query_param("key");
    if (!key)
      return error_response(Error("field.bad_key", "the key parameter is missing",
                                  "Call …/value?key=<stored value>."));
    fields::Context context;
    for (const auto& [k, v] : req.query)
      if (k.rfind("ctx.", 0) == 0 && k.size() > 4) context[k.substr(4)] = v;
    auto r = runtime.fields().value(name, *key, context);
    if (!r.ok()) return reader_error(req, r.error());
    return Response::json(200, fields::to_json(*r));
  }

  Response refresh_source(const std::string& name) {
    auto r = runtime.cache().refresh(name);
    if (!r.ok()) return error_response(r.error());
    json errors = json::array();
    for (const auto& e : r->errors) errors.push_back(extdata::to_json(e));
    return json_ok({{"ok", r->errors.empty()},
                    {"keys", r->keys},
                    {"records", r->records},
                    {"errors", errors}});
  }

  Response list_targets() {
    auto list = runtime.targets().list();
    if (!list.ok()) return error_response(list.error());
    return json_ok({{"targets", *list}});
  }

  // Runs the sync now: 200 with the report (`ok: false` and `error` when Jira refused), as a
  // refresh answers; 404 for an unknown target.
  Response sync_target(const std::string& name, const Request& req) {
    const auto dry = req.query_param("dry_run");
    auto report = runtime.targets().sync(
        name, {.dry_run = dry && *dry != "false" && *dry != "0", .refetch = true});
    if (!report.ok()) return error_response(report.error());
    return json_ok(targets::to_json(*report));
  }

  // ------------------------------------------------------------ dispatch

  // Runs on the worker pool: the role check, then the route's handler.
  Response route(const Request& req, const Match& match) {
    if (!match.path_route) {
      if (is_api_path(req.path))
        return error_response(Error(
            "api.not_found", "no API endpoint " + req.method + " " + req.path, "See docs/api.md."));
      if (req.method != "GET" && req.method != "HEAD")
        return error_response(Error("api.method", req.method + " is not allowed here", ""));
      return static_file(req.path);
    }
    if (auto e = require(req, match.path_route->role)) return error_response(*e);
    if (!match.route)
      return error_response(
          Error("api.method", req.method + " is not allowed on " + req.path, "See docs/api.md."));
    return match.route->handler(*this, req, match.params);
  }
};

// The API's URL space. Handlers are one-line adapters from the path to a member function.
const std::vector<ApiServer::Impl::Route>& ApiServer::Impl::routes() {
  using R = const Request&;
  using P = const Params&;
  // Records in memory are served while a shared store is away: /healthz stays 200 and says so.
  static constexpr auto healthz = [](Impl& s, R, P) {
    nlohmann::json body = {{"status", "ok"}};
    if (!s.store_health().up) body["store"] = "unreachable";
    return json_ok(body);
  };
  static constexpr auto healthz_inline = [](Impl& s, R r, P p) -> std::optional<Response> {
    return healthz(s, r, p);
  };
  static constexpr auto metrics = [](Impl& s, R, P) {
    (void)s.store_health();
    return Response::text(200, s.runtime.metrics().prometheus_text(), "text/plain; version=0.0.4");
  };
  static constexpr auto metrics_inline = [](Impl& s, R r, P p) -> std::optional<Response> {
    return metrics(s, r, p);
  };
  static const std::vector<Route> table = {
      // Health and metrics never wait behind the worker pool.
      {"GET", "/healthz", Role::none, healthz_inline, "healthz", healthz},
      {"HEAD", "/healthz", Role::none, healthz_inline, "healthz", healthz},
      {"GET", "/metrics", Role::none, metrics_inline, "metrics", metrics},
      {"HEAD", "/metrics", Role::none, metrics_inline, "metrics", metrics},
      {"GET", "/api/v1/openapi.json", Role::none, nullptr, "openapi",
       [](Impl&, R, P) { return Response::json(200, std::string(openapi_document())); }},
      {"GET", "/api/v1/kinds", Role::admin, nullptr, "kinds",
       [](Impl&, R, P) { return json_ok(config::kinds_document()); }},
      {"GET", "/api/v1/sources", Role::admin, nullptr, "sources",
       [](Impl& s, R, P) { return s.list_sources(); }},
      {"GET", "/api/v1/sources/{name}", Role::admin, nullptr, "sources",
       [](Impl& s, R, P p) { return s.get_source(p[0]); }},
      {"PUT", "/api/v1/sources/{name}", Role::admin, nullptr, "sources",
       [](Impl& s, R r, P p) {
         return conditional(r, AllowNoneMatch::yes,
                            [&](const store::Expect& e) { return s.put_source(p[0], r.body, e); });
       }},
      {"DELETE", "/api/v1/sources/{name}", Role::admin, nullptr, "sources",
       [](Impl& s, R r, P p) {
         return conditional(r, AllowNoneMatch::no,
                            [&](const store::Expect& e) { return s.delete_source(p[0], e); });
       }},
      {"POST", "/api/v1/sources/{name}/authenticate", Role::admin, nullptr, "sources",
       [](Impl& s, R, P p) { return s.authenticate(p[0]); }},
      {"POST", "/api/v1/sources/{name}/connect", Role::admin, nullptr, "sources",
       [](Impl& s, R, P p) { return s.connect(p[0]); }},
      {"GET", "/oauth2/callback", Role::none, nullptr, "oauth2_callback",
       [](Impl& s, R r, P) { return s.oauth_callback(r); }},
      {"POST", "/api/v1/sources/{name}/refresh", Role::admin, nullptr, "sources",
       [](Impl& s, R, P p) { return s.refresh_source(p[0]); }},
      {"POST", "/api/v1/sources/{name}/test", Role::admin, nullptr, "sources",
       [](Impl& s, R r, P p) { return s.test_saved(p[0], r.body); }},
      {"GET", "/api/v1/sources/{name}/sharepoint/lists", Role::admin, nullptr, "sources",
       [](Impl& s, R, P p) { return s.explore_saved(p[0], sharepoint::lists); }},
      {"GET", "/api/v1/sources/{name}/sharepoint/columns", Role::admin, nullptr, "sources",
       [](Impl& s, R, P p) { return s.explore_saved(p[0], sharepoint::columns); }},
      {"GET", "/api/v1/sources/{name}/sql/tables", Role::admin, nullptr, "sources",
       [](Impl& s, R, P p) { return s.explore_saved(p[0], sql::tables); }},
      {"GET", "/api/v1/sources/{name}/sql/columns", Role::admin, nullptr, "sources",
       [](Impl& s, R r, P p) { return s.sql_columns_saved(p[0], r); }},
      {"POST", "/api/v1/draft/authenticate", Role::admin, nullptr, "draft",
       [](Impl& s, R r, P) {
         return s.with_draft(r, "authenticate", [&](sources::Source& src, const json&) {
           return s.authenticate_source(src);
         });
       }},
      {"POST", "/api/v1/draft/test", Role::admin, nullptr, "draft",
       [](Impl& s, R r, P) {
         return s.with_draft(r, "test", [&](sources::Source& src, const json& variables) {
           return s.test_source(src, variables);
         });
       }},
      {"POST", "/api/v1/draft/sharepoint/lists", Role::admin, nullptr, "draft",
       [](Impl& s, R r, P) {
         return s.with_draft(r, "sharepoint/lists", [](sources::Source& src, const json&) {
           return answer(sharepoint::lists(src));
         });
       }},
      {"POST", "/api/v1/draft/sharepoint/columns", Role::admin, nullptr, "draft",
       [](Impl& s, R r, P) {
         return s.with_draft(r, "sharepoint/columns", [](sources::Source& src, const json&) {
           return answer(sharepoint::columns(src));
         });
       }},
      {"POST", "/api/v1/draft/sql/tables", Role::admin, nullptr, "draft",
       [](Impl& s, R r, P) {
         return s.with_draft(r, "sql/tables", [](sources::Source& src, const json&) {
           return answer(sql::tables(src));
         });
       }},
      {"POST", "/api/v1/draft/sql/columns", Role::admin, nullptr, "draft",
       [](Impl& s, R r, P) {
         return s.with_draft(r, "sql/columns", [&](sources::Source& src, const json&) {
           return s.sql_columns(src, table_in_body(r.body));
         });
       }},
      {"POST", "/api/v1/draft/field-options", Role::admin, nullptr, "draft",
       [](Impl& s, R r, P) { return s.draft_field_options(r.body); }},
      {"GET", "/api/v1/fields/{name}/options", Role::reader,
       [](Impl& s, R r, P p) { return s.field_options_if_ready(p[0], r); }, "field_options",
       [](Impl& s, R r, P p) { return s.field_options(p[0], r); }},
      {"POST", "/api/v1/fields/{name}/options", Role::reader, nullptr, "field_options",
       [](Impl& s, R r, P p) { return s.field_options(p[0], r); }},
      {"GET", "/api/v1/fields/{name}/value", Role::reader, nullptr, "field_value",
       [](Impl& s, R r, P p) { return s.field_value(p[0], r); }},
      {"GET", "/api/v1/targets", Role::admin, nullptr, "targets",
       [](Impl& s, R, P) { return s.list_targets(); }},
      {"POST", "/api/v1/targets/{name}/sync", Role::admin, nullptr, "targets",
       [](Impl& s, R r, P p) { return s.sync_target(p[0], r); }},
      {"GET", "/api/v1/fields", Role::admin, nullptr, "fields",
       [](Impl& s, R, P) { return s.list_fields(); }},
      {"GET", "/api/v1/fields/{name}", Role::admin, nullptr, "fields",
       [](Impl& s, R, P p) { return s.get_field(p[0]); }},
      {"PUT", "/api/v1/fields/{name}", Role::admin, nullptr, "fields",
       [](Impl& s, R r, P p) {
         return conditional(r, AllowNoneMatch::yes,
                            [&](const store::Expect& e) { return s.put_field(p[0], r.body, e); });
       }},
      {"DELETE", "/api/v1/fields/{name}", Role::admin, nullptr, "fields",
       [](Impl& s, R r, P p) {
         return conditional(r, AllowNoneMatch::no,
                            [&](const store::Expect& e) { return s.delete_field(p[0], e); });
       }},
  };
  return table;
}

std::vector<ApiServer::RouteInfo> ApiServer::route_table() {
  std::vector<RouteInfo> out;
  for (const auto& r : Impl::routes())
    out.push_back({std::string(r.method), std::string(r.pattern),
                   r.role == Role::admin    ? "admin"
                   : r.role == Role::reader ? "reader"
                                            : "none"});
  return out;
}

ApiServer::Impl::Match ApiServer::Impl::find_route(const Request& req) {
  Match match;
  if (!is_api_path(req.path)) match.label = "static";
  for (const Route& r : routes()) {
    Params params;
    if (!match_path(r.pattern, req.path, &params)) continue;
    if (!match.path_route) {
      match.path_route = &r;
      match.label = r.label;
    }
    if (r.method == req.method) {
      match.route = &r;
      match.params = std::move(params);
      break;
    }
  }
  return match;
}

ApiServer::ApiServer(Runtime& runtime, ApiOptions options)
    : impl_(std::make_unique<Impl>(runtime, std::move(options))) {
  impl_->http = std::make_unique<server::HttpServer>(
      impl_->options.server,
      [this](const Request& req, Respond respond) { handle(req, std::move(respond)); });
}

ApiServer::~ApiServer() {
  stop();
  impl_->pool.join();
}

void ApiServer::Impl::count(std::string_view endpoint, int status) {
  runtime.metrics()
      .counter("extdata_api_requests_total",
               {{"endpoint", std::string(endpoint)}, {"status", std::to_string(status)}},
               "API requests answered, by endpoint and HTTP status")
      .inc();
}

void ApiServer::handle(const Request& req, Respond respond) {
  if (req.method == "OPTIONS") {
    Response res = Response::text(204, "");
    impl_->add_cors(req, res);
    if (auto origin = req.header("Origin"); origin && impl_->options.cors_origins.count(*origin)) {
      res.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS");
      res.headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Content-Type");
      res.headers.emplace_back("Access-Control-Max-Age", "600");
    }
    impl_->count("preflight", res.status);
    return respond(std::move(res));
  }
  Impl::Match match = Impl::find_route(req);
  try {
    if (auto inline_response = impl_->answer_inline(req, match)) {
      impl_->add_cors(req, *inline_response);
      impl_->count(match.label, inline_response->status);
      return respond(std::move(*inline_response));
    }
  } catch (const std::exception& ex) {
    log::warn("inline answer failed, retrying on the worker pool",
              {{"path", req.path}, {"error", ex.what()}});
  }
  // Everything else may touch the store or an upstream: run it on the worker pool.
  boost::asio::post(
      impl_->pool, [this, req, match = std::move(match), respond = std::move(respond)]() mutable {
        Response res;
        try {
          res = impl_->route(req, match);
        } catch (const std::exception& ex) {
          log::error("request failed", {{"path", req.path}, {"error", ex.what()}});
          res = error_response(Error("api.internal", "internal error while handling the request",
                                     "Look at the server log; report it if it persists."));
        }
        impl_->add_cors(req, res);
        impl_->count(match.label, res.status);
        respond(std::move(res));
      });
}

Status ApiServer::start() {
  EXTDATA_TRY(impl_->http->start());
  impl_->start_ticker();
  return ok_status();
}
bool ApiServer::drain(std::chrono::milliseconds grace) {
  impl_->stop_ticker();
  const bool finished = impl_->http && impl_->http->drain(grace);
  stop();
  return finished;
}

void ApiServer::stop() {
  impl_->stop_ticker();
  if (impl_->http) impl_->http->stop();
}
void ApiServer::wait() {
  impl_->http->wait();
}
std::string ApiServer::url() const {
  return impl_->http->url();
}
uint16_t ApiServer::port() const {
  return impl_->http->port();
}

}  // namespace extdata::api
