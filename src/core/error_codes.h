#pragma once
// The registry of every error code extdata raises: its category (which alone decides the HTTP
// status and the CLI exit code) and one line saying what it means. docs/errors.md is generated
// from it (`extdata errors > docs/errors.md`), and tests/unit/core/error_codes_test.cpp fails when
// a code raised anywhere under src/ or tools/graphsim is missing here or the docs are stale.
#include <span>
#include <string>
#include <string_view>

#include "core/error.h"

namespace extdata {

struct ErrorCodeInfo {
  std::string_view code;
  ErrorCategory category;
  std::string_view meaning;  // one line for people; docs/errors.md shows it
};

// Every registered code, sorted by code.
std::span<const ErrorCodeInfo> error_codes();
// The entry of a code; nullptr for an unregistered one.
const ErrorCodeInfo* find_error_code(std::string_view code);

struct CategoryInfo {
  ErrorCategory category;
  std::string_view name;  // as written in JSON: "invalid_input", "upstream", ...
  int http_status;
  int exit_code;
  std::string_view meaning;
};

std::span<const CategoryInfo> error_categories();
const CategoryInfo& category_info(ErrorCategory category);
inline std::string_view category_name(ErrorCategory c) {
  return category_info(c).name;
}
inline int http_status(const Error& e) {
  return category_info(e.category()).http_status;
}
inline int exit_code(const Error& e) {
  return category_info(e.category()).exit_code;
}

// docs/errors.md: the categories with their statuses and exit codes, then every code.
std::string errors_markdown();

}  // namespace extdata
