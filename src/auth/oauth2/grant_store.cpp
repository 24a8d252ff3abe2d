#include "auth/oauth2/grant_store.h"

#include "core/redact.h"
#include "core/time.h"

namespace extdata::auth {

nlohmann::json StoredGrant::to_json() const {
  return {{"refresh_token", refresh_token},
          {"access_token", access_token},
          {"access_expires_at", access_expires_at},
          {"connected_by", connected_by},
          {"connected_at", connected_at},
          {"scope", scope},
          {"refreshed_at", refreshed_at},
          {"refreshes", refreshes},
          {"reconnect_needed", reconnect_needed},
          {"reconnect_reason", reconnect_reason},
          {"lease_until", lease_until},
          {"lease_owner", lease_owner}};
}

StoredGrant StoredGrant::from_json(const nlohmann::json& j) {
  StoredGrant g;
  if (!j.is_object()) return g;
  g.refresh_token = j.value("refresh_token", "");
  g.access_token = j.value("access_token", "");
  g.access_expires_at = j.value("access_expires_at", std::int64_t{0});
  g.connected_by = j.value("connected_by", "");
  g.connected_at = j.value("connected_at", std::int64_t{0});
  g.scope = j.value("scope", "");
  g.refreshed_at = j.value("refreshed_at", std::int64_t{0});
  g.refreshes = j.value("refreshes", 0);
  g.reconnect_needed = j.value("reconnect_needed", false);
  g.reconnect_reason = j.value("reconnect_reason", "");
  g.lease_until = j.value("lease_until", std::int64_t{0});
  g.lease_owner = j.value("lease_owner", "");
  if (!g.refresh_token.empty()) register_secret(g.refresh_token);
  if (!g.access_token.empty()) register_secret(g.access_token);
  return g;
}

nlohmann::json StoredGrant::public_json() const {
  auto at = [](std::int64_t t) -> nlohmann::json {
    if (t <= 0) return nullptr;
    return format_rfc3339(Clock::time_point{std::chrono::seconds{t}});
  };
  return {{"state", reconnect_needed ? "reconnect_needed" : "connected"},
          {"connected_by", connected_by},
          {"connected_at", at(connected_at)},
          {"scope", scope},
          {"token_expires_at", at(access_expires_at)},
          {"refreshed_at", at(refreshed_at)},
          {"refreshes", refreshes},
          {"reconnect_reason",
           reconnect_needed ? nlohmann::json(redact(reconnect_reason)) : nlohmann::json(nullptr)}};
}

}  // namespace extdata::auth
