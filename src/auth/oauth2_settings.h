#pragma once
// The settings of the OAuth 2.0 client-credentials grant: the `auth: {type: oauth2}` table,
// reused key by key by kinds that build an oauth2 credential themselves (sharepoint-list),
// and the one rule that a client proves itself with a secret or a certificate.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/schema.h"

namespace extdata::auth {

const config::Schema& oauth2_settings();
const config::Schema& client_certificate_settings();

// The oauth2 settings named, in that order, for a kind that embeds them.
std::vector<config::Setting> oauth2_settings_named(const std::vector<std::string_view>& keys);

// "needs client_secret or client_certificate", and not both.
struct SecretRuleViolation {
  std::string code;  // config.missing_key | auth.conflicting_keys
  std::string key;
  std::string message;
  std::string hint;
};
std::optional<SecretRuleViolation> client_secret_rule(bool has_secret, bool has_certificate);
// The rule as a settings-table check over a validated object.
config::Check check_client_secret_rule(const nlohmann::json& object);
// The oauth2 table's check: the secret rule for client_credentials only.
config::Check check_oauth2_rules(const nlohmann::json& object);

}  // namespace extdata::auth
