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
#include "api/static_files.h"
#include "auth/diagnostics.h"
#include "core/bounded_json.h"
#include "core/log.h"
#include "core/redact.h"
#include "sources/common/report.h"
#include "sources/sharepoint/sharepoint_source.h"

namespace extdata::api {

using nlohmann::json;
using server::Request;
using server::Respond;
using server::Response;

int status_for(const Error& e) {
  const std::string& c = e.code;
  auto starts = [&](const char* p) { return c.rfind(p, 0) == 0; };
  if (c == "api.unauthenticated") return 401;
  if (c == "api.forbidden") return 403;
  if (c.ends_with(".not_found")) return 404;
  if (c == "api.method") return 405;
  if (c == "store.in_use" || c == "api.conflict") return 409;
  if (c == "request.too_large") return 413;
  if (starts("config.") || starts("template.") || starts("jsonpath.") || starts("api.") ||
      starts("field.bad") || c == "source.missing_variable" || starts("cli."))
    return 400;
  if (starts("store.")) return 500;
  // Upstream failures (auth, http, source): the gateway could not get a good answer.
  return 502;
}

Response error_response(const Error& e) {
  json body = {
      {"error", {{"code", e.code}, {"message", redact(e.message)}, {"hint", redact(e.hint)}}}};
  json upstream = json::object();
  for (const auto& [k, v] : e.details) upstream[k] = redact(v);
  if (!upstream.empty()) body["error"]["upstream"] = upstream;
  return Response::json(status_for(e), body.dump(-1, ' ', false, json::error_handler_t::replace));
}

namespace {

Response json_ok(const json& j, int status = 200) {
  return Response::json(status, j.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : path) {
    if (c == '/') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

enum class Role { none, reader, admin };

// The `endpoint` label of extdata_api_requests_total: a fixed, small set (never the raw
// path, which would make one series per field or source name).
const char* endpoint_label(const Request& req) {
  const std::string& p = req.path;
  if (req.method == "OPTIONS") return "preflight";
  if (p == "/healthz") return "healthz";
  if (p == "/metrics") return "metrics";
  if (p.rfind("/api/v1/", 0) != 0) return "static";
  if (p.rfind("/api/v1/fields/", 0) == 0) {
    if (p.ends_with("/options")) return "field_options";
    if (p.ends_with("/value")) return "field_value";
    return "fields";
  }
  if (p.rfind("/api/v1/sources", 0) == 0) return "sources";
  if (p.rfind("/api/v1/draft/", 0) == 0) return "draft";
  return "other";
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

  void count(const Request& req, int status);

  void start_ticker() {
    ticker = std::thread([this] {
      std::unique_lock lock(tick_mu);
      while (!tick_cv.wait_for(lock, std::chrono::seconds(1), [this] { return stopping; })) {
        lock.unlock();
        runtime.sync_with_store();
        runtime.cache().tick(runtime.clock().now());
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
    auto token = bearer_token(*header);
    if (!token)
      return Result<Role>(Error("api.unauthenticated",
                                "the Authorization header is not a Bearer token",
                                "Send Authorization: Bearer <token from 'extdata token create'>."));
    std::lock_guard lock(token_mu);
    auto it = token_cache.find(std::string(*token));
    if (it != token_cache.end() &&
        runtime.clock().now() - it->second.second < std::chrono::seconds(30))
      return Result<Role>(it->second.first);
    return std::nullopt;
  }

  Result<Role> role_of(const Request& req) {
    if (auto known = known_role(req)) return std::move(*known);
    std::string secret(*bearer_token(*req.header("Authorization")));
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
    json out = json::array();
    for (const auto& s : *list) {
      json item = s.masked();
      item["warnings"] = source_warnings(runtime, s.name);
      if (auto st = runtime.store().get_status(s.name); st.ok() && st->has_value())
        item["status"] = status_json(**st);
      out.push_back(item);
    }
    return json_ok({{"sources", out}});
  }

  Response get_source(const std::string& name) {
    auto s = runtime.store().get_source(name);
    if (!s.ok()) return error_response(s.error());
    if (!*s) return error_response(source_not_found(runtime.store(), name));
    json item = (*s)->masked();
    item["warnings"] = source_warnings(runtime, name);
    if (auto st = runtime.store().get_status(name); st.ok() && st->has_value())
      item["status"] = status_json(**st);
    return json_ok(item);
  }

  Response put_source(const std::string& name, const std::string& body) {
    auto body_json = parse_request_object(
        body, "Send the source as JSON, e.g. {\"type\": \"rest\", \"url\": ...}.");
    if (!body_json.ok()) return error_response(body_json.error());
    json parsed = std::move(*body_json);
    // A secret sent back as {"set": true} (as GET shows it) keeps the stored value.
    auto existing = runtime.store().get_source(name);
    if (!existing.ok()) return error_response(existing.error());
    if (*existing) {
      for (const auto& ptr : (*existing)->secret_pointers) {
        json::json_pointer p(ptr);
        if (parsed.contains(p) && parsed[p] == json{{"set", true}} && (*existing)->spec.contains(p))
          parsed[p] = (*existing)->spec[p];
      }
    }
    auto cfg = config::parse_source(parsed.dump(), name);
    if (!cfg.ok()) return error_response(cfg.error());
    if (auto checked = check_source(*cfg); !checked.ok()) return error_response(checked.error());
    if (auto s = runtime.store().put_source(*cfg); !s.ok()) return error_response(s.error());
    runtime.source_changed(name);
    json out = cfg->masked();
    out["warnings"] = source_warnings(runtime, name);
    return json_ok(out, *existing ? 200 : 201);
  }

  Response delete_source(const std::string& name) {
    auto removed = runtime.store().delete_source(name);
    if (!removed.ok()) return error_response(removed.error());
    if (!*removed) return error_response(source_not_found(runtime.store(), name));
    runtime.source_changed(name);
    runtime.metrics().drop_gauges(auth::kSecretExpiryGauge, {"source", name});
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
    auto f = runtime.store().get_field(name);
    if (!f.ok()) return error_response(f.error());
    if (!*f) return error_response(field_not_found(runtime.store(), name));
    return json_ok((*f)->spec);
  }

  Response put_field(const std::string& name, const std::string& body) {
    if (auto deep = check_request_depth(body); !deep.ok()) return error_response(deep.error());
    auto existed = runtime.store().get_field(name);
    if (!existed.ok()) return error_response(existed.error());
    auto cfg = config::parse_field(body, name, source_names());
    if (!cfg.ok()) return error_response(cfg.error());
    if (auto s = runtime.store().put_field(*cfg); !s.ok()) return error_response(s.error());
    runtime.fields().invalidate_field(name);
    json out = cfg->spec;
    // Templates naming columns no record has are saved, with a warning listing what exists.
    out["warnings"] = json::array();
    if (auto warnings = runtime.fields().check(*cfg); warnings.ok())
      for (const auto& w : *warnings) out["warnings"].push_back(w);
    else
      out["warnings"].push_back("could not check the templates against records: " +
                                redact(warnings.error().message));
    return json_ok(out, *existed ? 200 : 201);
  }

  Response delete_field(const std::string& name) {
    auto removed = runtime.store().delete_field(name);
    if (!removed.ok()) return error_response(removed.error());
    if (!*removed) return error_response(field_not_found(runtime.store(), name));
    runtime.fields().invalidate_field(name);
    return json_ok({{"deleted", name}});
  }

  Response authenticate(const std::string& name) {
    auto src = runtime.source(name);
    if (!src.ok()) return error_response(src.error());
    return authenticate_source(**src);
  }

  Response sharepoint_explore(sources::Source& src, const std::string& what) {
    if (what == "lists") {
      auto lists = sources::sharepoint::list_lists(src);
      if (!lists.ok()) return error_response(lists.error());
      return json_ok({{"lists", sources::sharepoint::to_json(*lists)}});
    }
    if (what == "columns") {
      auto cols = sources::sharepoint::list_columns(src);
      if (!cols.ok()) return error_response(cols.error());
      return json_ok({{"columns", sources::sharepoint::to_json(*cols)}});
    }
    return error_response(
        Error("api.not_found", "no SharePoint endpoint '" + what + "'", "Use lists or columns."));
  }

  Response authenticate_source(sources::Source& src) {
    auto cred = src.credential();
    if (!cred)
      return json_ok({{"ok", true},
                      {"token_type", "none"},
                      {"claims", json::object()},
                      {"warnings", json::array()}});
    auto report = auth::authenticate(*cred, runtime.clock());
    if (!report.ok()) return json_ok(auth::to_json(report.error()));
    return json_ok(auth::to_json(*report, false));
  }

  // A source described in the request body, built but never stored: the wizard's steps
  // before "Save". Body: {"source": {...spec...}, "variables": {...}}.
  Result<std::shared_ptr<sources::Source>> draft_source(const std::string& body, json* variables,
                                                        const std::string& step = {}) {
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
    // Editing a stored source: secrets the browser never saw come back as {"set": true}.
    if (auto stored = runtime.store().get_source(name); stored.ok() && *stored) {
      for (const auto& ptr : (*stored)->secret_pointers) {
        json::json_pointer p(ptr);
        if (spec.contains(p) && spec[p] == json{{"set", true}} && (*stored)->spec.contains(p))
          spec[p] = (*stored)->spec[p];
      }
    }
    // The wizard authenticates before the site is known and lists lists before one is
    // chosen: those steps only need the credential (and the site), so placeholders stand in.
    if (spec.value("type", "") == "sharepoint-list") {
      if (step == "authenticate" && !spec.contains("site") && !spec.contains("host"))
        spec["site"] = "https://contoso.sharepoint.com/";
      if ((step == "authenticate" || step == "sharepoint/lists") && !spec.contains("list"))
        spec["list"] = "-";
    }
    EXTDATA_ASSIGN_OR_RETURN(auto cfg, config::parse_source(spec.dump(), name));
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
    auto found = table->index().search(q, 0, limit);
    json options = json::array();
    for (uint32_t id : found.ids)
      options.push_back(
          {{"value", std::string(table->value(id))},
           {"label", std::string(table->label(id))},
           {"data", json::parse(simdjson::to_string((*cached->records)[table->record(id)].json()),
                                nullptr, false)}});
    json warnings = json::array();
    if (auto w = fields::check_field(*cfg, cached->records.get()); w.ok())
      for (const auto& text : *w) warnings.push_back(text);
    return json_ok({{"options", options},
                    {"total", found.total},
                    {"stale", cached->stale},
                    {"warnings", warnings}});
  }

  Response draft(const std::string& what, const std::string& body) {
    json variables;
    auto src = draft_source(body, &variables, what);
    if (!src.ok()) return error_response(src.error());
    if (what == "authenticate") return authenticate_source(**src);
    if (what == "test") return test_source(**src, variables);
    if (what == "sharepoint/lists") return sharepoint_explore(**src, "lists");
    if (what == "sharepoint/columns") return sharepoint_explore(**src, "columns");
    return error_response(
        Error("api.not_found", "no draft endpoint '" + what + "'", "See docs/api.md."));
  }

  Result<fields::OptionsQuery> options_query(const Request& req) {
    fields::OptionsQuery q;
    auto number = [](const std::string& key, const std::string& text) -> Result<std::int64_t> {
      try {
        size_t used = 0;
        long long v = std::stoll(text, &used);
        if (used == text.size()) return static_cast<std::int64_t>(v);
      } catch (...) {
      }
      return Error("field.bad_" + key, key + " must be a whole number, not '" + text + "'", "");
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
          EXTDATA_ASSIGN_OR_RETURN(q.limit, number("limit", v));
        } else if (k == "offset") {
          EXTDATA_ASSIGN_OR_RETURN(q.offset, number("offset", v));
        } else if (k.rfind("ctx.", 0) == 0 && k.size() > 4)
          q.context[k.substr(4)] = v;
      }
    }
    if (q.offset < 0) return Error("field.bad_offset", "offset must not be negative", "");
    return q;
  }

  // Options answered from memory run on the network thread: handing them to the worker pool
  // (two thread wake-ups) costs more than the answer. Whatever may wait goes to the pool.
  std::optional<Response> answer_inline(const Request& req) {
    if (req.path == "/healthz" || req.path == "/metrics") return route(req);  // never queued
    if (req.method != "GET" || !req.path.starts_with("/api/v1/fields/") ||
        !req.path.ends_with("/options"))
      return std::nullopt;
    const auto parts = split_path(req.path);
    if (parts.size() != 5) return std::nullopt;
    auto role = known_role(req);
    if (!role) return std::nullopt;
    if (auto e = check_role(*role, Role::reader)) return error_response(*e);
    auto q = options_query(req);
    if (!q.ok()) return error_response(q.error());
    auto r = runtime.fields().options_json_if_ready(parts[3], *q);
    if (!r) return std::nullopt;
    if (!r->ok()) return reader_error(req, r->error());
    inline_answers.inc();
    return Response::json(200, std::move(**r));
  }

  Response field_options(const std::string& name, const Request& req) {
    auto q = options_query(req);
    if (!q.ok()) return error_response(q.error());
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
    for (const auto& e : r->errors)
      errors.push_back({{"code", e.code}, {"message", redact(e.message)}, {"hint", e.hint}});
    return json_ok({{"ok", r->errors.empty()},
                    {"keys", r->keys},
                    {"records", r->records},
                    {"errors", errors}});
  }

  // ------------------------------------------------------------ dispatch

  Response route(const Request& req) {
    const auto parts = split_path(req.path);
    const std::string& m = req.method;
    if (req.path == "/healthz") return json_ok({{"status", "ok"}});
    if (req.path == "/metrics")
      return Response::text(200, runtime.metrics().prometheus_text(), "text/plain; version=0.0.4");
    if (parts.size() < 2 || parts[0] != "api" || parts[1] != "v1") {
      if (m != "GET" && m != "HEAD")
        return error_response(Error("api.method", m + " is not allowed here", ""));
      return static_file(req.path);
    }
    const size_t n = parts.size();
    auto method_error = [&] {
      return error_response(
          Error("api.method", m + " is not allowed on " + req.path, "See docs/api.md."));
    };
    if (n >= 3 && parts[2] == "sources") {
      if (auto e = require(req, Role::admin)) return error_response(*e);
      if (n == 3) return m == "GET" ? list_sources() : method_error();
      const std::string& name = parts[3];
      if (n == 4) {
        if (m == "GET") return get_source(name);
        if (m == "PUT") return put_source(name, req.body);
        if (m == "DELETE") return delete_source(name);
        return method_error();
      }
      if (n == 5 && parts[4] == "authenticate")
        return m == "POST" ? authenticate(name) : method_error();
      if (n == 5 && parts[4] == "refresh")
        return m == "POST" ? refresh_source(name) : method_error();
      if (n == 5 && parts[4] == "test")
        return m == "POST" ? test_saved(name, req.body) : method_error();
      if (n == 6 && parts[4] == "sharepoint") {
        if (m != "GET") return method_error();
        auto src = runtime.source(name);
        if (!src.ok()) return error_response(src.error());
        return sharepoint_explore(**src, parts[5]);
      }
    }
    if (n >= 4 && parts[2] == "draft") {
      if (auto e = require(req, Role::admin)) return error_response(*e);
      if (m != "POST") return method_error();
      std::string what = parts[3];
      for (size_t i = 4; i < n; ++i) what += "/" + parts[i];
      if (what == "field-options") return draft_field_options(req.body);
      return draft(what, req.body);
    }
    if (n == 5 && parts[2] == "fields" && (parts[4] == "options" || parts[4] == "value")) {
      if (auto e = require(req, Role::reader)) return error_response(*e);
      if (parts[4] == "value") return m == "GET" ? field_value(parts[3], req) : method_error();
      return m == "GET" || m == "POST" ? field_options(parts[3], req) : method_error();
    }
    if (n >= 3 && parts[2] == "fields") {
      if (auto e = require(req, Role::admin)) return error_response(*e);
      if (n == 3) return m == "GET" ? list_fields() : method_error();
      const std::string& name = parts[3];
      if (n == 4) {
        if (m == "GET") return get_field(name);
        if (m == "PUT") return put_field(name, req.body);
        if (m == "DELETE") return delete_field(name);
        return method_error();
      }
    }
    return error_response(
        Error("api.not_found", "no API endpoint " + m + " " + req.path, "See docs/api.md."));
  }
};

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

void ApiServer::Impl::count(const Request& req, int status) {
  runtime.metrics()
      .counter("extdata_api_requests_total",
               {{"endpoint", endpoint_label(req)}, {"status", std::to_string(status)}},
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
    impl_->count(req, res.status);
    return respond(std::move(res));
  }
  try {
    if (auto inline_response = impl_->answer_inline(req)) {
      impl_->add_cors(req, *inline_response);
      impl_->count(req, inline_response->status);
      return respond(std::move(*inline_response));
    }
  } catch (const std::exception& ex) {
    log::warn("inline answer failed, retrying on the worker pool",
              {{"path", req.path}, {"error", ex.what()}});
  }
  // Everything else may touch the store or an upstream: run it on the worker pool.
  boost::asio::post(impl_->pool, [this, req, respond = std::move(respond)]() mutable {
    Response res;
    try {
      res = impl_->route(req);
    } catch (const std::exception& ex) {
      log::error("request failed", {{"path", req.path}, {"error", ex.what()}});
      res = error_response(Error("api.internal", "internal error while handling the request",
                                 "Look at the server log; report it if it persists."));
      res.status = 500;
    }
    impl_->add_cors(req, res);
    impl_->count(req, res.status);
    respond(std::move(res));
  });
}

Status ApiServer::start() {
  EXTDATA_TRY(impl_->http->start());
  impl_->start_ticker();
  return ok_status();
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
