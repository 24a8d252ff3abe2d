#pragma once
// Checks on URL templates (a source's url, step urls, token_url) that keep their origin
// literal: variables may stand in the path and query only, and no value may climb the path.
#include <cstddef>
#include <optional>
#include <string_view>

namespace extdata {

// The byte position of the first brace ('{' or '}') in a URL template's scheme, userinfo,
// host or port — the part before the first '/', '?' or '#' after "://" — or nullopt when they
// are literal. Variables may not stand there: a value could otherwise send the request, and
// its credentials, to another host ("http://api:8080{+path}" with path "@evil/").
std::optional<size_t> brace_in_origin(std::string_view url_template);

// True when a path has a "." or ".." segment, also percent-encoded ("%2e%2E"); the path ends
// at '?' or '#'.
bool has_dot_segment(std::string_view path);

}  // namespace extdata
