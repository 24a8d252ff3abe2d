#pragma once
// Who the caller is and what an error may tell them.
#include <optional>
#include <string_view>

#include "core/error.h"

namespace extdata::api {

// The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive
// (RFC 9110 §11.1) and one or more spaces may follow it. nullopt for other schemes.
std::optional<std::string_view> bearer_token(std::string_view authorization);

// The API token of an Authorization header: the Bearer token, or the password of HTTP Basic
// credentials (RFC 7617: `Basic base64(user:password)`, any user name), because Jira Forms
// data connections offer Basic but not Bearer. nullopt for anything else or a malformed value.
std::optional<std::string> api_token(std::string_view authorization);

// Which parts of an error a caller may see. Admins see everything; readers and anonymous
// callers (forms, widgets) see the code, the message and the hint, with upstream URLs in
// the message replaced and no upstream details (status, trace id, URL, body excerpt).
enum class ErrorAudience { admin, reader };
Error visible_error(const Error& error, ErrorAudience audience);

}  // namespace extdata::api
