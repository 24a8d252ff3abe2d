#pragma once
// Redaction of secrets in anything that leaves the process: logs, errors, CLI output.
#include <string>
#include <string_view>

namespace extdata {

inline constexpr std::string_view kRedacted = "[REDACTED]";

// True for header names whose values are credentials (Authorization, Cookie, API keys ...).
bool is_sensitive_header(std::string_view name);
// True for form/JSON/query keys that hold secrets (client_secret, client_assertion,
// password, access_token, refresh_token, api_key ...).
bool is_sensitive_key(std::string_view key);

// Scrubs free text: "Bearer xyz", JWT-looking strings, key=value pairs in query
// strings and form bodies, "key": "value" pairs in JSON text, and user:pass@ in URLs.
std::string redact(std::string_view text);

// Registers a literal secret value that must never appear in output (resolved
// client secrets, passwords). Process-wide; values shorter than 4 bytes are ignored.
void register_secret(std::string_view value);

}  // namespace extdata
