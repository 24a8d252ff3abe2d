#pragma once
// Reading an `auth:` object. The config layer has already checked key names and JSON
// types; these helpers still refuse what is missing or unusable, and every Error names the
// key (details["key"], relative to the auth object) so the caller can prefix its location.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace extdata::auth {

Error config_error(std::string code, std::string key, std::string message, std::string hint = {});

// A required non-empty string.
Result<std::string> required_string(const nlohmann::json& auth, std::string_view key);
// A string when present (empty when absent); numbers are not accepted as strings.
Result<std::string> optional_string(const nlohmann::json& auth, std::string_view key);
// A header name or value must not let a newline split one header into two.
Status check_header_text(std::string_view text, const std::string& key, bool is_name);

}  // namespace extdata::auth
