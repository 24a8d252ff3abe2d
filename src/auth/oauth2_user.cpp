#include "auth/oauth2_user.h"

#include "auth/config_fields.h"
#include "auth/diagnostics.h"
#include "auth/oauth2/token_url.h"
#include "core/log.h"
#include "core/redact.h"
#include "core/time.h"

namespace extdata::auth {

namespace {

constexpr const char* kMicrosoftBase = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/";

// Keys the authorization request sets itself.
constexpr std::string_view kReservedAuthorizeParams[] = {
    "response_type", "client_id", "redirect_uri",   "scope",
    "state",         "nonce",     "code_challenge", "code_challenge_method"};

// An endpoint: the configured one, else (Microsoft) derived from the tenant; checked.
Result<std::string> endpoint(const nlohmann::json& auth, const std::string& key,
                             const std::string& tenant, const char* microsoft_suffix,
                             bool required) {
  EXTDATA_ASSIGN_OR_RETURN(std::string url, optional_string(auth, key));
  if (url.empty() && !tenant.empty() && microsoft_suffix)
    url = std::string(kMicrosoftBase) + microsoft_suffix;
  if (url.empty()) {
    if (!required) return url;
    return config_error("config.missing_key", key, key + " is required for this grant",
                        "for Microsoft Entra ID set tenant instead: the URLs derive from it");
  }
  return resolve_endpoint_url(url, tenant, key, false);
}

Result<std::vector<std::string>> scopes_of(const nlohmann::json& auth) {
  std::vector<std::string> out;
  auto it = auth.find("scope");
  if (it == auth.end() || it->is_null()) return out;
  auto add = [&](const std::string& text) {
    size_t pos = 0;
    while (pos <= text.size()) {
      const size_t sp = text.find_first_of(" \t\r\n", pos);
      std::string one = text.substr(pos, sp == std::string::npos ? std::string::npos : sp - pos);
      if (!one.empty()) out.push_back(std::move(one));
      if (sp == std::string::npos) break;
      pos = sp + 1;
    }
  };
  if (it->is_string()) {
    add(it->get<std::string>());
  } else if (it->is_array()) {
    for (const auto& s : *it) {
      if (!s.is_string())
        return config_error("config.wrong_type", "scope", "each scope must be a string");
      add(s.get<std::string>());
    }
  } else {
    return config_error("config.wrong_type", "scope", "scope must be a string or a list");
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> authorize_params(
    const nlohmann::json& auth) {
  std::vector<std::pair<std::string, std::string>> out;
  auto extra = auth.find("extra_params");
  if (extra == auth.end() || extra->is_null()) return out;
  if (!extra->is_object())
    return config_error("config.wrong_type", "extra_params",
                        "extra_params must map parameter names to values");
  for (const auto& [name, value] : extra->items()) {
    const std::string key = "extra_params." + name;
    for (auto reserved : kReservedAuthorizeParams)
      if (name == reserved)
        return config_error("auth.reserved_parameter", key,
                            name + " is set by extdata and cannot be an extra parameter",
                            name == "scope" ? "use the scope key" : "");
    if (value.is_string())
      out.emplace_back(name, value.get<std::string>());
    else if (value.is_number() || value.is_boolean())
      out.emplace_back(name, value.dump());
    else
      return config_error("config.wrong_type", key, "an extra parameter must be a string");
  }
  return out;
}

std::int64_t seconds_of(Clock::time_point t) {
  return unix_seconds(t);
}

Token token_of(const StoredGrant& g) {
  Token t;
  t.access_token = g.access_token;
  t.obtained_at =
      Clock::time_point{std::chrono::seconds{g.refreshed_at ? g.refreshed_at : g.connected_at}};
  t.expires_at = Clock::time_point{std::chrono::seconds{g.access_expires_at}};
  t.scope = g.scope;
  return t;
}

// The stored access token is good for a while yet (not due for refresh).
bool usable(const StoredGrant& g, Clock::time_point now) {
  return !g.access_token.empty() && g.access_expires_at > 0 && refresh_time(token_of(g)) > now;
}

}  // namespace

Result<std::optional<UserGrantType>> user_grant_type(const nlohmann::json& auth) {
  EXTDATA_ASSIGN_OR_RETURN(std::string grant, optional_string(auth, "grant"));
  if (grant.empty() || grant == "client_credentials") return std::optional<UserGrantType>();
  if (grant == "authorization_code") return std::optional(UserGrantType::authorization_code);
  if (grant == "device_code") return std::optional(UserGrantType::device_code);
  return config_error(
      "config.bad_value", "grant",
      "grant must be client_credentials, authorization_code or device_code, not '" + grant + "'");
}

Result<UserGrantConfig> parse_user_grant_settings(const nlohmann::json& auth, UserGrantType type) {
  UserGrantConfig c;
  c.type = type;
  EXTDATA_ASSIGN_OR_RETURN(std::string tenant, optional_string(auth, "tenant"));
  EXTDATA_ASSIGN_OR_RETURN(c.token_url, endpoint(auth, "token_url", tenant, "token", true));
  c.microsoft = is_microsoft_token_url(c.token_url);
  const bool code = type == UserGrantType::authorization_code;
  EXTDATA_ASSIGN_OR_RETURN(c.authorize_url,
                           endpoint(auth, "authorize_url", tenant, "authorize", code));
  EXTDATA_ASSIGN_OR_RETURN(c.device_authorization_url,
                           endpoint(auth, "device_authorization_url", tenant, "devicecode", !code));
  // Entra ID has no RFC 7009 endpoint: nothing is derived.
  EXTDATA_ASSIGN_OR_RETURN(c.revocation_url,
                           endpoint(auth, "revocation_url", tenant, nullptr, false));
  EXTDATA_ASSIGN_OR_RETURN(c.client_id, required_string(auth, "client_id"));
  EXTDATA_ASSIGN_OR_RETURN(c.client_secret, optional_string(auth, "client_secret"));
  if (!c.client_secret.empty()) {
    EXTDATA_TRY(check_header_text(c.client_secret, "client_secret", false));
    register_secret(c.client_secret);
  }
  if (auto cert = auth.find("client_certificate"); cert != auth.end() && !cert->is_null())
    return config_error("auth.conflicting_keys", "client_certificate",
                        "a certificate credential works with client_credentials only",
                        "use client_secret, or none for a public client");
  EXTDATA_ASSIGN_OR_RETURN(std::string client_auth, optional_string(auth, "client_auth"));
  if (client_auth == "basic")
    c.client_auth = ClientAuth::basic;
  else if (!client_auth.empty() && client_auth != "post")
    return config_error("config.bad_value", "client_auth",
                        "client_auth must be post or basic, not '" + client_auth + "'");
  EXTDATA_ASSIGN_OR_RETURN(c.scopes, scopes_of(auth));
  if (c.microsoft &&
      std::find(c.scopes.begin(), c.scopes.end(), "offline_access") == c.scopes.end()) {
    c.scopes.push_back("offline_access");
    c.notes.push_back(
        "offline_access was added to scope: without it Microsoft Entra ID issues no refresh "
        "token and the connection would end with the first access token");
  }
  EXTDATA_ASSIGN_OR_RETURN(c.extra_params, authorize_params(auth));
  return c;
}

UserOAuth2Credential::UserOAuth2Credential(UserGrantConfig config, const CredentialDeps& deps)
    : config_(std::move(config)),
      cache_key_("user\n" + deps.source_name + '\n' + config_.token_url + '\n' + config_.client_id),
      owner_(random_urlsafe(9)),
      http_(deps.token_http),
      clock_(deps.clock),
      metrics_(deps.metrics),
      cache_(deps.token_cache ? deps.token_cache : std::make_shared<TokenCache>(deps.clock)),
      grants_(deps.grants),
      source_(deps.source_name) {}

Result<std::shared_ptr<Credential>> UserOAuth2Credential::create(const nlohmann::json& auth,
                                                                 const CredentialDeps& deps,
                                                                 UserGrantType type) {
  EXTDATA_ASSIGN_OR_RETURN(UserGrantConfig config, parse_user_grant_settings(auth, type));
  return std::shared_ptr<Credential>(
      std::make_shared<UserOAuth2Credential>(std::move(config), deps));
}

std::shared_ptr<UserOAuth2Credential> UserOAuth2Credential::of(
    const std::shared_ptr<Credential>& credential) {
  return std::dynamic_pointer_cast<UserOAuth2Credential>(credential);
}

Error UserOAuth2Credential::not_connected() const {
  return Error("auth.not_connected",
               "source '" + source_ + "' is not connected yet — run `extdata auth connect " +
                   source_ + "` or use Connect in the UI",
               "a user signs in once; extdata keeps the refresh token sealed in its store");
}

void UserOAuth2Credential::set_reconnect_gauge(bool needed) {
  metrics_
      .gauge(kReconnectGauge, {{"source", source_}},
             "1 while the provider has revoked the source's user grant and someone must "
             "connect again")
      .set(needed ? 1 : 0);
}

Result<Token> UserOAuth2Credential::token() {
  TokenCache::Outcome outcome{};
  auto token = cache_->get(
      cache_key_, [this] { return refresh_through_store(distrust_stored_.exchange(false)); },
      &outcome);
  if (outcome == TokenCache::Outcome::hit || outcome == TokenCache::Outcome::joined ||
      outcome == TokenCache::Outcome::shared)
    metrics_
        .counter("extdata_token_cache_hits_total", {{"source", source_}},
                 "Token requests answered from the token cache")
        .inc();
  return token;
}

// The process that claims the grant (compare-and-swap on its generation) redeems the refresh
// token; another process that finds the claim waits for its result instead of redeeming the
// same, possibly rotating, token.
Result<Token> UserOAuth2Credential::refresh_through_store(bool force) {
  if (!grants_) return not_connected();
  // A lease left by a process that died ends after kLease: wait a little longer than that.
  const auto give_up_at = clock_.now() + kLease + std::chrono::seconds(10);
  for (;;) {
    EXTDATA_ASSIGN_OR_RETURN(auto loaded, grants_->load(source_));
    if (!loaded || loaded->refresh_token.empty()) return not_connected();
    const StoredGrant& g = *loaded;
    if (g.reconnect_needed) {
      set_reconnect_gauge(true);
      return Error("auth.reconnect_needed",
                   "source '" + source_ +
                       "' must be connected again: the provider no longer "
                       "accepts its refresh token (" +
                       redact(g.reconnect_reason) + ")",
                   "run `extdata auth connect " + source_ +
                       "` or use Connect in the UI; fields serve their last records meanwhile");
    }
    const auto now = clock_.now();
    if (!force && usable(g, now)) {
      set_reconnect_gauge(false);  // connected again, perhaps by another process
      return token_of(g);
    }
    if (g.lease_until > seconds_of(now) && g.lease_owner != owner_) {
      if (now >= give_up_at)
        return Error("auth.refresh_busy",
                     "another extdata process has been refreshing this source's token for too "
                     "long",
                     "try again; if it repeats, look at the other process's log");
      clock_.sleep_for(kLeasePoll);
      continue;
    }
    StoredGrant claim = g;
    claim.lease_until = seconds_of(now + kLease);
    claim.lease_owner = owner_;
    EXTDATA_ASSIGN_OR_RETURN(bool claimed, grants_->save(source_, claim, g.generation));
    if (claimed) return redeem_claimed(claim);
  }
}

Result<Token> UserOAuth2Credential::redeem_claimed(const StoredGrant& claim) {
  auto tokens = redeem_refresh_token(config_, claim.refresh_token, http_, clock_);
  metrics_
      .counter("extdata_token_requests_total",
               {{"source", source_}, {"result", tokens.ok() ? "ok" : "error"}},
               "Requests to OAuth2 token endpoints")
      .inc();
  StoredGrant next = claim;
  next.lease_until = 0;
  next.lease_owner.clear();
  if (!tokens.ok()) {
    Error e = tokens.error();
    if (e.code == "auth.invalid_grant") {
      next.reconnect_needed = true;
      next.reconnect_reason =
          e.details.count("error_description") ? e.details.at("error_description") : e.message;
      next.access_token.clear();
      next.access_expires_at = 0;
      set_reconnect_gauge(true);
      log::warn("auth.reconnect_needed", {{"source", source_}, {"reason", next.reconnect_reason}});
    }
    (void)grants_->save(source_, next, claim.generation);  // releases the lease
    if (next.reconnect_needed) {
      Error r("auth.reconnect_needed",
              "source '" + source_ +
                  "' must be connected again: the provider refused its "
                  "refresh token (" +
                  redact(next.reconnect_reason) + ")",
              "run `extdata auth connect " + source_ +
                  "` or use Connect in the UI; fields serve their last records meanwhile");
      r.details = e.details;
      return r;
    }
    return e;
  }
  const bool rotated = !tokens->refresh_token.empty();
  if (rotated) next.refresh_token = tokens->refresh_token;
  next.access_token = tokens->access.access_token;
  next.access_expires_at = seconds_of(tokens->access.expires_at);
  next.refreshed_at = seconds_of(tokens->access.obtained_at);
  next.refreshes = claim.refreshes + 1;
  if (!tokens->access.scope.empty()) next.scope = tokens->access.scope;
  // Write first, then use: after a rotation the new refresh token is the only valid one, so
  // it must be in the store before anything relies on the access token that came with it.
  auto saved = grants_->save(source_, next, claim.generation);
  if (!saved.ok() || !*saved) {
    Error e("auth.grant_not_saved",
            "the refreshed token could not be written to the store, so it is not used",
            "check the data directory (disk space, permissions); the source may need to be "
            "connected again");
    if (!saved.ok()) e.with("cause", saved.error().message);
    log::error("auth.grant_not_saved", {{"source", source_}, {"rotated", rotated ? "yes" : "no"}});
    return e;
  }
  set_reconnect_gauge(false);
  log::info("auth.token_refreshed", {{"source", source_}, {"rotated", rotated ? "yes" : "no"}});
  return tokens->access;
}

Result<StoredGrant> UserOAuth2Credential::connect(const UserTokens& tokens) {
  if (!grants_) return Error("auth.internal", "this process has no store for the connection", "");
  StoredGrant g;
  g.refresh_token = tokens.refresh_token;
  g.access_token = tokens.access.access_token;
  g.access_expires_at = seconds_of(tokens.access.expires_at);
  g.connected_at = seconds_of(clock_.now());
  g.refreshed_at = seconds_of(tokens.access.obtained_at);
  g.connected_by = signed_in_user(tokens);
  g.scope = tokens.access.scope;
  if (g.scope.empty())
    for (const auto& s : config_.scopes) g.scope += (g.scope.empty() ? "" : " ") + s;
  for (int attempt = 0; attempt < 5; ++attempt) {
    EXTDATA_ASSIGN_OR_RETURN(auto current, grants_->load(source_));
    EXTDATA_ASSIGN_OR_RETURN(bool saved,
                             grants_->save(source_, g, current ? current->generation : 0));
    if (!saved) continue;
    if (auto cached = cache_->peek(cache_key_))
      cache_->invalidate(cache_key_, cached->access_token);
    set_reconnect_gauge(false);
    log::info("auth.connected", {{"source", source_}, {"by", g.connected_by}});
    return g;
  }
  return Error("auth.grant_not_saved",
               "the connection could not be stored: the store kept changing", "try Connect again");
}

Result<std::optional<StoredGrant>> UserOAuth2Credential::connection() {
  if (!grants_) return std::optional<StoredGrant>();
  return grants_->load(source_);
}

Status UserOAuth2Credential::apply(http::Request& request) {
  EXTDATA_ASSIGN_OR_RETURN(Token token, this->token());
  http::set_header(request.headers, "Authorization", "Bearer " + token.access_token);
  return ok_status();
}

bool UserOAuth2Credential::on_unauthorized(const http::Request& sent, const http::Response&) {
  auto header = http::find_header(sent.headers, "Authorization");
  if (!header || header->rfind("Bearer ", 0) != 0) return false;
  // The access token in the store may be refused as well (the provider revoked the grant):
  // the next token comes from redeeming the refresh token, which tells.
  distrust_stored_ = true;
  cache_->invalidate(cache_key_, header->substr(7));
  return true;
}

Result<std::string> UserOAuth2Credential::access_token() {
  EXTDATA_ASSIGN_OR_RETURN(Token token, this->token());
  return token.access_token;
}

Result<AuthReport> UserOAuth2Credential::authenticate() {
  EXTDATA_ASSIGN_OR_RETURN(Token token, refresh_through_store(true));
  if (auto cached = cache_->peek(cache_key_)) cache_->invalidate(cache_key_, cached->access_token);
  AuthReport report;
  report.method = "oauth2";
  report.token_type = token.token_type;
  report.token = token.access_token;
  report.expires_in =
      std::chrono::duration_cast<std::chrono::seconds>(token.expires_at - clock_.now()).count();
  report.claims = token_claims(token.access_token);
  report.warnings = config_.notes;
  return report;
}

std::optional<Clock::time_point> UserOAuth2Credential::cached_token_expiry() const {
  auto token = cache_->peek(cache_key_);
  if (!token || token->expires_at <= clock_.now()) return std::nullopt;
  return token->expires_at;
}

}  // namespace extdata::auth
