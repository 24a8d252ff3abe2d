// The Entra ID v2.0 token endpoint, client-credentials grant only
// (reference: microsoft-identity-and-graph.md §1 and §2).
#include <algorithm>

#include "graphsim.h"
#include "internal.h"

namespace graphsim {

namespace {

constexpr const char* kAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

struct EntraError {
  int status;
  std::string error;
  int code;
  std::string text;
};

Response entra_error(const GraphSim::Context& ctx, const EntraError& e) {
  std::string timestamp = entra_timestamp(ctx.now);
  std::string description =
      "AADSTS" + std::to_string(e.code) + ": " + e.text + "\r\nTrace ID: " + ctx.request_id +
      "\r\nCorrelation ID: " + ctx.client_request_id + "\r\nTimestamp: " + timestamp;
  nlohmann::ordered_json body = {
      {"error", e.error},
      {"error_description", description},
      {"error_codes", {e.code}},
      {"timestamp", timestamp},
      {"trace_id", ctx.request_id},
      {"correlation_id", ctx.client_request_id},
      {"error_uri", "https://login.microsoftonline.com/error?code=" + std::to_string(e.code)}};
  Response r;
  r.status = e.status;
  r.body = body.dump();
  r.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
  return r;
}

EntraError missing_parameter(const std::string& name) {
  return {400, "invalid_request", 900144,
          "The request body must contain the following parameter: '" + name + "'."};
}

bool valid_domain(std::string_view d) {
  if (d.size() < 4 || d.size() > 253 || d.find('.') == std::string_view::npos) return false;
  size_t label_start = 0;
  for (size_t i = 0; i <= d.size(); ++i) {
    if (i == d.size() || d[i] == '.') {
      size_t len = i - label_start;
      if (len == 0 || len > 63 || d[label_start] == '-' || d[i - 1] == '-') return false;
      label_start = i + 1;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(d[i]);
    if (!std::isalnum(c) && c != '-') return false;
  }
  std::string_view tld = d.substr(d.rfind('.') + 1);
  return tld.size() >= 2 && std::all_of(tld.begin(), tld.end(), [](char c) {
           return std::isalpha(static_cast<unsigned char>(c));
         });
}

std::optional<std::string> form_value(const std::vector<std::pair<std::string, std::string>>& form,
                                      std::string_view name) {
  for (const auto& [k, v] : form) {
    if (k == name) return v;
  }
  return std::nullopt;
}

long long to_unix(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string unix_to_text(long long secs) {
  return entra_timestamp(TimePoint{std::chrono::seconds{secs}});
}

// Validates a client assertion (certificate credential); nullopt when it is good.
std::optional<EntraError> check_assertion(const std::string& assertion, const AppSpec& app,
                                          const TenantSpec& tenant,
                                          const std::string& tenant_segment,
                                          const GraphSim::Context& ctx) {
  const EntraError malformed{400, "invalid_request", 50027, "JWT token is invalid or malformed."};
  auto jwt = split_jwt(assertion);
  if (!jwt) return malformed;
  nlohmann::json header, claims;
  try {
    header = nlohmann::json::parse(jwt->header_json);
    claims = nlohmann::json::parse(jwt->payload_json);
  } catch (const nlohmann::json::exception&) {
    return malformed;
  }
  if (!header.is_object() || !claims.is_object()) return malformed;
  std::string alg = header.value("alg", "");
  if (alg != "RS256" && alg != "PS256") {
    return EntraError{400, "invalid_request", 50027,
                      "JWT token is invalid or malformed. The signing algorithm '" + alg +
                          "' is not supported; use RS256 or PS256."};
  }
  // Microsoft's two documentation versions disagree on the header; accept both
  // (RS256 + x5t, PS256 + x5t#S256).
  std::string x5t = header.value("x5t", "");
  std::string x5t_s256 = header.value("x5t#S256", "");
  std::string thumbprint_hex;
  const CertificateSpec* cert = nullptr;
  for (const auto& c : app.certificates) {
    if ((!x5t_s256.empty() && c.certificate.x5t_s256 == x5t_s256) ||
        (!x5t.empty() && c.certificate.x5t == x5t)) {
      cert = &c;
    }
  }
  if (auto raw = base64url_decode(!x5t_s256.empty() ? x5t_s256 : x5t))
    thumbprint_hex = hex_upper(*raw);
  if (cert == nullptr) {
    return EntraError{
        401, "invalid_client", 700027,
        "The certificate with identifier used to sign the client assertion is not registered on "
        "application. [Reason - The key was not found., Thumbprint of key used by client: '" +
            thumbprint_hex +
            "', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see "
            "configured keys for app Id '" +
            app.client_id + "'.]"};
  }
  JwsAlg jws_alg = alg == "PS256" ? JwsAlg::PS256 : JwsAlg::RS256;
  if (!verify_rsa_signature(cert->certificate.public_key.get(), jws_alg, jwt->signing_input,
                            jwt->signature)) {
    return EntraError{401, "invalid_client", 700027,
                      "Client assertion failed signature validation. [Reason - The provided "
                      "signature value did not match the expected signature value., Thumbprint "
                      "of key used by client: '" +
                          thumbprint_hex + "']"};
  }
  std::string iss = claims.value("iss", "");
  std::string sub = claims.value("sub", "");
  if (!equals_ignore_case(iss, app.client_id) || !equals_ignore_case(sub, app.client_id)) {
    return EntraError{
        401, "invalid_client", 700021,
        "Client assertion application identifier doesn't match 'client_id' "
        "parameter. Review the documentation at "
        "https://learn.microsoft.com/entra/identity-platform/certificate-credentials ."};
  }
  // aud: the token endpoint URL, addressed by tenant id or any of its domains, on
  // this simulator or on login.microsoftonline.com.
  std::vector<std::string> audiences;
  std::vector<std::string> names = tenant.domains;
  names.push_back(tenant.id);
  names.push_back(lower(tenant_segment));
  for (const auto& name : names) {
    audiences.push_back(ctx.base_url + "/" + name + "/oauth2/v2.0/token");
    audiences.push_back("https://login.microsoftonline.com/" + name + "/oauth2/v2.0/token");
  }
  std::vector<std::string> given;
  if (claims.contains("aud") && claims["aud"].is_string()) given.push_back(claims["aud"]);
  if (claims.contains("aud") && claims["aud"].is_array()) {
    for (const auto& a : claims["aud"]) {
      if (a.is_string()) given.push_back(a);
    }
  }
  bool aud_ok = false;
  for (const auto& g : given) {
    for (const auto& a : audiences) aud_ok = aud_ok || equals_ignore_case(g, a);
  }
  if (!aud_ok) {
    return EntraError{
        401, "invalid_client", 700023,
        "Client assertion audience claim does not match Realm issuer. Review the "
        "documentation at "
        "https://learn.microsoft.com/entra/identity-platform/certificate-credentials ."};
  }
  long long now = to_unix(ctx.now);
  constexpr long long kSkew = 300;  // tolerated clock skew, seconds
  bool has_exp = claims.contains("exp") && claims["exp"].is_number();
  long long exp = has_exp ? claims["exp"].get<long long>() : 0;
  long long nbf =
      claims.contains("nbf") && claims["nbf"].is_number() ? claims["nbf"].get<long long>() : now;
  if (!has_exp || nbf > now + kSkew || exp < now - kSkew) {
    return EntraError{
        400, "invalid_client", 700024,
        "Client assertion is not within its valid time range. Current time: " + unix_to_text(now) +
            ", assertion valid from " + unix_to_text(nbf) + ", expiry time of assertion " +
            (has_exp ? unix_to_text(exp) : "") +
            ". Review the documentation at "
            "https://learn.microsoft.com/entra/identity-platform/certificate-credentials ."};
  }
  return std::nullopt;
}

}  // namespace

std::string GraphSim::issue_access_token(const TenantSpec& tenant, const AppSpec& app,
                                         bool certificate_credential) {
  long long now = to_unix(clock_->now());
  nlohmann::ordered_json header = {{"typ", "JWT"},
                                   {"alg", "RS256"},
                                   {"x5t", signing_key_->key_id()},
                                   {"kid", signing_key_->key_id()}};
  nlohmann::ordered_json claims = {{"aud", kGraphResource},
                                   {"iss", "https://sts.windows.net/" + tenant.id + "/"},
                                   {"iat", now},
                                   {"nbf", now},
                                   {"exp", now + token_lifetime_},
                                   {"app_displayname", app.display_name},
                                   {"appid", app.client_id},
                                   {"appidacr", certificate_credential ? "2" : "1"},
                                   {"idp", "https://sts.windows.net/" + tenant.id + "/"},
                                   {"idtyp", "app"},
                                   {"oid", app.service_principal_id}};
  // Without admin consent Entra still issues a token, just without `roles`.
  if (app.admin_consent && !app.roles.empty()) claims["roles"] = app.roles;
  claims["sub"] = app.service_principal_id;
  claims["tid"] = tenant.id;
  claims["uti"] = base64url_encode(random_guid()).substr(0, 22);
  claims["ver"] = "1.0";
  std::string signing_input =
      base64url_encode(header.dump()) + "." + base64url_encode(claims.dump());
  return signing_input + "." + base64url_encode(signing_key_->sign_rs256(signing_input));
}

std::string token_request_client_id(const Request& request) {
  auto form = extdata::server::parse_query(request.body);
  if (auto id = form_value(form, "client_id")) return lower(*id);
  return "(none)";
}

Response GraphSim::handle_token(const Request& request, Context& ctx,
                                const std::string& tenant_segment) {
  auto form = extdata::server::parse_query(request.body);
  std::optional<std::string> client_id = form_value(form, "client_id");
  std::optional<std::string> client_secret = form_value(form, "client_secret");
  // client_secret_basic: "Basic base64(urlencode(id):urlencode(secret))" (RFC 6749 §2.3.1).
  if (auto auth = request.header("Authorization");
      auth && auth->size() > 6 && equals_ignore_case(auth->substr(0, 6), "Basic ")) {
    if (auto decoded = base64_decode(std::string_view(*auth).substr(6))) {
      size_t colon = decoded->find(':');
      if (colon != std::string::npos) {
        std::string id = extdata::server::percent_decode(decoded->substr(0, colon), true);
        std::string secret = extdata::server::percent_decode(decoded->substr(colon + 1), true);
        if (!client_id) client_id = id;
        if (!client_secret) client_secret = secret;
      }
    }
  }
  std::string counter_client = client_id ? lower(*client_id) : "(none)";
  auto fail = [&](const EntraError& e) {
    {
      std::lock_guard lock(fault_mu_);
      auto& c = token_counters_[counter_client];
      ++c.failed;
      ++c.errors[std::to_string(e.code)];
    }
    return entra_error(ctx, e);
  };

  if (request.method != "POST") {
    return fail(
        {400, "invalid_request", 900561,
         "The endpoint only accepts POST requests. Received a " + request.method + " request."});
  }
  std::string tenant_ref = lower(tenant_segment);
  auto grant_type = form_value(form, "grant_type");
  bool multi_tenant_alias =
      tenant_ref == "common" || tenant_ref == "consumers" || tenant_ref == "organizations";
  if (!multi_tenant_alias && !is_guid(tenant_ref) && !valid_domain(tenant_ref)) {
    return fail({400, "invalid_request", 900023,
                 "Specified tenant identifier '" + tenant_segment +
                     "' is neither a valid DNS name, nor a valid external domain."});
  }
  if (!grant_type) return fail(missing_parameter("grant_type"));
  if (*grant_type != "client_credentials") {
    return fail({400, "unsupported_grant_type", 70003,
                 "The app requested an unsupported grant type '" + *grant_type +
                     "'. graphsim simulates the client_credentials grant only."});
  }
  if (multi_tenant_alias) {
    return fail({400, "invalid_request", 9001023,
                 "The grant type is not supported over the /common or /consumers endpoints. "
                 "Please use the /organizations or tenant-specific endpoint."});
  }
  std::shared_lock lock(data_mu_);
  const TenantSpec* tenant = nullptr;
  for (const auto& t : fixture_.tenants) {
    if (t->id == tenant_ref ||
        std::find(t->domains.begin(), t->domains.end(), tenant_ref) != t->domains.end()) {
      tenant = t.get();
    }
  }
  if (tenant == nullptr) {
    return fail({400, "invalid_tenant", 90002,
                 "Tenant '" + tenant_segment +
                     "' not found. Check to make sure you have the correct tenant ID and are "
                     "signing into the correct cloud. Check with your subscription administrator, "
                     "this may happen if there are no active subscriptions for the tenant."});
  }
  if (!client_id || client_id->empty()) return fail(missing_parameter("client_id"));
  auto scope = form_value(form, "scope");
  if (!scope) return fail(missing_parameter("scope"));

  // scope: exactly one resource, as "{resource}/.default".
  std::vector<std::string> scopes;
  {
    size_t start = 0;
    while (start < scope->size()) {
      size_t end = scope->find(' ', start);
      if (end == std::string::npos) end = scope->size();
      if (end > start) scopes.push_back(scope->substr(start, end - start));
      start = end + 1;
    }
  }
  auto invalid_scope = [&]() -> EntraError {
    return {400, "invalid_scope", 70011,
            "The provided request must include a 'scope' input parameter. The provided value for "
            "the input parameter 'scope' is not valid. The scope " +
                *scope + " is not valid."};
  };
  if (scopes.empty()) return fail(invalid_scope());
  std::vector<std::string> resources;
  for (const auto& s : scopes) {
    constexpr std::string_view kDefault = "/.default";
    if (s.size() < kDefault.size() || s.substr(s.size() - kDefault.size()) != kDefault) {
      return fail({400, "invalid_scope", 1002012,
                   "The provided value for scope " + s +
                       " is not valid. Client credential flows must have a scope value with "
                       "/.default suffixed to the resource identifier (application ID URI)."});
    }
    std::string resource = s.substr(0, s.size() - kDefault.size());
    if (resource.empty()) return fail(invalid_scope());
    if (std::find(resources.begin(), resources.end(), resource) == resources.end()) {
      resources.push_back(resource);
    }
  }
  if (resources.size() > 1) {
    return fail({400, "invalid_scope", 700022,
                 "The provided value for the input parameter scope is not valid because it "
                 "contains more than one resource. Scope " +
                     *scope + " is not valid."});
  }
  std::string resource = resources.front();
  while (!resource.empty() && resource.back() == '/') resource.pop_back();
  if (!equals_ignore_case(resource, kGraphResource) && !equals_ignore_case(resource, kGraphAppId)) {
    return fail({400, "invalid_resource", 500011,
                 "The resource principal named " + resource +
                     " was not found in the tenant named " + tenant->display_name +
                     ". This can happen if the application has not been installed by the "
                     "administrator of the tenant or consented to by any user in the tenant. You "
                     "might have sent your authentication request to the wrong tenant."});
  }

  const AppSpec* app = nullptr;
  for (const auto& a : tenant->apps) {
    if (equals_ignore_case(a.client_id, *client_id)) app = &a;
  }
  if (app == nullptr) {
    return fail({400, "unauthorized_client", 700016,
                 "Application with identifier '" + *client_id +
                     "' was not found in the directory '" + tenant->display_name +
                     "'. This can happen if the application has not been installed by the "
                     "administrator of the tenant or consented to by any user in the tenant. You "
                     "may have sent your authentication request to the wrong tenant."});
  }

  bool certificate = false;
  auto assertion = form_value(form, "client_assertion");
  if (client_secret && !client_secret->empty()) {
    const SecretSpec* match = nullptr;
    for (const auto& s : app->secrets) {
      if (s.value == *client_secret) match = &s;
    }
    if (match == nullptr) {
      return fail({401, "invalid_client", 7000215,
                   "Invalid client secret provided. Ensure the secret being sent in the request "
                   "is the client secret value, not the client secret ID, for a secret added to "
                   "app '" +
                       app->client_id + "'."});
    }
    if (match->expires <= ctx.now) {
      return fail({401, "invalid_client", 7000222,
                   "The provided client secret keys for app '" + app->client_id +
                       "' are expired. Visit the Azure portal to create new keys for your app: "
                       "https://aka.ms/NewClientSecret, or consider using certificate "
                       "credentials for added security: https://aka.ms/certCreds."});
    }
  } else if (assertion && !assertion->empty()) {
    auto type = form_value(form, "client_assertion_type");
    if (!type || *type != kAssertionType) return fail(missing_parameter("client_assertion_type"));
    if (auto error = check_assertion(*assertion, *app, *tenant, tenant_segment, ctx)) {
      return fail(*error);
    }
    certificate = true;
  } else {
    return fail({401, "invalid_client", 7000218,
                 "The request body must contain the following parameter: 'client_assertion' or "
                 "'client_secret'."});
  }

  std::string token = issue_access_token(*tenant, *app, certificate);
  {
    std::lock_guard counter_lock(fault_mu_);
    ++token_counters_[counter_client].issued;
  }
  nlohmann::ordered_json body = {{"token_type", "Bearer"},
                                 {"expires_in", token_lifetime_},
                                 {"ext_expires_in", token_lifetime_},
                                 {"access_token", token}};
  Response r;
  r.status = 200;
  r.body = body.dump();
  r.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
  return r;
}

}  // namespace graphsim
