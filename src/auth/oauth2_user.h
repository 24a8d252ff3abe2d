#pragma once
// type: oauth2 with grant: authorization_code | device_code — a source that acts on behalf
// of a user who signed in once (Connect). The refresh token lives in the store (GrantStore,
// sealed); access tokens come from redeeming it, single-flight per process (TokenCache) and
// across processes on one store (a lease taken by compare-and-swap before redeeming). A
// rotated refresh token is written to the store before the new access token is used; a
// refused one (invalid_grant) marks the source *reconnect needed*
// (extdata_source_reconnect_needed{source} = 1) and every fetch says so until someone
// connects again.
#include <atomic>
#include <memory>

#include "auth/credential.h"
#include "auth/oauth2/grant_store.h"
#include "auth/oauth2/token_cache.h"
#include "auth/oauth2/user_grant.h"

namespace extdata::auth {

inline constexpr const char* kReconnectGauge = "extdata_source_reconnect_needed";

// Reads an oauth2 `auth:` object whose grant is authorization_code or device_code. For
// Microsoft Entra ID (tenant set, or a login.microsoftonline.com token URL) the URLs derive
// from the tenant and offline_access is added to scope when missing (and said so in notes).
Result<UserGrantConfig> parse_user_grant_settings(const nlohmann::json& auth, UserGrantType type);

// The grant type named by an oauth2 `auth:` object; nullopt for client_credentials.
Result<std::optional<UserGrantType>> user_grant_type(const nlohmann::json& auth);

class UserOAuth2Credential final : public Credential {
 public:
  static Result<std::shared_ptr<Credential>> create(const nlohmann::json& auth,
                                                    const CredentialDeps& deps, UserGrantType type);
  UserOAuth2Credential(UserGrantConfig config, const CredentialDeps& deps);

  std::string_view type() const override { return "oauth2"; }
  Status apply(http::Request& request) override;
  bool on_unauthorized(const http::Request& sent, const http::Response& response) override;
  // Redeems the refresh token now (a rotating one is rotated) and reads the claims.
  Result<AuthReport> authenticate() override;
  Result<std::string> access_token() override;
  std::string token_endpoint() const override { return config_.token_url; }
  std::optional<Clock::time_point> cached_token_expiry() const override;

  const UserGrantConfig& config() const { return config_; }
  const std::string& source() const { return source_; }
  http::HttpClient& token_http() { return http_; }
  Clock& clock() { return clock_; }

  // Stores a new connection from a code exchange or a device sign-in (replacing any older
  // one, reconnect-needed cleared) and drops the cached access token.
  Result<StoredGrant> connect(const UserTokens& tokens);
  // The stored connection, nullopt when never connected.
  Result<std::optional<StoredGrant>> connection();

  // The credential behind a source when it is a user grant, else null.
  static std::shared_ptr<UserOAuth2Credential> of(const std::shared_ptr<Credential>& credential);

  // How long a process may hold the grant while it redeems the refresh token, and how long
  // another waits for it before giving up.
  static constexpr std::chrono::seconds kLease{60};
  static constexpr std::chrono::milliseconds kLeasePoll{250};

 private:
  Result<Token> token();
  Result<Token> refresh_through_store(bool force);
  Result<Token> redeem_claimed(const StoredGrant& claim);
  Error not_connected() const;
  void set_reconnect_gauge(bool needed);

  UserGrantConfig config_;
  std::string cache_key_;
  std::string owner_;  // this credential's lease name
  http::HttpClient& http_;
  Clock& clock_;
  Metrics& metrics_;
  std::shared_ptr<TokenCache> cache_;
  std::shared_ptr<GrantStore> grants_;
  std::string source_;
  std::atomic<bool> distrust_stored_{false};  // after a 401: redeem, do not reuse the stored token
};

}  // namespace extdata::auth
