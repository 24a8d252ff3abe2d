#pragma once
// type: oauth2 — the client-credentials grant with a client secret or a certificate,
// tokens shared through the TokenCache, refreshed ahead of expiry and after a 401.
#include "auth/credential.h"
#include "auth/oauth2/client_credentials.h"
#include "auth/oauth2/token_cache.h"

namespace extdata::auth {

struct OAuth2Settings {
  ClientCredentialsConfig grant;
  std::optional<Clock::time_point> secret_expires;  // client_secret_expires (00:00 UTC)
  int expiry_warning_days = 30;
  bool microsoft = false;
};

// Reads and checks an oauth2 `auth:` object. Errors carry details["key"].
Result<OAuth2Settings> parse_oauth2_settings(const nlohmann::json& auth);

class OAuth2Credential final : public Credential {
 public:
  static Result<std::shared_ptr<Credential>> create(const nlohmann::json& auth,
                                                    const CredentialDeps& deps);
  OAuth2Credential(OAuth2Settings settings, const CredentialDeps& deps);

  std::string_view type() const override { return "oauth2"; }
  Status apply(http::Request& request) override;
  bool on_unauthorized(const http::Request& sent, const http::Response& response) override;
  Result<AuthReport> authenticate() override;
  std::vector<ExpiringSecret> expiring_secrets() const override;
  Result<std::string> access_token() override;
  std::string token_endpoint() const override { return settings_.grant.token_url; }
  std::optional<Clock::time_point> cached_token_expiry() const override;

  // A token from the cache (or the endpoint); for sources that need the token itself.
  Result<Token> token();
  const OAuth2Settings& settings() const { return settings_; }

 private:
  Result<Token> fetch_counted();

  OAuth2Settings settings_;
  std::string cache_key_;
  http::HttpClient& http_;
  Clock& clock_;
  Metrics& metrics_;
  std::shared_ptr<TokenCache> cache_;
  bool sharepoint_;
  std::string source_;
};

}  // namespace extdata::auth
