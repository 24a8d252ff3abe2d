#pragma once
// Where a user's grant lives between processes and restarts: the refresh token (sealed in
// the store like every secret), the last access token, who connected and when, and whether
// the provider has revoked the grant (reconnect needed). The seam between auth and the store
// (api/oauth_connect.h implements it on store::Store).
//
// Writes are compare-and-swap on a generation the store bumps: a rotated refresh token is
// written only over the grant it was redeemed from, and a process that wants to redeem first
// claims the grant for a short lease, so two processes on one store never redeem the same
// rotating refresh token.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/error.h"

namespace extdata::auth {

struct StoredGrant {
  std::string refresh_token;
  std::string access_token;
  std::int64_t access_expires_at = 0;  // Unix seconds
  std::string connected_by;            // who signed in, in words
  std::int64_t connected_at = 0;
  std::string scope;  // as granted
  std::int64_t refreshed_at = 0;
  int refreshes = 0;              // since connected
  bool reconnect_needed = false;  // the provider refused the refresh token
  std::string reconnect_reason;   // its words
  std::int64_t lease_until = 0;   // a process is redeeming the refresh token until then
  std::string lease_owner;
  std::int64_t generation = 0;  // set by the store; 0 = not stored

  nlohmann::json to_json() const;  // everything, tokens included: only for sealing
  static StoredGrant from_json(const nlohmann::json& j);
  // What may be shown: no token, only who, when, scopes, expiry and state.
  nlohmann::json public_json() const;
};

class GrantStore {
 public:
  virtual ~GrantStore() = default;
  virtual Result<std::optional<StoredGrant>> load(const std::string& source) = 0;
  // Writes `grant` when the stored generation is `expected` (0: none stored yet) and sets
  // grant.generation to the new one; false when another writer came first.
  virtual Result<bool> save(const std::string& source, StoredGrant& grant,
                            std::int64_t expected) = 0;
};

}  // namespace extdata::auth
