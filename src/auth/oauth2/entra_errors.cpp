#include "auth/oauth2/entra_errors.h"

#include <cctype>
#include <nlohmann/json.hpp>

#include "core/redact.h"

namespace extdata::auth {

namespace {

struct Explanation {
  long long aadsts;
  const char* code;
  const char* message;
  const char* hint;
};

// Codes a user meets while setting up a data source (reference §1).
constexpr Explanation kEntra[] = {
    {7000215, "auth.invalid_secret", "Microsoft Entra ID rejected the client secret",
     "the secret value is wrong or the secret was deleted: under Certificates & secrets, create "
     "a new client secret and copy its Value (it is shown only once)"},
    {7000222, "auth.secret_expired", "the client secret has expired",
     "create a new client secret under Certificates & secrets in the app registration and "
     "update this source (client_secret and client_secret_expires)"},
    {700016, "auth.unknown_client", "no application with this client ID exists in the tenant",
     "check client_id (the Application (client) ID) and that the token URL names the tenant "
     "where the app is registered"},
    {90002, "auth.unknown_tenant", "the tenant in the token URL was not found",
     "check the tenant ID or domain (Directory (tenant) ID on the app's Overview page)"},
    {900023, "auth.invalid_tenant",
     "the tenant in the token URL is neither a GUID nor a valid domain",
     "use the Directory (tenant) ID or a verified domain such as contoso.onmicrosoft.com"},
    {70011, "auth.invalid_scope", "the scope is malformed",
     "use the resource's .default scope, e.g. https://graph.microsoft.com/.default"},
    {1002012, "auth.invalid_scope",
     "the client-credentials grant needs a scope ending in /.default",
     "scope must be https://graph.microsoft.com/.default (permissions such as Sites.Read.All "
     "are granted on the app registration, not requested in the scope)"},
    {700022, "auth.invalid_scope", "the scope names more than one resource",
     "request one resource per source, e.g. only https://graph.microsoft.com/.default"},
    {900144, "auth.missing_parameter", "the token request lacks a required parameter",
     "the upstream description names it; check extra_params"},
    {7000218, "auth.missing_credential",
     "the token request carried neither a client secret nor a client assertion",
     "set client_secret or client_certificate for this source"},
    {700027, "auth.certificate_not_registered",
     "the certificate that signed the client assertion is not registered on the application",
     "upload the certificate (public part) under Certificates & secrets, or use the one that "
     "is registered"},
    {700024, "auth.assertion_time_invalid",
     "the client assertion is not within its valid time range",
     "the clock of this machine is probably wrong: synchronise it (NTP)"},
    {9001023, "auth.tenant_required",
     "client credentials cannot be used with /common, /organizations or /consumers",
     "put your tenant ID or domain in the token URL (tenant: ...)"},
};

struct RfcExplanation {
  const char* error;
  const char* code;
  const char* message;
  const char* hint;
};

// RFC 6749 §5.2 (and RFC 8707 invalid_target).
constexpr RfcExplanation kRfc[] = {
    {"invalid_client", "auth.invalid_client", "the token endpoint did not accept the client",
     "check client_id and the client secret or certificate, and client_auth (post or basic)"},
    {"invalid_grant", "auth.invalid_grant", "the token endpoint rejected the grant",
     "the credentials are invalid, expired or revoked: check them on the server"},
    {"unauthorized_client", "auth.unauthorized_client",
     "this client is not allowed to use the client-credentials grant",
     "enable the client_credentials grant for this client on the authorization server"},
    {"unsupported_grant_type", "auth.unsupported_grant_type",
     "the token endpoint does not support the client-credentials grant",
     "check token_url, or enable the grant on the server"},
    {"invalid_scope", "auth.invalid_scope", "the token endpoint rejected the scope",
     "check scope against the scopes the server allows for this client"},
    {"invalid_request", "auth.invalid_request", "the token endpoint called the request invalid",
     "a parameter is missing or repeated; see the upstream description and extra_params"},
    {"invalid_target", "auth.invalid_target",
     "the token endpoint rejected the requested resource or audience",
     "check the resource / audience in extra_params"},
};

std::string trimmed(std::string_view s, size_t max) {
  std::string out(s.substr(0, max));
  if (s.size() > max) out += "…";
  return out;
}

std::string first_line(const std::string& s) {
  const size_t eol = s.find_first_of("\r\n");
  return eol == std::string::npos ? s : s.substr(0, eol);
}

std::string string_field(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number()) return it->dump();
  return {};
}

std::optional<long long> code_from(const nlohmann::json& j) {
  auto codes = j.find("error_codes");
  if (codes != j.end() && codes->is_array() && !codes->empty() &&
      codes->front().is_number_integer())
    return codes->front().get<long long>();
  // The first "AADSTS" followed by 1-10 digits (a linear scan of the upstream's text).
  const std::string description = string_field(j, "error_description");
  for (size_t at = description.find("AADSTS"); at != std::string::npos;
       at = description.find("AADSTS", at + 6)) {
    size_t end = at + 6;
    while (end < description.size() && end - (at + 6) < 10 &&
           std::isdigit(static_cast<unsigned char>(description[end])))
      ++end;
    if (end > at + 6) return std::stoll(description.substr(at + 6, end - (at + 6)));
  }
  return std::nullopt;
}

constexpr std::string_view kSecretIdHint =
    "the secret ID was probably pasted instead of the secret value: copy the Value column "
    "under Certificates & secrets (it is shown only once; create a new secret if needed)";

// Entra shows a secret's ID as a GUID (8-4-4-4-12 hex digits) beside its value, which never
// has that shape.
bool looks_like_guid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

}  // namespace

void explain_rejected_secret(Error& error, std::string_view sent_secret) {
  if (error.code == "auth.invalid_secret" && looks_like_guid(sent_secret))
    error.hint = std::string(kSecretIdHint);
}

std::optional<long long> aadsts_code(std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return code_from(j);
}

Error translate_token_error(long http_status, std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("error")) {
    Error e("auth.token_request_failed",
            "the token endpoint answered HTTP " + std::to_string(http_status) +
                " without an OAuth error",
            http_status >= 500 ? "the server failed; try again later"
                               : "check token_url: it may not be a token endpoint");
    e.with("http_status", std::to_string(http_status));
    if (!body.empty()) e.with("body", trimmed(redact(body), 300));
    return e;
  }

  const std::string error = string_field(j, "error");
  const std::string description = redact(string_field(j, "error_description"));
  Error e;
  const auto aadsts = code_from(j);
  const Explanation* entra = nullptr;
  if (aadsts)
    for (const auto& x : kEntra)
      if (x.aadsts == *aadsts) entra = &x;
  if (entra) {
    e = Error(entra->code, entra->message, entra->hint);
  } else {
    const RfcExplanation* rfc = nullptr;
    for (const auto& x : kRfc)
      if (error == x.error) rfc = &x;
    if (rfc) {
      e = Error(rfc->code, rfc->message, rfc->hint);
    } else {
      e = Error("auth.token_request_failed",
                "the token endpoint refused the request" +
                    (error.empty() ? std::string() : " (" + error + ")"),
                "see the upstream description");
    }
    // Unknown AADSTS codes still deserve the upstream's own first line.
    if (aadsts && !description.empty()) e.message += ": " + trimmed(first_line(description), 200);
  }
  e.with("http_status", std::to_string(http_status));
  if (!error.empty()) e.with("error", error);
  if (!description.empty()) e.with("error_description", trimmed(description, 500));
  if (aadsts) e.with("aadsts", std::to_string(*aadsts));
  for (const char* field : {"trace_id", "correlation_id", "timestamp", "error_uri"}) {
    std::string v = string_field(j, field);
    if (!v.empty()) e.with(field, trimmed(v, 200));
  }
  return e;
}

}  // namespace extdata::auth
