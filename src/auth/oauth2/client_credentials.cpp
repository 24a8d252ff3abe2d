#include "auth/oauth2/client_credentials.h"

#include <openssl/rand.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "auth/oauth2/base64url.h"
#include "auth/oauth2/entra_errors.h"
#include "core/redact.h"
#include "core/strings.h"
#include "core/time.h"
#include "http/curl_client.h"
#include "http/retry.h"

namespace extdata::auth {

std::string random_uuid() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) {
    // RAND_bytes only fails when the OS entropy source is broken; a jti must still be unique.
    static std::atomic<unsigned long long> counter{0};
    const auto n =
        counter.fetch_add(1) ^ static_cast<unsigned long long>(
                                   std::chrono::steady_clock::now().time_since_epoch().count());
    for (int i = 0; i < 16; ++i) b[i] = static_cast<unsigned char>(n >> ((i % 8) * 8));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 15];
  }
  return out;
}

namespace {

Error invalid_response(std::string message, std::string hint, const http::Response& response) {
  Error e("auth.token_response_invalid", std::move(message), std::move(hint));
  e.with("http_status", std::to_string(response.status));
  if (auto ct = response.header("Content-Type")) e.with("content_type", *ct);
  std::string body = redact(response.body).substr(0, 200);
  if (!body.empty()) e.with("body", body);
  return e;
}

// A number of seconds given as a JSON number or a numeric string ("3599").
std::optional<double> seconds_value(const nlohmann::json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s.empty() || s.size() > 20) return std::nullopt;
    size_t used = 0;
    try {
      const double d = std::stod(s, &used);
      if (used == s.size()) return d;
    } catch (const std::exception&) {
    }
  }
  return std::nullopt;
}

}  // namespace

std::string token_cache_key(const ClientCredentialsConfig& config) {
  std::string key = config.token_url + '\n' + config.client_id + '\n';
  for (const auto& s : config.scopes) key += s + ' ';
  key += '\n';
  for (const auto& [k, v] : config.extra_params)
    key += http::url_encode(k) + "=" + http::url_encode(v) + '&';
  key += '\n';
  if (config.certificate)
    key += "cert:" + config.certificate->fingerprint() + ':' +
           std::string(jwt::name(config.assertion_algorithm));
  else
    key += "secret:" + sha256_hex("extdata-token-cache\n" + config.client_secret);
  return key;
}

Result<std::string> client_assertion(const ClientCredentialsConfig& config, Clock::time_point now) {
  if (!config.certificate)
    return Error("auth.internal", "a client assertion needs a client certificate");
  nlohmann::json header = nlohmann::json::object();
  if (config.assertion_algorithm == jwt::Algorithm::ps256)
    header["x5t#S256"] = config.certificate->x5t_s256();
  else
    header["x5t"] = config.certificate->x5t();
  const long long iat = unix_seconds(now);
  const nlohmann::json claims = {
      {"aud", config.token_url},
      {"iss", config.client_id},
      {"sub", config.client_id},
      {"jti", random_uuid()},
      {"nbf", iat},
      {"iat", iat},
      {"exp", iat + kAssertionLifetime.count()},
  };
  auto signed_jwt = jwt::sign(std::move(header), claims, config.certificate->private_key(),
                              config.assertion_algorithm);
  if (!signed_jwt.ok()) {
    Error e = signed_jwt.error();
    e.code = "auth.assertion_failed";
    e.message = "could not sign the client assertion: " + e.message;
    e.with("key", "client_certificate.private_key");
    return e;
  }
  return signed_jwt;
}

Result<http::Request> build_token_request(const ClientCredentialsConfig& config,
                                          Clock::time_point now) {
  std::vector<std::pair<std::string, std::string>> form = {{"grant_type", "client_credentials"}};
  http::Request request;
  request.method = "POST";
  request.url = config.token_url;
  request.retryable = true;  // a client-credentials request has no side effects
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
  if (config.certificate) {
    EXTDATA_ASSIGN_OR_RETURN(std::string assertion, client_assertion(config, now));
    form.emplace_back("client_id", config.client_id);
    form.emplace_back("client_assertion_type", std::string(kJwtBearerAssertionType));
    form.emplace_back("client_assertion", std::move(assertion));
  } else if (config.client_auth == ClientAuth::basic) {
    // RFC 6749 §2.3.1: both parts are form-encoded before base64.
    request.headers.emplace_back("Authorization",
                                 "Basic " + base64_encode(http::url_encode(config.client_id) + ":" +
                                                          http::url_encode(config.client_secret)));
  } else {
    form.emplace_back("client_id", config.client_id);
    form.emplace_back("client_secret", config.client_secret);
  }
  if (!config.scopes.empty()) {
    std::string scope;
    for (const auto& s : config.scopes) scope += (scope.empty() ? "" : " ") + s;
    form.emplace_back("scope", std::move(scope));
  }
  for (const auto& p : config.extra_params) form.push_back(p);
  request.body = http::form_encode(form);
  return request;
}

Result<Token> parse_token_response(const http::Response& response, Clock::time_point requested_at) {
  if (response.status < 200 || response.status >= 300)
    return translate_token_error(response.status, response.body);
  auto j = nlohmann::json::parse(response.body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return invalid_response("the token endpoint's answer is not a JSON object",
                            "check token_url: it should be the OAuth2 token endpoint, not a "
                            "login page or a proxy",
                            response);
  auto at = j.find("access_token");
  if (at == j.end() || !at->is_string() || at->get<std::string>().empty())
    return invalid_response("the token endpoint's answer lacks access_token",
                            "check token_url and the server's client-credentials support",
                            response);
  Token token;
  token.access_token = at->get<std::string>();
  register_secret(token.access_token);
  token.obtained_at = requested_at;
  if (auto tt = j.find("token_type"); tt != j.end()) {
    if (!tt->is_string() || lower(tt->get<std::string>()) != "bearer")
      return invalid_response(
          "the token endpoint issued a token of type " + tt->dump() + ", not Bearer",
          "extdata sends access tokens as Bearer tokens only", response);
  }
  if (auto sc = j.find("scope"); sc != j.end() && sc->is_string()) token.scope = *sc;

  std::optional<double> lifetime;
  if (auto ei = j.find("expires_in"); ei != j.end()) {
    lifetime = seconds_value(*ei);
    if (!lifetime || !std::isfinite(*lifetime) || *lifetime < 0)
      return invalid_response("the token endpoint's expires_in is not a number of seconds",
                              "the server answered something extdata cannot read", response);
  } else if (auto eo = j.find("expires_on"); eo != j.end()) {
    // Older Microsoft endpoints: an absolute Unix time.
    if (auto at_time = seconds_value(*eo); at_time && std::isfinite(*at_time))
      lifetime = std::max(0.0, *at_time - static_cast<double>(unix_seconds(requested_at)));
  }
  if (!lifetime) {
    if (auto decoded = jwt::decode(token.access_token);
        decoded.ok() && decoded->payload.contains("exp") && decoded->payload["exp"].is_number())
      lifetime = std::max(0.0, decoded->payload["exp"].get<double>() -
                                   static_cast<double>(unix_seconds(requested_at)));
  }
  // RFC 6749 makes expires_in optional; assume an hour, a 401 from the resource refreshes it.
  const double seconds = std::min(lifetime.value_or(3600.0), 366.0 * 24 * 3600);
  token.expires_at = requested_at + std::chrono::duration_cast<Clock::time_point::duration>(
                                        std::chrono::duration<double>(seconds));
  return token;
}

Result<Token> request_token(const ClientCredentialsConfig& config, http::HttpClient& http,
                            Clock& clock) {
  // The HTTP client already retries 429/502/503/504 and network errors with backoff; a
  // 500 from a token endpoint is as transient, so it gets the same backoff here.
  static constexpr int kServerErrorAttempts = 3;
  const http::RetryPolicy policy;
  std::mt19937_64 rng(std::random_device{}());
  for (int attempt = 1;; ++attempt) {
    const auto requested_at = clock.now();
    // A fresh assertion (new jti) per attempt: servers reject a replayed one.
    EXTDATA_ASSIGN_OR_RETURN(http::Request request, build_token_request(config, requested_at));
    auto response = http.send(request);
    if (!response.ok()) {
      const Error& cause = response.error();
      Error e(
          "auth.token_endpoint_unreachable", "could not reach the token endpoint: " + cause.message,
          cause.hint.empty() ? "check token_url, DNS, proxy and firewall settings" : cause.hint);
      e.details = cause.details;
      e.with("cause", cause.code);
      return e;
    }
    const bool transient = response->status >= 500 && response->status != 501 &&
                           !http::is_retryable_status(response->status);
    if (transient && attempt < kServerErrorAttempts) {
      clock.sleep_for(http::backoff_delay(policy, attempt, rng));
      continue;
    }
    auto token = parse_token_response(*response, requested_at);
    if (!token.ok()) {
      Error e = token.error();
      explain_rejected_secret(e, config.client_secret);
      return e;
    }
    return token;
  }
}

}  // namespace extdata::auth
