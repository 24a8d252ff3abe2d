#pragma once
// Checks a config text (YAML or JSON) before yaml-cpp builds nodes from it: one linear pass
// over the bytes and one over the parser's events, so hostile documents are refused with the
// line and the limit they broke instead of exhausting memory or the stack:
//  - invalid UTF-8 (config.bad_utf8),
//  - nesting deeper than limits().config_max_depth (config.too_deep),
//  - more than config_max_aliases alias uses, or more than config_max_nodes nodes once
//    aliases are expanded — billion laughs (config.too_many_aliases, config.too_large),
//  - an alias inside the node it names (config.self_alias),
//  - a key given twice in one map (config.duplicate_key),
//  - a second document after `---` (config.multiple_documents).
// Syntax errors are left to the parser that follows (config.syntax).
#include <string_view>

#include "core/error.h"

namespace extdata::config {

Status check_document(std::string_view text);

}  // namespace extdata::config
