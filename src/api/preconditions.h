#pragma once
// Conditional requests on sources and fields (RFC 9110 §8.8.3, §13): the ETag of a stored
// version, and what a PUT or DELETE expects of the stored item from its If-Match and
// If-None-Match headers. "Create" is If-None-Match: *, "replace the version I read" is
// If-Match: "<etag>", neither is an upsert.
#include <string>

#include "core/error.h"
#include "server/http_server.h"
#include "store/store.h"

namespace extdata::api {

// A strong entity tag: the version quoted, "\"42\"".
std::string etag_of(const std::string& version);

enum class AllowNoneMatch { yes, no };

// If-None-Match: * → absent; If-Match: * → present; If-Match: "a", "b" → one of them (a weak
// tag, W/"a", never matches: the comparison is strong); neither → any. Malformed or
// unsupported headers (both at once, If-None-Match with tags, either where it makes no
// sense) are api.bad_precondition.
Result<store::Expect> expect_of(const server::Request& req, AllowNoneMatch none_match);

// A failed expectation (store.exists, store.version_mismatch) with the current version as an
// ETag as well: details["current_etag"], so a client can offer "reload" or "open it".
Error with_current_etag(Error e);

}  // namespace extdata::api
