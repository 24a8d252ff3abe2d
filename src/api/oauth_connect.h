#pragma once
// Connecting a source that acts on behalf of a user (auth grant authorization_code or
// device_code), shared by the API (Connect in the UI, GET /oauth2/callback) and the CLI
// (`extdata auth connect`):
//
//   begin_sign_in    PKCE verifier, state and nonce made, kept sealed in the store under the
//                    state (pending_sign_ins, 15 minutes, used once), the URL returned;
//   complete_sign_in the callback: state taken (unknown, expired or replayed → refused), an
//                    error callback explained, the code redeemed with the verifier, the ID
//                    token's nonce checked, a refresh token required; only then is the
//                    connection written (nothing half-way);
//   connect_device   RFC 8628 from a terminal.
//
// The callback reaches the server that runs `extdata serve` at its public URL; a CLI-only
// setup pastes the address the browser ended on (complete_sign_in_from_url), so no second
// redirect URI (loopback) has to be registered with the provider. See docs/auth.md.
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "api/runtime.h"
#include "auth/oauth2/grant_store.h"
#include "auth/oauth2/user_grant.h"
#include "auth/oauth2_user.h"
#include "store/store.h"

namespace extdata::api {

// auth::GrantStore on the store: the grant sealed as one JSON payload.
class StoreGrants final : public auth::GrantStore {
 public:
  explicit StoreGrants(store::Store& store) : store_(store) {}
  Result<std::optional<auth::StoredGrant>> load(const std::string& source) override;
  Result<bool> save(const std::string& source, auth::StoredGrant& grant,
                    std::int64_t expected) override;

 private:
  store::Store& store_;
};

inline constexpr const char* kCallbackPath = "/oauth2/callback";

// "<public URL>/oauth2/callback"; empty when the public URL is unknown.
std::string redirect_uri_for(const std::string& public_url);

// The public URL for commands and the server: --public-url, else $EXTDATA_PUBLIC_URL, else
// `fallback` (the server's own listening URL). Errors when it is not an http(s) origin.
Result<std::string> resolve_public_url(const std::string& flag, const std::string& fallback);

// {"authorize_url", "redirect_uri", "source"}.
Result<nlohmann::json> begin_sign_in(Runtime& runtime, const std::string& source,
                                     const std::string& public_url);

// The callback's query parameters (code, state, error, error_description). Returns the
// connection's public JSON plus "source".
Result<nlohmann::json> complete_sign_in(Runtime& runtime,
                                        const std::map<std::string, std::string>& query);
// The same from the full address the browser ended on (pasted into the terminal).
Result<nlohmann::json> complete_sign_in_from_url(Runtime& runtime, const std::string& url);

// Device flow: `show` gets the user code and verification URL once, `on_poll` each pending
// answer. Returns the connection's public JSON.
Result<nlohmann::json> connect_device(
    Runtime& runtime, const std::string& source,
    const std::function<void(const auth::DeviceAuthorization&)>& show,
    const std::function<void(std::string_view)>& on_poll = {});

// What the sources page and `source show` say about a user-grant source: grant,
// redirect_uri, state (not_connected | connected | reconnect_needed), who connected, when,
// scopes, token expiry; null for other sources.
nlohmann::json connection_json(Runtime& runtime, const std::string& source,
                               const std::string& public_url);

// The page the browser shows at /oauth2/callback: who connected, or what went wrong (escaped,
// redacted), and that nothing was stored.
std::string callback_page(const Result<nlohmann::json>& outcome);

// Before a source is deleted: its grant (if any) to revoke afterwards.
struct PendingRevocation {
  std::shared_ptr<sources::Source> source;  // keeps the credential's HTTP client alive
  std::shared_ptr<auth::UserOAuth2Credential> credential;
  std::string refresh_token;
};
std::optional<PendingRevocation> revocation_for(Runtime& runtime, const std::string& source);
// RFC 7009 where the provider has an endpoint; failures are logged, never block the delete.
void revoke(const PendingRevocation& pending, Metrics& metrics, const std::string& source);

}  // namespace extdata::api
