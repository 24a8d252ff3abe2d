#pragma once
// Explaining a credential: the Authenticate report as JSON, warnings read from token
// claims, secret-expiry warnings and the seconds-until-expiry gauge.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "auth/credential.h"

namespace extdata::auth {

// Runs credential.authenticate() and adds the expiry warnings.
Result<AuthReport> authenticate(Credential& credential, Clock& clock);

// {"ok": true, "token_type", "expires_in", "claims", "warnings"} (+ "access_token" when
// show_token).
nlohmann::json to_json(const AuthReport& report, bool show_token);

// The claims a user needs to understand a token: aud, iss, tid, appid, azp, roles, scp,
// exp, idtyp (when present). Empty object for opaque tokens.
nlohmann::json token_claims(std::string_view access_token);

struct ClaimContext {
  bool microsoft = false;   // token from Microsoft Entra ID (or its simulator)
  bool sharepoint = false;  // the source reads SharePoint through Graph
};
// Warnings about what a token lacks: no roles claim (admin consent not granted), no
// Sites.* role for SharePoint, an audience other than Graph for SharePoint.
std::vector<std::string> claim_warnings(const nlohmann::json& claims, const ClaimContext& context);

// Warnings for secrets that expire within their warning window or have expired.
std::vector<std::string> expiry_warnings(const Credential& credential, Clock::time_point now);
// Seconds until the earliest known expiry (negative once expired); nullopt when unknown.
std::optional<long long> seconds_until_expiry(const Credential& credential, Clock::time_point now);
// Sets extdata_secret_expiry_seconds{source="..."} (or drops it when no expiry is known).
void update_expiry_gauge(Metrics& metrics, const std::string& source, const Credential& credential,
                         Clock::time_point now);

inline constexpr const char* kSecretExpiryGauge = "extdata_secret_expiry_seconds";

// "2027-05-31"
std::string iso_date(Clock::time_point t);

}  // namespace extdata::auth
