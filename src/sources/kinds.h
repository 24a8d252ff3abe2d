#pragma once
// The built-in source kinds and auth methods. Every main() calls register_builtin_kinds()
// before it reads config: it installs each kind's declaration (type, title, settings table)
// into config::catalog(), which validation, `extdata kinds`, GET /api/v1/kinds, the docs
// and the web wizard read. make_source (source.h) builds a source from the same list.
#include <string>
#include <vector>

namespace extdata::sources {

void register_builtin_kinds();

// The registered source types, in registration order.
std::vector<std::string> source_kinds();

}  // namespace extdata::sources
