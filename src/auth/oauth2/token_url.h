#pragma once
// Checking a token URL before anything is sent to it.
#include <string>
#include <string_view>

#include "core/error.h"

namespace extdata::auth {

// Fills {tenant} and checks the URL: https (http only for 127.0.0.1, ::1 and localhost),
// a tenant that is a GUID or a domain, and no /common, /organizations or /consumers on a
// Microsoft endpoint. Errors carry details["key"] ("token_url" or "tenant").
Result<std::string> resolve_token_url(std::string_view token_url, std::string_view tenant);

// The same checks for any endpoint the client talks to (authorize, device authorization,
// revocation); errors name `key`. `app_only`: refuse /common, /organizations and /consumers
// (client credentials need the tenant; a user's sign-in may use them).
Result<std::string> resolve_endpoint_url(std::string_view endpoint, std::string_view tenant,
                                         const std::string& key, bool app_only);

// True for Microsoft identity platform token endpoints (by host, or by the v2.0 path that
// simulators reproduce), where scopes must end in /.default.
bool is_microsoft_token_url(std::string_view token_url);

}  // namespace extdata::auth
