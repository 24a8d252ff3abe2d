#pragma once
// OAuth 2.0 on behalf of a user: the authorization-code grant with PKCE (RFC 6749 §4.1,
// RFC 7636, always S256) and OpenID Connect's nonce, the device authorization grant
// (RFC 8628), refresh-token redemption (RFC 6749 §6) and revocation (RFC 7009). Pure
// protocol: requests built, answers read; nothing is stored here (oauth2_user.h keeps the
// refresh token through a GrantStore). Token requests are never retried by the HTTP client:
// a code and a rotating refresh token are single-use.
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "auth/oauth2/client_credentials.h"
#include "auth/oauth2/token_cache.h"
#include "core/clock.h"
#include "core/error.h"
#include "http/http_client.h"

namespace extdata::auth {

enum class UserGrantType { authorization_code, device_code };

struct UserGrantConfig {
  UserGrantType type = UserGrantType::authorization_code;
  std::string authorize_url;  // authorization_code
  std::string token_url;
  std::string device_authorization_url;  // device_code
  std::string revocation_url;            // optional (RFC 7009)
  std::string client_id;
  std::string client_secret;  // empty for a public client
  ClientAuth client_auth = ClientAuth::post;
  std::vector<std::string> scopes;
  // Added to the authorization request (prompt=consent, access_type=offline, login_hint …).
  std::vector<std::pair<std::string, std::string>> extra_params;
  bool microsoft = false;
  // What extdata changed and says so (e.g. offline_access added to scope).
  std::vector<std::string> notes;
};

// A random string of `bytes` random bytes, base64url without padding.
std::string random_urlsafe(size_t bytes);
// RFC 7636 §4.2: base64url(SHA-256(verifier)).
std::string code_challenge_s256(std::string_view verifier);

// What a Connect starts with: the URL the user opens, and what the callback is checked
// against (kept by the caller until the callback comes back, once).
struct AuthorizationStart {
  std::string url;
  std::string state;
  std::string nonce;
  std::string code_verifier;
  std::string redirect_uri;
};
Result<AuthorizationStart> begin_authorization(const UserGrantConfig& config,
                                               const std::string& redirect_uri);

// What a token endpoint answered for a user grant.
struct UserTokens {
  Token access;
  std::string refresh_token;  // empty when none was issued
  std::string id_token;
  nlohmann::json id_claims = nlohmann::json::object();  // decoded, not verified
};

// Redeems an authorization code with its PKCE verifier. auth.no_refresh_token when the
// provider issued no refresh token (offline access not granted).
Result<UserTokens> redeem_code(const UserGrantConfig& config, const std::string& code,
                               const std::string& code_verifier, const std::string& redirect_uri,
                               http::HttpClient& http, Clock& clock);

// Redeems a refresh token. The answer's refresh_token is empty when the provider keeps the
// old one (no rotation).
Result<UserTokens> redeem_refresh_token(const UserGrantConfig& config,
                                        const std::string& refresh_token, http::HttpClient& http,
                                        Clock& clock);

// An ID token, when one came back, must carry the nonce of the authorization request.
Status check_nonce(const UserTokens& tokens, const std::string& nonce);

// Who signed in, in words: name and email / preferred_username / sub of the ID token, else
// the access token's claims; "unknown user" when neither says.
std::string signed_in_user(const UserTokens& tokens);

// RFC 8628 §3.2.
struct DeviceAuthorization {
  std::string device_code;
  std::string user_code;
  std::string verification_uri;
  std::string verification_uri_complete;  // may be empty
  std::chrono::seconds interval{5};
  Clock::time_point expires_at{};
};
Result<DeviceAuthorization> start_device_authorization(const UserGrantConfig& config,
                                                       http::HttpClient& http, Clock& clock);

// Polls the token endpoint every `interval` (clock.sleep_for) until the user has approved:
// authorization_pending waits another interval, slow_down adds 5 seconds to it for good
// (§3.5); access_denied and expired_token end with auth.access_denied /
// auth.device_code_expired. `on_poll` (optional) sees each pending answer.
Result<UserTokens> poll_device_authorization(
    const UserGrantConfig& config, const DeviceAuthorization& device, http::HttpClient& http,
    Clock& clock, const std::function<void(std::string_view error)>& on_poll = {});

// RFC 7009: revokes a refresh token (token_type_hint=refresh_token). An unreachable
// endpoint or an error answer is an error; 200 is success whatever the body says.
Status revoke_token(const UserGrantConfig& config, const std::string& refresh_token,
                    http::HttpClient& http);

}  // namespace extdata::auth
