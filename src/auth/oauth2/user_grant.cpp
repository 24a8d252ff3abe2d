#include "auth/oauth2/user_grant.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "auth/oauth2/base64url.h"
#include "auth/oauth2/entra_errors.h"
#include "auth/oauth2/jwt.h"
#include "core/redact.h"
#include "core/url.h"
#include "http/curl_client.h"

namespace extdata::auth {

namespace {

using Form = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kDeviceCodeGrant = "urn:ietf:params:oauth:grant-type:device_code";

std::string joined_scopes(const UserGrantConfig& config) {
  std::string scope;
  for (const auto& s : config.scopes) scope += (scope.empty() ? "" : " ") + s;
  return scope;
}

// A form POST to one of the provider's endpoints, authenticated as the client: a public
// client sends only its client_id. Never retried after it may have reached the server.
http::Request client_form_post(const UserGrantConfig& config, const std::string& url, Form form) {
  http::Request request;
  request.method = "POST";
  request.url = url;
  request.retryable = false;
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
  if (!config.client_secret.empty() && config.client_auth == ClientAuth::basic) {
    request.headers.emplace_back("Authorization",
                                 "Basic " + base64_encode(http::url_encode(config.client_id) + ":" +
                                                          http::url_encode(config.client_secret)));
  } else {
    form.emplace_back("client_id", config.client_id);
    if (!config.client_secret.empty()) form.emplace_back("client_secret", config.client_secret);
  }
  request.body = http::form_encode(form);
  return request;
}

Result<http::Response> send_to(http::HttpClient& http, const http::Request& request,
                               std::string_view what) {
  auto response = http.send(request);
  if (response.ok()) return response;
  const Error& cause = response.error();
  Error e("auth.token_endpoint_unreachable",
          "could not reach the " + std::string(what) + ": " + cause.message,
          cause.hint.empty() ? "check the URL, DNS, proxy and firewall settings" : cause.hint);
  e.details = cause.details;
  e.with("cause", cause.code);
  return e;
}

nlohmann::json decoded_claims(const std::string& token) {
  if (token.empty()) return nlohmann::json::object();
  auto decoded = jwt::decode(token);
  if (!decoded.ok() || !decoded->payload.is_object()) return nlohmann::json::object();
  return decoded->payload;
}

// A token answer: the access token (parse_token_response checks JSON, access_token, type and
// expiry), and the refresh and ID tokens beside it.
Result<UserTokens> read_user_tokens(const http::Response& response, Clock::time_point at) {
  EXTDATA_ASSIGN_OR_RETURN(Token access, parse_token_response(response, at));
  UserTokens out;
  out.access = std::move(access);
  const auto j = nlohmann::json::parse(response.body, nullptr, false);
  if (auto rt = j.find("refresh_token"); rt != j.end() && rt->is_string()) {
    out.refresh_token = rt->get<std::string>();
    register_secret(out.refresh_token);
  }
  if (auto id = j.find("id_token"); id != j.end() && id->is_string()) {
    out.id_token = id->get<std::string>();
    register_secret(out.id_token);
    out.id_claims = decoded_claims(out.id_token);
  }
  return out;
}

Error no_refresh_token(const UserGrantConfig& config) {
  return Error("auth.no_refresh_token",
               "the provider signed the user in but issued no refresh token: offline access was "
               "not granted, so extdata could not keep working after the access token expires",
               config.microsoft
                   ? "keep offline_access in scope and make sure the user (or an admin) consents "
                     "to it; then connect again"
                   : "request offline access: add offline_access to scope (OpenID Connect "
                     "servers), or extra_params {access_type: offline, prompt: consent} "
                     "(Google); then connect again");
}

// The RFC 6749 `error` of a JSON error answer, empty when there is none.
std::string error_field(const http::Response& response) {
  const auto j = nlohmann::json::parse(response.body, nullptr, false);
  if (!j.is_object()) return {};
  auto e = j.find("error");
  return e != j.end() && e->is_string() ? e->get<std::string>() : std::string();
}

}  // namespace

std::string random_urlsafe(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1)
    std::abort();  // no entropy: a predictable state or verifier must never be handed out
  return base64url_encode(raw);
}

std::string code_challenge_s256(std::string_view verifier) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size(), digest);
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

Result<AuthorizationStart> begin_authorization(const UserGrantConfig& config,
                                               const std::string& redirect_uri) {
  if (config.type != UserGrantType::authorization_code || config.authorize_url.empty())
    return Error("auth.wrong_grant", "this source does not use the authorization-code grant",
                 "use `extdata auth connect` (device code) instead");
  EXTDATA_ASSIGN_OR_RETURN(Url base, Url::parse(config.authorize_url));
  AuthorizationStart start;
  start.state = random_urlsafe(32);
  start.nonce = random_urlsafe(32);
  start.code_verifier = random_urlsafe(32);  // 43 characters, RFC 7636 §4.1
  start.redirect_uri = redirect_uri;
  Form params = {{"response_type", "code"},
                 {"client_id", config.client_id},
                 {"redirect_uri", redirect_uri},
                 {"scope", joined_scopes(config)},
                 {"state", start.state},
                 {"nonce", start.nonce},
                 {"code_challenge", code_challenge_s256(start.code_verifier)},
                 {"code_challenge_method", "S256"}};
  for (const auto& p : config.extra_params) params.push_back(p);
  start.url = base.with_query(params).str();
  return start;
}

Result<UserTokens> redeem_code(const UserGrantConfig& config, const std::string& code,
                               const std::string& code_verifier, const std::string& redirect_uri,
                               http::HttpClient& http, Clock& clock) {
  const auto at = clock.now();
  auto request = client_form_post(config, config.token_url,
                                  {{"grant_type", "authorization_code"},
                                   {"code", code},
                                   {"redirect_uri", redirect_uri},
                                   {"code_verifier", code_verifier}});
  EXTDATA_ASSIGN_OR_RETURN(http::Response response, send_to(http, request, "token endpoint"));
  EXTDATA_ASSIGN_OR_RETURN(UserTokens tokens, read_user_tokens(response, at));
  if (tokens.refresh_token.empty()) return no_refresh_token(config);
  return tokens;
}

Result<UserTokens> redeem_refresh_token(const UserGrantConfig& config,
                                        const std::string& refresh_token, http::HttpClient& http,
                                        Clock& clock) {
  const auto at = clock.now();
  Form form = {{"grant_type", "refresh_token"}, {"refresh_token", refresh_token}};
  if (!config.scopes.empty()) form.emplace_back("scope", joined_scopes(config));
  auto request = client_form_post(config, config.token_url, std::move(form));
  EXTDATA_ASSIGN_OR_RETURN(http::Response response, send_to(http, request, "token endpoint"));
  return read_user_tokens(response, at);
}

Status check_nonce(const UserTokens& tokens, const std::string& nonce) {
  if (tokens.id_token.empty()) return ok_status();  // plain OAuth 2.0: no ID token, no nonce
  auto it = tokens.id_claims.find("nonce");
  if (it == tokens.id_claims.end() || !it->is_string() || it->get<std::string>() != nonce)
    return Error("auth.nonce_mismatch",
                 "the ID token does not carry the nonce of this sign-in: the answer belongs to "
                 "another sign-in and was refused",
                 "start Connect again; if it repeats, check that nothing rewrites the "
                 "provider's answers between it and extdata");
  return ok_status();
}

std::string signed_in_user(const UserTokens& tokens) {
  for (const nlohmann::json* claims :
       {&tokens.id_claims, static_cast<const nlohmann::json*>(nullptr)}) {
    nlohmann::json access;
    if (!claims) {
      access = decoded_claims(tokens.access.access_token);
      claims = &access;
    }
    auto text = [&](const char* key) {
      auto it = claims->find(key);
      return it != claims->end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    std::string login = text("email");
    if (login.empty()) login = text("preferred_username");
    if (login.empty()) login = text("upn");
    const std::string name = text("name");
    if (!name.empty() && !login.empty()) return name + " <" + login + ">";
    if (!name.empty()) return name;
    if (!login.empty()) return login;
    if (!text("sub").empty()) return text("sub");
  }
  return "unknown user";
}

Result<DeviceAuthorization> start_device_authorization(const UserGrantConfig& config,
                                                       http::HttpClient& http, Clock& clock) {
  if (config.type != UserGrantType::device_code || config.device_authorization_url.empty())
    return Error("auth.wrong_grant", "this source does not use the device-code grant",
                 "open the sign-in URL that `extdata auth connect` prints, or use Connect in "
                 "the UI");
  auto request =
      client_form_post(config, config.device_authorization_url, {{"scope", joined_scopes(config)}});
  const auto at = clock.now();
  EXTDATA_ASSIGN_OR_RETURN(http::Response response,
                           send_to(http, request, "device authorization endpoint"));
  if (response.status < 200 || response.status >= 300)
    return translate_token_error(response.status, response.body);
  const auto j = nlohmann::json::parse(response.body, nullptr, false);
  auto text = [&](const char* key) {
    auto it = j.is_object() ? j.find(key) : j.end();
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  DeviceAuthorization out;
  out.device_code = text("device_code");
  out.user_code = text("user_code");
  out.verification_uri = text("verification_uri");
  if (out.verification_uri.empty()) out.verification_uri = text("verification_url");  // Google
  out.verification_uri_complete = text("verification_uri_complete");
  if (out.device_code.empty() || out.user_code.empty() || out.verification_uri.empty()) {
    Error e("auth.token_response_invalid",
            "the device authorization endpoint's answer lacks device_code, user_code or "
            "verification_uri",
            "check device_authorization_url: it should be the provider's RFC 8628 endpoint");
    e.with("http_status", std::to_string(response.status));
    e.with("body", redact(response.body).substr(0, 200));
    return e;
  }
  register_secret(out.device_code);
  long long interval = 5, expires_in = 600;
  if (auto it = j.find("interval"); it != j.end() && it->is_number_integer())
    interval = std::clamp<long long>(it->get<long long>(), 1, 60);
  if (auto it = j.find("expires_in"); it != j.end() && it->is_number_integer())
    expires_in = std::clamp<long long>(it->get<long long>(), 1, 3600);
  out.interval = std::chrono::seconds(interval);
  out.expires_at = at + std::chrono::seconds(expires_in);
  return out;
}

Result<UserTokens> poll_device_authorization(
    const UserGrantConfig& config, const DeviceAuthorization& device, http::HttpClient& http,
    Clock& clock, const std::function<void(std::string_view error)>& on_poll) {
  auto interval = device.interval;
  for (;;) {
    clock.sleep_for(interval);
    const auto at = clock.now();
    if (at >= device.expires_at)
      return Error("auth.device_code_expired",
                   "the user code expired before the sign-in was completed",
                   "run `extdata auth connect` again and enter the new code in time");
    auto request = client_form_post(
        config, config.token_url,
        {{"grant_type", std::string(kDeviceCodeGrant)}, {"device_code", device.device_code}});
    EXTDATA_ASSIGN_OR_RETURN(http::Response response, send_to(http, request, "token endpoint"));
    if (response.status >= 200 && response.status < 300) {
      EXTDATA_ASSIGN_OR_RETURN(UserTokens tokens, read_user_tokens(response, at));
      if (tokens.refresh_token.empty()) return no_refresh_token(config);
      return tokens;
    }
    const std::string error = error_field(response);
    if (error == "authorization_pending" || error == "slow_down") {
      if (error == "slow_down") interval += std::chrono::seconds(5);  // RFC 8628 §3.5, for good
      if (on_poll) on_poll(error);
      continue;
    }
    if (error == "access_denied")
      return Error("auth.access_denied", "the user declined the sign-in request",
                   "run `extdata auth connect` again and approve the request");
    if (error == "expired_token")
      return Error("auth.device_code_expired",
                   "the user code expired before the sign-in was completed",
                   "run `extdata auth connect` again and enter the new code in time");
    return translate_token_error(response.status, response.body);
  }
}

Status revoke_token(const UserGrantConfig& config, const std::string& refresh_token,
                    http::HttpClient& http) {
  if (config.revocation_url.empty()) return ok_status();
  auto request = client_form_post(config, config.revocation_url,
                                  {{"token", refresh_token}, {"token_type_hint", "refresh_token"}});
  EXTDATA_ASSIGN_OR_RETURN(http::Response response, send_to(http, request, "revocation endpoint"));
  if (response.status == 200) return ok_status();
  Error e = translate_token_error(response.status, response.body);
  e.message = "the revocation endpoint refused: " + e.message;
  return e;
}

}  // namespace extdata::auth
