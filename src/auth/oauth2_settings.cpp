#include "auth/oauth2_settings.h"

namespace extdata::auth {

namespace s = config::settings;

const config::Schema& client_certificate_settings() {
  static const config::Schema table{
      .name = "client_certificate",
      .settings = {
          s::string("certificate", "PEM certificate text or a path to a PEM file", true),
          s::secret("private_key", "PEM private key text or a path to a PEM file", true),
          s::choice("algorithm", {"RS256", "PS256"}, "RS256",
                    "Assertion signature: RS256 with x5t (default, what Entra accepts "
                    "everywhere) or PS256 with x5t#S256"),
      }};
  return table;
}

const config::Schema& oauth2_settings() {
  static const config::Schema table{
      .name = "oauth2",
      .settings =
          {
              s::choice("grant", {"client_credentials", "authorization_code", "device_code"},
                        "client_credentials",
                        "client_credentials (the app itself), or on behalf of a user who "
                        "connects once: authorization_code (sign-in in a browser, PKCE) or "
                        "device_code (a code entered on another device)"),
              s::binds_secrets(s::url("token_url",
                                      "Token endpoint; may contain {tenant} (derived from "
                                      "tenant for Microsoft when left out)"),
                               config::SecretBinding::value),
              s::binds_secrets(s::url("authorize_url",
                                      "authorization_code: the provider's authorization "
                                      "endpoint (derived from tenant for Microsoft)"),
                               config::SecretBinding::value),
              s::binds_secrets(s::url("device_authorization_url",
                                      "device_code: the RFC 8628 device authorization "
                                      "endpoint (derived from tenant for Microsoft)"),
                               config::SecretBinding::value),
              s::binds_secrets(s::url("revocation_url",
                                      "RFC 7009 revocation endpoint: the refresh token is "
                                      "revoked there when the source is deleted"),
                               config::SecretBinding::value),
              s::binds_secrets(
                  s::string("tenant", "Fills {tenant} in token_url (directory GUID or domain)"),
                  config::SecretBinding::value),
              s::string("client_id", "Application (client) ID", true),
              s::secret("client_secret",
                        "Client secret value (Entra ID: Certificates & secrets → Value, not "
                        "Secret ID); optional for a public client with a user grant"),
              s::object("client_certificate", &client_certificate_settings(),
                        "Certificate credential instead of a secret"),
              s::string_or_list("scope", "Scope(s), e.g. https://graph.microsoft.com/.default"),
              s::choice("client_auth", {"post", "basic"}, "post",
                        "How the client authenticates: form fields (post) or HTTP Basic"),
              s::map("extra_params",
                     "Extra parameters: of the token request (audience, resource …), or for a "
                     "user grant of the authorization request (prompt, access_type …)"),
              s::date("client_secret_expires", "Expiry date of the client secret, for warnings"),
              s::integer("expiry_warning_days",
                         "Warn this many days before the secret or certificate expires", 30, 0,
                         3650),
          },
      .check = check_oauth2_rules};
  return table;
}

std::vector<config::Setting> oauth2_settings_named(const std::vector<std::string_view>& keys) {
  std::vector<config::Setting> out;
  for (auto key : keys)
    if (const config::Setting* st = oauth2_settings().find(key)) out.push_back(*st);
  return out;
}

std::optional<SecretRuleViolation> client_secret_rule(bool has_secret, bool has_certificate) {
  if (has_secret && has_certificate)
    return SecretRuleViolation{"auth.conflicting_keys", "client_certificate",
                               "give client_secret or client_certificate, not both", ""};
  if (!has_secret && !has_certificate)
    return SecretRuleViolation{"config.missing_key", "client_secret",
                               "needs client_secret or client_certificate",
                               "paste the secret's Value from Certificates & secrets, not its ID"};
  return std::nullopt;
}

config::Check check_oauth2_rules(const nlohmann::json& object) {
  // A user grant may be a public client: no secret, and no certificate.
  if (auto grant = object.find("grant");
      grant != object.end() && grant->is_string() && *grant != "client_credentials")
    return std::nullopt;
  return check_client_secret_rule(object);
}

config::Check check_client_secret_rule(const nlohmann::json& object) {
  auto present = [&](const char* key) {
    auto it = object.find(key);
    return it != object.end() && !it->is_null();
  };
  if (auto v = client_secret_rule(present("client_secret"), present("client_certificate")))
    return std::make_pair(v->key, v->message);
  return std::nullopt;
}

}  // namespace extdata::auth
