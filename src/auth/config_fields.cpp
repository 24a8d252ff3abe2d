#include "auth/config_fields.h"

namespace extdata::auth {

Error config_error(std::string code, std::string key, std::string message, std::string hint) {
  Error e(std::move(code), std::move(message), std::move(hint));
  e.with("key", std::move(key));
  return e.as(ErrorCategory::invalid_input);  // a setting is wrong, whatever the code's usual kind
}

Result<std::string> optional_string(const nlohmann::json& auth, std::string_view key) {
  auto it = auth.find(key);
  if (it == auth.end() || it->is_null()) return std::string();
  if (!it->is_string())
    return config_error("config.wrong_type", std::string(key),
                        std::string(key) + " must be a string");
  return it->get<std::string>();
}

Result<std::string> required_string(const nlohmann::json& auth, std::string_view key) {
  EXTDATA_ASSIGN_OR_RETURN(std::string value, optional_string(auth, key));
  if (value.empty())
    return config_error("config.missing_key", std::string(key),
                        std::string(key) + " is required for this auth type");
  return value;
}

Status check_header_text(std::string_view text, const std::string& key, bool is_name) {
  if (is_name) {
    if (text.empty()) return config_error("auth.bad_header", key, "a header name is empty");
    for (unsigned char c : text) {
      // RFC 9110 token characters.
      const bool ok =
          std::isalnum(c) ||
          std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
      if (!ok)
        return config_error("auth.bad_header", key,
                            "the header name '" + std::string(text) +
                                "' contains a character not allowed in header names",
                            "use letters, digits and - only, e.g. X-Api-Key");
    }
    return ok_status();
  }
  for (unsigned char c : text)
    if (c == '\r' || c == '\n' || c == '\0')
      return config_error("auth.bad_header", key, "the value contains a line break or NUL byte",
                          "remove the line break (a trailing newline from a pasted secret?)");
  return ok_status();
}

}  // namespace extdata::auth
