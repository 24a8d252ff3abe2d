#include "auth/oauth2.h"

#include <cstdio>
#include <ctime>

#include "auth/config_fields.h"
#include "auth/diagnostics.h"
#include "auth/oauth2/token_url.h"
#include "auth/oauth2_settings.h"
#include "auth/oauth2_user.h"
#include "core/log.h"
#include "core/redact.h"

namespace extdata::auth {

namespace {

constexpr const char* kDefaultMicrosoftTokenUrl =
    "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token";
constexpr const char* kGraphDefaultScope = "https://graph.microsoft.com/.default";

Result<Clock::time_point> parse_date(const std::string& text, const std::string& key) {
  int y = 0, m = 0, d = 0;
  char tail = 0;
  if (text.size() != 10 || std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 ||
      m < 1 || m > 12 || d < 1 || d > 31 || y < 2000)
    return config_error("config.bad_date", key,
                        key + " must be a date like 2027-05-31, not '" + text + "'",
                        "copy the Expires date shown under Certificates & secrets");
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = m - 1;
  tm.tm_mday = d;
  const std::time_t t = timegm(&tm);
  std::tm back{};
  gmtime_r(&t, &back);
  if (back.tm_mday != d)
    return config_error("config.bad_date", key, key + ": " + text + " is not a calendar date");
  return Clock::time_point{std::chrono::seconds{t}};
}

Result<std::vector<std::string>> parse_scopes(const nlohmann::json& auth) {
  std::vector<std::string> scopes;
  auto it = auth.find("scope");
  if (it == auth.end() || it->is_null()) return scopes;
  auto add = [&](const std::string& text, const std::string& key) -> Status {
    size_t pos = 0;
    while (pos < text.size()) {
      const size_t sp = text.find_first_of(" \t\r\n", pos);
      std::string one = text.substr(pos, sp == std::string::npos ? std::string::npos : sp - pos);
      if (!one.empty()) scopes.push_back(std::move(one));
      if (sp == std::string::npos) break;
      pos = sp + 1;
    }
    (void)key;
    return ok_status();
  };
  if (it->is_string()) {
    EXTDATA_TRY(add(it->get<std::string>(), "scope"));
  } else if (it->is_array()) {
    for (size_t i = 0; i < it->size(); ++i) {
      const std::string key = "scope[" + std::to_string(i) + "]";
      if (!(*it)[i].is_string())
        return config_error("config.wrong_type", key, "each scope must be a string");
      EXTDATA_TRY(add((*it)[i].get<std::string>(), key));
    }
  } else {
    return config_error("config.wrong_type", "scope", "scope must be a string or a list");
  }
  return scopes;
}

}  // namespace

Result<OAuth2Settings> parse_oauth2_settings(const nlohmann::json& auth) {
  OAuth2Settings out;
  auto& grant = out.grant;
  EXTDATA_ASSIGN_OR_RETURN(std::string tenant, optional_string(auth, "tenant"));
  EXTDATA_ASSIGN_OR_RETURN(std::string token_url, optional_string(auth, "token_url"));
  if (token_url.empty()) {
    if (tenant.empty())
      return config_error("config.missing_key", "token_url", "token_url is required",
                          "for Microsoft Entra ID set tenant (the URL is then "
                          "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token)");
    token_url = kDefaultMicrosoftTokenUrl;
  }
  EXTDATA_ASSIGN_OR_RETURN(grant.token_url, resolve_token_url(token_url, tenant));
  out.microsoft = is_microsoft_token_url(grant.token_url);

  EXTDATA_ASSIGN_OR_RETURN(grant.client_id, required_string(auth, "client_id"));
  EXTDATA_ASSIGN_OR_RETURN(grant.client_secret, optional_string(auth, "client_secret"));
  const auto cert = auth.find("client_certificate");
  const bool has_cert = cert != auth.end() && !cert->is_null();
  if (auto v = client_secret_rule(!grant.client_secret.empty(), has_cert))
    return config_error(v->code, v->key, v->message, v->hint);
  if (!grant.client_secret.empty()) {
    EXTDATA_TRY(check_header_text(grant.client_secret, "client_secret", false));
    if (std::isspace(static_cast<unsigned char>(grant.client_secret.front())) ||
        std::isspace(static_cast<unsigned char>(grant.client_secret.back())))
      return config_error("auth.bad_secret", "client_secret",
                          "client_secret starts or ends with white space",
                          "paste the secret value without surrounding spaces");
    register_secret(grant.client_secret);
  }
  if (has_cert) {
    if (!cert->is_object())
      return config_error("config.wrong_type", "client_certificate",
                          "client_certificate must be an object with certificate and private_key");
    auto prefixed = [](Error e) {
      if (auto k = e.details.find("key"); k != e.details.end())
        k->second = "client_certificate." + k->second;
      return e;
    };
    auto certificate = required_string(*cert, "certificate");
    if (!certificate.ok()) return prefixed(certificate.error());
    auto private_key = optional_string(*cert, "private_key");
    if (!private_key.ok()) return prefixed(private_key.error());
    auto algorithm_field = optional_string(*cert, "algorithm");
    if (!algorithm_field.ok()) return prefixed(algorithm_field.error());
    const std::string& algorithm = *algorithm_field;
    if (algorithm.empty() || algorithm == "RS256") {
      grant.assertion_algorithm = jwt::Algorithm::rs256;
    } else if (algorithm == "PS256") {
      grant.assertion_algorithm = jwt::Algorithm::ps256;
    } else {
      return config_error("config.bad_value", "client_certificate.algorithm",
                          "algorithm must be RS256 or PS256, not '" + algorithm + "'",
                          "RS256 (with x5t) is what Microsoft Entra ID accepts everywhere");
    }
    EXTDATA_ASSIGN_OR_RETURN(auto loaded, ClientCertificate::load(*certificate, *private_key));
    grant.certificate = std::move(loaded);
  }

  EXTDATA_ASSIGN_OR_RETURN(grant.scopes, parse_scopes(auth));
  if (out.microsoft) {
    if (grant.scopes.empty())
      return config_error("config.missing_key", "scope", "Microsoft Entra ID needs a scope",
                          std::string("for Microsoft Graph use ") + kGraphDefaultScope);
    if (grant.scopes.size() > 1)
      return config_error("auth.invalid_scope", "scope",
                          "Microsoft Entra ID issues a client-credentials token for one "
                          "resource's /.default scope only, not " +
                              std::to_string(grant.scopes.size()) + " scopes",
                          std::string("use ") + kGraphDefaultScope);
    if (!grant.scopes.front().ends_with("/.default"))
      return config_error("auth.invalid_scope", "scope",
                          "scope '" + grant.scopes.front() +
                              "' does not end in /.default, which the client-credentials grant "
                              "requires",
                          std::string("use ") + kGraphDefaultScope +
                              "; permissions such as Sites.Read.All are granted on the app "
                              "registration");
  }

  EXTDATA_ASSIGN_OR_RETURN(std::string client_auth, optional_string(auth, "client_auth"));
  if (client_auth.empty() || client_auth == "post") {
    grant.client_auth = ClientAuth::post;
  } else if (client_auth == "basic") {
    grant.client_auth = ClientAuth::basic;
  } else {
    return config_error("config.bad_value", "client_auth",
                        "client_auth must be post or basic, not '" + client_auth + "'");
  }

  if (auto extra = auth.find("extra_params"); extra != auth.end() && !extra->is_null()) {
    if (!extra->is_object())
      return config_error("config.wrong_type", "extra_params",
                          "extra_params must map parameter names to values");
    for (const auto& [name, value] : extra->items()) {
      const std::string key = "extra_params." + name;
      static constexpr std::string_view kReserved[] = {
          "grant_type", "client_id", "client_secret", "client_assertion", "client_assertion_type",
          "scope"};
      for (auto reserved : kReserved)
        if (name == reserved)
          return config_error("auth.reserved_parameter", key,
                              name + " is set by extdata and cannot be an extra parameter",
                              name == "scope" ? "use the scope key" : "");
      if (value.is_string())
        grant.extra_params.emplace_back(name, value.get<std::string>());
      else if (value.is_number() || value.is_boolean())
        grant.extra_params.emplace_back(name, value.dump());
      else
        return config_error("config.wrong_type", key, "an extra parameter must be a string");
    }
  }

  EXTDATA_ASSIGN_OR_RETURN(std::string expires, optional_string(auth, "client_secret_expires"));
  if (!expires.empty()) {
    EXTDATA_ASSIGN_OR_RETURN(Clock::time_point t, parse_date(expires, "client_secret_expires"));
    out.secret_expires = t;
  }
  if (auto days = auth.find("expiry_warning_days"); days != auth.end() && !days->is_null()) {
    if (!days->is_number_integer() || days->get<long long>() < 0 || days->get<long long>() > 3650)
      return config_error("config.bad_value", "expiry_warning_days",
                          "expiry_warning_days must be a whole number of days from 0 to 3650");
    out.expiry_warning_days = days->get<int>();
  }
  return out;
}

OAuth2Credential::OAuth2Credential(OAuth2Settings settings, const CredentialDeps& deps)
    : settings_(std::move(settings)),
      cache_key_(token_cache_key(settings_.grant)),
      http_(deps.token_http),
      clock_(deps.clock),
      metrics_(deps.metrics),
      cache_(deps.token_cache ? deps.token_cache : std::make_shared<TokenCache>(deps.clock)),
      sharepoint_(deps.sharepoint),
      source_(deps.source_name) {}

Result<std::shared_ptr<Credential>> OAuth2Credential::create(const nlohmann::json& auth,
                                                             const CredentialDeps& deps) {
  EXTDATA_ASSIGN_OR_RETURN(auto user_grant, user_grant_type(auth));
  if (user_grant) return UserOAuth2Credential::create(auth, deps, *user_grant);
  EXTDATA_ASSIGN_OR_RETURN(OAuth2Settings settings, parse_oauth2_settings(auth));
  return std::shared_ptr<Credential>(std::make_shared<OAuth2Credential>(std::move(settings), deps));
}

Result<Token> OAuth2Credential::fetch_counted() {
  auto token = request_token(settings_.grant, http_, clock_);
  metrics_
      .counter("extdata_token_requests_total",
               {{"source", source_}, {"result", token.ok() ? "ok" : "error"}},
               "Requests to OAuth2 token endpoints")
      .inc();
  if (token.ok()) {
    log::info("auth.token_obtained",
              {{"source", source_},
               {"expires_in", std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                 token->expires_at - token->obtained_at)
                                                 .count())}});
  } else {
    log::warn("auth.token_failed",
              {{"source", source_},
               {"code", token.error().code},
               {"message", token.error().message},
               {"aadsts",
                token.error().details.count("aadsts") ? token.error().details.at("aadsts") : ""}});
  }
  return token;
}

Result<Token> OAuth2Credential::token() {
  TokenCache::Outcome outcome{};
  auto token = cache_->get(
      cache_key_, [this] { return fetch_counted(); }, &outcome);
  if (outcome == TokenCache::Outcome::hit || outcome == TokenCache::Outcome::joined ||
      outcome == TokenCache::Outcome::shared)
    metrics_
        .counter("extdata_token_cache_hits_total", {{"source", source_}},
                 "Token requests answered from the token cache")
        .inc();
  return token;
}

Result<std::string> OAuth2Credential::access_token() {
  EXTDATA_ASSIGN_OR_RETURN(Token token, this->token());
  return token.access_token;
}

Status OAuth2Credential::apply(http::Request& request) {
  EXTDATA_ASSIGN_OR_RETURN(Token token, this->token());
  http::set_header(request.headers, "Authorization", "Bearer " + token.access_token);
  return ok_status();
}

bool OAuth2Credential::on_unauthorized(const http::Request& sent, const http::Response&) {
  auto header = http::find_header(sent.headers, "Authorization");
  if (!header || header->rfind("Bearer ", 0) != 0) return false;
  cache_->invalidate(cache_key_, header->substr(7));
  return true;
}

Result<AuthReport> OAuth2Credential::authenticate() {
  // Always a fresh token: the button exists to test the credentials as they are now.
  EXTDATA_ASSIGN_OR_RETURN(Token token, fetch_counted());
  AuthReport report;
  report.method = "oauth2";
  report.token_type = token.token_type;
  report.token = token.access_token;
  report.expires_in =
      std::chrono::duration_cast<std::chrono::seconds>(token.expires_at - clock_.now()).count();
  report.claims = token_claims(token.access_token);
  report.warnings = claim_warnings(report.claims, ClaimContext{settings_.microsoft, sharepoint_});
  return report;
}

std::optional<Clock::time_point> OAuth2Credential::cached_token_expiry() const {
  auto token = cache_->peek(cache_key_);
  if (!token || token->expires_at <= clock_.now()) return std::nullopt;
  return token->expires_at;
}

std::vector<ExpiringSecret> OAuth2Credential::expiring_secrets() const {
  std::vector<ExpiringSecret> out;
  if (settings_.secret_expires)
    out.push_back({"client secret", *settings_.secret_expires, settings_.expiry_warning_days});
  if (const auto& cert = settings_.grant.certificate)
    out.push_back(
        {"client certificate" + (cert->subject().empty() ? "" : " (" + cert->subject() + ")"),
         cert->not_after(), settings_.expiry_warning_days});
  return out;
}

namespace methods {
const AuthMethod& oauth2() {
  static const AuthMethod method{{"oauth2", "OAuth 2.0",
                                  "A token from the client-credentials grant (client secret or "
                                  "certificate), or on behalf of a user who connects once "
                                  "(authorization code with PKCE, or device code), cached and "
                                  "refreshed ahead of expiry.",
                                  &oauth2_settings()},
                                 &OAuth2Credential::create};
  return method;
}
}  // namespace methods

}  // namespace extdata::auth
