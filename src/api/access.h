#pragma once
// Who the caller is and what an error may tell them.
#include <optional>
#include <string_view>

#include "core/error.h"

namespace extdata::api {

// The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive
// (RFC 9110 §11.1) and one or more spaces may follow it. nullopt for other schemes.
std::optional<std::string_view> bearer_token(std::string_view authorization);

// Which parts of an error a caller may see. Admins see everything; readers and anonymous
// callers (forms, widgets) see the code, the message and the hint, with upstream URLs in
// the message replaced and no upstream details (status, trace id, URL, body excerpt).
enum class ErrorAudience { admin, reader };
Error visible_error(const Error& error, ErrorAudience audience);

}  // namespace extdata::api
