#pragma once
// How a source proves who it is to an upstream. One interface, one file pair per method
// (none, basic, bearer, api_key, custom_headers, ntlm, oauth2), each declaring its type,
// settings table and factory (an AuthMethod); one registration line in methods.cpp.
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/catalog.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/metrics.h"
#include "http/http_client.h"

namespace extdata::auth {

class TokenCache;
class GrantStore;

// What a credential may use. References must outlive the credential.
struct CredentialDeps {
  http::HttpClient& token_http;  // for token endpoints
  Clock& clock;
  Metrics& metrics;
  std::shared_ptr<TokenCache> token_cache;  // shared between sources; created when null
  bool sharepoint = false;                  // warn when no Sites.* role is granted
  std::string source_name;                  // metric label
  // Where user grants (authorization_code, device_code) keep their refresh token; null in
  // processes that only validate (such a credential says "not connected").
  std::shared_ptr<GrantStore> grants = nullptr;
};

// A secret or certificate whose end of validity is known.
struct ExpiringSecret {
  std::string what;  // "client secret", "client certificate (CN=...)"
  Clock::time_point expires_at;
  int warning_days = 30;
};

// What the Authenticate button learned.
struct AuthReport {
  std::string method;                                // the credential type ("oauth2", "basic", ...)
  std::string token_type;                            // "Bearer", "Basic", "NTLM", "ApiKey", ...
  std::optional<long long> expires_in;               // seconds, when the credential expires
  nlohmann::json claims = nlohmann::json::object();  // decoded token claims (subset)
  std::vector<std::string> warnings;
  std::string token;  // the access token; printed only on request (--show-token)
};

class Credential {
 public:
  virtual ~Credential() = default;
  virtual std::string_view type() const = 0;

  // Adds this credential to an outgoing request (headers, query, http_auth). OAuth2 gets a
  // token from the cache, which may ask the token endpoint.
  virtual Status apply(http::Request& request) = 0;

  // The resource answered 401 to `sent` (as apply() left it). True when applying again
  // gives a different credential worth one retry (a cached token was dropped).
  virtual bool on_unauthorized(const http::Request& sent, const http::Response& response) {
    (void)sent;
    (void)response;
    return false;
  }

  // Checks the credential as far as it can without calling the resource: OAuth2 asks
  // the token endpoint for a fresh token and reads its claims.
  virtual Result<AuthReport> authenticate() = 0;

  // Secrets whose expiry date is known (configured or read from a certificate / JWT).
  virtual std::vector<ExpiringSecret> expiring_secrets() const { return {}; }

  // The access token apply() would send, for callers that read its claims (why Graph said
  // 403); only token-based methods have one.
  virtual Result<std::string> access_token() {
    return Error("auth.no_token", "a " + std::string(type()) + " credential has no access token");
  }
  // The token endpoint, resolved ({tenant} filled); empty for methods without one.
  virtual std::string token_endpoint() const { return {}; }
  // When the token apply() would send now expires; nullopt when no token is cached (or the
  // method has none). Never asks for a token.
  virtual std::optional<Clock::time_point> cached_token_expiry() const { return std::nullopt; }
};

// Builds a credential from a source's `auth:` object (type: none|basic|bearer|api_key|
// headers|ntlm|oauth2). Errors carry details["key"] relative to the auth object.
Result<std::shared_ptr<Credential>> make_credential(const nlohmann::json& auth,
                                                    const CredentialDeps& deps);

using CredentialFactory = Result<std::shared_ptr<Credential>> (*)(const nlohmann::json& auth,
                                                                  const CredentialDeps& deps);

// An auth method: what it declares to the catalog (type, title, description, settings
// table) and how it is built. Each method defines `const AuthMethod& methods::NAME()` in its
// own file; methods.cpp lists them.
struct AuthMethod {
  config::KindDecl declaration;
  CredentialFactory create;
};

// Installs every auth method into config::catalog() (sources::register_builtin_kinds()
// calls it).
void register_builtin_methods();

}  // namespace extdata::auth
