#include "graphsim.h"

#include <algorithm>

#include "internal.h"
#include "yaml_reader.h"

namespace graphsim {

using extdata::Error;
using extdata::server::Headers;

namespace {

Response json_response(int status, const nlohmann::json& body) {
  Response r;
  r.status = status;
  r.body = body.dump();
  r.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
  return r;
}

Response admin_error(int status, const std::string& message) {
  return json_response(status, {{"error", {{"code", "graphsim.admin"}, {"message", message}}}});
}

// "/{tenant}/oauth2/v2.0/token" → tenant segment.
std::optional<std::string> token_tenant_segment(std::string_view path) {
  constexpr std::string_view kSuffix = "/oauth2/v2.0/token";
  if (path.size() <= kSuffix.size() + 1 || path.front() != '/') return std::nullopt;
  if (path.substr(path.size() - kSuffix.size()) != kSuffix) return std::nullopt;
  std::string_view tenant = path.substr(1, path.size() - kSuffix.size() - 1);
  if (tenant.empty() || tenant.find('/') != std::string_view::npos) return std::nullopt;
  return std::string(tenant);
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) out.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<GraphSim>> GraphSim::create(Fixture fixture, GraphSimOptions options) {
  std::shared_ptr<SigningKey> key = options.signing_key;
  if (!key) {
    EXTDATA_ASSIGN_OR_RETURN(key, SigningKey::generate());
  }
  return std::unique_ptr<GraphSim>(new GraphSim(std::move(fixture), std::move(options), key));
}

GraphSim::GraphSim(Fixture fixture, GraphSimOptions options, std::shared_ptr<SigningKey> key)
    : clock_(options.clock != nullptr ? options.clock : &extdata::SystemClock::instance()),
      signing_key_(std::move(key)),
      token_lifetime_(
          options.token_lifetime_seconds.value_or(fixture.token_lifetime_seconds.value_or(3599))),
      fixture_(std::move(fixture)),
      faults_(fixture_.faults) {}

Faults GraphSim::faults() const {
  std::lock_guard lock(fault_mu_);
  return faults_;
}

void GraphSim::set_faults(Faults faults) {
  std::lock_guard lock(fault_mu_);
  faults_ = std::move(faults);
  throttle_state_ = drop_state_ = truncate_state_ = repeat_state_ = token_error_state_ =
      expire_token_state_ = {};
  expired_tokens_.clear();  // replacing the faults (PUT or DELETE) revives expired tokens
}

bool GraphSim::fire(const EveryN& config, FaultCounter& state) {
  if (config.every <= 0) return false;
  if (config.times > 0 && state.fired >= config.times) return false;
  ++state.seen;
  if (state.seen % config.every != 0) return false;
  ++state.fired;
  return true;
}

bool GraphSim::token_expired_by_fault(const std::string& token_key) {
  std::lock_guard lock(fault_mu_);
  if (expired_tokens_.count(token_key) > 0) return true;  // a real expiry is permanent
  if (!fire(faults_.expire_token, expire_token_state_)) return false;
  expired_tokens_.insert(token_key);
  ++fault_counts_["expired_tokens"];
  return true;
}

nlohmann::json GraphSim::counters() const {
  std::lock_guard lock(fault_mu_);
  nlohmann::json tokens = nlohmann::json::object();
  long long issued = 0, failed = 0;
  for (const auto& [client, c] : token_counters_) {
    tokens[client] = {{"issued", c.issued}, {"failed", c.failed}, {"errors", c.errors}};
    issued += c.issued;
    failed += c.failed;
  }
  return {
      {"token_requests",
       {{"total", issued + failed}, {"issued", issued}, {"failed", failed}, {"by_client", tokens}}},
      {"graph_requests",
       {{"total", graph_total_},
        {"by_route", graph_by_route_},
        {"by_status", graph_by_status_},
        {"by_target", graph_by_target_}}},
      {"throttled", {{"total", throttled_total_}, {"by_status", throttled_by_status_}}},
      {"faults", fault_counts_}};
}

void GraphSim::reset_counters() {
  std::lock_guard lock(fault_mu_);
  token_counters_.clear();
  graph_by_route_.clear();
  graph_by_target_.clear();
  graph_by_status_.clear();
  graph_total_ = 0;
  throttled_by_status_.clear();
  throttled_total_ = 0;
  fault_counts_.clear();
}

Response GraphSim::handle(const Request& request) {
  Context ctx;
  ctx.request_id = random_guid();
  ctx.client_request_id = request.header("client-request-id").value_or(ctx.request_id);
  ctx.base_url = request.base_url();
  ctx.now = clock_->now();

  if (request.path.rfind("/_graphsim/", 0) == 0) return handle_admin(request, ctx);

  if (auto tenant = token_tenant_segment(request.path)) {
    Response response;
    bool hang = false, token_error = false, throttle = false;
    int latency = 0, token_error_status = 500, hang_ms = 0, throttle_status = 429;
    std::optional<std::string> retry_after;
    {
      std::lock_guard lock(fault_mu_);
      latency = faults_.latency_ms;
      hang_ms = faults_.token_hang_ms;
      hang = hang_ms > 0;
      token_error = fire(faults_.token_error, token_error_state_);
      token_error_status = faults_.token_error.status;
      if (faults_.throttle.scope != "graph") {
        throttle = fire(faults_.throttle, throttle_state_);
        throttle_status = faults_.throttle.status;
        retry_after = faults_.throttle.retry_after;
      }
      if (hang) ++fault_counts_["token_hangs"];
      if (token_error) ++fault_counts_["token_errors"];
      if (throttle) {
        ++throttled_total_;
        ++throttled_by_status_[std::to_string(throttle_status)];
      }
    }
    auto entra_fault = [&](int status, const char* error, int code, const std::string& text) {
      std::string description = "AADSTS" + std::to_string(code) + ": " + text +
                                "\r\nTrace ID: " + ctx.request_id +
                                "\r\nCorrelation ID: " + ctx.client_request_id +
                                "\r\nTimestamp: " + entra_timestamp(ctx.now);
      nlohmann::ordered_json body = {
          {"error", error},
          {"error_description", description},
          {"error_codes", {code}},
          {"timestamp", entra_timestamp(ctx.now)},
          {"trace_id", ctx.request_id},
          {"correlation_id", ctx.client_request_id},
          {"error_uri", "https://login.microsoftonline.com/error?code=" + std::to_string(code)}};
      Response r;
      r.status = status;
      r.body = body.dump();
      r.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
      return r;
    };
    if (token_error) {
      response = entra_fault(token_error_status, "temporarily_unavailable", 90033,
                             "A transient error has occurred. Please try again.");
    } else if (throttle) {
      response = entra_fault(throttle_status, "temporarily_unavailable", 90055,
                             "TenantThrottlingError - There are too many incoming requests. "
                             "This tenant is throttled.");
      if (retry_after) response.headers.emplace_back("Retry-After", *retry_after);
    } else {
      response = handle_token(request, ctx, *tenant);
    }
    if (token_error || throttle) {
      std::lock_guard lock(fault_mu_);
      auto& counter = token_counters_[token_request_client_id(request)];
      ++counter.failed;
      ++counter.errors[token_error ? "90033" : "90055"];
    }
    response.headers.emplace_back("x-ms-request-id", ctx.request_id);
    response.headers.emplace_back("client-request-id", ctx.client_request_id);
    response.headers.emplace_back("Cache-Control", "no-store, no-cache");
    response.headers.emplace_back("Pragma", "no-cache");
    response.delay = std::chrono::milliseconds(latency + (hang ? hang_ms : 0));
    return response;
  }

  if (request.path == "/v1.0" || request.path.rfind("/v1.0/", 0) == 0) {
    Response response;
    bool throttle = false;
    int latency = 0;
    Faults f;
    {
      std::lock_guard lock(fault_mu_);
      f = faults_;
      latency = faults_.latency_ms;
      if (faults_.throttle.scope != "token") throttle = fire(faults_.throttle, throttle_state_);
      if (throttle) {
        ++throttled_total_;
        ++throttled_by_status_[std::to_string(faults_.throttle.status)];
        ++graph_total_;
        ++graph_by_status_[std::to_string(faults_.throttle.status)];
      }
    }
    if (throttle) {
      bool too_many = f.throttle.status == 429;
      nlohmann::ordered_json body = {
          {"error",
           {{"code", too_many ? "activityLimitReached" : "serviceNotAvailable"},
            {"message", too_many ? "The request has been throttled" : "Service unavailable"},
            {"innerError",
             {{"date", graph_date(ctx.now)},
              {"request-id", ctx.request_id},
              {"client-request-id", ctx.client_request_id}}}}}};
      response.status = f.throttle.status;
      response.body = body.dump();
      response.headers.emplace_back("Content-Type", "application/json");
      if (f.throttle.retry_after)
        response.headers.emplace_back("Retry-After", *f.throttle.retry_after);
    } else {
      response = handle_graph(request, ctx);
      if (response.status == 200) {
        std::lock_guard lock(fault_mu_);
        if (fire(faults_.drop_connection, drop_state_)) {
          response.close_after_body_bytes =
              std::min(faults_.drop_connection.after_bytes, response.body.size());
          ++fault_counts_["dropped_connections"];
        } else if (fire(faults_.truncate_body, truncate_state_)) {
          response.body.resize(std::min(faults_.truncate_body.bytes, response.body.size()));
          ++fault_counts_["truncated_bodies"];
        }
      }
    }
    response.headers.emplace_back("request-id", ctx.request_id);
    response.headers.emplace_back("client-request-id", ctx.client_request_id);
    response.delay = std::chrono::milliseconds(latency);
    return response;
  }

  nlohmann::ordered_json body = {{"error",
                                  {{"code", "BadRequest"},
                                   {"message", "Invalid version."},
                                   {"innerError",
                                    {{"date", graph_date(ctx.now)},
                                     {"request-id", ctx.request_id},
                                     {"client-request-id", ctx.client_request_id}}}}}};
  Response r;
  r.status = 400;
  r.body = body.dump();
  r.headers.emplace_back("Content-Type", "application/json");
  return r;
}

Response GraphSim::handle_admin(const Request& request, Context& ctx) {
  (void)ctx;
  const std::string& path = request.path;
  const std::string& method = request.method;
  if (path == "/_graphsim/health" && method == "GET") {
    return json_response(200, {{"status", "ok"}});
  }
  if (path == "/_graphsim/counters" && method == "GET") return json_response(200, counters());
  if (path == "/_graphsim/counters/reset" && method == "POST") {
    reset_counters();
    return json_response(200, counters());
  }
  if (path == "/_graphsim/faults") {
    if (method == "GET") return json_response(200, faults_to_json(faults()));
    if (method == "DELETE") {
      set_faults(Faults{});
      return json_response(200, faults_to_json(faults()));
    }
    if (method == "PUT") {
      YAML::Node node;
      try {
        node = YAML::Load(request.body.empty() ? std::string("{}") : request.body);
      } catch (const YAML::Exception& e) {
        return admin_error(400,
                           "faults body (line " + std::to_string(e.mark.line + 1) + "): " + e.msg);
      }
      auto parsed = parse_faults(YamlReader(node, "faults"));
      if (!parsed.ok()) return admin_error(400, parsed.error().to_string());
      set_faults(std::move(parsed).value());
      return json_response(200, faults_to_json(faults()));
    }
    return admin_error(405, "use GET, PUT or DELETE on /_graphsim/faults");
  }
  // /_graphsim/sites/{site-id}/lists/{list}/items[/{id}] and .../delta/reset
  auto segments = split_path(path);
  if (segments.size() >= 5 && segments[1] == "sites" && segments[3] == "lists") {
    std::unique_lock lock(data_mu_);
    TenantSpec* tenant = nullptr;
    ListSpec* list = nullptr;
    for (auto& t : fixture_.tenants) {
      for (auto& s : t->sites) {
        if (!equals_ignore_case(s->id(), segments[2])) continue;
        for (auto& l : s->lists) {
          if (equals_ignore_case(l->id, segments[4]) ||
              equals_ignore_case(l->display_name, segments[4])) {
            tenant = t.get();
            list = l.get();
          }
        }
      }
    }
    if (list == nullptr) return admin_error(404, "no such site or list: " + path);
    if (segments.size() == 7 && segments[5] == "delta" && segments[6] == "reset" &&
        method == "POST") {
      ++list->delta_epoch;
      return json_response(200, {{"delta_epoch", list->delta_epoch}});
    }
    if (segments.size() == 6 && segments[5] == "items" && method == "POST") {
      auto id = apply_item_update(*tenant, *list, request.body, ctx.now);
      if (!id.ok()) return admin_error(400, id.error().to_string());
      return json_response(200, {{"id", std::to_string(*id)}});
    }
    if (segments.size() == 7 && segments[5] == "items" && method == "DELETE") {
      int id = std::atoi(segments[6].c_str());
      ItemSpec* item = list->item(id);
      if (item == nullptr || item->deleted) return admin_error(404, "no item " + segments[6]);
      item->deleted = true;
      item->modified = ctx.now;
      list->touch(*item);
      return json_response(200, {{"deleted", segments[6]}});
    }
  }
  return admin_error(404,
                     "unknown admin endpoint " + method + " " + path + " (see docs/graphsim.md)");
}

}  // namespace graphsim
