#pragma once
// The web UI's static files. A request path maps to a regular file inside the web
// directory only: the resolved path must lie under the directory (by path components, so a
// sibling such as web-private/ never matches web/), a directory answers with its index.html
// or 404, and anything else is 404.
#include <string>

#include "server/http_server.h"

namespace extdata::api {

// The file for `path` (percent-decoded, starting with '/') under `web_dir`, or "" when
// there is none.
std::string resolve_static_file(const std::string& web_dir, const std::string& path);

// "text/html; charset=utf-8" etc. by extension.
std::string static_content_type(const std::string& file);

}  // namespace extdata::api
