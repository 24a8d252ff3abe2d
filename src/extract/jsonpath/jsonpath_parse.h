#pragma once
#include <memory>
#include <string_view>

#include "core/error.h"
#include "extract/jsonpath/jsonpath_ast.h"

namespace extdata::extract::jsonpath_detail {
Result<std::shared_ptr<const Query>> parse_jsonpath(std::string_view text);
}
