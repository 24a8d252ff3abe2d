#include "api/oauth_connect.h"

#include <cstdlib>

#include "core/log.h"
#include "core/redact.h"
#include "core/time.h"
#include "core/url.h"
#include "server/http_server.h"

namespace extdata::api {

using nlohmann::json;

Result<std::optional<auth::StoredGrant>> StoreGrants::load(const std::string& source) {
  EXTDATA_ASSIGN_OR_RETURN(auto record, store_.get_grant(source));
  if (!record) return std::optional<auth::StoredGrant>();
  auto grant = auth::StoredGrant::from_json(json::parse(record->payload, nullptr, false));
  grant.generation = record->generation;
  return std::optional(std::move(grant));
}

Result<bool> StoreGrants::save(const std::string& source, auth::StoredGrant& grant,
                               std::int64_t expected) {
  EXTDATA_ASSIGN_OR_RETURN(bool saved, store_.put_grant(source, grant.to_json().dump(), expected));
  if (saved) grant.generation = expected + 1;
  return saved;
}

std::string redirect_uri_for(const std::string& public_url) {
  if (public_url.empty()) return {};
  std::string base = public_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + kCallbackPath;
}

Result<std::string> resolve_public_url(const std::string& flag, const std::string& fallback) {
  std::string url = flag;
  if (url.empty())
    if (const char* env = std::getenv("EXTDATA_PUBLIC_URL")) url = env;
  if (url.empty()) return fallback;
  auto parsed = Url::parse(url);
  if (!parsed.ok() || (parsed->scheme() != "https" && parsed->scheme() != "http"))
    return Error("config.bad_value", "the public URL '" + url + "' is not an http(s) URL",
                 "set --public-url / EXTDATA_PUBLIC_URL to the address browsers use to reach "
                 "extdata, e.g. https://extdata.example.com");
  return url;
}

namespace {

struct UserSource {
  std::shared_ptr<sources::Source> source;
  std::shared_ptr<auth::UserOAuth2Credential> credential;
};

Result<UserSource> user_source(Runtime& runtime, const std::string& name) {
  EXTDATA_ASSIGN_OR_RETURN(auto src, runtime.source(name));
  auto credential = auth::UserOAuth2Credential::of(src->credential());
  if (!credential)
    return Error("auth.wrong_grant",
                 "source '" + name +
                     "' does not act on behalf of a user: there is nothing to "
                     "connect",
                 "Connect is for auth type oauth2 with grant authorization_code or device_code; "
                 "test other credentials with `extdata auth " +
                     name + "`");
  return UserSource{std::move(src), std::move(credential)};
}

Error unknown_state() {
  return Error("auth.unknown_state",
               "this sign-in answer does not belong to a sign-in extdata is waiting for: its "
               "state is unknown, was already used, or is older than 15 minutes",
               "start Connect again (in the UI, or `extdata auth connect SOURCE`) and finish the "
               "sign-in within 15 minutes");
}

Error error_callback(const std::string& error, const std::string& description) {
  Error e = error == "access_denied"
                ? Error("auth.access_denied",
                        "the sign-in was cancelled, or consent was refused (access_denied)",
                        "connect again and approve the requested permissions; an administrator "
                        "may have to grant consent for the organisation")
                : Error("auth.authorization_failed",
                        "the provider ended the sign-in with an error: " + error,
                        "read the provider's description; fix the app registration or the "
                        "source's scope, then connect again");
  e.with("error", error);
  if (!description.empty()) e.with("error_description", redact(description).substr(0, 300));
  return e;
}

json connected_json(const std::string& source, const auth::StoredGrant& grant) {
  json out = grant.public_json();
  out["source"] = source;
  return out;
}

}  // namespace

Result<json> begin_sign_in(Runtime& runtime, const std::string& source,
                           const std::string& public_url) {
  EXTDATA_ASSIGN_OR_RETURN(UserSource user, user_source(runtime, source));
  const std::string redirect_uri = redirect_uri_for(public_url);
  if (redirect_uri.empty())
    return Error("config.missing_key",
                 "extdata's public URL is not known, so there is no "
                 "redirect URI for the sign-in",
                 "set --public-url or EXTDATA_PUBLIC_URL to the address browsers reach extdata at");
  EXTDATA_ASSIGN_OR_RETURN(auto start,
                           auth::begin_authorization(user.credential->config(), redirect_uri));
  const json pending = {{"source", source},
                        {"code_verifier", start.code_verifier},
                        {"nonce", start.nonce},
                        {"redirect_uri", start.redirect_uri}};
  EXTDATA_TRY(runtime.store().put_pending_sign_in(start.state, pending.dump(),
                                                  unix_seconds(runtime.clock().now())));
  return json{{"source", source},
              {"authorize_url", start.url},
              {"redirect_uri", redirect_uri},
              {"expires_in", store::kPendingSignInSeconds}};
}

Result<json> complete_sign_in(Runtime& runtime, const std::map<std::string, std::string>& query) {
  auto param = [&](const char* key) {
    auto it = query.find(key);
    return it == query.end() ? std::string() : it->second;
  };
  const std::string state = param("state");
  if (state.empty()) return unknown_state();
  EXTDATA_ASSIGN_OR_RETURN(auto payload, runtime.store().take_pending_sign_in(
                                             state, unix_seconds(runtime.clock().now())));
  if (!payload) return unknown_state();
  const json pending = json::parse(*payload, nullptr, false);
  const std::string source = pending.value("source", "");
  if (!param("error").empty()) return error_callback(param("error"), param("error_description"));
  const std::string code = param("code");
  if (code.empty())
    return Error("auth.authorization_failed",
                 "the provider's answer carries neither a code nor an error",
                 "connect again; check that the redirect URI registered with the provider is "
                 "extdata's /oauth2/callback");
  EXTDATA_ASSIGN_OR_RETURN(UserSource user, user_source(runtime, source));
  EXTDATA_ASSIGN_OR_RETURN(
      auto tokens,
      auth::redeem_code(user.credential->config(), code, pending.value("code_verifier", ""),
                        pending.value("redirect_uri", ""), user.credential->token_http(),
                        runtime.clock()));
  EXTDATA_TRY(auth::check_nonce(tokens, pending.value("nonce", "")));
  EXTDATA_ASSIGN_OR_RETURN(auto grant, user.credential->connect(tokens));
  return connected_json(source, grant);
}

Result<json> complete_sign_in_from_url(Runtime& runtime, const std::string& url) {
  const size_t q = url.find('?');
  if (q == std::string::npos)
    return Error("auth.authorization_failed", "the pasted address has no query (?code=…&state=…)",
                 "paste the whole address from the browser's address bar after signing in");
  std::string query = url.substr(q + 1);
  if (const size_t hash = query.find('#'); hash != std::string::npos) query.resize(hash);
  std::map<std::string, std::string> params;
  for (auto& [k, v] : server::parse_query(query)) params.emplace(k, v);
  return complete_sign_in(runtime, params);
}

Result<json> connect_device(Runtime& runtime, const std::string& source,
                            const std::function<void(const auth::DeviceAuthorization&)>& show,
                            const std::function<void(std::string_view)>& on_poll) {
  EXTDATA_ASSIGN_OR_RETURN(UserSource user, user_source(runtime, source));
  const auto& config = user.credential->config();
  EXTDATA_ASSIGN_OR_RETURN(
      auto device,
      auth::start_device_authorization(config, user.credential->token_http(), runtime.clock()));
  show(device);
  EXTDATA_ASSIGN_OR_RETURN(
      auto tokens, auth::poll_device_authorization(config, device, user.credential->token_http(),
                                                   runtime.clock(), on_poll));
  EXTDATA_ASSIGN_OR_RETURN(auto grant, user.credential->connect(tokens));
  return connected_json(source, grant);
}

json connection_json(Runtime& runtime, const std::string& source, const std::string& public_url) {
  auto src = runtime.source(source);
  if (!src.ok()) return nullptr;
  auto credential = auth::UserOAuth2Credential::of((*src)->credential());
  if (!credential) return nullptr;
  const bool code = credential->config().type == auth::UserGrantType::authorization_code;
  json out = {{"grant", code ? "authorization_code" : "device_code"}, {"state", "not_connected"}};
  if (code) {
    const std::string redirect = redirect_uri_for(public_url);
    out["redirect_uri"] = redirect.empty() ? json(nullptr) : json(redirect);
  }
  out["revocation"] = !credential->config().revocation_url.empty();
  if (auto stored = credential->connection(); stored.ok() && *stored)
    out.update((*stored)->public_json());
  else if (!stored.ok())
    out["error"] = redact(stored.error().message);
  if (!credential->config().notes.empty()) out["notes"] = credential->config().notes;
  return out;
}

std::optional<PendingRevocation> revocation_for(Runtime& runtime, const std::string& source) {
  auto src = runtime.source(source);
  if (!src.ok()) return std::nullopt;
  auto credential = auth::UserOAuth2Credential::of((*src)->credential());
  if (!credential || credential->config().revocation_url.empty()) return std::nullopt;
  auto stored = credential->connection();
  if (!stored.ok() || !*stored || (*stored)->refresh_token.empty()) return std::nullopt;
  return PendingRevocation{*src, credential, (*stored)->refresh_token};
}

void revoke(const PendingRevocation& pending, Metrics& metrics, const std::string& source) {
  auto status = auth::revoke_token(pending.credential->config(), pending.refresh_token,
                                   pending.credential->token_http());
  metrics
      .counter("extdata_token_revocations_total",
               {{"source", source}, {"result", status.ok() ? "ok" : "error"}},
               "Refresh tokens revoked (RFC 7009) when a user-grant source was deleted")
      .inc();
  if (status.ok())
    log::info("auth.revoked", {{"source", source}});
  else
    log::warn("auth.revoke_failed", {{"source", source}, {"message", status.error().message}});
  metrics.drop_gauges(auth::kReconnectGauge, {"source", source});
}

}  // namespace extdata::api

namespace extdata::api {

namespace {

std::string html_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::string callback_page(const Result<json>& outcome) {
  std::string title, body;
  if (outcome.ok()) {
    const json& c = *outcome;
    title = "Connected";
    body = "<p id=\"outcome\" data-ok=\"true\">Source <b>" + html_escape(c.value("source", "")) +
           "</b> is connected as <b>" + html_escape(c.value("connected_by", "")) +
           "</b>.</p><p>Scopes: " + html_escape(c.value("scope", "")) +
           "</p><p>You can close this window and return to extdata.</p>";
  } else {
    const Error& e = outcome.error();
    title = "Not connected";
    body = "<p id=\"outcome\" data-ok=\"false\" data-code=\"" + html_escape(e.code) + "\">" +
           html_escape(redact(e.message)) + "</p><p>" + html_escape(redact(e.hint)) + "</p>";
    if (auto d = e.details.find("error_description"); d != e.details.end())
      body += "<p>The provider said: " + html_escape(d->second) + "</p>";
    body += "<p>Nothing was stored. Close this window and try Connect again.</p>";
  }
  return "<!doctype html><html><head><meta charset=\"utf-8\"><title>extdata: " + title +
         "</title></head><body><h1>" + title + "</h1>" + body + "</body></html>";
}

}  // namespace extdata::api
