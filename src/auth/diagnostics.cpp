#include "auth/diagnostics.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "auth/oauth2/jwt.h"
#include "core/time.h"

namespace extdata::auth {

namespace {

constexpr const char* kClaimNames[] = {"aud",   "iss", "tid", "appid", "azp",
                                       "roles", "scp", "exp", "idtyp"};

bool is_graph_audience(const nlohmann::json& aud) {
  auto one = [](const nlohmann::json& a) {
    if (!a.is_string()) return false;
    const std::string s = a.get<std::string>();
    return s == "https://graph.microsoft.com" || s == "https://graph.microsoft.com/" ||
           s == "00000003-0000-0000-c000-000000000000";
  };
  if (aud.is_array()) return std::any_of(aud.begin(), aud.end(), one);
  return one(aud);
}

std::string days_phrase(long long seconds) {
  const long long days = seconds / 86400;
  if (days == 0) return "within a day";
  return std::to_string(days) + (days == 1 ? " day" : " days");
}

}  // namespace

std::string iso_date(Clock::time_point t) {
  return format_date(t);
}

nlohmann::json token_claims(std::string_view access_token) {
  auto decoded = jwt::decode(access_token);
  nlohmann::json out = nlohmann::json::object();
  if (!decoded.ok()) return out;
  for (const char* name : kClaimNames)
    if (auto it = decoded->payload.find(name); it != decoded->payload.end()) out[name] = *it;
  return out;
}

std::vector<std::string> claim_warnings(const nlohmann::json& claims, const ClaimContext& context) {
  std::vector<std::string> out;
  if (!claims.is_object() || claims.empty()) return out;
  const bool microsoft = context.microsoft || claims.contains("tid");
  auto roles = claims.find("roles");
  const bool has_roles = roles != claims.end() && roles->is_array() && !roles->empty();
  if (microsoft && !has_roles)
    out.push_back(
        "the token has no roles claim: admin consent has not been granted for the "
        "application permissions (Entra ID: App registrations → API permissions → Grant "
        "admin consent)");
  if (context.sharepoint) {
    if (has_roles && std::none_of(roles->begin(), roles->end(), [](const nlohmann::json& r) {
          return r.is_string() && r.get<std::string>().rfind("Sites.", 0) == 0;
        }))
      out.push_back(
          "the token grants no Sites.* role, so SharePoint lists cannot be read: add the "
          "Microsoft Graph application permission Sites.Read.All (or Sites.Selected) and grant "
          "admin consent");
    if (auto aud = claims.find("aud"); aud != claims.end() && !is_graph_audience(*aud))
      out.push_back("the token's audience is " + aud->dump() +
                    ", not Microsoft Graph: set scope to https://graph.microsoft.com/.default");
  }
  return out;
}

std::vector<std::string> expiry_warnings(const Credential& credential, Clock::time_point now) {
  std::vector<std::string> out;
  for (const auto& secret : credential.expiring_secrets()) {
    const long long left =
        std::chrono::duration_cast<std::chrono::seconds>(secret.expires_at - now).count();
    const std::string date = iso_date(secret.expires_at);
    const std::string renew = secret.what.rfind("client secret", 0) == 0
                                  ? "create a new one under Certificates & secrets and update "
                                    "this source"
                                  : "renew it, register the new one and update this source";
    if (left <= 0) {
      out.push_back("the " + secret.what + " expired on " + date + " (" + days_phrase(-left) +
                    " ago): " + renew);
    } else if (left <= static_cast<long long>(secret.warning_days) * 86400) {
      out.push_back("the " + secret.what + " expires in " + days_phrase(left) + " (" + date +
                    "): " + renew);
    }
  }
  return out;
}

std::optional<long long> seconds_until_expiry(const Credential& credential, Clock::time_point now) {
  std::optional<long long> earliest;
  for (const auto& secret : credential.expiring_secrets()) {
    const long long left =
        std::chrono::duration_cast<std::chrono::seconds>(secret.expires_at - now).count();
    if (!earliest || left < *earliest) earliest = left;
  }
  return earliest;
}

void update_expiry_gauge(Metrics& metrics, const std::string& source, const Credential& credential,
                         Clock::time_point now) {
  if (auto left = seconds_until_expiry(credential, now)) {
    metrics
        .gauge(kSecretExpiryGauge, {{"source", source}},
               "Seconds until the source's earliest secret or certificate expiry")
        .set(static_cast<double>(*left));
  } else {
    metrics.drop_gauges(kSecretExpiryGauge, {"source", source});
  }
}

Result<AuthReport> authenticate(Credential& credential, Clock& clock) {
  EXTDATA_ASSIGN_OR_RETURN(AuthReport report, credential.authenticate());
  for (auto& w : expiry_warnings(credential, clock.now())) report.warnings.push_back(std::move(w));
  return report;
}

nlohmann::json to_json(const AuthReport& report, bool show_token) {
  nlohmann::json out = {
      {"ok", true},
      {"token_type", report.token_type},
      {"expires_in", report.expires_in ? nlohmann::json(*report.expires_in) : nlohmann::json()},
      {"claims", report.claims},
      {"warnings", report.warnings},
  };
  if (show_token && !report.token.empty()) out["access_token"] = report.token;
  return out;
}

}  // namespace extdata::auth
