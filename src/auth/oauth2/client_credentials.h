#pragma once
// The OAuth 2.0 client-credentials grant (RFC 6749 §4.4): one token request, with a
// client secret (client_secret_post / client_secret_basic) or a certificate
// (private_key_jwt: a signed client assertion, RFC 7523), and its answer parsed
// tolerantly (expires_in as number or string).
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "auth/oauth2/client_certificate.h"
#include "auth/oauth2/jwt.h"
#include "auth/oauth2/token_cache.h"
#include "core/clock.h"
#include "core/error.h"
#include "http/http_client.h"

namespace extdata::auth {

enum class ClientAuth { post, basic };

struct ClientCredentialsConfig {
  std::string token_url;  // {tenant} already filled in
  std::string client_id;
  std::string client_secret;  // empty when a certificate is used
  std::shared_ptr<const ClientCertificate> certificate;
  jwt::Algorithm assertion_algorithm = jwt::Algorithm::rs256;
  std::vector<std::string> scopes;
  ClientAuth client_auth = ClientAuth::post;
  std::vector<std::pair<std::string, std::string>> extra_params;
};

inline constexpr std::string_view kJwtBearerAssertionType =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
// Lifetime of a client assertion (Microsoft documents 5–10 minutes).
inline constexpr std::chrono::seconds kAssertionLifetime{600};

// A random (version 4) UUID, e.g. for a client assertion's jti.
std::string random_uuid();

// The token cache key: token URL, client ID, scope, extra parameters and a fingerprint of
// the secret or certificate (a hash, never the secret itself).
std::string token_cache_key(const ClientCredentialsConfig& config);

// The signed client assertion (aud = token URL, iss = sub = client ID, fresh jti, nbf/iat =
// now, exp = now + 10 min; header x5t for RS256, x5t#S256 for PS256).
Result<std::string> client_assertion(const ClientCredentialsConfig& config, Clock::time_point now);

Result<http::Request> build_token_request(const ClientCredentialsConfig& config,
                                          Clock::time_point now);

// Reads a token endpoint answer: translated errors for 4xx/5xx, auth.token_response_invalid
// when it is not JSON or lacks access_token.
Result<Token> parse_token_response(const http::Response& response, Clock::time_point requested_at);

// Sends one token request. Retries of 429/5xx/network errors are the HTTP client's job;
// an answered 4xx is final.
Result<Token> request_token(const ClientCredentialsConfig& config, http::HttpClient& http,
                            Clock& clock);

}  // namespace extdata::auth
